package report

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// fixture is six sessions, two codes (listen, threat), and one session
// without a duration, which no report counts.
//
//	session  team   worker  month    hours  listen  threat
//	S1       north  w1      2026-01  1      2       0
//	S2       north  w1      2026-01  0.5    1       1
//	S3       north  w2      2026-02  2      6       0
//	S4       south  w3      2026-01  1      0       2
//	S5       south  w3      2026-02  1.5    3       3
//	S6       south  w4      (none)   0.75   3       0
//	S7       east   w5      2026-03  0      9       9   (no duration: left out)
func fixture() *SessionRows {
	row := func(team, worker, month string, secs float64, listen, threat int) SessionRow {
		return SessionRow{Team: team, Worker: worker, MeetingType: "home visit", Month: month, Seconds: secs, Counts: []int{listen, threat}}
	}
	return &SessionRows{Codes: []string{"listen", "threat"}, Sessions: []SessionRow{
		row("north", "w1", "2026-01", 3600, 2, 0),
		row("north", "w1", "2026-01", 1800, 1, 1),
		row("north", "w2", "2026-02", 7200, 6, 0),
		row("south", "w3", "2026-01", 3600, 0, 2),
		row("south", "w3", "2026-02", 5400, 3, 3),
		row("south", "w4", "", 2700, 3, 0),
		row("east", "w5", "2026-03", 0, 9, 9),
	}}
}

func query(t *testing.T, q Query) Query {
	t.Helper()
	q, err := q.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// want is a row's expected numbers: key, sessions, hours, tags, rate,
// Q1, median, Q3.
type want struct {
	key                  string
	sessions             int
	hours                float64
	tags                 int
	rate, q1, median, q3 float64
	suppressed           bool
}

func checkRows(t *testing.T, what string, got []Row, want []want) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d: %+v", what, len(got), len(want), got)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for i, w := range want {
		g := got[i]
		key := strings.Join(g.Key, "/")
		if key != w.key || g.Sessions != w.sessions || !near(g.Hours, w.hours) || g.Tags != w.tags || !near(g.Rate, w.rate) ||
			!near(g.Q1, w.q1) || !near(g.Median, w.median) || !near(g.Q3, w.q3) || g.Suppressed != w.suppressed {
			t.Errorf("%s row %d:\n got %s %d sessions %.4f h %d tags rate %.6f q1 %.6f median %.6f q3 %.6f suppressed %v\nwant %+v",
				what, i, key, g.Sessions, g.Hours, g.Tags, g.Rate, g.Q1, g.Median, g.Q3, g.Suppressed, w)
		}
	}
}

func TestComputeByTeamAndCode(t *testing.T) {
	res := Compute(query(t, Query{By: []Dimension{Team, Code}, MinCell: 1}), fixture())
	checkRows(t, "rows", res.Rows, []want{
		// north: S1, S2, S3; 3.5 hours. listen 2+1+6 = 9, 9/3.5 = 2.571428…; the
		// sessions' rates 2/1, 1/0.5, 6/2 = [2 2 3]: Q1 at h = 2·0.25 = 0.5 → 2,
		// median at h = 1 → 2, Q3 at h = 1.5 → 2 + 0.5·(3−2) = 2.5.
		{"north/listen", 3, 3.5, 9, 9 / 3.5, 2, 2, 2.5, false},
		// threat 0+1+0 = 1, 1/3.5; rates [0 0 2]: Q1 0, median 0, Q3 0 + 0.5·2 = 1.
		{"north/threat", 3, 3.5, 1, 1 / 3.5, 0, 0, 1, false},
		// south: S4, S5, S6; 1 + 1.5 + 0.75 = 3.25 hours. listen 0+3+3 = 6;
		// rates [0, 3/1.5, 3/0.75] = [0 2 4]: Q1 1, median 2, Q3 3.
		{"south/listen", 3, 3.25, 6, 6 / 3.25, 1, 2, 3, false},
		// threat 2+3+0 = 5; rates [2, 2, 0] sorted [0 2 2]: Q1 1, median 2, Q3 2.
		{"south/threat", 3, 3.25, 5, 5 / 3.25, 1, 2, 2, false},
	})
	checkRows(t, "totals", res.Totals, []want{
		// listen: 15 tags in 6.75 hours; rates [0 2 2 2 3 4]: Q1 at h = 1.25 → 2,
		// median at h = 2.5 → 2, Q3 at h = 3.75 → 2 + 0.75·(3−2) = 2.75.
		{"/listen", 6, 6.75, 15, 15 / 6.75, 2, 2, 2.75, false},
		// threat: 6 tags; rates [0 0 0 2 2 2]: Q1 0, median 0 + 0.5·2 = 1, Q3 2.
		{"/threat", 6, 6.75, 6, 6 / 6.75, 0, 1, 2, false},
	})
	if !reflect.DeepEqual(res.Codes, []string{"listen", "threat"}) || res.Hidden != 0 {
		t.Fatalf("codes %v, hidden %d", res.Codes, res.Hidden)
	}
}

