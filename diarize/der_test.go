package diarize

import (
	"errors"
	"io/fs"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// tr is a turn of speaker from start to end.
func tr(speaker string, start, end float64) Turn {
	return Turn{Start: start, End: end, Speaker: speaker}
}

// near reports whether a and b agree to a nanosecond, or are the same
// infinity.
func near(a, b float64) bool {
	return a == b || math.Abs(a-b) < 1e-9
}

func sameResult(a, b Result) bool {
	return near(a.Scored, b.Scored) && near(a.Miss, b.Miss) && near(a.FalseAlarm, b.FalseAlarm) && near(a.Confusion, b.Confusion)
}

func TestScore(t *testing.T) {
	for _, c := range []struct {
		name     string
		ref, hyp []Turn
		uem      []Span
		collar   float64
		want     Result
		der      float64
		mapping  Mapping // nil: not checked
	}{
		{
			// Same turns under other names: every instant is correct.
			name:    "perfect",
			ref:     []Turn{tr("A", 0, 10), tr("B", 10, 15)},
			hyp:     []Turn{tr("x", 0, 10), tr("y", 10, 15)},
			want:    Result{Scored: 15},
			der:     0,
			mapping: Mapping{"x": "A", "y": "B"},
		},
		{
			// Nothing said: all 10 + 5 s of reference speech missed.
			name:    "all missed",
			ref:     []Turn{tr("A", 0, 10), tr("B", 10, 15)},
			want:    Result{Scored: 15, Miss: 15},
			der:     1,
			mapping: Mapping{},
		},
		{
			// A silent reference: the 5 s of hypothesis speech are false
			// alarm, over nothing scored.
			name:    "all false alarm",
			hyp:     []Turn{tr("x", 0, 5)},
			uem:     []Span{{0, 10}},
			want:    Result{FalseAlarm: 5},
			der:     math.Inf(1),
			mapping: Mapping{},
		},
		{
			// The labels are each other's: the mapping swaps them back.
			name:    "swapped labels",
			ref:     []Turn{tr("A", 0, 10), tr("B", 10, 20)},
			hyp:     []Turn{tr("B", 0, 10), tr("A", 10, 20)},
			want:    Result{Scored: 20},
			der:     0,
			mapping: Mapping{"A": "B", "B": "A"},
		},
		{
			// A's 10 s split 7 + 3: x (7 s with A) maps to A, y to nobody,
			// so y's 3 s are confusion. DER 3/10.
			name:    "one speaker split in two",
			ref:     []Turn{tr("A", 0, 10)},
			hyp:     []Turn{tr("x", 0, 7), tr("y", 7, 10)},
			want:    Result{Scored: 10, Confusion: 3},
			der:     0.3,
			mapping: Mapping{"x": "A"},
		},
		{
			// A 0–10 and B 6–12 overlap for 4 s; the hypothesis has one
			// speaker at a time (x 0–10 ↔ A, y 10–12 ↔ B). Scored 10 + 6 =
			// 16; in 6–10 two speak and one is found: miss 4, no confusion.
			// DER 4/16.
			name:    "overlap in the reference, one speaker at a time in the hypothesis",
			ref:     []Turn{tr("A", 0, 10), tr("B", 6, 12)},
			hyp:     []Turn{tr("x", 0, 10), tr("y", 10, 12)},
			want:    Result{Scored: 16, Miss: 4},
			der:     0.25,
			mapping: Mapping{"x": "A", "y": "B"},
		},
		{
			// Overlaps: x–A 5 s (0–5), x–B 4 s (9–13), y–A 4 s (5–9). Taking
			// the largest pair first (x–A) leaves y–B with 0 s, 5 s in all;
			// the optimum is x–B + y–A = 8 s. Confusion is the speech
			// matched wrongly: 13 − 8 = 5 s (x over A in 0–5). DER 5/13.
			name:    "the optimal mapping is not the greedy one",
			ref:     []Turn{tr("A", 0, 9), tr("B", 9, 13)},
			hyp:     []Turn{tr("x", 0, 5), tr("y", 5, 9), tr("x", 9, 13)},
			want:    Result{Scored: 13, Confusion: 5},
			der:     5.0 / 13,
			mapping: Mapping{"x": "B", "y": "A"},
		},
		{
			// Without a collar the change at 10 is placed 0.2 s late: 10–10.2
			// is B's speech given to x, confusion 0.2 of 20 s.
			name: "boundary error without a collar",
			ref:  []Turn{tr("A", 0, 10), tr("B", 10, 20)},
			hyp:  []Turn{tr("x", 0, 10.2), tr("y", 10.2, 20)},
			want: Result{Scored: 20, Confusion: 0.2},
			der:  0.01,
		},
		{
			// A 0.25 s collar removes −0.25–0.25, 9.75–10.25 and
			// 19.75–20.25: the scored region is 0.25–9.75 and 10.25–19.75,
			// 9.5 + 9.5 = 19 s, and the 0.2 s error lies inside a collar.
			name:   "collar removes a boundary error",
			ref:    []Turn{tr("A", 0, 10), tr("B", 10, 20)},
			hyp:    []Turn{tr("x", 0, 10.2), tr("y", 10.2, 20)},
			collar: 0.25,
			want:   Result{Scored: 19},
			der:    0,
		},
		{
			// The change placed 0.5 s late with a 0.25 s collar: 10.25–10.5
			// is still scored and wrong. Confusion 0.25 of 19 s.
			name:   "collar removes only its own width",
			ref:    []Turn{tr("A", 0, 10), tr("B", 10, 20)},
			hyp:    []Turn{tr("x", 0, 10.5), tr("y", 10.5, 20)},
			collar: 0.25,
			want:   Result{Scored: 19, Confusion: 0.25},
			der:    0.25 / 19,
		},
		{
			// Scored region 2–12: A speaks 2–10 (8 s); 2–5 missed (3 s),
			// 5–10 right, 10–12 false alarm (2 s); x's 12–20 is not scored.
			// DER (3 + 2)/8.
			name:    "UEM cuts the scored region",
			ref:     []Turn{tr("A", 0, 10)},
			hyp:     []Turn{tr("x", 5, 20)},
			uem:     []Span{{2, 12}},
			want:    Result{Scored: 8, Miss: 3, FalseAlarm: 2},
			der:     0.625,
			mapping: Mapping{"x": "A"},
		},
		{
			// Scored 0–3 and 8–12: A speaks 3 + 2 = 5 s; 0–3 missed, 8–10
			// right, 10–12 false alarm; x's 5–8 with A is not scored. DER
			// (3 + 2)/5.
			name: "UEM of two spans",
			ref:  []Turn{tr("A", 0, 10)},
			hyp:  []Turn{tr("x", 5, 20)},
			uem:  []Span{{8, 12}, {0, 3}},
			want: Result{Scored: 5, Miss: 3, FalseAlarm: 2},
			der:  1,
		},
		{
			// UEM spans 0–6 and 4–10 overlap: 0–10 is scored once.
			name: "overlapping UEM spans count once",
			ref:  []Turn{tr("A", 0, 10)},
			uem:  []Span{{0, 6}, {4, 10}},
			want: Result{Scored: 10, Miss: 10},
			der:  1,
		},
		{
			// No UEM: scored from 0 to the last turn's end, x's at 12, so
			// 10–12 is false alarm.
			name: "no UEM scores up to the last hypothesis turn",
			ref:  []Turn{tr("A", 0, 10)},
			hyp:  []Turn{tr("x", 0, 12)},
			want: Result{Scored: 10, FalseAlarm: 2},
			der:  0.2,
		},
		{
			// A's turns 0–5, 3–8 and 8–10 are one turn 0–10: 10 s, not 12,
			// and with a 0.5 s collar only 0.5–9.5 is scored (9 s), no
			// collar at 3, 5 or 8.
			name:   "a speaker's overlapping and touching reference turns count once",
			ref:    []Turn{tr("A", 0, 5), tr("A", 3, 8), tr("A", 8, 10)},
			hyp:    []Turn{tr("x", 0, 10)},
			collar: 0.5,
			want:   Result{Scored: 9},
			der:    0,
		},
		{
			// x's 0–6 and 4–10 are one turn: no false alarm for 4–6.
			name: "a label's overlapping hypothesis turns count once",
			ref:  []Turn{tr("A", 0, 10)},
			hyp:  []Turn{tr("x", 0, 6), tr("x", 4, 10)},
			want: Result{Scored: 10},
			der:  0,
		},
		{
			// Two labels over one speaker for 10 s: one is right, the other
			// is 10 s of false alarm.
			name: "overlap in the hypothesis only",
			ref:  []Turn{tr("A", 0, 10)},
			hyp:  []Turn{tr("x", 0, 10), tr("y", 0, 10)},
			want: Result{Scored: 10, FalseAlarm: 10},
			der:  1,
		},
		{
			// The empty and reversed turns are left out.
			name: "empty and reversed turns are ignored",
			ref:  []Turn{tr("A", 0, 10), tr("A", 5, 5), tr("B", 7, 3)},
			hyp:  []Turn{tr("x", 0, 10), tr("z", 8, 3), tr("w", math.NaN(), 4)},
			want: Result{Scored: 10},
			der:  0,
		},
		{
			name: "nothing at all",
			want: Result{},
			der:  0,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Score(c.ref, c.hyp, c.uem, c.collar)
			if !sameResult(got, c.want) {
				t.Errorf("Score = %+v, want %+v", got, c.want)
			}
			if !near(got.DER(), c.der) {
				t.Errorf("DER = %g, want %g", got.DER(), c.der)
			}
			if c.mapping != nil {
				if m := MapSpeakers(c.ref, c.hyp, c.uem, c.collar); !maps.Equal(m, c.mapping) {
					t.Errorf("MapSpeakers = %v, want %v", m, c.mapping)
				}
			}
		})
	}
}

