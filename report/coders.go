package report

import (
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
)

// Agreement between human coders (double coding for research, issue 22):
// coders who review the same session independently, each deciding for
// every turn which practice codes apply. The functions here are the
// statistics only; the caller gathers the sessions.

// CoderSession is one session coded independently by several coders.
type CoderSession struct {
	// Session names the session. The statistics do not read it; it is
	// there so that a caller can trace a figure back.
	Session string `json:"session"`
	// CodebookVersion is the version of the codebook the session was
	// tagged with, for figures by version; the statistics do not read it.
	CodebookVersion string `json:"codebook_version,omitempty"`
	// Segments are the session's turns, each with what every coder who
	// coded it decided.
	Segments []CodedUnit `json:"segments"`
}

// CodedUnit is one turn of a session and the codes each coder applied to
// it. Start and End are taken to be finite with End ≥ Start: time units
// cost memory in proportion to the span of a session's turns over the
// unit width.
type CodedUnit struct {
	// Start and End bound the turn, in seconds from the start of the
	// recording.
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// Codes maps a coder's name to the codes that coder applied to the
	// turn. A coder who coded the turn and applied no code has an entry
	// with no codes; a coder without an entry did not code it, which is a
	// missing value, not a "no". A caller building units from reviews must
	// therefore give every coder who reviewed the session an entry on every
	// turn, empty or not.
	Codes map[string][]string `json:"codes"`
}

// KrippendorffAlpha returns the observed agreement and Krippendorff's
// alpha for nominal values over units, where units[u] holds the values
// the coders who coded unit u gave it, missing values left out.
//
// It is the coincidence-matrix formula (Krippendorff 2011, "Computing
// Krippendorff's Alpha-Reliability"): a unit with m ≥ 2 values
// contributes each ordered pair of values from different coders with
// weight 1/(m−1); with n the pairable values, n_c those of value c and
// o_cc the coincidences of c with itself,
//
//	alpha = 1 − (n−1)·(n − Σ o_cc) / (n² − Σ n_c²)
//
// and observed is Σ o_cc / n, the share of pairable values matched by
// values from other coders (for two coders, the share of units where they
// agree). Units with fewer than two values cannot be paired and are
// dropped. Observed is nil when no unit is pairable; alpha is nil then
// and when every pairable value is the same, so that chance would agree
// perfectly and the expected disagreement is 0.
func KrippendorffAlpha[V comparable](units [][]V) (observed, alpha *float64) {
	var n, agree float64
	total := map[V]float64{}
	freq := map[V]int{}
	for _, u := range units {
		m := len(u)
		if m < 2 {
			continue
		}
		clear(freq)
		for _, v := range u {
			freq[v]++
		}
		for v, f := range freq {
			agree += float64(f*(f-1)) / float64(m-1)
			total[v] += float64(f)
		}
		n += float64(m)
	}
	var sumSq float64
	for _, t := range total {
		sumSq += t * t
	}
	return alphaFrom(n, agree, sumSq)
}

// alphaFrom is alpha from the coincidence totals: n pairable values, agree
// the sum of the coincidence matrix's diagonal, sumSq the sum of the
// squared value totals.
func alphaFrom(n, agree, sumSq float64) (observed, alpha *float64) {
	if n < 2 {
		return nil, nil
	}
	o := agree / n
	expected := n*n - sumSq
	if expected <= 0 {
		return &o, nil
	}
	a := 1 - (n-1)*(n-agree)/expected
	return &o, &a
}

// Defaults for CoderOptions.
const (
	// DefaultUnitSeconds is the width of a time unit.
	DefaultUnitSeconds = 1.0
	// DefaultRounds is how many bootstrap resamples a confidence interval
	// is over.
	DefaultRounds = 1000
	// DefaultLevel is the confidence level of the intervals.
	DefaultLevel = 0.95
)

