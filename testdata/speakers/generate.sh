#!/usr/bin/env bash
# generate.sh - regenerate the mono role-play meetings for speaker-diarization
# tests: audio, reference RTTM, WebVTT and roles.csv.
#
# Usage:
#   bash testdata/speakers/generate.sh               # all meetings
#   bash testdata/speakers/generate.sh kinship       # just kinship.txt
#   bash testdata/speakers/generate.sh --check       # only check the files
#
# Can be run from any working directory; outputs are written next to this
# script. Requires Debian's espeak-ng and sox (which provides soxi).
#
# Input: <name>.txt, one turn per line, "<label>: text", where <label> is one
# of the meeting's speakers in the PEOPLE table below. A turn that starts
# before the previous turn has ended (a back-channel or an interruption) is
# written "<label>: [overlap S] text": it starts S seconds before the end of
# the turn on the line above. Blank lines and lines starting with '#' are
# ignored.
#
# Output, for each meeting <name>:
#   <name>.wav   16 kHz, 1 channel, 16-bit signed PCM (plain WAVE_FORMAT_PCM).
#   <name>.rttm  reference diarization, one line a turn, in order of start:
#                SPEAKER <name> 1 <start> <dur> <NA> <NA> <label> <NA> <NA>
#   <name>.vtt   WebVTT, one cue a turn, "<v label>text".
# and roles.csv (meeting,speaker,role,name) for all meetings in PEOPLE.
#
# How a meeting is made: each turn is synthesised on its own with espeak-ng
# (the speaker's voice, -p pitch and -s speed), then sox shifts its pitch
# (cents) and tempo, trims the silence espeak-ng leaves at both ends, scales
# it and resamples it to 16 kHz. Turns follow each other after a gap of
# 0.1-1.0 s (a fixed pseudo-random sequence seeded by the meeting's name),
# or start early where the script says [overlap S]. Each speaker's turns are
# laid out on a track of their own; the tracks (and, for some meetings, a
# quiet brown or pink noise made with sox -R, so it is the same every run)
# are mixed into one channel. Times are sample counts; RTTM and WebVTT times
# are those counts rounded to the nearest millisecond. Every sox call uses
# -D (no dither) and -R (repeatable), so two runs give byte-identical files.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"

RATE=16000      # output sample rate (Hz)
LEAD=8000       # silence before the first turn and after the last (0.5 s)
GAP_MIN=1600    # shortest gap between turns (0.1 s)
GAP_MAX=16000   # longest gap between turns (1.0 s)

MEETINGS=(home-visit cp-review pre-proceedings school-attendance kinship
	newborn-visit domestic-abuse father-contact section-47 cin-review)

# One line a person: meeting|label|role|name|espeak voice|espeak -p|espeak -s|
# sox pitch (cents)|sox tempo|gain (sox vol). role is worker, parent, child or
# other. Names are invented. Standard British English is written "en+f3", not
# "en-gb+f3": espeak-ng 1.51 silently drops the variant after "en-gb" (and
# only there), so "en-gb+f3" sounds exactly like "en-gb". The script refuses
# a voice whose variant makes no difference.
PEOPLE='
home-visit|worker|worker|Helen Marsh|en+f3|50|165|0|1.00|0.70
home-visit|parent1|parent|Kayleigh Dunn|en-gb-x-gbclan+f2|58|170|80|1.04|0.60
cp-review|worker|worker|Daniel Osei|en+m3|45|160|-50|1.00|0.70
cp-review|parent1|parent|Leanne Price|en-gb-x-gbclan+f3|55|165|0|1.02|0.60
cp-review|parent2|parent|Craig Price|en-gb-scotland+m1|35|150|-150|0.97|0.65
pre-proceedings|worker|worker|Sarah Whitfield|en-gb-x-rp+f2|52|158|0|1.00|0.70
pre-proceedings|parent1|parent|Mark Bennett|en-gb-x-gbcwmd+m2|40|165|-80|1.03|0.65
school-attendance|worker|worker|Gareth Lloyd|en+m4|48|160|0|1.00|0.70
school-attendance|parent1|parent|Donna Hughes|en-gb-x-gbclan+f4|50|168|-30|1.00|0.60
school-attendance|child|child|Jade Hughes|en+f5|70|175|150|1.06|0.55
kinship|worker|worker|Fiona Grant|en-gb-scotland+f3|55|160|0|1.00|0.70
kinship|parent1|parent|Bernadette Walsh|en+aunty|38|145|-120|0.95|0.65
newborn-visit|worker|worker|Rachel Moore|en-gb-x-rp+f4|55|160|0|1.00|0.65
newborn-visit|parent1|parent|Chloe Ashworth|en-gb-x-gbcwmd+f5|65|172|60|1.02|0.60
newborn-visit|healthvisitor|other|Euan Campbell|en-gb-scotland+m2|42|155|-60|0.98|0.70
domestic-abuse|worker|worker|Natalie Brooks|en-us+f4|50|162|0|1.00|0.70
domestic-abuse|parent1|parent|Amy Clarke|en-gb-x-gbcwmd+f3|60|158|40|0.98|0.55
father-contact|worker|worker|Tom Fletcher|en+m5|50|160|0|1.00|0.70
father-contact|parent1|parent|Lee Harrison|en-gb-x-gbclan+m6|44|170|-40|1.05|0.70
section-47|worker|worker|Simon Reid|en-gb-x-rp+m7|46|156|0|1.00|0.70
section-47|parent1|parent|Grace Bello|en-029+f2|58|164|30|1.00|0.60
cin-review|worker|worker|Joanne Pike|en+f2|50|160|0|1.00|0.70
cin-review|parent1|parent|Michelle Carr|en+f1|46|150|-40|0.97|0.65
'

