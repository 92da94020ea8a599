package qda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/qda"
	"github.com/harkworks/hark/qda/qdatest"
)

// sharedQDA is the REFI-QDA reference folder, ../shared/qda from the
// repository root.
const sharedQDA = "../../shared/qda"

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// session makes a synthetic session of turns turns and about tags tags,
// some accepted, rejected, recoded and added, with notes.
func session(id string, turns, tags int) *hark.Session {
	cb := annotate.DefaultCodebook()
	speakers := []struct {
		name string
		role hark.Role
	}{{"Worker", hark.RoleWorker}, {"Mum", hark.RoleParent}, {"Dad", hark.RoleParent}}
	tr := &hark.Transcript{Schema: 1, RecordingID: id, Engine: "sidecar"}
	for i := range turns {
		sp := speakers[i%len(speakers)]
		tr.Segments = append(tr.Segments, hark.Segment{Index: i, Start: float64(i) * 2.4, End: float64(i)*2.4 + 2.2,
			Speaker: sp.name, Role: sp.role, Text: fmt.Sprintf("Turn %d — I hear that you're worried about Léo & the <plan>, is that right?", i), Confidence: 1})
	}
	var ts []hark.Tag
	at := t0.Add(time.Hour)
	for i := range tags {
		seg := (i * 7) % turns
		c := cb.Codes[i%len(cb.Codes)].ID
		t := hark.Tag{Segment: seg, Code: c, Start: 17, End: 41, Confidence: 0.8, Source: hark.SourceRules, Review: hark.ReviewPending}
		t.Key = hark.TagKey(t.Segment, t.Start, t.End, t.Code)
		t.Evidence = tr.Segments[seg].Text[t.Start:t.End]
		switch i % 5 {
		case 1:
			t.Review, t.ReviewedBy, t.ReviewedAt = hark.ReviewAccepted, "sam", &at
		case 2:
			t.Review, t.ReviewedBy, t.ReviewedAt = hark.ReviewRejected, "kim", &at
		case 3:
			t.Review, t.ReviewedBy, t.ReviewedAt, t.OrigCode, t.Code = hark.ReviewAccepted, "sam", &at, t.Code, "shared_concern"
		case 4:
			if i%10 == 4 {
				t.Key, t.Source, t.Review, t.ReviewedBy, t.ReviewedAt, t.Confidence = fmt.Sprintf("c:%d", i), hark.SourceCoach, hark.ReviewAccepted, "sam", &at, 1
			}
		}
		ts = append(ts, t)
	}
	rev := &hark.ReviewDoc{Schema: 1, RecordingID: id, Version: 3, State: hark.ReviewInProgress, UpdatedAt: at,
		Notes: []hark.Note{{ID: "n1", Segment: -1, Text: "Good agenda setting overall.", By: "sam", At: at},
			{ID: "n2", Segment: 1, Text: "Here the parent felt heard.", By: "kim", At: at}}}
	return &hark.Session{
		Recording: &hark.Recording{ID: id, Key: "Team A/" + id + ".wav", Team: "Team A", Worker: "w-17", MeetingType: "home-visit",
			RecordedOn: "2026-11-20", Status: hark.StatusReady, CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)},
		Transcript:  tr,
		Annotations: &hark.Annotations{Schema: 1, RecordingID: id, Codebook: cb.ID, CodebookVersion: cb.Version, Tags: ts},
		Review:      rev,
	}
}

func loader(sessions ...*hark.Session) qda.LoadFunc {
	m := map[string]*hark.Session{}
	for _, s := range sessions {
		m[s.Recording.ID] = s
	}
	return func(_ context.Context, id string) (*hark.Session, error) {
		if s, ok := m[id]; ok {
			return s, nil
		}
		return nil, hark.Errorf(hark.ENOTFOUND, "no recording %s", id)
	}
}

func audio(_ context.Context, r *hark.Recording) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("RIFF fake audio of " + r.ID)), nil
}

