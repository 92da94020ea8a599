#!/bin/sh
# split-practice.sh PART.csv...: adds the practice meetings a corpus
# writer wrote (a part: gold format, meetings X01–X15 of one writer X) to
# testdata/practice/train.csv, dev.csv and test.csv, by meeting: of a
# part's meetings 03, 08 and 13 go to the test split, 05, 10 and 15 to the
# dev split, the other nine to train. So every split has meetings of every
# writer, and of each writer's speech-engine-style ones. Run from the
# repository's root; a split file is made with the part's header if it is
# not there.
set -eu
dir=testdata/practice
for s in train dev test; do
	[ -f "$dir/$s.csv" ] || head -n 1 "$1" >"$dir/$s.csv"
done
for f in "$@"; do
	awk -v dir="$dir" 'NR > 1 {
		id = $0; sub(/,.*/, "", id); gsub(/"/, "", id)
		n = substr(id, 2, 2) + 0
		s = "train"
		if (n == 3 || n == 8 || n == 13) s = "test"
		else if (n == 5 || n == 10 || n == 15) s = "dev"
		print >> (dir "/" s ".csv")
	}' "$f"
done