# Background noise per meeting: meeting|sox synth noise type|sox vol.
# Meetings not listed have none.
NOISE='
home-visit|brownnoise|0.015
cp-review|pinknoise|0.006
school-attendance|brownnoise|0.020
newborn-visit|pinknoise|0.008
father-contact|brownnoise|0.012
cin-review|pinknoise|0.005
'

for tool in espeak-ng sox soxi cksum awk; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "generate.sh: $tool not found (apt-get install espeak-ng sox)" >&2
		exit 1
	fi
done

die() {
	echo "generate.sh: $*" >&2
	exit 1
}

# check_voices: every "voice+variant" in PEOPLE sounds different from "voice".
check_voices() {
	local tmp v base
	tmp="$(mktemp -d)"
	while IFS='|' read -r _ _ _ _ v _; do
		case "$v" in *+*) ;; *) continue ;; esac
		base="${v%%+*}"
		espeak-ng -v "$v" -w "$tmp/v.wav" 'One, two, three.'
		espeak-ng -v "$base" -w "$tmp/b.wav" 'One, two, three.'
		if cmp -s "$tmp/v.wav" "$tmp/b.wav"; then
			rm -rf -- "$tmp"
			die "espeak-ng ignores the variant in voice $v (it sounds like $base)"
		fi
	done < <(printf '%s\n' "$PEOPLE" | grep '|')
	rm -rf -- "$tmp"
}

# Samples to milliseconds, rounded to nearest.
ms() { echo $(( ($1 * 1000 + RATE / 2) / RATE )); }

# Milliseconds as seconds with three decimals (RTTM).
secs() { printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )); }

# Milliseconds as a WebVTT timestamp HH:MM:SS.mmm.
vtt_time() {
	printf '%02d:%02d:%02d.%03d' $(( $1 / 3600000 )) $(( $1 / 60000 % 60 )) $(( $1 / 1000 % 60 )) $(( $1 % 1000 ))
}

# Escape text for a WebVTT cue payload.
vtt_escape() {
	local s="$1"
	s="${s//&/&amp;}"
	s="${s//</&lt;}"
	s="${s//>/&gt;}"
	printf '%s' "$s"
}

# Seconds (e.g. 0.45) to samples, rounded.
to_samples() { awk -v s="$1" -v r="$RATE" 'BEGIN { printf "%d\n", s * r + 0.5 }'; }

# The next value of the meeting's pseudo-random sequence (an LCG), in $rand.
next_rand() {
	seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
	rand=$(( seed >> 8 ))
}

# sox with no dither and repeatable random numbers.
sx() { sox -D -R "$@"; }