func TestComputeCodesTogether(t *testing.T) {
	res := Compute(query(t, Query{By: []Dimension{Team}, MinCell: 1}), fixture())
	checkRows(t, "rows", res.Rows, []want{
		// north: 10 tags / 3.5 h; per session (2+0)/1, (1+1)/0.5, (6+0)/2 =
		// [2 3 4]: Q1 2.5, median 3, Q3 3.5.
		{"north", 3, 3.5, 10, 10 / 3.5, 2.5, 3, 3.5, false},
		// south: 11 tags / 3.25 h; (0+2)/1, (3+3)/1.5, (3+0)/0.75 = [2 4 4]:
		// Q1 3, median 4, Q3 4.
		{"south", 3, 3.25, 11, 11 / 3.25, 3, 4, 4, false},
	})
	// All sessions: 21 tags / 6.75 h; rates [2 4 3 2 4 4] → [2 2 3 4 4 4]:
	// Q1 at 1.25 → 2 + 0.25·1 = 2.25, median at 2.5 → 3.5, Q3 at 3.75 → 4.
	checkRows(t, "totals", res.Totals, []want{{"", 6, 6.75, 21, 21 / 6.75, 2.25, 3.5, 4, false}})
}

func TestComputeMonthsUnknownLast(t *testing.T) {
	res := Compute(query(t, Query{By: []Dimension{Month}, Codes: []string{"listen"}, MinCell: 1}), fixture())
	var keys []string
	for _, r := range res.Rows {
		keys = append(keys, r.Key[0])
	}
	if !reflect.DeepEqual(keys, []string{"2026-01", "2026-02", ""}) {
		t.Fatalf("months in order %q, want 2026-01, 2026-02, then the unknown month", keys)
	}
}

