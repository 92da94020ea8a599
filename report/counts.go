package report

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
)

// Result is a counts report: one row per combination of the query's
// dimensions that has sessions, and totals.
type Result struct {
	// Query is the query as run, normalized.
	Query Query
	// Codes are the codes counted.
	Codes []string
	// Rows are the cells, sorted by their key (unknown values last).
	Rows []Row
	// Totals are over every session in scope: one per code when the query
	// groups by code, else one.
	Totals []Row
	// Hidden counts the rows left out because they are one worker's and
	// fall below the suppression threshold.
	Hidden int
}

// Row is one cell of a report. Its numbers are zero when it is
// suppressed, so that no rendering can show them.
type Row struct {
	// Key holds the values of the query's dimensions, in the query's
	// order; "" is an unknown value (e.g. a recording with no date). In
	// Totals only the code is set.
	Key []string
	// Sessions is how many sessions the cell has, Hours their recorded
	// length, Tags how many tags of the cell's codes they have, and Rate
	// is Tags / Hours.
	Sessions int
	Hours    float64
	Tags     int
	Rate     float64
	// Median, Q1 and Q3 are the median and quartiles of the sessions'
	// own rates (each session's tags / its hours), interpolated as R's
	// default quantile type 7 and Excel's QUARTILE.INC do.
	Median, Q1, Q3 float64
	// Suppressed says the numbers are withheld: the cell has fewer sessions
	// than the threshold, or it would give away one that has.
	Suppressed bool
}

// Value returns the row's value of dimension d in a result grouped by by,
// or "".
func (r *Row) Value(by []Dimension, d Dimension) string {
	if i := slices.Index(by, d); i >= 0 && i < len(r.Key) {
		return r.Key[i]
	}
	return ""
}

// Run counts what q asks for in src.
func Run(ctx context.Context, src Source, q Query) (*Result, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	rows, err := src.ReportRows(ctx, q)
	if err != nil {
		return nil, err
	}
	return Compute(q, rows), nil
}

// cell accumulates the sessions of one combination of the dimensions other
// than code, with counts and per-session rates for each code (or, when
// the query does not group by code, for all the codes together).
type cell struct {
	key      []string
	sessions int
	// ms is the recorded length in whole milliseconds: an integer sum is
	// the same in any order, so a report does not change in its last
	// digit with the order the database returns sessions in.
	ms   int64
	tags []int
	// The sessions' own rates: how many are 0, and the others. Rare codes
	// are 0 in most sessions, and 0 is the smallest rate, so only the
	// others need sorting.
	zeros []int
	rates [][]float64
}