func export(t *testing.T, cfg qda.ProjectConfig, sessions ...*hark.Session) ([]byte, qda.Stats) {
	t.Helper()
	var ids []string
	for _, s := range sessions {
		ids = append(ids, s.Recording.ID)
	}
	var buf bytes.Buffer
	st, err := qda.WriteProject(context.Background(), &buf, cfg, ids, loader(sessions...))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

// qde is project.qde as read back, enough to check what maps to what.
type qde struct {
	Users []struct {
		GUID string `xml:"guid,attr"`
		Name string `xml:"name,attr"`
	} `xml:"Users>User"`
	Cases []struct {
		Name       string `xml:"name,attr"`
		Selections []struct {
			Target string `xml:"targetGUID,attr"`
		} `xml:"SelectionRef"`
	} `xml:"Cases>Case"`
	Sources []struct {
		GUID       string `xml:"guid,attr"`
		Path       string `xml:"path,attr"`
		Transcript struct {
			Path  string `xml:"plainTextPath,attr"`
			Syncs []struct {
				GUID     string `xml:"guid,attr"`
				Time     int64  `xml:"timeStamp,attr"`
				Position int    `xml:"position,attr"`
			} `xml:"SyncPoint"`
			Selections []struct {
				GUID        string `xml:"guid,attr"`
				Name        string `xml:"name,attr"`
				From        string `xml:"fromSyncPoint,attr"`
				To          string `xml:"toSyncPoint,attr"`
				Description string `xml:"Description"`
				Coding      []struct {
					Code struct {
						Target string `xml:"targetGUID,attr"`
					} `xml:"CodeRef"`
				} `xml:"Coding"`
				Notes []struct {
					Target string `xml:"targetGUID,attr"`
				} `xml:"NoteRef"`
			} `xml:"TranscriptSelection"`
		} `xml:"Transcript"`
		Notes []struct {
			Target string `xml:"targetGUID,attr"`
		} `xml:"NoteRef"`
		Values []struct {
			Ref struct {
				Target string `xml:"targetGUID,attr"`
			} `xml:"VariableRef"`
			Text string `xml:"TextValue"`
			Date string `xml:"DateValue"`
		} `xml:"VariableValue"`
	} `xml:"Sources>AudioSource"`
	Notes []struct {
		GUID string `xml:"guid,attr"`
		Text string `xml:"PlainTextContent"`
	} `xml:"Notes>Note"`
}

func zipFile(t *testing.T, data []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

func TestProjectValidatesAndMaps(t *testing.T) {
	a, b := session("rec_a", 30, 40), session("rec_b", 12, 9)
	data, st := export(t, qda.ProjectConfig{Name: "North, November", User: "ana", Codebook: annotate.DefaultCodebook(), Audio: audio}, a, b)
	qdatest.ValidateProject(t, sharedQDA, data)
	if st.Recordings != 2 || st.Audio != 2 || st.Notes != 4 {
		t.Errorf("stats %+v", st)
	}
	var want int
	for _, s := range []*hark.Session{a, b} {
		for _, tg := range s.Annotations.Tags {
			if qda.DefaultInclude().Has(tg) {
				want++
			}
		}
	}
	if st.Codings != want {
		t.Errorf("%d codings, want %d (rejected left out)", st.Codings, want)
	}
	var doc qde
	if err := xml.Unmarshal(qdatest.ProjectQDE(t, data), &doc); err != nil {
		t.Fatal(err)
	}
	users := map[string]bool{}
	for _, u := range doc.Users {
		users[u.Name] = true
	}
	for _, u := range []string{"ana", "sam", "hark rules tagger", "kim"} {
		if !users[u] {
			t.Errorf("no user %q in %v", u, users)
		}
	}
	if len(doc.Cases) != 6 {
		t.Errorf("%d cases, want 3 speakers × 2 recordings", len(doc.Cases))
	}
	if len(doc.Sources) != 2 || len(doc.Notes) != 4 {
		t.Fatalf("%d sources, %d notes", len(doc.Sources), len(doc.Notes))
	}
	src := doc.Sources[0]
	if !strings.HasPrefix(src.Path, "internal://") || !strings.HasSuffix(src.Path, ".wav") {
		t.Errorf("audio path %q", src.Path)
	}
	// Sync points sit at the words they name, at the turns' times.
	text := []rune(zipFile(t, data, "Sources/"+strings.TrimPrefix(src.Transcript.Path, "internal://")))
	sync := map[string]int{}
	times := map[string]int64{}
	for _, s := range src.Transcript.Syncs {
		sync[s.GUID], times[s.GUID] = s.Position, s.Time
	}
	evidence := map[string]bool{}
	for _, tg := range a.Annotations.Tags {
		evidence[tg.Evidence] = true
	}
	var coded, recoded, added int
	for _, sel := range src.Transcript.Selections {
		from, to := sync[sel.From], sync[sel.To]
		got := string(text[from:to])
		if len(sel.Coding) == 0 { // a turn
			if !strings.Contains(got, ": Turn ") {
				t.Errorf("turn selection %q covers %q", sel.Name, got)
			}
			continue
		}
		coded++
		if !evidence[got] {
			t.Errorf("coding %q covers %q", sel.Name, got)
		}
		if times[sel.From] > times[sel.To] {
			t.Errorf("coding %q goes back in time", sel.Name)
		}
		if strings.Contains(sel.Description, "Recoded from") {
			recoded++
		}
		if strings.Contains(sel.Description, "Review status: added") {
			added++
		}
		if strings.Contains(sel.Description, "rejected") {
			t.Errorf("a rejected tag is in the default export: %q", sel.Description)
		}
	}
	if coded == 0 || recoded == 0 || added == 0 {
		t.Errorf("codings %d, recoded %d, added %d", coded, recoded, added)
	}
	if len(src.Notes) != 1 {
		t.Errorf("session notes on the source: %d", len(src.Notes))
	}
	vals := map[string]string{}
	for _, v := range src.Values {
		vals[v.Ref.Target] = v.Text + v.Date
	}
	for name, want := range map[string]string{"Team": "Team A", "Worker": "w-17", "Meeting type": "home-visit", "Recorded on": "2026-11-20", "Review state": "in_progress"} {
		if got := vals[qda.GUID("variable", name)]; got != want {
			t.Errorf("variable %s = %q, want %q", name, got, want)
		}
	}
	// The whole of it is the same the second time.
	again, _ := export(t, qda.ProjectConfig{Name: "North, November", User: "ana", Codebook: annotate.DefaultCodebook(), Audio: audio}, a, b)
	if !bytes.Equal(data, again) {
		t.Error("two exports of the same data differ")
	}
}

func TestProjectIncludeAndReferencedAudio(t *testing.T) {
	s := session("rec_c", 10, 20)
	removed := t0
	s.Recording.AudioRemoved = &removed
	in, err := qda.ParseInclude("rejected")
	if err != nil {
		t.Fatal(err)
	}
	data, st := export(t, qda.ProjectConfig{Codebook: annotate.DefaultCodebook(), Include: in, Audio: audio}, s)
	qdatest.ValidateProject(t, sharedQDA, data)
	if st.Audio != 0 || st.Codings != 4 {
		t.Errorf("stats %+v, want no audio and the 4 rejected tags", st)
	}
	var doc qde
	if err := xml.Unmarshal(qdatest.ProjectQDE(t, data), &doc); err != nil {
		t.Fatal(err)
	}
	if p := doc.Sources[0].Path; p != "relative://Team A/rec_c.wav" {
		t.Errorf("path %q", p)
	}
	// A session without a transcript or tags, and a code the codebook lacks.
	bare := session("rec_d", 3, 1)
	bare.Annotations.Tags[0].Code = "old_code"
	empty := &hark.Session{Recording: &hark.Recording{ID: "rec_e", Key: "x.wav", Team: "T", RecordedOn: "not a date"}}
	data, _ = export(t, qda.ProjectConfig{Codebook: annotate.DefaultCodebook()}, bare, empty)
	qdatest.ValidateProject(t, sharedQDA, data)
	if !strings.Contains(string(qdatest.ProjectQDE(t, data)), `name="old_code"`) {
		t.Error("a code the codebook lacks is not in the project's codebook")
	}
	if _, err := qda.ParseInclude("maybe"); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("ParseInclude(maybe): %v", err)
	}
}

func TestGUID(t *testing.T) {
	g := qda.GUID("code", "reflective_listening")
	if g != qda.GUID("code", "reflective_listening") || g == qda.GUID("code", "open_question") {
		t.Fatal("GUIDs are not a function of their parts")
	}
	if len(g) != 36 || g[14] != '5' || !strings.ContainsRune("89AB", rune(g[19])) {
		t.Errorf("%s is not a version 5 UUID", g)
	}
	if qda.GUID("a", "bc") == qda.GUID("ab", "c") {
		t.Error("parts run together")
	}
	_ = utf8.RuneLen
}

// twoHours is a synthetic two-hour session: 2,400 turns of 3 seconds and
// 5,000 tags.
func twoHours(id string) *hark.Session { return session(id, 2400, 5000) }

// peakHeap runs fn while sampling the heap, and returns the most it grew
// by over what was in use before.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak {
				peak = m.HeapAlloc - base
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	<-stopped
	return peak
}

