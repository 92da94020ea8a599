package diarize

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// Result is the diarization error of one or more recordings, in seconds, as
// NIST md-eval counts it with overlapped speech scored.
type Result struct {
	// Scored is the reference speech in the scored region, each speaker
	// counted: two reference speakers talking at once for 1 s count 2 s.
	Scored float64
	// Miss is reference speech for which the hypothesis has too few
	// speakers: at each instant max(0, N_ref − N_hyp).
	Miss float64
	// FalseAlarm is hypothesis speech beyond the reference's speakers: at
	// each instant max(0, N_hyp − N_ref).
	FalseAlarm float64
	// Confusion is speech given to the wrong speaker: at each instant
	// min(N_ref, N_hyp) less the reference speakers whose mapped hypothesis
	// speaker is also speaking.
	Confusion float64
}

// DER returns the diarization error rate, (Miss + FalseAlarm + Confusion) /
// Scored. With nothing scored it is 0 if there is no error either and +Inf
// if there is (a hypothesis speaking over a silent reference).
func (r Result) DER() float64 {
	e := r.Miss + r.FalseAlarm + r.Confusion
	if r.Scored == 0 {
		if e == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return e / r.Scored
}

// Add adds o's seconds to r, so that r totals several recordings; the DER of
// the total weights each recording by its scored speech, as md-eval does.
func (r *Result) Add(o Result) {
	r.Scored += o.Scored
	r.Miss += o.Miss
	r.FalseAlarm += o.FalseAlarm
	r.Confusion += o.Confusion
}

// Mapping pairs the speakers of a hypothesis with those of its reference:
// hypothesis label → reference speaker. A label that is not a key was
// matched to no reference speaker (it shares no scored time with the one
// it would have been given).
type Mapping map[string]string

// Score returns the diarization error of hyp against ref for one recording,
// as NIST md-eval scores it with overlap:
//
//   - Only time inside the uem spans is scored. With no uem spans, the scored
//     region runs from 0 to the end of the last reference or hypothesis turn.
//   - A no-score collar of collar seconds on each side of every reference
//     turn's start and end is removed from the scored region (collar ≤ 0: no
//     collar).
//   - Turns of one speaker that overlap or touch count once, as one turn;
//     turns that are empty, reversed or not finite are ignored.
//   - Each hypothesis label is mapped to at most one reference speaker and
//     the other way round, choosing the mapping that maximises the time the
//     mapped pairs speak together within the scored region (see MapSpeakers);
//     confusion is then counted instant by instant as documented on Result.
//
// The figures are exact sums over the pieces between consecutive turn and
// region boundaries, not counts of frames.
func Score(ref, hyp []Turn, uem []Span, collar float64) Result {
	res, _ := scoreFile(ref, hyp, uem, collar)
	return res
}

// MapSpeakers returns the speaker mapping Score uses for the same
// arguments: the one-to-one pairing of hypothesis labels with reference
// speakers that maximises the total time each pair speaks together within
// the scored region. It is found with the Hungarian algorithm (Kuhn–Munkres)
// at every size, not by trying pairings. When several pairings tie, which
// one is returned is fixed by the speakers' names, and the score is the same
// for each.
func MapSpeakers(ref, hyp []Turn, uem []Span, collar float64) Mapping {
	_, m := scoreFile(ref, hyp, uem, collar)
	return m
}

// scoreFile computes Score's Result and MapSpeakers' Mapping.
func scoreFile(ref, hyp []Turn, uem []Span, collar float64) (Result, Mapping) {
	r, h := groupTurns(ref), groupTurns(hyp)
	ps := cutPieces(scoredRegion(uem, r, h, collar), r, h)

	overlap := make([][]float64, len(r.names))
	for i := range overlap {
		overlap[i] = make([]float64, len(h.names))
	}
	for _, p := range ps {
		for _, ri := range p.ref {
			for _, hi := range p.hyp {
				overlap[ri][hi] += p.dur
			}
		}
	}
	match := maxAssignment(overlap, len(h.names))
	m := make(Mapping)
	for ri, hi := range match {
		if hi >= 0 && overlap[ri][hi] > 0 {
			m[h.names[hi]] = r.names[ri]
		} else {
			match[ri] = -1
		}
	}

	var res Result
	speaking := make([]bool, len(h.names))
	for _, p := range ps {
		for _, hi := range p.hyp {
			speaking[hi] = true
		}
		nRef, nHyp, nCorrect := len(p.ref), len(p.hyp), 0
		for _, ri := range p.ref {
			if hi := match[ri]; hi >= 0 && speaking[hi] {
				nCorrect++
			}
		}
		for _, hi := range p.hyp {
			speaking[hi] = false
		}
		res.Scored += float64(nRef) * p.dur
		res.Miss += float64(max(0, nRef-nHyp)) * p.dur
		res.FalseAlarm += float64(max(0, nHyp-nRef)) * p.dur
		res.Confusion += float64(min(nRef, nHyp)-nCorrect) * p.dur
	}
	return res, m
}

// speakerTurns is one side's turns by speaker: names sorted, and for each its
// turns sorted and merged, so that no two overlap or touch.
type speakerTurns struct {
	names []string
	turns [][]Span
}

// groupTurns sorts turns by speaker and merges each speaker's overlapping
// or touching turns, leaving out empty, reversed and non-finite ones.
func groupTurns(turns []Turn) speakerTurns {
	by := make(map[string][]Span)
	for _, t := range turns {
		if t.Start < t.End && !math.IsInf(t.Start, 0) && !math.IsInf(t.End, 0) {
			by[t.Speaker] = append(by[t.Speaker], Span{t.Start, t.End})
		}
	}
	s := speakerTurns{names: slices.Sorted(maps.Keys(by))}
	for _, n := range s.names {
		s.turns = append(s.turns, mergeSpans(by[n]))
	}
	return s
}

// mergeSpans returns spans sorted, with those that overlap or touch merged
// and empty, reversed or NaN ones left out. spans is not changed.
func mergeSpans(spans []Span) []Span {
	var kept []Span
	for _, s := range spans {
		if s.Start < s.End {
			kept = append(kept, s)
		}
	}
	slices.SortFunc(kept, func(a, b Span) int { return cmp.Compare(a.Start, b.Start) })
	var out []Span
	for _, s := range kept {
		if n := len(out); n > 0 && s.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, s.End)
			continue
		}
		out = append(out, s)
	}
	return out
}

