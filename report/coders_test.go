package report

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// turn is a turn from start to end coded as "coder=code,code" strings:
// "A=x" (A applied x), "B=" (B coded the turn and applied nothing).
func turn(start, end float64, coded ...string) CodedUnit {
	u := CodedUnit{Start: start, End: end, Codes: map[string][]string{}}
	for _, c := range coded {
		name, codes, _ := strings.Cut(c, "=")
		u.Codes[name] = []string{}
		if codes != "" {
			u.Codes[name] = strings.Split(codes, ",")
		}
	}
	return u
}

// turns are one-second turns, one after another, from coded strings
// separated by spaces: "A=x B=" is one turn.
func turns(each ...string) []CodedUnit {
	var out []CodedUnit
	for i, e := range each {
		out = append(out, turn(float64(i), float64(i+1), strings.Fields(e)...))
	}
	return out
}

// near reports whether a figure is defined and within 1e-9 of want.
func near(got *float64, want float64) bool {
	return got != nil && math.Abs(*got-want) < 1e-9
}

func show(f *float64) string {
	if f == nil {
		return "nil"
	}
	b, _ := json.Marshal(*f)
	return string(b)
}

// noBootstrap is options for point figures only, without suppression.
var noBootstrap = CoderOptions{Rounds: -1, MinCell: 1}

func TestKrippendorffAlphaCanonical(t *testing.T) {
	// The reliability data of Krippendorff (2011), "Computing
	// Krippendorff's Alpha-Reliability", section C: four observers, twelve
	// units, values 1 to 5, "." missing. The paper gives nominal alpha
	// 0.743.
	//
	//	unit      1 2 3 4 5 6 7 8 9 10 11 12
	//	observer A 1 2 3 3 2 1 4 1 2 .  .  .
	//	observer B 1 2 3 3 2 2 4 1 2 5  .  3
	//	observer C . 3 3 3 2 3 4 2 2 5  1  .
	//	observer D 1 2 3 3 2 4 4 1 2 5  1  .
	//
	// Unit 12 has one value and is dropped. By hand: n = 40 pairable
	// values; n_1..n_5 = 9, 13, 10, 5, 3, so Σ n_c² = 384; the diagonal of
	// the coincidence matrix sums to 32 (unit 1: 3 ones over m−1 = 2 gives
	// 3·2/2 = 3; units 3, 4, 7: 4·3/3 = 4 each; unit 2: 3·2/3 = 2; ...).
	// alpha = 1 − 39·(40−32)/(1600−384) = 1 − 312/1216 = 0.743421…,
	// observed = 32/40 = 0.8.
	units := [][]int{
		{1, 1, 1},
		{2, 2, 3, 2},
		{3, 3, 3, 3},
		{3, 3, 3, 3},
		{2, 2, 2, 2},
		{1, 2, 3, 4},
		{4, 4, 4, 4},
		{1, 1, 2, 1},
		{2, 2, 2, 2},
		{5, 5, 5},
		{1, 1},
		{3},
	}
	o, a := KrippendorffAlpha(units)
	if !near(a, 1-312.0/1216) || !near(o, 0.8) {
		t.Fatalf("alpha %s observed %s, want 0.743421 and 0.8", show(a), show(o))
	}
	if math.Round(*a*1000)/1000 != 0.743 {
		t.Fatalf("alpha %v is not the paper's 0.743", *a)
	}
}

func TestKrippendorffAlphaEdges(t *testing.T) {
	tests := []struct {
		name     string
		units    [][]string
		observed *float64
		alpha    *float64
	}{
		{"no units", nil, nil, nil},
		{"no unit pairable", [][]string{{"a"}, {"b"}, {}}, nil, nil},
		// One value only: chance agreement is perfect, alpha undefined.
		{"all the same", [][]string{{"a", "a"}, {"a", "a", "a"}, {"a"}}, ptr(1), nil},
		{"perfect", [][]string{{"a", "a"}, {"b", "b", "b"}}, ptr(1), ptr(1)},
		// Two units, each a disagreement between a and b: n = 4, n_a = n_b
		// = 2, no coincidence on the diagonal: 1 − 3·4/(16−8) = −0.5.
		{"always disagree", [][]string{{"a", "b"}, {"b", "a"}}, ptr(0), ptr(-0.5)},
	}
	for _, tt := range tests {
		o, a := KrippendorffAlpha(tt.units)
		if !sameFigure(o, tt.observed) || !sameFigure(a, tt.alpha) {
			t.Errorf("%s: observed %s alpha %s, want %s and %s", tt.name, show(o), show(a), show(tt.observed), show(tt.alpha))
		}
	}
}