# check NAME: the RTTM, WAV, VTT and script agree.
check() {
	local name="$1" wav="$SCRIPT_DIR/$1.wav" rttm="$SCRIPT_DIR/$1.rttm" vtt="$SCRIPT_DIR/$1.vtt" txt="$SCRIPT_DIR/$1.txt"
	local f
	for f in "$wav" "$rttm" "$vtt" "$txt" "$SCRIPT_DIR/roles.csv"; do
		[ -f "$f" ] || die "check $name: missing $f"
	done
	[ "$(soxi -r "$wav")" = "$RATE" ] || die "check $name: sample rate is not $RATE"
	[ "$(soxi -c "$wav")" = 1 ] || die "check $name: not mono"
	[ "$(soxi -b "$wav")" = 16 ] || die "check $name: not 16-bit"
	[ "$(soxi -e "$wav")" = "Signed Integer PCM" ] || die "check $name: not signed PCM"
	local samples turns cues
	samples="$(soxi -s "$wav")"
	turns="$(grep -cvE '^(#|$)' "$txt")"
	cues="$(grep -c -- ' --> ' "$vtt")"
	[ "$cues" -eq "$turns" ] || die "check $name: $cues VTT cues for $turns turns"
	awk -v name="$name" -v samples="$samples" -v rate="$RATE" -v turns="$turns" -F, '
		FILENAME ~ /roles\.csv$/ { if ($1 == name) speaker[$2] = 1; next }
		function fail(msg) { printf "generate.sh: check %s: %s:%d: %s\n", name, FILENAME, FNR, msg > "/dev/stderr"; bad = 1; exit 1 }
		{
			n = split($0, f, " ")
			if (n != 10 || f[1] != "SPEAKER" || f[2] != name || f[3] != "1" || f[6] != "<NA>" || f[7] != "<NA>" || f[9] != "<NA>" || f[10] != "<NA>")
				fail("malformed line")
			if (f[4] !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || f[5] !~ /^[0-9]+\.[0-9][0-9][0-9]$/)
				fail("times need three decimals")
			if (!(f[8] in speaker)) fail("speaker " f[8] " not in roles.csv")
			start = f[4] * 1000; dur = f[5] * 1000; end = start + dur
			if (dur <= 0) fail("empty turn")
			if (start < last) fail("turns out of order")
			if (f[8] in spend && start < spend[f[8]]) fail("speaker " f[8] " overlaps their own turn")
			if (end * rate / 1000 > samples) fail("turn ends after the end of the file")
			last = start; spend[f[8]] = end; lines++
		}
		END {
			if (bad) exit 1
			if (lines != turns) { printf "generate.sh: check %s: %d RTTM lines for %d turns\n", name, lines, turns > "/dev/stderr"; exit 1 }
		}' "$SCRIPT_DIR/roles.csv" "$rttm" || exit 1
}

check_only=0
if [ "${1:-}" = "--check" ]; then
	check_only=1
	shift
fi
if [ "$#" -gt 0 ]; then
	names=("${@%.txt}")
else
	names=("${MEETINGS[@]}")
fi

if [ "$check_only" -eq 1 ]; then
	for name in "${names[@]}"; do
		check "$name"
		echo "$name: ok"
	done
	exit 0
fi

check_voices

# roles.csv, from the table.
{
	echo 'meeting,speaker,role,name'
	printf '%s\n' "$PEOPLE" | awk -F'|' 'NF { print $1 "," $2 "," $3 "," $4 }'
} >"$SCRIPT_DIR/roles.csv.tmp"
mv -f -- "$SCRIPT_DIR/roles.csv.tmp" "$SCRIPT_DIR/roles.csv"

work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