// TestProjectFlatMemory exports one two-hour session and then four: the
// heap the export needs beyond the sessions themselves stays about the
// same, well under the size of what it writes.
func TestProjectFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var sessions []*hark.Session
	for i := range 4 {
		sessions = append(sessions, twoHours(fmt.Sprintf("rec_%d", i)))
	}
	load := loader(sessions...)
	cfg := qda.ProjectConfig{Codebook: annotate.DefaultCodebook(), Created: t0}
	run := func(n int) (peak uint64, size int64) {
		var ids []string
		for _, s := range sessions[:n] {
			ids = append(ids, s.Recording.ID)
		}
		cw := &countWriter{}
		peak = peakHeap(func() {
			if _, err := qda.WriteProject(context.Background(), cw, cfg, ids, load); err != nil {
				t.Fatal(err)
			}
		})
		return peak, cw.n
	}
	p1, n1 := run(1)
	p4, n4 := run(4)
	t.Logf("1 session: %d KiB written, peak heap +%d KiB; 4 sessions: %d KiB written, peak heap +%d KiB", n1>>10, p1>>10, n4>>10, p4>>10)
	if p4 > 2*p1+(1<<20) {
		t.Errorf("the heap grows with the export: +%d KiB for 1 session, +%d KiB for 4", p1>>10, p4>>10)
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkProjectTwoHours exports a synthetic two-hour session with 5,000
// tags (docs/benchmarks.md).
func BenchmarkProjectTwoHours(b *testing.B) {
	s := twoHours("rec_2h")
	load := loader(s)
	cfg := qda.ProjectConfig{Codebook: annotate.DefaultCodebook(), Created: t0}
	var size int64
	var peak uint64
	for b.Loop() {
		cw := &countWriter{}
		p := peakHeap(func() {
			if _, err := qda.WriteProject(context.Background(), cw, cfg, []string{"rec_2h"}, load); err != nil {
				b.Fatal(err)
			}
		})
		size, peak = cw.n, max(peak, p)
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB-written")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
}