// CoderOptions says what CoderAgreement computes.
type CoderOptions struct {
	// Codes are the codes to report, in any order; none means every code
	// a coder applied in the sessions. A code named here that no coder
	// applied still gets a row (its alpha and kappa are undefined).
	Codes []string `json:"codes,omitempty"`
	// UnitSeconds is the width of the time units, in seconds; 0 (or any
	// value that is not a positive number) means DefaultUnitSeconds.
	UnitSeconds float64 `json:"unit_seconds"`
	// Rounds is how many bootstrap resamples each interval is over; 0
	// means DefaultRounds, below 0 computes no intervals.
	Rounds int `json:"rounds"`
	// Level is the confidence level of the intervals, between 0 and 1; 0
	// (or any value outside) means DefaultLevel.
	Level float64 `json:"level"`
	// Seed seeds the bootstrap's PCG generator; the same seed and sessions
	// give the same intervals. Every value, 0 included, is a seed. It is a
	// string in JSON, where large integers lose digits.
	Seed uint64 `json:"seed,string"`
	// MinCell is the suppression threshold: a row over fewer sessions is
	// withheld. 0 (or below) means DefaultMinCell; 1 turns suppression
	// off.
	MinCell int `json:"min_cell"`
}

// WithDefaults returns the options with every unset or out-of-range field
// at its default and the codes sorted without repeats.
func (o CoderOptions) WithDefaults() CoderOptions {
	if !(o.UnitSeconds > 0) || math.IsInf(o.UnitSeconds, 1) {
		o.UnitSeconds = DefaultUnitSeconds
	}
	if o.Rounds == 0 {
		o.Rounds = DefaultRounds
	}
	if !(o.Level > 0 && o.Level < 1) {
		o.Level = DefaultLevel
	}
	if o.MinCell <= 0 {
		o.MinCell = DefaultMinCell
	}
	if o.Codes != nil {
		o.Codes = slices.Compact(slices.Sorted(slices.Values(o.Codes)))
	}
	return o
}

// CoderReport is agreement between coders per code.
type CoderReport struct {
	// Options are the options as applied, defaults filled in: with the
	// seed, what a reader needs to reproduce the intervals.
	Options CoderOptions `json:"options"`
	// Rows are one per code, sorted by code.
	Rows []CoderAgreementRow `json:"rows"`
}

// CoderAgreementRow is agreement between coders on one code: whether each
// coder applied it, unit by unit, as presence (1) or absence (0).
type CoderAgreementRow struct {
	// Code is the practice code.
	Code string
	// Coders are the coders who coded at least one turn that another
	// coder coded too, sorted: a coder who only ever coded turns alone
	// counts in neither kind of unit. When there are exactly two,
	// Coders[0] is the first coder of the kappa table and Coders[1] the
	// second.
	Coders []string
	// Sessions is how many sessions have at least one segment coded by two
	// or more coders: the sessions the figures are over and the bootstrap
	// resamples.
	Sessions int
	// Segments is agreement over turns as units; Time over fixed time
	// units (see UnitAgreement). Both nil when suppressed.
	Segments, Time *UnitAgreement
	// Suppressed withholds every figure: fewer sessions than the
	// threshold.
	Suppressed bool
}

// UnitAgreement is agreement on one code over one kind of unit.
//
// Segment units are the session's turns: a coder's value is 1 when the
// coder applied the code to the turn, 0 when the coder coded the turn
// without it, missing when the coder did not code the turn.
//
// Time units are fixed slices of the recording, [k·w, (k+1)·w) seconds for
// the options' width w, counted from the start of the recording; a slice
// is a unit when a turn of positive length overlaps it. A coder's value is
// 1 when a turn the coder applied the code to overlaps the slice, 0 when
// the coder coded some overlapping turn but none with the code, missing
// when the coder coded no overlapping turn. Time units weigh a long turn
// more than a short one, which segment units do not, and make turns that
// straddle a boundary count in both slices. Fixed slices were chosen over
// cutting the timeline at every turn boundary because their number does
// not depend on how finely the transcript was cut.
type UnitAgreement struct {
	// Units is how many units have values from two or more coders (the
	// others cannot be paired and are left out); Values how many values
	// they have, and Applied how many of those are 1.
	Units   int `json:"units"`
	Values  int `json:"values"`
	Applied int `json:"applied"`
	// Table is the 2×2 table of the two coders over the units both coded;
	// nil unless the row has exactly two coders.
	Table *CoderTable `json:"table"`
	// Observed is the observed agreement: for two coders the share of
	// units where they agree, for more the share of pairable values
	// matched by other coders' values (see KrippendorffAlpha). Kappa is
	// Cohen's kappa, only for two coders. Alpha is Krippendorff's alpha
	// for nominal data.
	Observed Estimate `json:"observed_agreement"`
	Kappa    Estimate `json:"kappa"`
	Alpha    Estimate `json:"alpha"`
}

