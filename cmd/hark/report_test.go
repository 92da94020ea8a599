package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// hark report, as an analyst runs it, over three meetings tagged by the
// embedded stack.
func TestReportCommand(t *testing.T) {
	b := startUp(t, t.TempDir())
	batch, err := b.upload(uploadMeta{Team: "North", Worker: "w-17", MeetingType: "home-visit", RecordedOn: "2026-11-02"}, "", meetingsDir)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	if r := b.waitBatch(batch, 3); r.Statuses[hark.StatusReady] != 3 {
		t.Fatalf("want 3 ready, got %+v", r)
	}
	// What the report must count: every machine tag of the three sessions
	// (none rejected yet).
	want := 0
	for _, name := range []string{"authoritarian", "mixed", "partnership"} {
		want += len(b.session("North/" + name + ".wav").Annotations.Tags)
	}
	run := func(args ...string) (string, error) {
		t.Helper()
		return runHark(t, b.dataDir, "", append([]string{"report"}, args...)...)
	}
	type row struct {
		Team       string `json:"team"`
		Sessions   int    `json:"sessions"`
		Tags       int    `json:"tags"`
		Suppressed bool   `json:"suppressed"`
	}
	var res struct {
		Rows []row `json:"rows"`
	}

	out, err := run("--by", "team", "--min-cell", "1", "--format", "json")
	if err != nil || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("report json: %v\n%s", err, out)
	}
	if len(res.Rows) != 1 || res.Rows[0] != (row{Team: "North", Sessions: 3, Tags: want}) {
		t.Errorf("rows %+v, want North with 3 sessions and %d tags", res.Rows, want)
	}

	// Three sessions are fewer than the default smallest cell (5).
	res.Rows = nil
	out, err = run("--by", "team", "--format", "json")
	if err != nil || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("report json: %v\n%s", err, out)
	}
	if len(res.Rows) != 1 || !res.Rows[0].Suppressed || res.Rows[0].Tags != 0 || res.Rows[0].Sessions != 0 {
		t.Errorf("rows %+v: want North's row of 3 sessions suppressed, its numbers withheld, with the default smallest cell", res.Rows)
	}

	csvPath := filepath.Join(t.TempDir(), "north.csv")
	if out, err := run("--by", "team", "--min-cell", "1", "--format", "csv", "--out", csvPath); err != nil {
		t.Fatalf("report csv: %v\n%s", err, out)
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "team,") || !strings.HasPrefix(lines[1], "North,") {
		t.Errorf("CSV:\n%s", data)
	}

	if out, err := run("--agreement", "--min-cell", "1"); err != nil || !strings.Contains(out, "kappa") {
		t.Errorf("agreement table: %v\n%s", err, out)
	}
	if _, err := run("--min-cell", "0"); err == nil {
		t.Error("--min-cell 0 was accepted")
	}

	// The family lens and the suggested moments, as the annotate stage
	// measured and suggested them in each session.
	turns, threats := 0, 0
	for _, name := range []string{"authoritarian", "mixed", "partnership"} {
		a := b.session("North/" + name + ".wav").Annotations
		if a.Family == nil {
			t.Fatalf("%s has no family lens", name)
		}
		turns += a.Family.ParentTurns
		for _, m := range a.Moments {
			if m.Cue == hark.CueThreat {
				threats++
			}
		}
	}
	var fam struct {
		Rows []struct {
			Team        string `json:"team"`
			Sessions    int    `json:"sessions"`
			ParentTurns int    `json:"parent_turns"`
		} `json:"rows"`
	}
	out, err = run("--family", "--by", "team", "--min-cell", "1", "--format", "json")
	if err != nil || json.Unmarshal([]byte(out), &fam) != nil {
		t.Fatalf("family json: %v\n%s", err, out)
	}
	if len(fam.Rows) != 1 || fam.Rows[0].Team != "North" || fam.Rows[0].Sessions != 3 || fam.Rows[0].ParentTurns != turns {
		t.Errorf("family rows %+v, want North's 3 sessions with %d parent turns", fam.Rows, turns)
	}
	// The answers per cue are over reviewed sessions: a coach reviews the
	// authoritarian and the mixed meeting, and accepts the authoritarian
	// one's first threat; the partnership meeting's moments do not count.
	ctx := context.Background()
	idx := b.up.Index()
	suggested := map[string]int{}
	var accepted hark.Moment
	for _, name := range []string{"authoritarian", "mixed"} {
		sess := b.session("North/" + name + ".wav")
		for _, m := range sess.Annotations.Moments {
			suggested[m.Cue]++
			if name == "authoritarian" && m.Cue == hark.CueThreat && accepted.Key == "" {
				accepted = m
			}
		}
		cur, err := idx.Review(ctx, sess.Recording.ID)
		if err != nil {
			t.Fatal(err)
		}
		cur.State, cur.UpdatedBy, cur.UpdatedAt = hark.ReviewInProgress, "coach1", time.Now()
		if name == "authoritarian" {
			cur.Suggestions = []hark.SuggestionDecision{{Key: accepted.Key, Cue: accepted.Cue, State: hark.SuggestionAccepted, By: "coach1", At: time.Now()}}
		}
		if err := idx.PutReview(ctx, cur, cur.Version); err != nil {
			t.Fatal(err)
		}
	}
	if accepted.Key == "" || suggested[hark.CueThreat] != threats {
		t.Fatalf("the authoritarian meeting has no threat among its moments, or the partnership one has (%d of %d)", suggested[hark.CueThreat], threats)
	}
	var cues struct {
		Reviewed int `json:"reviewed_sessions"`
		Cues     []struct {
			Cue       string `json:"cue"`
			Suggested int    `json:"suggested"`
			Answered  int    `json:"answered"`
			Accepted  int    `json:"accepted"`
		} `json:"cues"`
	}
	out, err = run("--moments", "--min-cell", "1", "--format", "json")
	if err != nil || json.Unmarshal([]byte(out), &cues) != nil {
		t.Fatalf("moments json: %v\n%s", err, out)
	}
	got := map[string]int{}
	for _, c := range cues.Cues {
		got[c.Cue] = c.Suggested
		want := 0
		if c.Cue == hark.CueThreat {
			want = 1
		}
		if c.Answered != want || c.Accepted != want {
			t.Errorf("cue %s answered %d, accepted %d: want %d", c.Cue, c.Answered, c.Accepted, want)
		}
	}
	if cues.Reviewed != 2 {
		t.Errorf("over %d reviewed sessions, want 2", cues.Reviewed)
	}
	if !maps.Equal(got, suggested) {
		t.Errorf("suggested per cue %v, want those of the two reviewed meetings %v", got, suggested)
	}
	if out, err := run("--moments", "--min-cell", "1"); err != nil || !strings.Contains(out, "accepted_share") || !strings.Contains(out, "Over the 2 reviewed session(s) in scope") {
		t.Errorf("moments table: %v\n%s", err, out)
	}
	if _, err := run("--family", "--moments"); err == nil {
		t.Error("--family with --moments was accepted")
	}

	// Each export is in the audit log.
	log, err := b.up.idx.AuditLog(context.Background(), hark.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	exports := 0
	for _, e := range log {
		if e.Action == "export" && strings.HasPrefix(e.User, "cli") {
			exports++
		}
	}
	if exports != 7 {
		t.Errorf("%d exports in the audit log, want 7", exports)
	}
}

