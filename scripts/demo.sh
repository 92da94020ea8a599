#!/usr/bin/env bash
# demo.sh — what `make demo` runs: starts `hark up` (everything embedded, in
# one process), uploads the role-play meetings in testdata/meetings, waits until
# every recording is ready, prints a summary and the URL to open, and keeps
# serving until Ctrl-C.
#
# Environment: HARK_BIN (default bin/hark), HARK_DATA_DIR (default hark-data),
# HARK_HTTP (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${HARK_BIN:-bin/hark}
data=${HARK_DATA_DIR:-hark-data}
http=${HARK_HTTP:-127.0.0.1:8080}
log="$data/hark.log"
mkdir -p "$data"

if [ -f "$data/endpoints.json" ] && kill -0 "$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$data/endpoints.json")" 2>/dev/null; then
  echo "hark is already running on $data; stop it first (Ctrl-C in its terminal)" >&2
  exit 1
fi
rm -f "$data/endpoints.json"

echo "starting hark up (logs in $log)"
# The demo has three meetings: show report cells from one session up (a real
# deployment keeps the default of 5, see docs/reports.md).
HARK_MIN_CELL=${HARK_MIN_CELL:-1} "$bin" up --data-dir "$data" --http "$http" >"$log" 2>&1 &
up=$!
trap 'kill -INT $up 2>/dev/null; wait $up 2>/dev/null' EXIT INT TERM

for _ in $(seq 1 300); do
  [ -f "$data/endpoints.json" ] && break
  if ! kill -0 $up 2>/dev/null; then
    echo "hark up stopped; its log says:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -f "$data/endpoints.json" ] || { echo "hark up did not start within 30 s; see $log" >&2; exit 1; }

out=$("$bin" upload --data-dir "$data" --team "Demo team" --worker demo-worker-1 --meeting-type home-visit testdata/meetings)
echo "$out"
batch=$(echo "$out" | sed -n 's/^batch \([^:]*\):.*/\1/p' | head -1)
"$bin" status --data-dir "$data" --batch "$batch" --watch >/dev/null
echo
"$bin" status --data-dir "$data" --batch "$batch"
echo
# A demo admin who signs in with a one-time link (no password anywhere).
if ! "$bin" user list --data-dir "$data" | grep -q '^demo-admin '; then
  "$bin" user add demo-admin --role admin --display "Demo admin" --data-dir "$data" >/dev/null
fi
link=$("$bin" user link demo-admin --ttl 2h --data-dir "$data" 2>/dev/null)
echo "Open $link"
echo "(a one-time sign-in link for the demo admin; Ctrl-C to stop)"
wait $up
