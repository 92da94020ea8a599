package index

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

// TestReportsSQLite runs the reports' behaviour on SQLite.
func TestReportsSQLite(t *testing.T) {
	runReports(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "index.db") })
}

// TestReportsPostgres runs it on PostgreSQL, as TestPostgres does the
// conformance suite.
func TestReportsPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	admin := openAdmin(t, dsn)
	runReports(t, func(t *testing.T) string { return freshSchema(t, admin, dsn) })
}

// runReports is the report source's behaviour, the same on every database.
func runReports(t *testing.T, newDSN func(t *testing.T) string) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *DB)
	}{
		{"Rows", testReportRows},
		{"Filters", testReportFilters},
		{"Counts", testReportCounts},
		{"Agreement", testReportAgreement},
		{"Family", testReportFamily},
		{"KeptCurrent", testReportKeptCurrent},
		{"ConcurrentRefresh", testReportConcurrentRefresh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, openDSN(t, newDSN(t)))
		})
	}
	t.Run("Upgrade", func(t *testing.T) {
		t.Parallel()
		testReportUpgrade(t, newDSN(t))
	})
	t.Run("Import", func(t *testing.T) {
		t.Parallel()
		testReportImport(t, openDSN(t, newDSN(t)), openDSN(t, newDSN(t)))
	})
}