func ptr(f float64) *float64 { return &f }

func sameFigure(got, want *float64) bool {
	if want == nil {
		return got == nil
	}
	return near(got, *want)
}

func TestCoderAgreementTwoCoders(t *testing.T) {
	// Ten turns coded by A and B for x: both 3, only A 1, only B 2,
	// neither 4.
	//
	// Cohen's kappa: observed (3+4)/10 = 0.7; A applies x to 4/10, B to
	// 5/10; chance 0.4·0.5 + 0.6·0.5 = 0.5; kappa (0.7−0.5)/(1−0.5) = 0.4.
	//
	// Krippendorff's alpha: n = 20 values, n_1 = 4+5 = 9, n_0 = 11; the
	// diagonal is o_11 = 2·3 = 6 plus o_00 = 2·4 = 8, 14; alpha = 1 −
	// 19·(20−14)/(400−81−121) = 1 − 114/198 = 14/33 = 0.424242…: alpha
	// pools the two coders' margins where kappa keeps them apart, so
	// the two differ slightly.
	s := CoderSession{Session: "s1", Segments: turns(
		"A=x B=x", "A=x B=x", "A=x B=x",
		"A=x B=",
		"A= B=x", "A= B=x",
		"A= B=", "A= B=", "A= B=", "A= B=",
	)}
	rep := CoderAgreement([]CoderSession{s}, noBootstrap)
	if len(rep.Rows) != 1 {
		t.Fatalf("rows %+v", rep.Rows)
	}
	r := rep.Rows[0]
	if r.Code != "x" || !reflect.DeepEqual(r.Coders, []string{"A", "B"}) || r.Sessions != 1 || r.Suppressed {
		t.Fatalf("row %+v", r)
	}
	g := r.Segments
	if g.Units != 10 || g.Values != 20 || g.Applied != 9 {
		t.Errorf("units %d values %d applied %d", g.Units, g.Values, g.Applied)
	}
	if g.Table == nil || *g.Table != (CoderTable{Both: 3, FirstOnly: 1, SecondOnly: 2, Neither: 4}) {
		t.Errorf("table %+v", g.Table)
	}
	if !near(g.Observed.Value, 0.7) || !near(g.Kappa.Value, 0.4) || !near(g.Alpha.Value, 14.0/33) {
		t.Errorf("observed %s kappa %s alpha %s, want 0.7, 0.4, 0.424242",
			show(g.Observed.Value), show(g.Kappa.Value), show(g.Alpha.Value))
	}
	// The same through Kappa and KrippendorffAlpha directly.
	if o, k := Kappa(3, 1, 2, 4); !near(o, *g.Observed.Value) || !near(k, *g.Kappa.Value) {
		t.Errorf("Kappa %s %s", show(o), show(k))
	}
	// No interval was asked for.
	if g.Alpha.Low != nil || g.Alpha.High != nil || g.Alpha.Resamples != 0 {
		t.Errorf("interval without bootstrap: %+v", g.Alpha)
	}
}

func TestCoderAgreementPerfect(t *testing.T) {
	two := CoderSession{Segments: turns("A=x B=x", "A= B=", "A=x,y B=y,x", "A=y B=y")}
	three := CoderSession{Segments: turns("A=x B=x C=x", "A= B= C=", "A=x B=x C=x")}
	for _, tt := range []struct {
		name  string
		s     CoderSession
		kappa bool
	}{{"two coders", two, true}, {"three coders", three, false}} {
		rep := CoderAgreement([]CoderSession{tt.s}, noBootstrap)
		for _, r := range rep.Rows {
			for kind, a := range map[string]*UnitAgreement{"segments": r.Segments, "time": r.Time} {
				if !near(a.Observed.Value, 1) || !near(a.Alpha.Value, 1) {
					t.Errorf("%s %s %s: observed %s alpha %s", tt.name, r.Code, kind, show(a.Observed.Value), show(a.Alpha.Value))
				}
				if tt.kappa && !near(a.Kappa.Value, 1) || !tt.kappa && (a.Kappa.Value != nil || a.Table != nil) {
					t.Errorf("%s %s %s: kappa %s table %+v", tt.name, r.Code, kind, show(a.Kappa.Value), a.Table)
				}
			}
		}
	}
}