// scoredRegion returns the scored region as sorted, disjoint spans: the uem
// spans (or 0 to the last turn's end), less a collar around each reference
// turn boundary.
func scoredRegion(uem []Span, ref, hyp speakerTurns, collar float64) []Span {
	var region []Span
	if len(uem) == 0 {
		end := 0.0
		for _, side := range []speakerTurns{ref, hyp} {
			for _, ts := range side.turns {
				end = max(end, ts[len(ts)-1].End)
			}
		}
		region = mergeSpans([]Span{{0, end}})
	} else {
		var finite []Span
		for _, s := range uem {
			if !math.IsInf(s.Start, 0) && !math.IsInf(s.End, 0) {
				finite = append(finite, s)
			}
		}
		region = mergeSpans(finite)
	}
	if !(collar > 0) {
		return region
	}
	var zones []Span
	for _, ts := range ref.turns {
		for _, t := range ts {
			zones = append(zones, Span{t.Start - collar, t.Start + collar}, Span{t.End - collar, t.End + collar})
		}
	}
	return subtractSpans(region, mergeSpans(zones))
}

// subtractSpans returns the parts of a not in b; both are sorted and
// disjoint, and so is the result.
func subtractSpans(a, b []Span) []Span {
	var out []Span
	j := 0
	for _, s := range a {
		for j < len(b) && b[j].End <= s.Start {
			j++
		}
		start := s.Start
		for k := j; k < len(b) && b[k].Start < s.End; k++ {
			if b[k].Start > start {
				out = append(out, Span{start, b[k].Start})
			}
			start = max(start, b[k].End)
		}
		if start < s.End {
			out = append(out, Span{start, s.End})
		}
	}
	return out
}

// scoredPiece is a stretch of the scored region in which the same speakers
// speak throughout: indexes into the reference's and the hypothesis's names.
type scoredPiece struct {
	dur      float64
	ref, hyp []int
}

// cutPieces cuts the scored region at every turn boundary and returns the
// pieces in which anyone speaks.
func cutPieces(region []Span, ref, hyp speakerTurns) []scoredPiece {
	var ts []float64
	for _, s := range region {
		ts = append(ts, s.Start, s.End)
	}
	for _, side := range []speakerTurns{ref, hyp} {
		for _, turns := range side.turns {
			for _, t := range turns {
				ts = append(ts, t.Start, t.End)
			}
		}
	}
	slices.Sort(ts)
	ts = slices.Compact(ts)

	refAt, hypAt := newTurnCursor(ref), newTurnCursor(hyp)
	var out []scoredPiece
	ri := 0
	for i := 0; i+1 < len(ts); i++ {
		a, b := ts[i], ts[i+1]
		for ri < len(region) && region[ri].End <= a {
			ri++
		}
		if ri == len(region) {
			break
		}
		if region[ri].Start > a {
			continue
		}
		// Every boundary is in ts, so whoever speaks at a speaks until b.
		p := scoredPiece{dur: b - a, ref: refAt.speaking(a), hyp: hypAt.speaking(a)}
		if len(p.ref)+len(p.hyp) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// turnCursor finds who speaks at a time, for times that only increase.
type turnCursor struct {
	s    speakerTurns
	next []int // per speaker, the first turn that has not ended
}

// newTurnCursor returns a turnCursor at the start of s's turns.
func newTurnCursor(s speakerTurns) *turnCursor {
	return &turnCursor{s: s, next: make([]int, len(s.names))}
}

// speaking returns the speakers whose turns hold [t, t+ε).
func (c *turnCursor) speaking(t float64) []int {
	var out []int
	for i, turns := range c.s.turns {
		for c.next[i] < len(turns) && turns[c.next[i]].End <= t {
			c.next[i]++
		}
		if j := c.next[i]; j < len(turns) && turns[j].Start <= t {
			out = append(out, i)
		}
	}
	return out
}

// maxAssignment returns, for each row of w (rows × cols weights), the column
// it is matched to, or -1, such that no column is matched twice and the
// matched weights sum to the largest total possible. It is the Hungarian algorithm
// (Kuhn–Munkres with row and column potentials), O(n³) for n = max(rows,
// cols), on the square matrix of costs −w padded with zeros.
func maxAssignment(w [][]float64, cols int) []int {
	rows := len(w)
	n := max(rows, cols)
	cost := func(i, j int) float64 { // 1-based, as in the potentials below
		if i <= rows && j <= cols {
			return -w[i-1][j-1]
		}
		return 0
	}
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	p := make([]int, n+1)   // p[j]: the row matched to column j, 0 for none
	way := make([]int, n+1) // way[j]: the previous column on the path to j
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				if c := cost(i0, j) - u[i0] - v[j]; c < minv[j] {
					minv[j], way[j] = c, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	match := make([]int, rows)
	for i := range match {
		match[i] = -1
	}
	for j := 1; j <= cols; j++ {
		if i := p[j]; i >= 1 && i <= rows {
			match[i-1] = j - 1
		}
	}
	return match
}