func TestScoreDoesNotChangeItsInput(t *testing.T) {
	ref := []Turn{tr("B", 5, 9), tr("A", 0, 6)}
	uem := []Span{{8, 12}, {0, 3}}
	Score(ref, ref, uem, 0.5)
	if ref[0] != tr("B", 5, 9) || uem[0] != (Span{8, 12}) {
		t.Errorf("Score reordered its input: %v %v", ref, uem)
	}
}

func TestResultAdd(t *testing.T) {
	// File 1: A's 10 s split 7 + 3 over x and y: confusion 3 of 10.
	// File 2: C 0–10 and D 6–12 overlap for 4 s, found one at a time by y
	// and x: miss 4 of 16. The labels are mapped per file (x → C in file 1
	// would be wrong; here x ↔ D). Total: (3 + 4)/(10 + 16) = 7/26.
	files := []struct{ ref, hyp []Turn }{
		{[]Turn{tr("A", 0, 10)}, []Turn{tr("x", 0, 7), tr("y", 7, 10)}},
		{[]Turn{tr("C", 0, 10), tr("D", 6, 12)}, []Turn{tr("y", 0, 10), tr("x", 10, 12)}},
	}
	var total Result
	for _, f := range files {
		total.Add(Score(f.ref, f.hyp, nil, 0))
	}
	want := Result{Scored: 26, Miss: 4, Confusion: 3}
	if !sameResult(total, want) {
		t.Errorf("total = %+v, want %+v", total, want)
	}
	if !near(total.DER(), 7.0/26) {
		t.Errorf("DER = %g, want 7/26", total.DER())
	}
	if m := MapSpeakers(files[1].ref, files[1].hyp, nil, 0); !maps.Equal(m, Mapping{"x": "D", "y": "C"}) {
		t.Errorf("file 2 mapping = %v", m)
	}
}