func TestCoderAgreementUndefined(t *testing.T) {
	// Nobody applied x: the coders agree on every turn, but so would
	// chance, so kappa and alpha are undefined, and so are their
	// intervals; observed agreement is 1.
	s := CoderSession{Segments: turns("A= B=", "A= B=", "A=y B=")}
	sessions := []CoderSession{s, s, s}
	rep := CoderAgreement(sessions, CoderOptions{Codes: []string{"x"}, MinCell: 1, Rounds: 50})
	if len(rep.Rows) != 1 || rep.Rows[0].Code != "x" {
		t.Fatalf("rows %+v", rep.Rows)
	}
	for _, a := range []*UnitAgreement{rep.Rows[0].Segments, rep.Rows[0].Time} {
		if !near(a.Observed.Value, 1) || a.Kappa.Value != nil || a.Alpha.Value != nil {
			t.Errorf("observed %s kappa %s alpha %s", show(a.Observed.Value), show(a.Kappa.Value), show(a.Alpha.Value))
		}
		if a.Alpha.Low != nil || a.Alpha.Resamples != 0 || a.Kappa.Low != nil || a.Kappa.Resamples != 0 {
			t.Errorf("interval of an undefined figure: kappa %+v alpha %+v", a.Kappa, a.Alpha)
		}
		if a.Observed.Resamples != 50 || !near(a.Observed.Low, 1) || !near(a.Observed.High, 1) {
			t.Errorf("observed %+v", a.Observed)
		}
	}
	// No session coded by two coders: nothing to report on, whatever the
	// threshold.
	rep = CoderAgreement([]CoderSession{{Segments: turns("A=x", "B=x")}}, CoderOptions{MinCell: 1})
	if r := rep.Rows[0]; !r.Suppressed || r.Sessions != 0 || r.Segments != nil {
		t.Errorf("unpaired: %+v", r)
	}
}

func TestCoderAgreementMissingCoders(t *testing.T) {
	// Three coders, not all of whom coded every turn; D coded one turn
	// alone and is no coder of the row.
	//
	//	turn  A  B  C        values of x
	//	1     x  x  x        1 1 1
	//	2     -  x  (absent) 0 1
	//	3     -  -  -        0 0 0
	//	4     x  (absent)    1        not pairable: dropped
	//	5     D=x alone      1        not pairable: dropped
	//
	// n = 3+2+3 = 8 values, n_1 = 4, n_0 = 4. Diagonal: turn 1 3·2/2 = 3,
	// turn 2 0, turn 3 3·2/2 = 3: 6. alpha = 1 − 7·(8−6)/(64−16−16) = 1 −
	// 14/32 = 0.5625; observed 6/8 = 0.75.
	s := CoderSession{Segments: turns("A=x B=x C=x", "A= B=x", "A= B= C=", "A=x", "D=x")}
	rep := CoderAgreement([]CoderSession{s}, noBootstrap)
	r := rep.Rows[0]
	if !reflect.DeepEqual(r.Coders, []string{"A", "B", "C"}) {
		t.Errorf("coders %v", r.Coders)
	}
	g := r.Segments
	if g.Units != 3 || g.Values != 8 || g.Applied != 4 || g.Table != nil || g.Kappa.Value != nil {
		t.Errorf("units %d values %d applied %d table %+v kappa %s", g.Units, g.Values, g.Applied, g.Table, show(g.Kappa.Value))
	}
	if !near(g.Alpha.Value, 0.5625) || !near(g.Observed.Value, 0.75) {
		t.Errorf("alpha %s observed %s, want 0.5625, 0.75", show(g.Alpha.Value), show(g.Observed.Value))
	}
	o, a := KrippendorffAlpha([][]int{{1, 1, 1}, {0, 1}, {0, 0, 0}, {1}, {1}})
	if !near(a, *g.Alpha.Value) || !near(o, *g.Observed.Value) {
		t.Errorf("KrippendorffAlpha %s %s", show(o), show(a))
	}

	// Two coders, one turn coded by A alone: it leaves the kappa table
	// and alpha alike. Left: both 1, only B 1, neither 1: observed 2/3,
	// A applies 1/3, B 2/3, chance 1/3·2/3 + 2/3·1/3 = 4/9, kappa
	// (2/3−4/9)/(5/9) = 0.4.
	s = CoderSession{Segments: turns("A=x B=x", "A=x", "A= B=x", "A= B=")}
	g = CoderAgreement([]CoderSession{s}, noBootstrap).Rows[0].Segments
	if g.Units != 3 || g.Table == nil || *g.Table != (CoderTable{Both: 1, SecondOnly: 1, Neither: 1}) || !near(g.Kappa.Value, 0.4) {
		t.Errorf("units %d table %+v kappa %s", g.Units, g.Table, show(g.Kappa.Value))
	}
}