// Compute turns the sessions of a normalized query into its report.
func Compute(q Query, in *SessionRows) *Result {
	if in == nil {
		in = &SessionRows{}
	}
	// The codes counted: the query's, else all the source gave; at[j] is
	// where code j is in the source's counts (-1: not there, so 0).
	codes := in.Codes
	if len(q.Codes) > 0 {
		codes = q.Codes
	}
	at := make([]int, len(codes))
	for j, c := range codes {
		at[j] = slices.Index(in.Codes, c)
	}
	res := &Result{Query: q, Codes: slices.Clone(codes), Rows: []Row{}, Totals: []Row{}}
	if res.Codes == nil {
		res.Codes = []string{}
	}
	byCode := q.Has(Code)
	width := 1
	if byCode {
		width = len(codes)
	}
	newCell := func(key []string) *cell {
		return &cell{key: key, tags: make([]int, width), zeros: make([]int, width), rates: make([][]float64, width)}
	}
	cells := map[string]*cell{}
	var order []*cell
	total := newCell(nil)
	var kb strings.Builder
	for _, s := range in.Sessions {
		if s.Seconds <= 0 {
			continue
		}
		kb.Reset()
		key := make([]string, len(q.By))
		for i, d := range q.By {
			switch d {
			case Team:
				key[i] = s.Team
			case Worker:
				key[i] = s.Worker
			case MeetingType:
				key[i] = s.MeetingType
			case Month:
				key[i] = s.Month
			}
			kb.WriteString(key[i])
			kb.WriteByte(0)
		}
		c := cells[kb.String()]
		if c == nil {
			c = newCell(key)
			cells[kb.String()] = c
			order = append(order, c)
		}
		hours := s.Seconds / 3600
		for _, x := range []*cell{c, total} {
			x.sessions++
			x.ms += int64(math.Round(s.Seconds * 1000))
			if byCode {
				for j, i := range at {
					n := 0
					if i >= 0 && i < len(s.Counts) {
						n = s.Counts[i]
					}
					x.tags[j] += n
					if n == 0 {
						x.zeros[j]++
					} else {
						x.rates[j] = append(x.rates[j], float64(n)/hours)
					}
				}
			} else {
				sum := 0
				for _, i := range at {
					if i >= 0 && i < len(s.Counts) {
						sum += s.Counts[i]
					}
				}
				x.tags[0] += sum
				if sum == 0 {
					x.zeros[0]++
				} else {
					x.rates[0] = append(x.rates[0], float64(sum)/hours)
				}
			}
		}
	}
	codeAt := slices.Index(q.By, Code)
	for _, c := range order {
		for j := range width {
			key := c.key
			if byCode {
				key = slices.Clone(c.key)
				key[codeAt] = codes[j]
			}
			res.Rows = append(res.Rows, c.row(key, j))
		}
	}
	if total.sessions > 0 || !byCode {
		for j := range width {
			key := make([]string, len(q.By))
			if byCode {
				key[codeAt] = codes[j]
			}
			res.Totals = append(res.Totals, total.row(key, j))
		}
	}
	codeRank := map[string]int{}
	for i, c := range codes {
		codeRank[c] = i
	}
	slices.SortStableFunc(res.Rows, func(a, b Row) int {
		for i, d := range q.By {
			if d == Code {
				if c := cmp.Compare(codeRank[a.Key[i]], codeRank[b.Key[i]]); c != 0 {
					return c
				}
				continue
			}
			if c := compareUnknownLast(a.Key[i], b.Key[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	suppress(res)
	return res
}

func (c *cell) row(key []string, j int) Row {
	r := Row{Key: key, Sessions: c.sessions, Hours: float64(c.ms) / 3600000, Tags: c.tags[j]}
	if r.Hours > 0 {
		r.Rate = float64(r.Tags) / r.Hours
	}
	r.Q1, r.Median, r.Q3 = quartiles(c.zeros[j], c.rates[j])
	return r
}

// compareUnknownLast orders strings with "" (unknown) after every other.
func compareUnknownLast(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return strings.Compare(a, b)
}

// Quantile returns the p-quantile of sorted values by linear interpolation
// between order statistics (R's default, type 7; Excel's QUARTILE.INC and
// PERCENTILE.INC; NumPy's default): with h = (n-1)p, the value at ⌊h⌋ plus
// (h-⌊h⌋) of the way to the next. It is 0 for no values.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	h := float64(n-1) * p
	lo := int(h)
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// quartiles returns the first quartile, the median and the third quartile
// (as Quantile computes them) of zeros 0s and the values in vals, which
// are all above 0 and in any order; it reorders vals. It selects the order
// statistics it needs rather than sorting: a report over 100,000 sessions
// and every code has millions of rates.
func quartiles(zeros int, vals []float64) (q1, median, q3 float64) {
	n := zeros + len(vals)
	if n == 0 {
		return 0, 0, 0
	}
	ps := [3]float64{0.25, 0.5, 0.75}
	// The positions each quantile reads, in the sorted whole; those past
	// the zeros are positions in vals.
	var need []int
	for _, p := range ps {
		lo := int(float64(n-1) * p)
		for _, i := range []int{lo, min(lo+1, n-1)} {
			if i >= zeros && !slices.Contains(need, i-zeros) {
				need = append(need, i-zeros)
			}
		}
	}
	slices.Sort(need)
	selectAt(vals, need, 0)
	at := func(i int) float64 {
		if i < zeros {
			return 0
		}
		return vals[i-zeros]
	}
	var out [3]float64
	for k, p := range ps {
		h := float64(n-1) * p
		lo := int(h)
		if lo >= n-1 {
			out[k] = at(n - 1)
		} else {
			out[k] = at(lo) + (h-float64(lo))*(at(lo+1)-at(lo))
		}
	}
	return out[0], out[1], out[2]
}

// selectAt reorders a so that a[k] is the value sorting would put there,
// for every k in ks (sorted): quickselect on the parts that hold a k.
func selectAt(a []float64, ks []int, depth int) {
	for len(ks) > 0 && len(a) > 16 {
		if depth > 64 { // a bad run of pivots: sort instead
			slices.Sort(a)
			return
		}
		depth++
		x, y, z := a[0], a[len(a)/2], a[len(a)-1]
		pivot := max(min(x, y), min(max(x, y), z)) // the median of three
		// Three-way partition: a[:lt] < pivot, a[lt:gt] == pivot, a[gt:] > pivot.
		lt, i, gt := 0, 0, len(a)
		for i < gt {
			switch v := a[i]; {
			case v < pivot:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case v > pivot:
				gt--
				a[gt], a[i] = a[i], a[gt]
			default:
				i++
			}
		}
		split := 0
		for split < len(ks) && ks[split] < lt {
			split++
		}
		right := split
		for right < len(ks) && ks[right] < gt {
			right++
		}
		if split > 0 {
			selectAt(a[:lt], ks[:split], depth)
		}
		rest := ks[right:]
		shifted := make([]int, len(rest))
		for i, k := range rest {
			shifted[i] = k - gt
		}
		a, ks = a[gt:], shifted
	}
	if len(ks) > 0 {
		slices.Sort(a)
	}
}

// suppress withholds small cells. A row (or total) with fewer sessions
// than the threshold is suppressed. So that a suppressed row cannot be
// worked out as its total minus the rows shown, a group of rows that adds
// up to a shown total (the rows of one code, or all rows) with exactly one
// suppressed row has its smallest other row suppressed too. Worker rows
// below the threshold are then left out altogether, so that not even the
// worker's id shows. Suppressed numbers are zeroed.
func suppress(res *Result) {
	min := res.Query.MinCell
	codeAt := slices.Index(res.Query.By, Code)
	for i := range res.Totals {
		res.Totals[i].Suppressed = res.Totals[i].Sessions < min
	}
	groups := map[string][]int{}
	var names []string
	for i := range res.Rows {
		r := &res.Rows[i]
		r.Suppressed = r.Sessions < min
		g := ""
		if codeAt >= 0 {
			g = r.Key[codeAt]
		}
		if _, ok := groups[g]; !ok {
			names = append(names, g)
		}
		groups[g] = append(groups[g], i)
	}
	for _, g := range names {
		idx := groups[g]
		n, pick := 0, -1
		for _, i := range idx {
			if res.Rows[i].Suppressed {
				n++
			} else if pick < 0 || res.Rows[i].Sessions < res.Rows[pick].Sessions {
				pick = i
			}
		}
		if n == 1 && pick >= 0 {
			res.Rows[pick].Suppressed = true
		}
	}
	if res.Query.Has(Worker) {
		kept := res.Rows[:0]
		for _, r := range res.Rows {
			if r.Sessions < min {
				res.Hidden++
				continue
			}
			kept = append(kept, r)
		}
		res.Rows = kept
	}
	for _, rs := range [][]Row{res.Rows, res.Totals} {
		for i := range rs {
			if rs[i].Suppressed {
				rs[i] = Row{Key: rs[i].Key, Suppressed: true}
			}
		}
	}
}

// rowJSON is a row's numbers in JSON: null when suppressed.
type rowJSON struct {
	Sessions   *int     `json:"sessions"`
	Hours      *float64 `json:"hours"`
	Tags       *int     `json:"tags"`
	Rate       *float64 `json:"rate_per_hour"`
	Median     *float64 `json:"median_rate"`
	Q1         *float64 `json:"q1_rate"`
	Q3         *float64 `json:"q3_rate"`
	Suppressed bool     `json:"suppressed"`
}

// MarshalJSON writes the result with each row as a flat object: the
// dimensions by name, then the numbers, null where suppressed.
//
//	{"query": {…}, "codes": […], "hidden_rows": 0,
//	 "rows": [{"team": "north", "month": "2026-01", "sessions": 12, "hours": 14.5,
//	           "tags": 30, "rate_per_hour": 2.07, "median_rate": 1.9,
//	           "q1_rate": 1.1, "q3_rate": 2.8, "suppressed": false}, …],
//	 "totals": […]}
func (r Result) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"query":`)
	q, err := json.Marshal(r.Query)
	if err != nil {
		return nil, err
	}
	b.Write(q)
	codes, _ := json.Marshal(r.Codes)
	b.WriteString(`,"codes":`)
	b.Write(codes)
	b.WriteString(`,"hidden_rows":`)
	b.WriteString(itoa(r.Hidden))
	for _, part := range []struct {
		name  string
		rows  []Row
		total bool
	}{{"rows", r.Rows, false}, {"totals", r.Totals, true}} {
		b.WriteString(`,"` + part.name + `":[`)
		for i, row := range part.rows {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			for j, d := range r.Query.By {
				if part.total && d != Code {
					continue
				}
				k, _ := json.Marshal(string(d))
				v, _ := json.Marshal(row.Key[j])
				b.Write(k)
				b.WriteByte(':')
				b.Write(v)
				b.WriteByte(',')
			}
			m := rowJSON{Suppressed: row.Suppressed}
			if !row.Suppressed {
				m.Sessions, m.Hours, m.Tags, m.Rate = &row.Sessions, &row.Hours, &row.Tags, &row.Rate
				m.Median, m.Q1, m.Q3 = &row.Median, &row.Q1, &row.Q3
			}
			nums, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			b.Write(nums[1:])
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