for name in "${names[@]}"; do
	src="$SCRIPT_DIR/$name.txt"
	[ -f "$src" ] || die "no such script: $src"

	# This meeting's people.
	declare -A voice=() pitch=() speed=() cents=() tempo=() gain=() cursor=()
	labels=()
	while IFS='|' read -r m label role pname v p s c t g; do
		[ "$m" = "$name" ] || continue
		labels+=("$label")
		voice[$label]=$v pitch[$label]=$p speed[$label]=$s cents[$label]=$c tempo[$label]=$t gain[$label]=$g
		cursor[$label]=0
	done <<<"$PEOPLE"
	[ "${#labels[@]}" -gt 0 ] || die "$name is not in the PEOPLE table"

	dir="$work/$name"
	mkdir -p "$dir"
	for label in "${labels[@]}"; do
		: >"$dir/$label.parts"
	done
	seed="$(printf '%s' "$name" | cksum | cut -d' ' -f1)"

	rttm="$dir/out.rttm"
	vtt="$dir/out.vtt"
	: >"$rttm"
	printf 'WEBVTT\n' >"$vtt"

	n=0
	lineno=0
	prev_label=''
	prev_start=0
	prev_end=0
	max_end=$LEAD
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$(( lineno + 1 ))
		line="${line%$'\r'}"
		case "$line" in '' | '#'*) continue ;; esac
		[[ "$line" =~ ^([a-z0-9]+):\ (\[overlap\ ([0-9]*\.?[0-9]+)\]\ )?(.+)$ ]] ||
			die "$src:$lineno: expected '<label>: text' or '<label>: [overlap S] text'"
		label="${BASH_REMATCH[1]}"
		overlap="${BASH_REMATCH[3]}"
		text="${BASH_REMATCH[4]}"
		[ -n "${voice[$label]+x}" ] || die "$src:$lineno: $label is not one of this meeting's speakers"
		n=$(( n + 1 ))
		turn="$dir/turn$(printf '%03d' "$n")"

		printf '%s' "$text" | espeak-ng -v "${voice[$label]}" -p "${pitch[$label]}" -s "${speed[$label]}" --stdin -w "$turn.raw.wav"
		fx=()
		[ "${cents[$label]}" = 0 ] || fx+=(pitch "${cents[$label]}")
		[ "${tempo[$label]}" = 1.00 ] || fx+=(tempo -s "${tempo[$label]}")
		fx+=(silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse vol "${gain[$label]}")
		sx "$turn.raw.wav" -r "$RATE" -c 1 -b 16 -e signed-integer "$turn.wav" "${fx[@]}"
		len="$(soxi -s "$turn.wav")"
		[ "$len" -gt 0 ] || die "$src:$lineno: turn is silent"

		if [ -n "$overlap" ]; then
			[ "$n" -gt 1 ] || die "$src:$lineno: the first turn cannot overlap"
			[ "$label" != "$prev_label" ] || die "$src:$lineno: overlaps the same speaker"
			start=$(( prev_end - $(to_samples "$overlap") ))
			[ "$start" -gt "$prev_start" ] || die "$src:$lineno: overlap is longer than the turn above"
		elif [ "$n" -eq 1 ]; then
			start=$LEAD
		else
			next_rand
			start=$(( max_end + GAP_MIN + rand % (GAP_MAX - GAP_MIN + 1) ))
		fi
		[ "$start" -ge "${cursor[$label]}" ] || die "$src:$lineno: $label would overlap their own turn"
		end=$(( start + len ))

		# Place the turn on the speaker's track after the silence since their last turn.
		silence=$(( start - cursor[$label] ))
		if [ "$silence" -gt 0 ]; then
			sx -r "$RATE" -c 1 -n -r "$RATE" -c 1 -b 16 -e signed-integer "$turn.gap.wav" trim 0 "${silence}s"
			echo "$turn.gap.wav" >>"$dir/$label.parts"
		fi
		echo "$turn.wav" >>"$dir/$label.parts"
		cursor[$label]=$end

		s_ms="$(ms "$start")"
		e_ms="$(ms "$end")"
		printf 'SPEAKER %s 1 %s %s <NA> <NA> %s <NA> <NA>\n' "$name" "$(secs "$s_ms")" "$(secs $(( e_ms - s_ms )))" "$label" >>"$rttm"
		printf '\n%s --> %s\n<v %s>%s\n' "$(vtt_time "$s_ms")" "$(vtt_time "$e_ms")" "$label" "$(vtt_escape "$text")" >>"$vtt"

		prev_label=$label
		prev_start=$start
		prev_end=$end
		[ "$end" -le "$max_end" ] || max_end=$end
	done <"$src"
	[ "$n" -gt 0 ] || die "$src has no turns"
	total=$(( max_end + LEAD ))

	# One full-length track a speaker, then the mix.
	mix=()
	for label in "${labels[@]}"; do
		[ -s "$dir/$label.parts" ] || die "$name: $label has no turns"
		mapfile -t parts <"$dir/$label.parts"
		sx "${parts[@]}" -r "$RATE" -c 1 -b 16 -e signed-integer "$dir/$label.track.wav" pad 0 "$(( total - cursor[$label] ))s"
		mix+=(-v 1 "$dir/$label.track.wav")
	done
	noise="$(printf '%s\n' "$NOISE" | awk -F'|' -v m="$name" '$1 == m { print $2 " " $3 }')"
	if [ -n "$noise" ]; then
		read -r colour level <<<"$noise"
		# Start the (repeatable) noise at a point of its own for each meeting.
		next_rand
		skip=$(( rand % (10 * RATE) ))
		sx -r "$RATE" -c 1 -n -r "$RATE" -c 1 -b 16 -e signed-integer "$dir/noise.wav" \
			synth "$(( skip + total ))s" "$colour" vol "$level" trim "${skip}s"
		mix+=(-v 1 "$dir/noise.wav")
	fi
	if [ "${#labels[@]}" -eq 1 ] && [ -z "$noise" ]; then
		cp -- "$dir/${labels[0]}.track.wav" "$dir/out.wav"
	else
		sx -m "${mix[@]}" -r "$RATE" -c 1 -b 16 -e signed-integer -t wav "$dir/out.wav"
	fi

	got="$(soxi -s "$dir/out.wav")"
	[ "$got" -eq "$total" ] || die "$name: expected $total samples, got $got"

	mv -f -- "$dir/out.wav" "$SCRIPT_DIR/$name.wav"
	mv -f -- "$rttm" "$SCRIPT_DIR/$name.rttm"
	mv -f -- "$vtt" "$SCRIPT_DIR/$name.vtt"
	check "$name"
	overlaps="$(grep -c '^[a-z0-9]*: \[overlap ' "$src" || true)"
	echo "$name: ${#labels[@]} speakers, $n turns, $overlaps overlaps, $(secs "$(ms "$total")") s, $(stat -c %s "$SCRIPT_DIR/$name.wav") bytes"
	unset voice pitch speed cents tempo gain cursor
done