func TestCoderAgreementTimeUnits(t *testing.T) {
	// Four turns of different lengths, coders A and B, code x:
	//
	//	turn  seconds     A  B
	//	T1    0 – 2       x  x
	//	T2    2 – 3.5     -  x
	//	T3    3.5 – 4     x  -
	//	T4    4 – 6       -  -
	//	T5    6 – 6       x  x   no length: a segment unit, no time unit
	//
	// Segments: both 2 (T1, T5), only A 1, only B 1, neither 1: observed
	// 3/5, chance 3/5·3/5 + 2/5·2/5 = 13/25, kappa (15/25−13/25)/(12/25) =
	// 1/6; alpha n = 10, n_1 = 6, diagonal 2·2+2·1 = 6, 1 − 9·4/(100−36−
	// 16) = 1 − 36/48 = 0.25.
	//
	// One-second units [k, k+1): 0, 1 (T1) A1 B1; 2 (T2) A0 B1; 3 (T2 and
	// T3) A1 B1 (each applied x to a turn overlapping it); 4, 5 (T4) A0
	// B0. Both 3, only B 1, neither 2: observed 5/6, chance 1/2·2/3 +
	// 1/2·1/3 = 1/2, kappa (5/6−1/2)/(1/2) = 2/3; alpha n = 12, n_1 = 7,
	// n_0 = 5, diagonal 2·3+2·2 = 10, 1 − 11·2/(144−49−25) = 1 − 22/70 =
	// 24/35.
	//
	// Half-second units: T1 4 units A1 B1, T2 3 units A0 B1, T3 1 unit A1
	// B0, T4 4 units A0 B0. Both 4, only A 1, only B 3, neither 4:
	// observed 8/12, chance 5/12·7/12 + 7/12·5/12 = 70/144, kappa
	// (96−70)/(144−70) = 13/37; alpha n = 24, n_1 = n_0 = 12, diagonal
	// 2·4+2·4 = 16, 1 − 23·8/(576−288) = 13/36.
	s := CoderSession{Segments: []CodedUnit{
		turn(0, 2, "A=x", "B=x"),
		turn(2, 3.5, "A=", "B=x"),
		turn(3.5, 4, "A=x", "B="),
		turn(4, 6, "A=", "B="),
		turn(6, 6, "A=x", "B=x"),
	}}
	tests := []struct {
		width                 float64
		units                 int
		table                 CoderTable
		observed, kappa, alph float64
	}{
		{0, 6, CoderTable{Both: 3, SecondOnly: 1, Neither: 2}, 5.0 / 6, 2.0 / 3, 24.0 / 35},
		{0.5, 12, CoderTable{Both: 4, FirstOnly: 1, SecondOnly: 3, Neither: 4}, 8.0 / 12, 13.0 / 37, 13.0 / 36},
	}
	for _, tt := range tests {
		rep := CoderAgreement([]CoderSession{s}, CoderOptions{UnitSeconds: tt.width, Rounds: -1, MinCell: 1})
		seg, tm := rep.Rows[0].Segments, rep.Rows[0].Time
		if seg.Units != 5 || !near(seg.Observed.Value, 0.6) || !near(seg.Kappa.Value, 1.0/6) || !near(seg.Alpha.Value, 0.25) {
			t.Errorf("width %v segments: units %d observed %s kappa %s alpha %s", tt.width, seg.Units,
				show(seg.Observed.Value), show(seg.Kappa.Value), show(seg.Alpha.Value))
		}
		if tm.Units != tt.units || tm.Table == nil || *tm.Table != tt.table ||
			!near(tm.Observed.Value, tt.observed) || !near(tm.Kappa.Value, tt.kappa) || !near(tm.Alpha.Value, tt.alph) {
			t.Errorf("width %v time: units %d table %+v observed %s kappa %s alpha %s, want %+v", tt.width, tm.Units, tm.Table,
				show(tm.Observed.Value), show(tm.Kappa.Value), show(tm.Alpha.Value), tt)
		}
	}

	// A gap between turns is no unit; a turn starting late in the
	// recording counts from where it is; widths that do not divide
	// evenly are not thrown by rounding (0.3/0.1 is 2.999… in floating
	// point: the turn 0.3–0.5 is two units, not three).
	gap := CoderSession{Segments: []CodedUnit{turn(100, 101, "A=x", "B=x"), turn(103, 104, "A=", "B=")}}
	if tm := CoderAgreement([]CoderSession{gap}, noBootstrap).Rows[0].Time; tm.Units != 2 || *tm.Table != (CoderTable{Both: 1, Neither: 1}) {
		t.Errorf("gap: %d units, table %+v", tm.Units, tm.Table)
	}
	fine := CoderSession{Segments: []CodedUnit{turn(0.3, 0.5, "A=x", "B=x")}}
	if tm := CoderAgreement([]CoderSession{fine}, CoderOptions{UnitSeconds: 0.1, Rounds: -1, MinCell: 1}).Rows[0].Time; tm.Units != 2 {
		t.Errorf("0.1 s units over 0.3–0.5: %d units, want 2", tm.Units)
	}
	// A coder who coded only turns alone counts in no time unit either,
	// though D's turn overlaps the slice [1, 2) that A's turn does.
	alone := CoderSession{Segments: []CodedUnit{turn(0, 1.5, "A=x", "B=x"), turn(1.5, 2, "D=x")}}
	r := CoderAgreement([]CoderSession{alone}, noBootstrap).Rows[0]
	if !reflect.DeepEqual(r.Coders, []string{"A", "B"}) || r.Time.Units != 2 || r.Time.Values != 4 {
		t.Errorf("alone: coders %v, %d time units, %d values", r.Coders, r.Time.Units, r.Time.Values)
	}
}