func TestSuppression(t *testing.T) {
	tests := []struct {
		name   string
		q      Query
		rows   []want
		total  bool // total suppressed
		hidden int
	}{{
		// Months: 2026-01 has S1, S2, S4 (3 sessions), 2026-02 S3, S5 (2),
		// unknown S6 (1). With a threshold of 2 the unknown month is
		// suppressed, and, since the total would give it away, so is the
		// next smallest month, 2026-02.
		name: "secondary",
		q:    Query{By: []Dimension{Month}, MinCell: 2},
		rows: []want{
			{key: "2026-01", sessions: 3, hours: 2.5, tags: 6, rate: 6 / 2.5, q1: 2, median: 2, q3: 3},
			{key: "2026-02", suppressed: true},
			{key: "", suppressed: true},
		},
	}, {
		// Teams of 3 sessions each, threshold 4: both suppressed (two
		// suppressed rows cannot be told apart from the total); the total
		// of 6 shows.
		name: "two below",
		q:    Query{By: []Dimension{Team}, MinCell: 4},
		rows: []want{{key: "north", suppressed: true}, {key: "south", suppressed: true}},
	}, {
		// Workers: w1 2 sessions, w2 1, w3 2, w4 1. Threshold 2: w2 and w4
		// are left out altogether, ids and all.
		name:   "workers",
		q:      Query{By: []Dimension{Worker}, Codes: []string{"threat"}, MinCell: 2},
		rows:   []want{{key: "w1", sessions: 2, hours: 1.5, tags: 1, rate: 1 / 1.5, q1: 0.5, median: 1, q3: 1.5}, {key: "w3", sessions: 2, hours: 2.5, tags: 5, rate: 2, q1: 2, median: 2, q3: 2}},
		hidden: 2,
	}, {
		// Workers by code: each worker row of each code; w2 and w4 left out
		// of both codes' rows.
		name: "workers by code",
		q:    Query{By: []Dimension{Worker, Code}, MinCell: 2},
		rows: []want{
			{key: "w1/listen", sessions: 2, hours: 1.5, tags: 3, rate: 2, q1: 2, median: 2, q3: 2},
			{key: "w1/threat", sessions: 2, hours: 1.5, tags: 1, rate: 1 / 1.5, q1: 0.5, median: 1, q3: 1.5},
			{key: "w3/listen", sessions: 2, hours: 2.5, tags: 3, rate: 3 / 2.5, q1: 0.5, median: 1, q3: 1.5},
			{key: "w3/threat", sessions: 2, hours: 2.5, tags: 5, rate: 2, q1: 2, median: 2, q3: 2},
		},
		hidden: 4,
	}, {
		// A threshold above the whole: every row and the total withheld.
		name:  "everything below",
		q:     Query{By: []Dimension{Team}, MinCell: 7},
		rows:  []want{{key: "north", suppressed: true}, {key: "south", suppressed: true}},
		total: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Compute(query(t, tt.q), fixture())
			checkRows(t, "rows", res.Rows, tt.rows)
			if res.Hidden != tt.hidden {
				t.Errorf("hidden %d, want %d", res.Hidden, tt.hidden)
			}
			for _, tot := range res.Totals {
				if tot.Suppressed != tt.total {
					t.Errorf("total suppressed %v, want %v", tot.Suppressed, tt.total)
				}
			}
			// Nothing withheld shows anywhere.
			var js, csvOut bytes.Buffer
			if err := WriteJSON(&js, res); err != nil {
				t.Fatal(err)
			}
			if err := res.WriteCSV(&csvOut, CSVOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{"w2", "w4"} {
				if tt.hidden > 0 && (strings.Contains(js.String(), w) || strings.Contains(csvOut.String(), w)) {
					t.Errorf("worker %s below the threshold shows:\n%s\n%s", w, js.String(), csvOut.String())
				}
			}
			var decoded struct {
				Rows []map[string]any `json:"rows"`
			}
			if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
				t.Fatal(err)
			}
			for _, r := range decoded.Rows {
				if r["suppressed"] == true {
					for _, k := range []string{"sessions", "hours", "tags", "rate_per_hour", "median_rate", "q1_rate", "q3_rate"} {
						if r[k] != nil {
							t.Errorf("suppressed row shows %s = %v", k, r[k])
						}
					}
				}
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		in      []float64
		p, want float64
	}{
		{nil, 0.5, 0},
		{[]float64{7}, 0.25, 7},
		{[]float64{1, 2}, 0.5, 1.5},
		{[]float64{1, 2, 3, 4}, 0.25, 1.75}, // R: quantile(1:4, .25) = 1.75
		{[]float64{1, 2, 3, 4}, 0.75, 3.25},
		{[]float64{1, 2, 3, 4, 5}, 0.5, 3},
		{[]float64{1, 2, 3, 4, 5}, 1, 5},
	}
	for _, tt := range tests {
		if got := Quantile(tt.in, tt.p); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
		}
	}
}

func TestAgreement(t *testing.T) {
	in := &AgreementRows{
		Versions: []VersionSessions{{CodebookVersion: "1", Reviewed: 4, Complete: 2, Segments: 20}, {CodebookVersion: "10", Reviewed: 1, Complete: 0}},
		Codes: []CodeAgreement{
			{CodebookVersion: "1", Code: "listen", Accepted: 6, Rejected: 2, Changed: 1, Pending: 3, Added: 2, ChangedTo: 1, Both: 5, MachineOnly: 2, CoachOnly: 3},
			{CodebookVersion: "1", Code: "threat", Rejected: 1},
			{CodebookVersion: "10", Code: "listen", Pending: 2},
		},
	}
	res := ComputeAgreement(query(t, Query{MinCell: 1}), in)
	var got []string
	for _, r := range res.Rows {
		got = append(got, r.Code+"@"+r.CodebookVersion)
	}
	// By code, then version as a number (10 after 1).
	if want := []string{"listen@1", "listen@10", "threat@1", "threat@10"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	l := res.Rows[0]
	// Precision 6 / (6+2+1) = 2/3; missed 2 + 1 = 3.
	// 2×2 over 20 segments: both 5, machine only 2, coach only 3, neither 10.
	// Observed (5+10)/20 = 0.75; chance ((5+2)(5+3) + (3+10)(2+10))/400 =
	// (56+156)/400 = 0.53; kappa (0.75−0.53)/(1−0.53) = 0.22/0.47.
	if l.Precision == nil || math.Abs(*l.Precision-2.0/3) > 1e-12 || l.Missed != 3 || l.Neither != 10 ||
		l.Observed == nil || math.Abs(*l.Observed-0.75) > 1e-12 || l.Kappa == nil || math.Abs(*l.Kappa-0.22/0.47) > 1e-12 {
		t.Fatalf("listen@1: %+v", l)
	}
	// Version 10 has no complete session: no segments, kappa undefined;
	// nothing judged: precision undefined.
	if r := res.Rows[1]; r.Precision != nil || r.Kappa != nil || r.Pending != 2 {
		t.Fatalf("listen@10: %+v", r)
	}
	// threat@1: 1 rejected, precision 0; the machine never said threat in
	// a segment, the coaches neither: all 20 neither, kappa undefined.
	if r := res.Rows[2]; r.Precision == nil || *r.Precision != 0 || r.Neither != 20 || r.Kappa != nil || r.Observed == nil || *r.Observed != 1 {
		t.Fatalf("threat@1: %+v", r)
	}

	// Threshold 2: version 10 (1 reviewed session) is suppressed whole;
	// version 1 keeps precision (4 reviewed) and kappa (2 complete).
	res = ComputeAgreement(query(t, Query{MinCell: 2}), in)
	if r := res.Rows[1]; !r.Suppressed || r.Pending != 0 {
		t.Fatalf("listen@10 not suppressed: %+v", r)
	}
	// Threshold 3: version 1 keeps precision but its kappa is withheld.
	res = ComputeAgreement(query(t, Query{MinCell: 3, Codes: []string{"listen"}}), in)
	if len(res.Rows) != 2 {
		t.Fatalf("codes filter: %+v", res.Rows)
	}
	if r := res.Rows[0]; r.Suppressed || !r.KappaSuppressed || r.Kappa != nil || r.Both != 0 || r.Precision == nil {
		t.Fatalf("listen@1 with threshold 3: %+v", r)
	}
	js, _ := json.Marshal(res)
	if !strings.Contains(string(js), `"kappa":null`) || !strings.Contains(string(js), `"kappa_suppressed":true`) {
		t.Fatalf("json: %s", js)
	}
}

func TestKappa(t *testing.T) {
	// Perfect agreement on a code both sometimes give: kappa 1.
	if _, k := Kappa(3, 0, 0, 7); k == nil || *k != 1 {
		t.Fatalf("perfect: %v", k)
	}
	// Agreement no better than chance: a 2×2 of 25 each, kappa 0.
	if _, k := Kappa(25, 25, 25, 25); k == nil || math.Abs(*k) > 1e-12 {
		t.Fatalf("chance: %v", *k)
	}
	if o, k := Kappa(0, 0, 0, 0); o != nil || k != nil {
		t.Fatal("no units")
	}
}

func TestNormalize(t *testing.T) {
	q, err := ParseQuery(url.Values{"by": {"team,month", "code"}, "codes": {"threat_of_escalation, reflective_listening"},
		"from": {"2026-01"}, "to": {"2026-02"}, "status": {"confirmed"}, "min-cell": {"10"}, "team": {"north,south"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Query{By: []Dimension{Team, Month, Code}, Codes: []string{"reflective_listening", "threat_of_escalation"},
		Status: Confirmed, From: "2026-01-01", To: "2026-02-28", Teams: []string{"north", "south"}, MinCell: 10}
	if !reflect.DeepEqual(q, want) {
		t.Fatalf("got %+v\nwant %+v", q, want)
	}
	back, err := ParseQuery(q.Values())
	if err != nil || !reflect.DeepEqual(back, q) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if q, _ := (Query{}).Normalize(); q.Status != MachineUnrejected || q.MinCell != DefaultMinCell {
		t.Fatalf("defaults: %+v", q)
	}
	for _, bad := range []url.Values{
		{"by": {"colour"}}, {"by": {"team,team"}}, {"codes": {"Threat!"}}, {"status": {"all"}}, {"from": {"2026-13-01"}},
		{"from": {"2026-03-01"}, "to": {"2026-02-01"}}, {"min-cell": {"-1"}}, {"min-cell": {"five"}},
	} {
		if _, err := ParseQuery(bad); hark.ErrorCode(err) != hark.EINVALID {
			t.Errorf("%v: got %v, want EINVALID", bad, err)
		}
	}
}

func TestCSV(t *testing.T) {
	rows := fixture()
	rows.Sessions[0].Team = "=HYPERLINK(\"x\")"
	rows.Sessions[1].Team = "Tŷ Newydd, \"east\""
	res := Compute(query(t, Query{By: []Dimension{Team}, Codes: []string{"listen"}, MinCell: 1}), rows)
	var plain, excel bytes.Buffer
	if err := res.WriteCSV(&plain, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteCSV(&excel, CSVOptions{Excel: true}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(plain.String(), "\r\n")
	if lines[0] != "team,sessions,hours,tags,rate_per_hour,median_rate,q1_rate,q3_rate,suppressed,total,tag_status" {
		t.Fatalf("header %q", lines[0])
	}
	// Rows sorted by team: "=HYPERLINK…" (S1), "Tŷ…" (S2), north (S3),
	// south; then the total. Quoted where RFC 4180 says; no byte order
	// mark; the formula left as it is for R and Stata.
	if lines[1] != `"=HYPERLINK(""x"")",1,1,2,2,2,2,2,0,0,machine-unrejected` ||
		lines[2] != `"Tŷ Newydd, ""east""",1,0.5,1,2,2,2,2,0,0,machine-unrejected` ||
		lines[5] != `,6,6.75,15,2.2222,2,2,2.75,0,1,machine-unrejected` || lines[6] != "" {
		t.Fatalf("csv:\n%s", plain.String())
	}
	if strings.HasPrefix(plain.String(), "\ufeff") || !strings.HasPrefix(excel.String(), "\ufeff") {
		t.Fatal("byte order mark: only for Excel")
	}
	if !strings.Contains(excel.String(), "\r\n\"'=HYPERLINK") {
		t.Fatalf("excel: formula not defused:\n%s", excel.String())
	}

	// Suppressed numbers are empty fields.
	res = Compute(query(t, Query{By: []Dimension{Month}, MinCell: 2}), fixture())
	plain.Reset()
	res.WriteCSV(&plain, CSVOptions{})
	if !strings.Contains(plain.String(), "\r\n2026-02,,,,,,,,1,0,") {
		t.Fatalf("suppressed row:\n%s", plain.String())
	}
}

func TestTableAndCharts(t *testing.T) {
	res := Compute(query(t, Query{By: []Dimension{Team, Code}, MinCell: 1}), fixture())
	var b bytes.Buffer
	if err := res.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "(all)") || !strings.Contains(b.String(), "north") {
		t.Fatalf("table:\n%s", b.String())
	}
	rows := fixture()
	rows.Sessions[0].Team = `<script>alert("x")</script>`
	res = Compute(query(t, Query{By: []Dimension{Team, Code}, MinCell: 2}), rows)
	charts := res.Charts(ChartOptions{Label: func(c string) string { return map[string]string{"listen": "Reflective listening"}[c] }})
	if len(charts) != 2 {
		t.Fatalf("%d charts, want one per code", len(charts))
	}
	svg := charts[0].SVG
	for _, want := range []string{`role="img"`, `<title id="chart-0-title">Tags per hour of recording: Reflective listening by team</title>`,
		`<desc id="chart-0-desc">`, "suppressed (fewer than 2 sessions)", "&lt;script&gt;"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<script") {
		t.Fatal("chart text not escaped")
	}
}

// TestQuartilesSelect checks the selection against sorting everything, on
// data with many zeros and many equal values.
func TestQuartilesSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		n := rng.IntN(300)
		var all, vals []float64
		zeros := 0
		for range n {
			var v float64
			switch rng.IntN(4) {
			case 0:
				zeros++
				all = append(all, 0)
				continue
			case 1:
				v = float64(1 + rng.IntN(3)) // many equal values
			default:
				v = rng.Float64() * 10
			}
			all, vals = append(all, v), append(vals, v)
		}
		slices.Sort(all)
		q1, med, q3 := quartiles(zeros, vals)
		if q1 != Quantile(all, 0.25) || med != Quantile(all, 0.5) || q3 != Quantile(all, 0.75) {
			t.Fatalf("trial %d (%d values, %d zeros): got %v %v %v, want %v %v %v", trial, n, zeros, q1, med, q3,
				Quantile(all, 0.25), Quantile(all, 0.5), Quantile(all, 0.75))
		}
	}
}
