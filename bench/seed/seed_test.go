package seed_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/bench/seed"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/report"
)

// seeded is a fresh SQLite index with cfg's sessions in it.
func seeded(t *testing.T, cfg seed.Config) (*index.DB, *seed.Stats) {
	t.Helper()
	ctx := context.Background()
	db, err := index.OpenSQLite(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := seed.Reports(ctx, db, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return db, st
}

// TestReports seeds an index and checks what the stats say against what
// the index holds and what reports count, through the index's public API.
func TestReports(t *testing.T) {
	ctx := context.Background()
	var progress []int
	db, st := seeded(t, seed.Config{Sessions: 700, Seed: 7, Progress: func(done int) { progress = append(progress, done) }})
	// The figures of seed 7: the same seed gives the same data, in every
	// version of hark (docs/benchmarks.md quotes seeded data).
	if got, want := [6]int{st.Sessions, st.Ready, st.Reviewed, st.Complete, st.Tags, st.Segments}, [6]int{700, 680, 103, 69, 14417, 25382}; got != want {
		t.Fatalf("seed 7: sessions, ready, reviewed, complete, tags, segments = %v, want %v", got, want)
	}
	if !slices.Equal(progress, []int{500, 700}) {
		t.Errorf("progress %v, want [500 700]: one call a transaction", progress)
	}

	list, err := db.Recordings(ctx, hark.RecordingFilter{Batch: "bench-seed", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ready, transcribed, tags, machine, segments int
	for _, r := range list {
		s, err := db.Session(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Recording.Status != hark.StatusReady {
			if s.Transcript != nil || s.Annotations != nil {
				t.Fatalf("%s is %s but has results", r.ID, s.Recording.Status)
			}
			continue
		}
		ready++
		for _, tg := range s.Annotations.Tags {
			if tg.Source != hark.SourceCoach {
				machine++
			}
		}
		tags += len(s.Annotations.Tags)
		if n := len(s.Transcript.Segments); n > 0 {
			transcribed++
			segments += n
		}
	}
	// Segments are written for completely reviewed sessions only.
	if got := [5]int{len(list), ready, transcribed, tags, segments}; got != [5]int{st.Sessions, st.Ready, st.Complete, st.Tags, st.Segments} {
		t.Fatalf("the index holds sessions, ready, with segments, tags, segments = %v; the stats say %+v", got, st)
	}

	// The review states are the reports' to count.
	run := func(status report.TagStatus) report.Row {
		q, err := report.Query{Status: status, MinCell: 1}.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		res, err := report.Run(ctx, db, q)
		if err != nil || len(res.Totals) != 1 {
			t.Fatalf("report %s: %v", status, err)
		}
		return res.Totals[0]
	}
	if got := run(report.Machine); got.Sessions != st.Ready || got.Tags != machine {
		t.Fatalf("the machine tags report counts %+v; want %d sessions with %d tags", got, st.Ready, machine)
	}
	if got := run(report.Confirmed); got.Sessions != st.Complete {
		t.Fatalf("the confirmed tags report counts %d sessions, want the %d completely reviewed", got.Sessions, st.Complete)
	}
	q, _ := report.Query{MinCell: 1}.Normalize()
	// Every ready session has a family lens and moments; the reviewed
	// ones count in the answers per cue.
	fam, err := report.RunFamily(ctx, db, q)
	if err != nil {
		t.Fatal(err)
	}
	suggested := 0
	for _, c := range fam.Cues {
		suggested += c.Suggested
	}
	if fam.Total.Sessions != st.Ready || fam.Unmeasured != 0 || fam.Reviewed != st.Reviewed || suggested < 5*st.Reviewed || suggested > 10*st.Reviewed {
		t.Fatalf("the family report counts %d sessions measured, %d not, %d reviewed with %d moments; want %d, 0, %d with 5 to 10 each",
			fam.Total.Sessions, fam.Unmeasured, fam.Reviewed, suggested, st.Ready, st.Reviewed)
	}
	agreement, err := report.RunAgreement(ctx, db, q)
	if err != nil {
		t.Fatal(err)
	}
	reviewed := map[string]int{}
	for _, r := range agreement.Rows {
		reviewed[r.CodebookVersion] = r.Reviewed
	}
	if n := reviewed["1"] + reviewed["2"]; len(reviewed) != 2 || n != st.Reviewed {
		t.Fatalf("the agreement report has %v reviewed sessions per codebook version, want %d in all", reviewed, st.Reviewed)
	}

	if _, err := seed.Reports(ctx, db, seed.Config{Sessions: 1}); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("seeding the same batch again: %v, want ECONFLICT", err)
	}
	if _, err := seed.Reports(ctx, db, seed.Config{Sessions: 0, Batch: "other"}); hark.ErrorCode(err) != hark.EINVALID {
		t.Fatalf("seeding no sessions: %v, want EINVALID", err)
	}
}

// TestReportsSeed checks that the same seed gives the same reports and
// another seed other ones.
func TestReportsSeed(t *testing.T) {
	reports := func(s uint64) string {
		ctx := context.Background()
		db, _ := seeded(t, seed.Config{Sessions: 300, Seed: s})
		q, _ := report.Query{By: []report.Dimension{report.Team, report.Code}, MinCell: 1}.Normalize()
		res, err := report.Run(ctx, db, q)
		if err != nil {
			t.Fatal(err)
		}
		agreement, err := report.RunAgreement(ctx, db, q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal([]any{res, agreement})
		return string(b)
	}
	first := reports(7)
	if again := reports(7); again != first {
		t.Errorf("seed 7 twice gave different reports:\n%s\n---\n%s", first, again)
	}
	if other := reports(8); other == first {
		t.Errorf("seeds 7 and 8 gave the same reports:\n%s", first)
	}
}