// TestMaxAssignment checks the Hungarian algorithm against trying every
// one-to-one pairing, on small matrices with many ties.
func TestMaxAssignment(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 2000; n++ {
		rows, cols := rng.IntN(7), rng.IntN(7)
		w := make([][]float64, rows)
		for i := range w {
			w[i] = make([]float64, cols)
			for j := range w[i] {
				if n%2 == 0 {
					w[i][j] = float64(rng.IntN(4)) // ties
				} else {
					w[i][j] = rng.Float64() * 100
				}
			}
		}
		match := maxAssignment(w, cols)
		if len(match) != rows {
			t.Fatalf("%v: %d matches for %d rows", w, len(match), rows)
		}
		seen := make(map[int]bool)
		got := 0.0
		for i, j := range match {
			if j < 0 {
				continue
			}
			if j >= cols || seen[j] {
				t.Fatalf("%v: match %v is not one-to-one", w, match)
			}
			seen[j] = true
			got += w[i][j]
		}
		if want := bestPairing(w, cols, 0, make([]bool, cols)); !near(got, want) {
			t.Fatalf("%v: match %v totals %g, the best is %g", w, match, got, want)
		}
	}
}

// bestPairing is the largest total weight of a one-to-one pairing of rows
// i… of w with the columns not yet used, found by trying them all.
func bestPairing(w [][]float64, cols, i int, used []bool) float64 {
	if i == len(w) {
		return 0
	}
	best := bestPairing(w, cols, i+1, used) // row i unmatched
	for j := range cols {
		if !used[j] {
			used[j] = true
			best = max(best, w[i][j]+bestPairing(w, cols, i+1, used))
			used[j] = false
		}
	}
	return best
}

