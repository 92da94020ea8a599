#!/usr/bin/env bash
# Audio preparation benchmark (docs/benchmarks.md, "Audio preparation"):
# a two-hour 48 kHz stereo 24-bit recording through decode → 16 kHz mono →
# chunks, against `sox -D FILE -r 16000 -c 1 -b 16 OUT.wav` on the same file,
# each in a process of its own, timed and with its peak RSS, in one run.
#
#   bash bench/audio/run.sh            # 3 rounds
#   ROUNDS=5 bash bench/audio/run.sh
#
# Needs Go and sox (apt-get install sox). The 2 GB input is generated once
# into $HARK_BENCH_WAV (default: $TMPDIR/hark-meeting-2h.wav) and kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
file=${HARK_BENCH_WAV:-${TMPDIR:-/tmp}/hark-meeting-2h.wav}
rounds=${ROUNDS:-3}
command -v sox >/dev/null || { echo "run.sh: sox not found (apt-get install sox)" >&2; exit 1; }
if [ ! -f "$file" ]; then
	echo "generating $file (2 hours, 48 kHz, stereo, 24-bit)…"
	go run ./bench/audio -o "$file" -seconds 7200
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(sox --version | sed 's/.*SoX //'); $(go version | cut -d' ' -f3)"
echo "== downmix (one track)"
HARK_BENCH_WAV=$file go test -run '^$' -bench '^BenchmarkPrepareVsSox$' -benchtime "${rounds}x" ./transcribe/ | grep Benchmark
echo "== split (one track per channel, as with --worker-channel)"
HARK_BENCH_SPLIT=1 HARK_BENCH_WAV=$file go test -run '^$' -bench '^BenchmarkPrepareVsSox$' -benchtime "${rounds}x" ./transcribe/ | grep Benchmark
echo "== in memory, two minutes (no sox)"
go test -run '^$' -bench '^BenchmarkPrepare$' -benchtime 20x ./transcribe/ | grep Benchmark