// testReportUpgrade takes an index with data back to before migration 0004,
// upgrades it again, and checks the reports are as they were.
func testReportUpgrade(t *testing.T, dsn string) {
	db := openDSN(t, dsn)
	reportFixture(t, db)
	before := reportSnapshot(t, db)
	drop := []string{
		`DROP TABLE report_sessions`, `DROP TABLE report_codes`,
		`DELETE FROM schema_migrations WHERE version = 4`,
	}
	if db.dialect.name == "postgres" {
		drop = append([]string{
			`DROP TRIGGER report_recordings_insert ON recordings`, `DROP TRIGGER report_recordings_update ON recordings`,
			`DROP TRIGGER report_tags_insert ON tags`, `DROP TRIGGER report_tags_delete ON tags`, `DROP TRIGGER report_tags_update ON tags`,
			`DROP TRIGGER report_segments_insert ON segments`, `DROP TRIGGER report_segments_delete ON segments`,
			`DROP FUNCTION hark_report_recording_changed`, `DROP FUNCTION hark_report_rows_changed`,
			`DROP FUNCTION hark_report_refresh`, `DROP FUNCTION hark_codebook_version`,
		}, drop...)
	} else {
		drop = append([]string{
			`DROP TRIGGER report_recordings_insert`, `DROP TRIGGER report_recordings_update`, `DROP TRIGGER report_tags_insert`,
			`DROP TRIGGER report_tags_delete`, `DROP TRIGGER report_tags_update`, `DROP TRIGGER report_segments_insert`,
			`DROP TRIGGER report_segments_delete`, `DROP VIEW report_refresh`,
		}, drop...)
	}
	for _, q := range drop {
		if _, err := db.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	upgraded := openDSN(t, dsn)
	if after := reportSnapshot(t, upgraded); after != before {
		t.Fatalf("after the upgrade:\n%s\nbefore:\n%s", after, before)
	}
}

// The fixture: six recordings, two codes (listen, threat).
//
//	rec  team   worker  meeting         recorded    hours  version  review
//	r1   north  w1      home visit      2026-01-10  1      2        complete (5 segments)
//	r2   north  w2      office meeting  2026-02-03  0.5    2        none
//	r3   south  w3      home visit      2026-01-20  2      1        in progress
//	r4   south  w3      home visit      (none)      0.75   1        none
//	r5   south  w4      home visit      2026-01-05  -      -        failed: never in a report
//	r6   east   w5      home visit      2026-03-01  0      2        no duration: never in a report
//
// Tags (segment code: what happened to it):
//
//	r1  m1 0 listen: accepted      m2 1 listen: rejected   m3 2 threat: accepted as listen
//	    m4 3 threat: left pending  m5 0 listen: accepted   a1 4 listen: added by the coach
//	r2  0 listen, 1 threat: pending
//	r3  0 threat: rejected  1 threat: accepted  2 listen: pending  a 3 threat: added
//	r4  0 listen: pending
//	r6  0 listen: pending
//
// Machine counts (by the machine's code; rejected ones too):
// r1 listen 3 (m1 m2 m5), threat 2 (m3 m4); r2 1, 1; r3 1, 2; r4 1, 0.
// Not rejected, by the current code: r1 listen 3 (m1 m3 m5), threat 1 (m4);
// r2 1, 1; r3 listen 1, threat 1; r4 1, 0.
// Confirmed (complete reviews only, so r1): listen 4 (m1 m3 m5 a1), threat 0
// (m4 is pending).
type fixtureRec struct {
	name, team, worker, meeting, on, version string
	secs                                     float64
	status                                   hark.Status
}

func reportFixture(t *testing.T, db *DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	recs := []fixtureRec{
		{"r1", "north", "w1", "home visit", "2026-01-10", "2", 3600, hark.StatusReady},
		{"r2", "north", "w2", "office meeting", "2026-02-03", "2", 1800, hark.StatusReady},
		{"r3", "south", "w3", "home visit", "2026-01-20", "1", 7200, hark.StatusReady},
		{"r4", "south", "w3", "home visit", "", "1", 2700, hark.StatusReady},
		{"r5", "south", "w4", "home visit", "2026-01-05", "", 0, hark.StatusFailed},
		{"r6", "east", "w5", "home visit", "2026-03-01", "2", 0, hark.StatusReady},
	}
	for i, f := range recs {
		r := rec(f.name, f.team, "b1", f.status, i)
		r.Worker, r.MeetingType, r.RecordedOn, r.DurationSeconds = f.worker, f.meeting, f.on, f.secs
		put(t, db, r)
		ids[f.name] = r.ID
	}
	mt := func(seg int, code string, start int) hark.Tag {
		return hark.Tag{Segment: seg, Code: code, Start: start, End: start + 4, Evidence: "okay", Confidence: 0.5, Source: hark.SourceRules, Review: hark.ReviewPending}
	}
	key := func(tg hark.Tag) string { return hark.TagKey(tg.Segment, tg.Start, tg.End, tg.Code) }
	annotate := func(name, version string, tags ...hark.Tag) {
		a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: ids[name], Codebook: "hark-practice", CodebookVersion: version, Tagger: "rules", Tags: tags}
		if err := db.PutAnnotations(ctx, a); err != nil {
			t.Fatalf("PutAnnotations %s: %v", name, err)
		}
	}
	review := func(name string, state hark.ReviewState, decisions []hark.Decision, added ...hark.Tag) {
		cur, err := db.Review(ctx, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		for i := range added {
			added[i].Key, added[i].Source, added[i].Review, added[i].ReviewedBy, added[i].ReviewedAt = fmt.Sprintf("c:%d", i+1), hark.SourceCoach, hark.ReviewAccepted, "coach1", &base
		}
		doc := &hark.ReviewDoc{RecordingID: ids[name], State: state, Decisions: decisions, Added: added, Notes: []hark.Note{}, UpdatedBy: "coach1", UpdatedAt: base}
		if err := db.PutReview(ctx, doc, cur.Version); err != nil {
			t.Fatalf("PutReview %s: %v", name, err)
		}
	}
	decide := func(tg hark.Tag, r hark.Review, code string) hark.Decision {
		return hark.Decision{Key: key(tg), Review: r, Code: code, By: "coach1", At: base}
	}

	if err := db.PutTranscript(ctx, transcript(ids["r1"], "one", "two", "three", "four", "five")); err != nil {
		t.Fatal(err)
	}
	if err := db.PutTranscript(ctx, transcript(ids["r3"], "one", "two", "three", "four")); err != nil {
		t.Fatal(err)
	}
	m1, m2, m3, m4, m5 := mt(0, "listen", 0), mt(1, "listen", 0), mt(2, "threat", 0), mt(3, "threat", 0), mt(0, "listen", 5)
	annotate("r1", "2", m1, m2, m3, m4, m5)
	review("r1", hark.ReviewComplete, []hark.Decision{decide(m1, hark.ReviewAccepted, ""), decide(m2, hark.ReviewRejected, ""),
		decide(m3, hark.ReviewAccepted, "listen"), decide(m5, hark.ReviewAccepted, "")}, mt(4, "listen", 0))
	annotate("r2", "2", mt(0, "listen", 0), mt(1, "threat", 0))
	t0, t1 := mt(0, "threat", 0), mt(1, "threat", 0)
	annotate("r3", "1", t0, t1, mt(2, "listen", 0))
	review("r3", hark.ReviewInProgress, []hark.Decision{decide(t0, hark.ReviewRejected, ""), decide(t1, hark.ReviewAccepted, "")}, mt(3, "threat", 0))
	annotate("r4", "1", mt(0, "listen", 0))
	annotate("r6", "2", mt(0, "listen", 0))
	return ids
}

// sessionStrings renders session rows as "team/worker/meeting/month/secs/counts", sorted.
func sessionStrings(rows *report.SessionRows) []string {
	out := []string{}
	for _, s := range rows.Sessions {
		counts := make([]string, len(s.Counts))
		for i, n := range s.Counts {
			counts[i] = fmt.Sprint(n)
		}
		out = append(out, fmt.Sprintf("%s/%s/%s/%s/%g/%s", s.Team, s.Worker, s.MeetingType, s.Month, s.Seconds, strings.Join(counts, ",")))
	}
	slices.Sort(out)
	return out
}

func reportRows(t *testing.T, db *DB, q report.Query) *report.SessionRows {
	t.Helper()
	q, err := q.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.ReportRows(context.Background(), q)
	if err != nil {
		t.Fatalf("ReportRows: %v", err)
	}
	return rows
}

var allDims = []report.Dimension{report.Team, report.Worker, report.MeetingType, report.Month}

func testReportRows(t *testing.T, db *DB) {
	reportFixture(t, db)
	both := []string{"listen", "threat"}
	tests := []struct {
		status report.TagStatus
		codes  []string
		want   []string
	}{
		{report.Machine, both, []string{
			"north/w1/home visit/2026-01/3600/3,2", "north/w2/office meeting/2026-02/1800/1,1",
			"south/w3/home visit//2700/1,0", "south/w3/home visit/2026-01/7200/1,2"}},
		{report.MachineUnrejected, both, []string{
			"north/w1/home visit/2026-01/3600/3,1", "north/w2/office meeting/2026-02/1800/1,1",
			"south/w3/home visit//2700/1,0", "south/w3/home visit/2026-01/7200/1,1"}},
		{report.Confirmed, both, []string{"north/w1/home visit/2026-01/3600/4,0"}},
		// No codes named: every code with a count, in order.
		{report.Machine, nil, []string{
			"north/w1/home visit/2026-01/3600/3,2", "north/w2/office meeting/2026-02/1800/1,1",
			"south/w3/home visit//2700/1,0", "south/w3/home visit/2026-01/7200/1,2"}},
		// A code nobody used counts 0.
		{report.Machine, []string{"threat", "unused"}, []string{
			"north/w1/home visit/2026-01/3600/2,0", "north/w2/office meeting/2026-02/1800/1,0",
			"south/w3/home visit//2700/0,0", "south/w3/home visit/2026-01/7200/2,0"}},
	}
	for _, tt := range tests {
		rows := reportRows(t, db, report.Query{By: allDims, Codes: tt.codes, Status: tt.status})
		if got := sessionStrings(rows); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %v:\n got %q\nwant %q", tt.status, tt.codes, got, tt.want)
		}
		wantCodes := tt.codes
		if wantCodes == nil {
			wantCodes = both
		}
		if !reflect.DeepEqual(rows.Codes, wantCodes) {
			t.Errorf("%s %v: codes %v", tt.status, tt.codes, rows.Codes)
		}
	}
	// Dimensions not asked for come back empty.
	rows := reportRows(t, db, report.Query{By: []report.Dimension{report.Team}, Codes: both, Status: report.Machine})
	if got := sessionStrings(rows); !reflect.DeepEqual(got, []string{"north////1800/1,1", "north////3600/3,2", "south////2700/1,0", "south////7200/1,2"}) {
		t.Errorf("by team: %q", got)
	}
}