// simulated is n sessions of 20 turns where A applies x to about a third
// of turns and B agrees with A on about 85% of them.
func simulated(n int) []CoderSession {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []CoderSession
	for range n {
		var each []string
		for range 20 {
			a := rng.Float64() < 0.3
			b := a
			if rng.Float64() < 0.15 {
				b = !b
			}
			val := func(name string, on bool) string {
				if on {
					return name + "=x"
				}
				return name + "="
			}
			each = append(each, val("A", a)+" "+val("B", b))
		}
		out = append(out, CoderSession{Segments: turns(each...)})
	}
	return out
}

func TestCoderAgreementBootstrap(t *testing.T) {
	sessions := simulated(40)
	opt := CoderOptions{Seed: 7, MinCell: 1}
	rep := CoderAgreement(sessions, opt)
	if rep.Options.Seed != 7 || rep.Options.Rounds != DefaultRounds || rep.Options.Level != DefaultLevel || rep.Options.UnitSeconds != 1 {
		t.Fatalf("options as applied: %+v", rep.Options)
	}
	if again := CoderAgreement(sessions, opt); !reflect.DeepEqual(rep, again) {
		t.Fatal("the same seed gave different intervals")
	}
	other := CoderAgreement(sessions, CoderOptions{Seed: 8, MinCell: 1})
	if reflect.DeepEqual(rep.Rows, other.Rows) {
		t.Error("seeds 7 and 8 gave the same intervals")
	}
	r := rep.Rows[0]
	for kind, a := range map[string]*UnitAgreement{"segments": r.Segments, "time": r.Time} {
		for name, e := range map[string]Estimate{"observed": a.Observed, "kappa": a.Kappa, "alpha": a.Alpha} {
			if e.Value == nil || e.Low == nil || e.High == nil {
				t.Fatalf("%s %s: %+v", kind, name, e)
			}
			if !(*e.Low <= *e.Value && *e.Value <= *e.High) || !(*e.High-*e.Low > 0.01 && *e.High-*e.Low < 0.3) {
				t.Errorf("%s %s: %v not in a plausible interval [%v, %v]", kind, name, *e.Value, *e.Low, *e.High)
			}
			if e.Resamples != DefaultRounds {
				t.Errorf("%s %s: %d resamples", kind, name, e.Resamples)
			}
		}
	}
	// A narrower level gives a narrower interval on the same resamples.
	narrow := CoderAgreement(sessions, CoderOptions{Seed: 7, MinCell: 1, Level: 0.5}).Rows[0].Segments.Alpha
	if !(*narrow.Low > *r.Segments.Alpha.Low && *narrow.High < *r.Segments.Alpha.High) {
		t.Errorf("50%% interval [%v, %v] not inside 95%% [%v, %v]", *narrow.Low, *narrow.High, *r.Segments.Alpha.Low, *r.Segments.Alpha.High)
	}

	// x is applied in one session of five: resamples without it leave
	// alpha and kappa undefined and are skipped; about (4/5)^5 = 33% of
	// them.
	sparse := []CoderSession{{Segments: turns("A=x B=x", "A= B=")}}
	for range 4 {
		sparse = append(sparse, CoderSession{Segments: turns("A= B=", "A= B=")})
	}
	a := CoderAgreement(sparse, CoderOptions{MinCell: 1, Rounds: 1000}).Rows[0].Segments
	if a.Alpha.Resamples < 500 || a.Alpha.Resamples > 800 || a.Kappa.Resamples != a.Alpha.Resamples || a.Observed.Resamples != 1000 {
		t.Errorf("resamples: observed %d kappa %d alpha %d", a.Observed.Resamples, a.Kappa.Resamples, a.Alpha.Resamples)
	}
	if !near(a.Alpha.Value, 1) || !near(a.Alpha.Low, 1) || !near(a.Alpha.High, 1) {
		t.Errorf("alpha %+v", a.Alpha)
	}
}