// hark bench seed fills an index the reports then count, the same for the
// same seed; hark bench reports times them.
func TestBenchSeedAndReports(t *testing.T) {
	dir := t.TempDir()
	run := func(dir string, args ...string) string {
		t.Helper()
		out, err := runHark(t, dir, "", args...)
		if err != nil {
			t.Fatalf("hark %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run(dir, "bench", "seed", "--sessions", "300", "--seed", "7")
	var res struct {
		Totals []struct {
			Sessions int `json:"sessions"`
			Tags     int `json:"tags"`
		} `json:"totals"`
	}
	out := run(dir, "report", "--format", "json")
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Totals) != 1 {
		t.Fatalf("report over the seeded index: %v\n%s", err, out)
	}
	ready := res.Totals[0].Sessions
	if ready == 0 || ready > 300 || res.Totals[0].Tags == 0 {
		t.Fatalf("seeded 300 sessions; the report counts %d ready with %d tags", ready, res.Totals[0].Tags)
	}
	// The same seed into a second index gives the same figures.
	other := t.TempDir()
	run(other, "bench", "seed", "--sessions", "300", "--seed", "7")
	if again := run(other, "report", "--format", "json"); again != out {
		t.Errorf("the same seed gave different reports:\n%s\n---\n%s", out, again)
	}
	if out := run(dir, "bench", "reports"); !strings.Contains(out, "ms") {
		t.Errorf("bench reports printed no timings:\n%s", out)
	}
}