// CoderTable is the 2×2 table of two coders on one code: units where both
// applied it, only the first, only the second, neither.
type CoderTable struct {
	Both       int `json:"both"`
	FirstOnly  int `json:"first_only"`
	SecondOnly int `json:"second_only"`
	Neither    int `json:"neither"`
}

// Estimate is a figure with its bootstrap confidence interval.
type Estimate struct {
	// Value is the figure over all the sessions; nil when undefined.
	Value *float64 `json:"value"`
	// Low and High bound the percentile interval at the options' level:
	// sessions are drawn with replacement as many times as there are,
	// the figure recomputed, and the interval read from the quantiles of
	// the recomputed figures. Nil when Value is nil, no interval was
	// asked for, or no resample gave a defined figure.
	Low  *float64 `json:"ci_low"`
	High *float64 `json:"ci_high"`
	// Resamples is how many resamples gave a defined figure: those the
	// interval is over. Resamples where the figure is undefined (say a
	// code no coder applied in any session drawn) are skipped.
	Resamples int `json:"resamples"`
}

// coderRowJSON is a row in JSON: sessions and coders null where
// suppressed.
type coderRowJSON struct {
	Code       string         `json:"code"`
	Coders     []string       `json:"coders"`
	Sessions   *int           `json:"sessions"`
	Segments   *UnitAgreement `json:"segments"`
	Time       *UnitAgreement `json:"time"`
	Suppressed bool           `json:"suppressed"`
}

// MarshalJSON writes the row with null for what is suppressed.
func (r CoderAgreementRow) MarshalJSON() ([]byte, error) {
	j := coderRowJSON{Code: r.Code, Segments: r.Segments, Time: r.Time, Suppressed: r.Suppressed}
	if !r.Suppressed {
		j.Coders, j.Sessions = r.Coders, &r.Sessions
		if j.Coders == nil {
			j.Coders = []string{}
		}
	}
	return json.Marshal(j)
}

// CoderAgreement computes agreement between the coders of sessions on each
// code, over segment and over time units, with bootstrap intervals over
// sessions, and suppresses rows over fewer than opt.MinCell sessions.
// Sessions without a segment coded by two coders are left out; with none
// left, every row is suppressed, whatever the threshold.
func CoderAgreement(sessions []CoderSession, opt CoderOptions) *CoderReport {
	opt = opt.WithDefaults()
	codes := opt.Codes
	if codes == nil {
		seen := map[string]bool{}
		for _, s := range sessions {
			for _, u := range s.Segments {
				for _, cs := range u.Codes {
					for _, c := range cs {
						if !seen[c] {
							seen[c] = true
							codes = append(codes, c)
						}
					}
				}
			}
		}
		slices.Sort(codes)
	}

	// The coders with a pairable value, over every session.
	coderSet := map[string]bool{}
	var kept []CoderSession
	for _, s := range sessions {
		paired := false
		for _, u := range s.Segments {
			if len(u.Codes) >= 2 {
				paired = true
				for c := range u.Codes {
					coderSet[c] = true
				}
			}
		}
		if paired {
			kept = append(kept, s)
		}
	}
	coders := slices.Sorted(maps.Keys(coderSet))
	var pair []string
	if len(coders) == 2 {
		pair = coders
	}

	// sums[kind][session][code]: the additive summary of one session.
	var sums [2][][]binarySummary
	for _, s := range kept {
		sums[0] = append(sums[0], segmentSummaries(s, codes, pair))
		sums[1] = append(sums[1], timeSummaries(s, codes, coders, pair, opt.UnitSeconds))
	}

	out := &CoderReport{Options: opt, Rows: make([]CoderAgreementRow, 0, len(codes))}
	suppressed := len(kept) < opt.MinCell
	var est [2][]*UnitAgreement
	for k := range sums {
		est[k] = make([]*UnitAgreement, len(codes))
		for j := range codes {
			var t binarySummary
			for i := range kept {
				t.add(&sums[k][i][j])
			}
			est[k][j] = t.agreement(pair != nil)
		}
	}
	if !suppressed && opt.Rounds > 0 && len(kept) > 0 {
		bootstrap(sums, est, pair != nil, opt)
	}
	for j, code := range codes {
		r := CoderAgreementRow{Code: code, Suppressed: suppressed}
		if !suppressed {
			r.Coders, r.Sessions = coders, len(kept)
			r.Segments, r.Time = est[0][j], est[1][j]
		}
		out.Rows = append(out.Rows, r)
	}
	return out
}

