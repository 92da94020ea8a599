#!/usr/bin/env bash
# generate.sh - regenerate the role-play meeting audio and transcripts.
#
# Usage:
#   bash testdata/meetings/generate.sh            # all meetings
#   bash testdata/meetings/generate.sh mixed      # just mixed.txt
#
# Can be run from any working directory; outputs are written next to this
# script. Requires Debian's espeak-ng and sox (which provides soxi).
#
# Input: <name>.txt, one turn per line, "Worker: ..." or "Parent: ...".
# Blank lines and lines starting with '#' are ignored.
#
# Output, for each <name>.txt:
#   <name>.wav  16 kHz, 2 channels, 16-bit signed PCM (plain WAVE_FORMAT_PCM).
#               Worker turns are on the LEFT channel, Parent turns on the RIGHT
#               channel; the other channel is silent during each turn.
#               0.4 s of silence is placed before the first turn, between
#               turns, and after the last turn.
#   <name>.vtt  WebVTT, one cue per turn, "<v Worker>text" / "<v Parent>text",
#               timed (millisecond precision) to where the turn sits in the WAV.
#
# Voices: Worker = espeak-ng -v en-gb, Parent = espeak-ng -v en-gb+f3, both at
# -s 160 (words per minute). Each turn is synthesised separately, resampled to
# 16 kHz mono with sox (no dither, so output is byte-identical across runs),
# then placed on its channel. Timings are computed from exact sample counts
# (soxi -s; equivalent to soxi -D at 16 kHz) so they contain no rounding drift.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"

RATE=16000            # output sample rate (Hz)
SPEED=160             # espeak-ng speed (words per minute)
WORKER_VOICE="en-gb"
PARENT_VOICE="en+f3"
GAP_SAMPLES=6400      # 0.4 s at 16 kHz

for tool in espeak-ng sox soxi; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "generate.sh: $tool not found (apt-get install espeak-ng sox)" >&2
		exit 1
	fi
done

if [ "$#" -gt 0 ]; then
	names=("$@")
else
	names=(partnership authoritarian mixed)
fi

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

# Silence used between turns (stereo, exact sample count). The -r/-c before
# -n set the null input's rate, so "${GAP_SAMPLES}s" counts 16 kHz samples.
sox -D -r "$RATE" -c 2 -n -r "$RATE" -c 2 -b 16 -e signed-integer "$work/gap.wav" trim 0 "${GAP_SAMPLES}s"

# Format a sample offset as a WebVTT timestamp HH:MM:SS.mmm.
vtt_time() {
	local ms=$(( $1 * 1000 / RATE ))
	printf '%02d:%02d:%02d.%03d' $(( ms / 3600000 )) $(( ms / 60000 % 60 )) $(( ms / 1000 % 60 )) $(( ms % 1000 ))
}

# Escape text for a WebVTT cue payload.
vtt_escape() {
	local s="$1"
	s="${s//&/&amp;}"
	s="${s//</&lt;}"
	s="${s//>/&gt;}"
	printf '%s' "$s"
}

for name in "${names[@]}"; do
	name="${name%.txt}"
	src="$SCRIPT_DIR/$name.txt"
	if [ ! -f "$src" ]; then
		echo "generate.sh: no such script: $src" >&2
		exit 1
	fi

	dir="$work/$name"
	mkdir -p "$dir"
	parts=("$work/gap.wav")
	pos=$GAP_SAMPLES
	vtt="$dir/out.vtt"
	printf 'WEBVTT\n' >"$vtt"

	n=0
	lineno=0
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$(( lineno + 1 ))
		line="${line%$'\r'}"
		case "$line" in
		'' | '#'*) continue ;;
		'Worker: '*) speaker=Worker voice=$WORKER_VOICE remix=(1 0) ;;
		'Parent: '*) speaker=Parent voice=$PARENT_VOICE remix=(0 1) ;;
		*)
			echo "generate.sh: $src:$lineno: expected 'Worker: ' or 'Parent: '" >&2
			exit 1
			;;
		esac
		text="${line#*: }"
		n=$(( n + 1 ))
		turn="$dir/turn$(printf '%03d' "$n")"

		printf '%s' "$text" | espeak-ng -v "$voice" -s "$SPEED" --stdin -w "$turn.raw.wav"
		sox -D "$turn.raw.wav" -r "$RATE" -c 1 -b 16 -e signed-integer "$turn.mono.wav"
		sox -D "$turn.mono.wav" -r "$RATE" -c 2 -b 16 -e signed-integer "$turn.wav" remix "${remix[@]}"

		samples="$(soxi -s "$turn.wav")"
		start=$pos
		end=$(( pos + samples ))
		printf '\n%s --> %s\n<v %s>%s\n' "$(vtt_time "$start")" "$(vtt_time "$end")" "$speaker" "$(vtt_escape "$text")" >>"$vtt"

		parts+=("$turn.wav" "$work/gap.wav")
		pos=$(( end + GAP_SAMPLES ))
	done <"$src"

	if [ "$n" -eq 0 ]; then
		echo "generate.sh: $src has no turns" >&2
		exit 1
	fi

	sox -D "${parts[@]}" -r "$RATE" -c 2 -b 16 -e signed-integer -t wav "$dir/out.wav"

	total="$(soxi -s "$dir/out.wav")"
	if [ "$total" -ne "$pos" ]; then
		echo "generate.sh: $name: expected $pos samples, got $total" >&2
		exit 1
	fi

	mv -f -- "$dir/out.wav" "$SCRIPT_DIR/$name.wav"
	mv -f -- "$vtt" "$SCRIPT_DIR/$name.vtt"
	echo "$name: $n turns, $(soxi -d "$SCRIPT_DIR/$name.wav"), $(stat -c %s "$SCRIPT_DIR/$name.wav") bytes"
done