// TestScoreAgainstFrames compares Score with a separate count over frames
// of 1/8 s, on random turns whose times, UEMs and collars all fall on the
// frame grid (so that counting frames is exact), with the mapping found by
// trying every pairing.
func TestScoreAgainstFrames(t *testing.T) {
	const unit = 0.125
	rng := rand.New(rand.NewPCG(3, 4))
	side := func(names string) []Turn {
		var ts []Turn
		for _, n := range names[:rng.IntN(len(names)+1)] {
			for range rng.IntN(4) {
				s := rng.IntN(60)
				ts = append(ts, tr(string(n), float64(s)*unit, float64(s+1+rng.IntN(20))*unit))
			}
		}
		return ts
	}
	for n := 0; n < 1000; n++ {
		ref, hyp := side("ABC"), side("wxyz")
		var uem []Span
		for range rng.IntN(3) {
			s := rng.IntN(70)
			uem = append(uem, Span{float64(s) * unit, float64(s+rng.IntN(30)) * unit})
		}
		collar := float64(rng.IntN(3)) * unit
		got := Score(ref, hyp, uem, collar)
		want := frameScore(ref, hyp, uem, collar, unit)
		if !sameResult(got, want) {
			t.Fatalf("ref %v\nhyp %v\nuem %v collar %g:\nScore = %+v\nframes = %+v", ref, hyp, uem, collar, got, want)
		}
	}
}

// frameScore scores as Score does by counting frames of unit seconds; every
// time must be a whole number of frames.
func frameScore(ref, hyp []Turn, uem []Span, collar, unit float64) Result {
	frame := func(x float64) int { return int(math.Round(x / unit)) }
	const frames = 200
	activity := func(turns []Turn) (names []string, on [][]bool) {
		idx := map[string]int{}
		for _, t := range turns {
			if t.Start >= t.End {
				continue
			}
			i, ok := idx[t.Speaker]
			if !ok {
				i = len(names)
				idx[t.Speaker] = i
				names = append(names, t.Speaker)
				on = append(on, make([]bool, frames))
			}
			for k := frame(t.Start); k < frame(t.End); k++ {
				on[i][k] = true
			}
		}
		return names, on
	}
	_, refOn := activity(ref)
	_, hypOn := activity(hyp)

	scored := make([]bool, frames)
	if len(uem) == 0 {
		for _, on := range append(refOn[:len(refOn):len(refOn)], hypOn...) {
			for k := range on {
				if on[k] {
					for j := 0; j <= k; j++ {
						scored[j] = true
					}
				}
			}
		}
	} else {
		for _, s := range uem {
			for k := frame(s.Start); k < frame(s.End); k++ {
				scored[k] = true
			}
		}
	}
	c := frame(collar)
	for _, on := range refOn {
		for b := 0; b < frames; b++ { // a boundary at b: on changes between frames b−1 and b
			if (b > 0 && on[b-1]) != on[b] {
				for k := max(0, b-c); k < min(frames, b+c); k++ {
					scored[k] = false
				}
			}
		}
	}

	together := make([][]int, len(refOn))
	for r := range refOn {
		together[r] = make([]int, len(hypOn))
		for h := range hypOn {
			for k := range frames {
				if scored[k] && refOn[r][k] && hypOn[h][k] {
					together[r][h]++
				}
			}
		}
	}
	// The best pairing by trying them all; any best one gives the same score.
	match := make([]int, len(refOn))
	best := make([]int, len(refOn))
	bestTotal := -1
	var try func(r, total int, used []bool)
	try = func(r, total int, used []bool) {
		if r == len(refOn) {
			if total > bestTotal {
				bestTotal = total
				copy(best, match)
			}
			return
		}
		match[r] = -1
		try(r+1, total, used)
		for h := range hypOn {
			if !used[h] {
				used[h], match[r] = true, h
				try(r+1, total+together[r][h], used)
				used[h] = false
			}
		}
	}
	try(0, 0, make([]bool, len(hypOn)))

	var res Result
	for k := range frames {
		if !scored[k] {
			continue
		}
		nRef, nHyp, nCorrect := 0, 0, 0
		for r := range refOn {
			if refOn[r][k] {
				nRef++
				if h := best[r]; h >= 0 && hypOn[h][k] {
					nCorrect++
				}
			}
		}
		for h := range hypOn {
			if hypOn[h][k] {
				nHyp++
			}
		}
		res.Scored += float64(nRef) * unit
		res.Miss += float64(max(0, nRef-nHyp)) * unit
		res.FalseAlarm += float64(max(0, nHyp-nRef)) * unit
		res.Confusion += float64(min(nRef, nHyp)-nCorrect) * unit
	}
	return res
}