// binarySummary is what one session (or a sum of sessions) contributes to
// agreement on one code: counts that add across sessions, so that a
// bootstrap resample is a sum, not a recomputation from the units.
type binarySummary struct {
	units, values, applied int
	// agree is the diagonal of the coincidence matrix, o_00 + o_11.
	agree float64
	// The two coders' 2×2 table, when there are two.
	both, firstOnly, secondOnly, neither int
}

func (s *binarySummary) add(t *binarySummary) {
	s.units += t.units
	s.values += t.values
	s.applied += t.applied
	s.agree += t.agree
	s.both += t.both
	s.firstOnly += t.firstOnly
	s.secondOnly += t.secondOnly
	s.neither += t.neither
}

// unit adds a unit where m coders gave a value, ones of them 1; first and
// second are the two coders' values when there are two.
func (s *binarySummary) unit(m, ones int, first, second bool) {
	if m < 2 {
		return
	}
	zeros := m - ones
	s.units++
	s.values += m
	s.applied += ones
	s.agree += float64(ones*(ones-1)+zeros*(zeros-1)) / float64(m-1)
	switch {
	case first && second:
		s.both++
	case first:
		s.firstOnly++
	case second:
		s.secondOnly++
	default:
		s.neither++
	}
}

// stats returns the observed agreement, kappa (when two) and alpha.
func (s *binarySummary) stats(two bool) (observed, kappa, alpha *float64) {
	n, n1 := float64(s.values), float64(s.applied)
	observed, alpha = alphaFrom(n, s.agree, n1*n1+(n-n1)*(n-n1))
	if two {
		_, kappa = Kappa(s.both, s.firstOnly, s.secondOnly, s.neither)
	}
	return observed, kappa, alpha
}

// agreement is the summary's figures, without intervals.
func (s *binarySummary) agreement(two bool) *UnitAgreement {
	a := &UnitAgreement{Units: s.units, Values: s.values, Applied: s.applied}
	if two {
		a.Table = &CoderTable{Both: s.both, FirstOnly: s.firstOnly, SecondOnly: s.secondOnly, Neither: s.neither}
	}
	a.Observed.Value, a.Kappa.Value, a.Alpha.Value = s.stats(two)
	return a
}

// segmentSummaries summarizes agreement on each code over a session's
// turns. pair names the two coders, or is nil.
func segmentSummaries(s CoderSession, codes []string, pair []string) []binarySummary {
	out := make([]binarySummary, len(codes))
	for _, u := range s.Segments {
		m := len(u.Codes)
		if m < 2 {
			continue
		}
		for j, code := range codes {
			ones := 0
			for _, cs := range u.Codes {
				if slices.Contains(cs, code) {
					ones++
				}
			}
			var first, second bool
			if pair != nil {
				first, second = slices.Contains(u.Codes[pair[0]], code), slices.Contains(u.Codes[pair[1]], code)
			}
			out[j].unit(m, ones, first, second)
		}
	}
	return out
}