func testReportFilters(t *testing.T, db *DB) {
	reportFixture(t, db)
	tests := []struct {
		name string
		q    report.Query
		want []string
	}{
		{"from", report.Query{From: "2026-01-15"}, []string{"north/w2/office meeting/2026-02/1800/1,1", "south/w3/home visit/2026-01/7200/1,2"}},
		{"to", report.Query{To: "2026-01"}, []string{"north/w1/home visit/2026-01/3600/3,2", "south/w3/home visit/2026-01/7200/1,2"}},
		{"teams", report.Query{Teams: []string{"south", "east"}}, []string{"south/w3/home visit//2700/1,0", "south/w3/home visit/2026-01/7200/1,2"}},
		{"no teams", report.Query{Teams: []string{}}, []string{}},
		{"version 1", report.Query{CodebookVersion: "1"}, []string{"south/w3/home visit//2700/1,0", "south/w3/home visit/2026-01/7200/1,2"}},
		{"version 2", report.Query{CodebookVersion: "2"}, []string{"north/w1/home visit/2026-01/3600/3,2", "north/w2/office meeting/2026-02/1800/1,1"}},
	}
	for _, tt := range tests {
		q := tt.q
		q.By, q.Codes, q.Status = allDims, []string{"listen", "threat"}, report.Machine
		if got := sessionStrings(reportRows(t, db, q)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// testReportCounts checks a whole report against numbers worked out by hand.
func testReportCounts(t *testing.T, db *DB) {
	reportFixture(t, db)
	res, err := report.Run(context.Background(), db, report.Query{By: []report.Dimension{report.Team, report.Code},
		Status: report.Machine, MinCell: 1})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		key                  string
		sessions             int
		hours                float64
		tags                 int
		rate, q1, median, q3 float64
	}
	want := []row{
		// north: r1 (1 h), r2 (0.5 h). listen 3 + 1 = 4 in 1.5 h; the
		// sessions' rates 3/1 and 1/0.5 = [2 3]: Q1 2.25, median 2.5, Q3 2.75.
		{"north/listen", 2, 1.5, 4, 4 / 1.5, 2.25, 2.5, 2.75},
		// threat 2 + 1 = 3; rates 2/1, 1/0.5 = [2 2].
		{"north/threat", 2, 1.5, 3, 2, 2, 2, 2},
		// south: r3 (2 h), r4 (0.75 h). listen 1 + 1 = 2 in 2.75 h; rates
		// 0.5 and 1.333… : Q1 0.5 + 0.25·0.8333… = 0.7083…, median 0.9166…,
		// Q3 1.125.
		{"south/listen", 2, 2.75, 2, 2 / 2.75, 0.5 + 0.25*(4.0/3-0.5), (0.5 + 4.0/3) / 2, 0.5 + 0.75*(4.0/3-0.5)},
		// threat 2 + 0 = 2; rates [0 1]: Q1 0.25, median 0.5, Q3 0.75.
		{"south/threat", 2, 2.75, 2, 2 / 2.75, 0.25, 0.5, 0.75},
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d rows: %+v", len(res.Rows), res.Rows)
	}
	for i, w := range want {
		g := res.Rows[i]
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
		if strings.Join(g.Key, "/") != w.key || g.Sessions != w.sessions || !near(g.Hours, w.hours) || g.Tags != w.tags ||
			!near(g.Rate, w.rate) || !near(g.Q1, w.q1) || !near(g.Median, w.median) || !near(g.Q3, w.q3) {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}
	// With the default threshold of 5, every cell (2 sessions) is
	// suppressed, and so are the totals (4 sessions).
	res, err = report.Run(context.Background(), db, report.Query{By: []report.Dimension{report.Team, report.Code}, Status: report.Machine})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(res.Rows, res.Totals...) {
		if !r.Suppressed || r.Sessions != 0 || r.Tags != 0 {
			t.Errorf("not suppressed: %+v", r)
		}
	}
}

func testReportAgreement(t *testing.T, db *DB) {
	reportFixture(t, db)
	q, _ := report.Query{}.Normalize()
	rows, err := db.AgreementRows(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rows.Versions, func(a, b report.VersionSessions) int { return strings.Compare(a.CodebookVersion, b.CodebookVersion) })
	// Version 1: r3 (in progress); version 2: r1 (complete, 5 segments).
	// r2, r4 and r6 are not reviewed (r6 has no duration either).
	wantV := []report.VersionSessions{{CodebookVersion: "1", Reviewed: 1}, {CodebookVersion: "2", Reviewed: 1, Complete: 1, Segments: 5}}
	if !reflect.DeepEqual(rows.Versions, wantV) {
		t.Fatalf("versions: %+v", rows.Versions)
	}
	slices.SortFunc(rows.Codes, func(a, b report.CodeAgreement) int {
		return strings.Compare(a.CodebookVersion+a.Code, b.CodebookVersion+b.Code)
	})
	wantC := []report.CodeAgreement{
		// r3: its listen tag is pending.
		{CodebookVersion: "1", Code: "listen", Pending: 1},
		// r3: one threat rejected, one accepted, one added.
		{CodebookVersion: "1", Code: "threat", Accepted: 1, Rejected: 1, Added: 1},
		// r1: m1 and m5 accepted, m2 rejected, a1 added, m3 changed to
		// listen. Segments: the machine has listen in 0 and 1; the coaches'
		// final tags in 0 (m1, m5), 2 (m3) and 4 (a1): both 1, machine only
		// 1, coaches only 2.
		{CodebookVersion: "2", Code: "listen", Accepted: 2, Rejected: 1, Added: 1, ChangedTo: 1, Both: 1, MachineOnly: 1, CoachOnly: 2},
		// r1: m3 changed away, m4 pending. Segments: the machine has threat
		// in 2 and 3; the coaches' final tags in 3 (m4, pending, kept).
		{CodebookVersion: "2", Code: "threat", Changed: 1, Pending: 1, Both: 1, MachineOnly: 1},
	}
	if !reflect.DeepEqual(rows.Codes, wantC) {
		t.Fatalf("codes:\n got %+v\nwant %+v", rows.Codes, wantC)
	}

	res, err := report.RunAgreement(context.Background(), db, report.Query{MinCell: 1})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]report.AgreementRow{}
	for _, r := range res.Rows {
		byKey[r.Code+"@"+r.CodebookVersion] = r
	}
	// listen@2: precision 2/(2+1) = 2/3. Over 5 segments: both 1, machine
	// only 1, coaches only 2, neither 1. Observed (1+1)/5 = 0.4; chance
	// ((1+1)(1+2) + (2+1)(1+1))/25 = 12/25 = 0.48; kappa (0.4−0.48)/0.52.
	l := byKey["listen@2"]
	if l.Precision == nil || math.Abs(*l.Precision-2.0/3) > 1e-12 || l.Missed != 2 || l.Neither != 1 ||
		l.Kappa == nil || math.Abs(*l.Kappa-(0.4-0.48)/0.52) > 1e-12 {
		t.Errorf("listen@2: %+v", l)
	}
	// threat@2: precision 0/1 (changed). Both 1, machine only 1, coaches
	// only 0, neither 3: observed 4/5 = 0.8; chance ((1+1)(1+0) +
	// (0+3)(1+3))/25 = 14/25 = 0.56; kappa (0.8−0.56)/0.44.
	th := byKey["threat@2"]
	if th.Precision == nil || *th.Precision != 0 || th.Kappa == nil || math.Abs(*th.Kappa-(0.8-0.56)/0.44) > 1e-12 {
		t.Errorf("threat@2: %+v", th)
	}
	// threat@1: precision 1/2; no complete review, no kappa.
	if th := byKey["threat@1"]; th.Precision == nil || *th.Precision != 0.5 || th.Kappa != nil || th.Missed != 1 {
		t.Errorf("threat@1: %+v", th)
	}
	// Filters apply: only south (version 1).
	q, _ = report.Query{Teams: []string{"south"}, Codes: []string{"threat"}}.Normalize()
	rows, err = db.AgreementRows(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows.Versions) != 1 || rows.Versions[0].CodebookVersion != "1" || len(rows.Codes) != 1 || rows.Codes[0].Code != "threat" {
		t.Fatalf("filtered: %+v", rows)
	}
}

// testReportKeptCurrent changes recordings, tags, reviews and transcripts
// and checks reports follow.
func testReportKeptCurrent(t *testing.T, db *DB) {
	ctx := context.Background()
	ids := reportFixture(t, db)
	machine := report.Query{By: allDims, Codes: []string{"listen", "threat"}, Status: report.Machine}

	// Re-annotation with another codebook version replaces r2's counts.
	a := &hark.Annotations{RecordingID: ids["r2"], Codebook: "hark-practice", CodebookVersion: "3", Tagger: "rules",
		Tags: []hark.Tag{{Segment: 0, Code: "threat", End: 4, Evidence: "x", Source: hark.SourceRules, Review: hark.ReviewPending}}}
	if err := db.PutAnnotations(ctx, a); err != nil {
		t.Fatal(err)
	}
	q := machine
	q.CodebookVersion = "3"
	if got := sessionStrings(reportRows(t, db, q)); !reflect.DeepEqual(got, []string{"north/w2/office meeting/2026-02/1800/0,1"}) {
		t.Fatalf("after re-annotation: %q", got)
	}
	// A recording's metadata changes: the report's columns follow.
	r, err := db.Recording(ctx, ids["r2"])
	if err != nil {
		t.Fatal(err)
	}
	r.Team, r.Attempts = "west", r.Attempts+1
	put(t, db, r)
	q.Teams = []string{"west"}
	if got := sessionStrings(reportRows(t, db, q)); len(got) != 1 || !strings.HasPrefix(got[0], "west/") {
		t.Fatalf("after the team changed: %q", got)
	}
	// A complete review of r2: it counts as confirmed.
	doc := &hark.ReviewDoc{RecordingID: ids["r2"], State: hark.ReviewComplete, Added: []hark.Tag{}, Notes: []hark.Note{},
		Decisions: []hark.Decision{{Key: hark.TagKey(0, 0, 4, "threat"), Review: hark.ReviewAccepted, By: "c", At: base}}}
	if err := db.PutReview(ctx, doc, 0); err != nil {
		t.Fatal(err)
	}
	conf := machine
	conf.Status = report.Confirmed
	want := []string{"north/w1/home visit/2026-01/3600/4,0", "west/w2/office meeting/2026-02/1800/0,1"}
	if got := sessionStrings(reportRows(t, db, conf)); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a review: %q", got)
	}
	// A shorter transcript for r1: kappa is over its 3 segments.
	if err := db.PutTranscript(ctx, transcript(ids["r1"], "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	aq, _ := report.Query{CodebookVersion: "2"}.Normalize()
	rows, err := db.AgreementRows(ctx, aq)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows.Versions) != 1 || rows.Versions[0].Segments != 3 {
		t.Fatalf("after a new transcript: %+v", rows.Versions)
	}
	// A recording erased: gone from reports.
	if _, err := db.db.Exec(`DELETE FROM recordings WHERE id = $1`, ids["r1"]); err != nil {
		t.Fatal(err)
	}
	if got := sessionStrings(reportRows(t, db, conf)); !reflect.DeepEqual(got, want[1:]) {
		t.Fatalf("after erasing r1: %q", got)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM report_sessions WHERE recording_id = $1`, ids["r1"]); n != 0 {
		t.Fatalf("erased recording still has %d report row(s)", n)
	}
}

// testReportConcurrentRefresh re-annotates recordings while reports
// refresh their counts, and checks that the counts end up those of the last
// annotations: a refresh never loses a writer's change.
func testReportConcurrentRefresh(t *testing.T, db *DB) {
	ctx := context.Background()
	const writers, rounds = 4, 15
	ids := make([]string, writers)
	for i := range writers {
		r := rec(fmt.Sprintf("c%d", i), "north", "b1", hark.StatusReady, i)
		put(t, db, r)
		ids[i] = r.ID
	}
	last := make([]int, writers)
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := db.RefreshReports(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for round := range rounds {
				n := (w*7 + round*3) % 11
				var tags []hark.Tag
				for i := range n {
					tags = append(tags, hark.Tag{Segment: i, Code: "listen", End: 4, Evidence: "x", Source: hark.SourceRules, Review: hark.ReviewPending})
				}
				a := &hark.Annotations{RecordingID: ids[w], Codebook: "c", CodebookVersion: "1", Tagger: "rules", Tags: tags}
				if err := db.PutAnnotations(ctx, a); err != nil {
					t.Error(err)
					return
				}
				last[w] = n
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	rows := reportRows(t, db, report.Query{By: []report.Dimension{report.Team}, Codes: []string{"listen"}, Status: report.Machine})
	var got, want []int
	for _, s := range rows.Sessions {
		got = append(got, s.Counts[0])
	}
	want = append(want, last...)
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("counts after concurrent writes and refreshes: %v, want %v", got, want)
	}
}

// testReportImport imports the fixture's sessions, as Session reads them,
// into another index, and checks that they read back and report there as
// they do where the pipeline and coaches wrote them; and that an import
// with a recording the index has already is ECONFLICT and writes nothing.
func testReportImport(t *testing.T, from, to *DB) {
	ctx := context.Background()
	ids := reportFixture(t, from)
	var sessions []ImportSession
	var want []*hark.Session
	for _, name := range slices.Sorted(maps.Keys(ids)) {
		s, err := from.Session(ctx, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, s)
		sessions = append(sessions, ImportSession{Recording: *s.Recording, Transcript: s.Transcript, Annotations: s.Annotations,
			ReviewState: s.Review.State})
	}
	if err := to.ImportSessions(ctx, sessions); err != nil {
		t.Fatalf("ImportSessions: %v", err)
	}
	if err := to.Analyze(ctx); err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	for _, w := range want {
		got, err := to.Session(ctx, w.Recording.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Review.Version != 0 || len(got.Review.Decisions) != 0 {
			t.Errorf("imported session %s has a review document: %+v", w.Recording.ID, got.Review)
		}
		got.Review, w.Review = nil, nil
		jsonEqual(t, "imported session "+w.Recording.ID, got, w)
	}
	if got, want := reportSnapshot(t, to), reportSnapshot(t, from); got != want {
		t.Fatalf("reports over the imported sessions:\n%s\nwhere they were written:\n%s", got, want)
	}
	if got, want := sessionStrings(reportRows(t, to, report.Query{By: allDims})), sessionStrings(reportRows(t, from, report.Query{By: allDims})); !reflect.DeepEqual(got, want) {
		t.Fatalf("report rows over the imported sessions %q, where they were written %q", got, want)
	}

	fresh := ImportSession{Recording: *rec("fresh", "north", "b2", hark.StatusReady, 9)}
	if err := to.ImportSessions(ctx, []ImportSession{fresh, sessions[0]}); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("importing a recording the index has: %v, want ECONFLICT", err)
	}
	if _, err := to.Recording(ctx, fresh.Recording.ID); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("after the failed import, the other recording: %v, want ENOTFOUND", err)
	}
	if err := to.ImportSessions(ctx, []ImportSession{{}}); hark.ErrorCode(err) != hark.EINVALID {
		t.Fatalf("importing a recording without an id: %v, want EINVALID", err)
	}
	// More recordings than one statement checks: the one the index has
	// comes last.
	var many []ImportSession
	for i := range 1500 {
		many = append(many, ImportSession{Recording: *rec(fmt.Sprintf("many-%d", i), "north", "b3", hark.StatusReady, i)})
	}
	if err := to.ImportSessions(ctx, append(many, sessions[0])); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("importing 1,500 recordings and one the index has: %v, want ECONFLICT", err)
	}
	if err := to.ImportSessions(ctx, many); err != nil {
		t.Fatalf("importing 1,500 recordings: %v", err)
	}
}

// reportSnapshot is a few reports and the agreement report over db, every
// cell shown, as JSON.
func reportSnapshot(t *testing.T, db *DB) string {
	t.Helper()
	var out []any
	for _, q := range []report.Query{
		{By: []report.Dimension{report.Team, report.Code}, Status: report.Machine, MinCell: 1},
		{By: []report.Dimension{report.Month}, Status: report.Confirmed, MinCell: 1},
		{By: []report.Dimension{report.Worker, report.Code}, MinCell: 1},
	} {
		res, err := report.Run(context.Background(), db, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res)
	}
	a, err := report.RunAgreement(context.Background(), db, report.Query{MinCell: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(append(out, a))
	return string(b)
}

// BenchmarkReportTriggers measures what keeping report_sessions current
// costs the writers: PutAnnotations of 20 tags, PutReview, and PutTranscript
// of 375 segments (a 75-minute meeting), with the report triggers and
// without them.
//
//	go test ./index -run '^$' -bench ReportTriggers -benchtime 200x
func BenchmarkReportTriggers(b *testing.B) {
	backends := map[string]func(b *testing.B) string{
		"sqlite": func(b *testing.B) string { return filepath.Join(b.TempDir(), "index.db") },
	}
	if dsn := os.Getenv("HARK_TEST_POSTGRES"); dsn != "" {
		backends["postgres"] = func(b *testing.B) string {
			admin, err := sql.Open("pgx", dsn)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { admin.Close() })
			var buf [6]byte
			_, _ = rand.Read(buf[:])
			schema := "hark_bench_" + hex.EncodeToString(buf[:])
			if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
			u, _ := url.Parse(dsn)
			qv := u.Query()
			qv.Set("search_path", schema)
			u.RawQuery = qv.Encode()
			return u.String()
		}
	}
	for _, name := range []string{"sqlite", "postgres"} {
		newDSN, ok := backends[name]
		if !ok {
			continue
		}
		for _, triggers := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/triggers=%v", name, triggers), func(b *testing.B) {
				ctx := context.Background()
				db, err := Open(ctx, newDSN(b))
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if !triggers {
					for _, tr := range []string{"report_recordings_insert", "report_recordings_update", "report_segments_insert",
						"report_segments_delete", "report_tags_insert", "report_tags_delete", "report_tags_update"} {
						q := `DROP TRIGGER ` + tr
						if db.dialect.name == "postgres" {
							table := map[bool]string{true: "recordings", false: "tags"}[strings.Contains(tr, "recordings")]
							if strings.Contains(tr, "segments") {
								table = "segments"
							}
							q += ` ON ` + table
						}
						if _, err := db.db.Exec(q); err != nil {
							b.Fatal(err)
						}
					}
				}
				texts := make([]string, 375)
				for i := range texts {
					texts[i] = "a turn of the meeting with some words in it"
				}
				var tags []hark.Tag
				for i := range 20 {
					tags = append(tags, hark.Tag{Segment: i * 17, Code: []string{"reflective_listening", "open_question", "directive", "affirmation"}[i%4],
						End: 10, Evidence: "some words", Confidence: 0.8, Source: hark.SourceRules, Review: hark.ReviewPending})
				}
				var annotate, review, transcribe time.Duration
				for i := 0; b.Loop(); i++ {
					r := rec(fmt.Sprintf("b%d", i), "north", "b1", hark.StatusReady, i)
					if err := db.PutRecording(ctx, r); err != nil {
						b.Fatal(err)
					}
					t0 := time.Now()
					if err := db.PutTranscript(ctx, transcript(r.ID, texts...)); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					if err := db.PutAnnotations(ctx, &hark.Annotations{RecordingID: r.ID, Codebook: "c", CodebookVersion: "1", Tagger: "rules", Tags: tags}); err != nil {
						b.Fatal(err)
					}
					t2 := time.Now()
					doc := &hark.ReviewDoc{RecordingID: r.ID, State: hark.ReviewComplete, Added: []hark.Tag{}, Notes: []hark.Note{},
						Decisions: []hark.Decision{{Key: hark.TagKey(0, 0, 10, "reflective_listening"), Review: hark.ReviewAccepted, By: "c", At: base}}}
					if err := db.PutReview(ctx, doc, 0); err != nil {
						b.Fatal(err)
					}
					transcribe, annotate, review = transcribe+t1.Sub(t0), annotate+t2.Sub(t1), review+time.Since(t2)
				}
				n := float64(b.N)
				b.ReportMetric(float64(transcribe.Microseconds())/n, "µs/transcript")
				b.ReportMetric(float64(annotate.Microseconds())/n, "µs/annotations")
				b.ReportMetric(float64(review.Microseconds())/n, "µs/review")
				if triggers {
					t0 := time.Now()
					if err := db.RefreshReports(ctx); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(time.Since(t0).Microseconds())/n, "µs/refresh")
				}
			})
		}
	}
}