func TestCoderAgreementSuppression(t *testing.T) {
	sessions := simulated(4)
	rep := CoderAgreement(sessions, CoderOptions{})
	if rep.Options.MinCell != DefaultMinCell {
		t.Fatalf("min cell %d", rep.Options.MinCell)
	}
	r := rep.Rows[0]
	if !r.Suppressed || r.Segments != nil || r.Time != nil || r.Sessions != 0 || r.Coders != nil {
		t.Fatalf("4 sessions under the default threshold: %+v", r)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"code":"x"`, `"sessions":null`, `"segments":null`, `"time":null`, `"suppressed":true`, `"min_cell":5`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("json lacks %s: %s", want, js)
		}
	}
	// At the threshold the row is shown.
	r = CoderAgreement(sessions, CoderOptions{MinCell: 4, Rounds: 10}).Rows[0]
	if r.Suppressed || r.Sessions != 4 || r.Segments == nil || r.Segments.Alpha.Low == nil {
		t.Fatalf("4 sessions at threshold 4: %+v", r)
	}
	js, err = json.Marshal(CoderReport{Options: CoderOptions{Seed: 1 << 60}, Rows: []CoderAgreementRow{r}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"seed":"1152921504606846976"`, `"coders":["A","B"]`, `"sessions":4`, `"observed_agreement":{"value":`,
		`"ci_low":`, `"ci_high":`, `"resamples":10`, `"first_only":`, `"second_only":`, `"unit_seconds":`, `"suppressed":false`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("json lacks %s: %s", want, js)
		}
	}
}

func TestCoderOptionsDefaults(t *testing.T) {
	got := CoderOptions{Codes: []string{"y", "x", "y"}, UnitSeconds: math.NaN(), Rounds: -1, Level: 1.5, MinCell: -2}.WithDefaults()
	want := CoderOptions{Codes: []string{"x", "y"}, UnitSeconds: 1, Rounds: -1, Level: 0.95, MinCell: DefaultMinCell}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	// Codes listed: one row each, sorted, used or not; otherwise the codes
	// applied.
	s := CoderSession{Segments: turns("A=y B=y", "A=w B=")}
	rep := CoderAgreement([]CoderSession{s}, CoderOptions{Codes: []string{"z", "y"}, MinCell: 1, Rounds: -1})
	if len(rep.Rows) != 2 || rep.Rows[0].Code != "y" || rep.Rows[1].Code != "z" {
		t.Errorf("rows %+v", rep.Rows)
	}
	rep = CoderAgreement([]CoderSession{s}, noBootstrap)
	if len(rep.Rows) != 2 || rep.Rows[0].Code != "w" || rep.Rows[1].Code != "y" {
		t.Errorf("rows %+v", rep.Rows)
	}
}