// timeSummaries summarizes agreement on each code over a session's time
// units of width w seconds (see UnitAgreement). Only the coders named
// count; pair names two of them, or is nil.
func timeSummaries(s CoderSession, codes, coders, pair []string, w float64) []binarySummary {
	out := make([]binarySummary, len(codes))
	// span returns the first and last time unit a turn overlaps; ok is
	// false for a turn of no length. An overlap of less than a billionth
	// of a unit is taken for rounding (0.3 s / 0.1 s is 2.999…), not an
	// overlap.
	const slack = 1e-9
	span := func(u CodedUnit) (lo, hi int, ok bool) {
		if !(u.End > u.Start) || math.IsInf(u.End-u.Start, 0) {
			return 0, 0, false
		}
		lo, hi = int(math.Floor(u.Start/w+slack)), int(math.Ceil(u.End/w-slack))-1
		return lo, max(lo, hi), true
	}
	coderAt := make(map[string]int, len(coders))
	for c, name := range coders {
		coderAt[name] = c
	}
	first, last := math.MaxInt, math.MinInt
	for _, u := range s.Segments {
		if lo, hi, ok := span(u); ok {
			first, last = min(first, lo), max(last, hi)
		}
	}
	if first > last || len(coders) < 2 {
		return out
	}
	width, nc := last-first+1, len(coderAt)
	codeAt := make(map[string]int, len(codes))
	for j, c := range codes {
		codeAt[c] = j
	}
	// coded[k*nc+c]: coder c coded a turn overlapping unit k; applied[j]
	// likewise for turns the coder applied code j to, allocated when
	// first needed.
	coded := make([]bool, width*nc)
	applied := make([][]bool, len(codes))
	for _, u := range s.Segments {
		lo, hi, ok := span(u)
		if !ok {
			continue
		}
		for name, cs := range u.Codes {
			c, ok := coderAt[name]
			if !ok {
				continue
			}
			for k := lo; k <= hi; k++ {
				coded[(k-first)*nc+c] = true
			}
			for _, code := range cs {
				j, ok := codeAt[code]
				if !ok {
					continue
				}
				if applied[j] == nil {
					applied[j] = make([]bool, width*nc)
				}
				for k := lo; k <= hi; k++ {
					applied[j][(k-first)*nc+c] = true
				}
			}
		}
	}
	p0, p1 := -1, -1
	if pair != nil {
		p0, p1 = coderAt[pair[0]], coderAt[pair[1]]
	}
	for k := range width {
		m := 0
		for c := range nc {
			if coded[k*nc+c] {
				m++
			}
		}
		if m < 2 {
			continue
		}
		for j := range codes {
			ones := 0
			var a, b bool
			if applied[j] != nil {
				for c := range nc {
					if applied[j][k*nc+c] {
						ones++
					}
				}
				if pair != nil {
					a, b = applied[j][k*nc+p0], applied[j][k*nc+p1]
				}
			}
			out[j].unit(m, ones, a, b)
		}
	}
	return out
}

// bootstrap fills in the intervals of est: opt.Rounds resamples of the
// sessions with replacement, the same resamples for every code and kind.
func bootstrap(sums [2][][]binarySummary, est [2][]*UnitAgreement, two bool, opt CoderOptions) {
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	nSessions, nCodes := len(sums[0]), len(est[0])
	// draws[k][j][s] are the defined figures of statistic s (observed,
	// kappa, alpha) over the resamples.
	var draws [2][][3][]float64
	for k := range draws {
		draws[k] = make([][3][]float64, nCodes)
	}
	pick := make([]int, nSessions)
	total := make([]binarySummary, nCodes)
	for range opt.Rounds {
		for i := range pick {
			pick[i] = rng.IntN(nSessions)
		}
		for k := range sums {
			clear(total)
			for _, i := range pick {
				for j := range total {
					total[j].add(&sums[k][i][j])
				}
			}
			for j := range total {
				o, kappa, alpha := total[j].stats(two)
				for s, v := range [3]*float64{o, kappa, alpha} {
					if v != nil {
						draws[k][j][s] = append(draws[k][j][s], *v)
					}
				}
			}
		}
	}
	tail := (1 - opt.Level) / 2
	for k := range est {
		for j, a := range est[k] {
			for s, e := range [3]*Estimate{&a.Observed, &a.Kappa, &a.Alpha} {
				d := draws[k][j][s]
				e.Resamples = len(d)
				if e.Value == nil || len(d) == 0 {
					continue
				}
				slices.Sort(d)
				lo, hi := Quantile(d, tail), Quantile(d, 1-tail)
				e.Low, e.High = &lo, &hi
			}
		}
	}
}