// speakersDir is the shared evaluation data, ../shared/speakers from the
// repository root.
var speakersDir = filepath.Join("..", "..", "shared", "speakers")

// openSpeakers opens a file of the shared evaluation data. Missing data
// fails the test in CI and skips it elsewhere.
func openSpeakers(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(speakersDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("the evaluation data is missing: %v", err)
		}
		t.Skipf("the evaluation data is missing: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestReferenceScoresItself reads the real reference files and scores each
// recording's reference against itself, and against itself under other
// names: DER 0, and Scored the reference's speech inside the UEM.
func TestReferenceScoresItself(t *testing.T) {
	for _, set := range []struct {
		name  string
		files int
	}{{"train", 10}, {"development", 2}} {
		t.Run(set.name, func(t *testing.T) {
			refs, err := ReadRTTM(openSpeakers(t, set.name+".rttm"))
			if err != nil {
				t.Fatal(err)
			}
			uems, err := ReadUEM(openSpeakers(t, set.name+".uem"))
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != set.files || len(uems) != set.files {
				t.Fatalf("%d files in the RTTM and %d in the UEM, want %d", len(refs), len(uems), set.files)
			}
			for file, ref := range refs {
				uem, ok := uems[file]
				if !ok {
					t.Fatalf("%s has no UEM", file)
				}
				// Each turn's time inside the UEM, summed. No speaker's turns
				// overlap in these files (trn09's FEE083 has two that touch,
				// which adds nothing), so this is each speaker's speech once.
				want := 0.0
				for _, turn := range ref {
					for _, s := range uem {
						want += max(0, min(turn.End, s.End)-max(turn.Start, s.Start))
					}
				}
				renamed := make([]Turn, len(ref))
				for i, turn := range ref {
					renamed[i] = tr("hyp-"+turn.Speaker, turn.Start, turn.End)
				}
				for _, hyp := range [][]Turn{ref, renamed} {
					got := Score(ref, hyp, uem, 0)
					if !sameResult(got, Result{Scored: want}) || got.DER() != 0 {
						t.Errorf("%s: Score = %+v (DER %g), want Scored %g and no error", file, got, got.DER(), want)
					}
					if got := Score(ref, hyp, uem, 0.25); got.DER() != 0 || !(got.Scored > 0 && got.Scored < want) {
						t.Errorf("%s: with a 0.25 s collar Score = %+v, want no error over less than %g s", file, got, want)
					}
				}
				m := MapSpeakers(ref, renamed, uem, 0)
				names := make(map[string]bool)
				for _, turn := range ref {
					names[turn.Speaker] = true
				}
				if len(m) != len(names) {
					t.Errorf("%s: %d of %d speakers mapped: %v", file, len(m), len(names), m)
				}
				for hyp, r := range m {
					if hyp != "hyp-"+r {
						t.Errorf("%s: %s mapped to %s", file, hyp, r)
					}
				}
			}
		})
	}
}
