package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/transcribe"
)

// meetingsDir is the testdata meetings folder, absolute: the embedded S3
// server changes the working directory.
var meetingsDir = func() string {
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "meetings"))
	if err != nil {
		panic(err)
	}
	return p
}()

// testBundle is a running `hark up` and what tests need around it.
type testBundle struct {
	t       *testing.T
	up      *Up
	g       *globals
	dataDir string
	out     *bytes.Buffer
	http    *http.Client // signed in as an admin
}

func startUp(t *testing.T, dataDir string) *testBundle {
	t.Helper()
	return startUpWith(t, UpConfig{DataDir: dataDir})
}

func startUpWith(t *testing.T, cfg UpConfig) *testBundle {
	t.Helper()
	dataDir := cfg.DataDir
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:0"
	}
	cfg.Logger = log
	up, err := StartUp(ctx, cfg)
	if err != nil {
		t.Fatalf("StartUp: %v", err)
	}
	b := &testBundle{t: t, up: up, dataDir: dataDir, out: &bytes.Buffer{}}
	b.g = &globals{dataDir: dataDir, logLevel: "error", stdout: b.out, stderr: b.out}
	t.Cleanup(func() { b.close() })
	return b
}

func (b *testBundle) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.up.Close(ctx); err != nil {
		b.t.Errorf("Close: %v", err)
	}
}

var batchRe = regexp.MustCompile(`batch (b[0-9a-f-]+):`)

// upload runs `hark upload` in process and returns the batch id.
func (b *testBundle) upload(meta uploadMeta, prefix string, paths ...string) (string, error) {
	b.t.Helper()
	b.out.Reset()
	err := runUpload(context.Background(), b.g, &uploadOptions{meta: meta, prefix: prefix}, paths)
	m := batchRe.FindStringSubmatch(b.out.String())
	if m == nil {
		b.t.Fatalf("no batch id in upload output:\n%s", b.out)
	}
	return m[1], err
}

// waitBatch waits until every recording of the batch is ready or failed.
func (b *testBundle) waitBatch(batch string, want int) *StatusReport {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := statusReport(context.Background(), b.up.Index(), batch)
		if err != nil {
			b.t.Fatal(err)
		}
		if r.Total == want && r.Done() {
			return r
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("batch %s not done after 60s: %+v", batch, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitIdle waits until neither stage has work waiting or in hand.
func (b *testBundle) waitIdle() {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		idle, err := b.up.Idle(context.Background())
		if err != nil {
			b.t.Fatal(err)
		}
		if idle {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatal("queue not idle after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *testBundle) session(key string) *hark.Session {
	b.t.Helper()
	list, err := b.up.Index().Recordings(context.Background(), hark.RecordingFilter{})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, r := range list {
		if r.Key == key {
			s, err := b.up.Index().Session(context.Background(), r.ID)
			if err != nil {
				b.t.Fatal(err)
			}
			return s
		}
	}
	b.t.Fatalf("no recording with key %q", key)
	return nil
}

// client returns an HTTP client signed in as a new user with the role and
// teams, through a one-time sign-in link.
func (b *testBundle) client(name string, role hark.UserRole, teams ...string) *http.Client {
	b.t.Helper()
	ctx := context.Background()
	u := &hark.User{ID: auth.NewID("u_"), Name: name, Role: role, Teams: teams, CreatedAt: time.Now()}
	if err := b.up.idx.PutUser(ctx, u); err != nil {
		b.t.Fatal(err)
	}
	token, err := auth.New(auth.Config{Accounts: b.up.idx}).NewSignInLink(ctx, u, time.Minute)
	if err != nil {
		b.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(b.up.Endpoints.HTTP + "/signin/link?token=" + url.QueryEscape(token))
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/signin" {
		b.t.Fatalf("sign-in link: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return c
}

func (b *testBundle) getJSON(path string, v any) int {
	b.t.Helper()
	if b.http == nil {
		b.http = b.client("admin-"+auth.NewID(""), hark.RoleAdmin)
	}
	resp, err := b.http.Get(b.up.Endpoints.HTTP + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			b.t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

func codes(s *hark.Session) map[string][]hark.Tag {
	out := map[string][]hark.Tag{}
	if s.Annotations != nil {
		for _, t := range s.Annotations.Tags {
			out[t.Code] = append(out[t.Code], t)
		}
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	b := startUp(t, t.TempDir())
	batch, err := b.upload(uploadMeta{Team: "Team A", Worker: "w-17", MeetingType: "home-visit"}, "", meetingsDir)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	r := b.waitBatch(batch, 3)
	if r.Statuses[hark.StatusReady] != 3 {
		t.Fatalf("want 3 ready, got %+v", r)
	}

	for _, name := range []string{"partnership", "authoritarian", "mixed"} {
		s := b.session("Team A/" + name + ".wav")
		data, err := os.ReadFile(filepath.Join(meetingsDir, name+".vtt"))
		if err != nil {
			t.Fatal(err)
		}
		cues, err := transcribe.ParseVTT(name+".vtt", data)
		if err != nil {
			t.Fatal(err)
		}
		if s.Transcript == nil || len(s.Transcript.Segments) != len(cues) {
			t.Fatalf("%s: transcript has %d segments, want %d", name, len(s.Transcript.Segments), len(cues))
		}
		for i, seg := range s.Transcript.Segments {
			if seg.Text != cues[i].Text || seg.Start != cues[i].Start {
				t.Errorf("%s segment %d: got %q at %.3f, want %q at %.3f", name, i, seg.Text, seg.Start, cues[i].Text, cues[i].Start)
			}
			wantRole := hark.RoleParent
			if cues[i].Speaker == "Worker" {
				wantRole = hark.RoleWorker
			}
			if seg.Role != wantRole {
				t.Errorf("%s segment %d: role %s, want %s", name, i, seg.Role, wantRole)
			}
		}
		rec := s.Recording
		if rec.Team != "Team A" || rec.Worker != "w-17" || rec.MeetingType != "home-visit" || rec.Batch != batch ||
			rec.Channels != 2 || rec.SampleRate != 16000 || rec.DurationSeconds < 30 || rec.Attempts != 1 {
			t.Errorf("%s: recording %+v", name, rec)
		}
	}
	threats := func(name string) []hark.Tag {
		return codes(b.session("Team A/" + name + ".wav"))["threat_of_escalation"]
	}
	if got := threats("partnership"); len(got) != 0 {
		t.Errorf("partnership meeting has threat tags: %+v", got)
	}
	auth := threats("authoritarian")
	if len(auth) < 2 {
		t.Errorf("authoritarian meeting has %d threat tags, want at least 2: %+v", len(auth), auth)
	}
	var evidence []string
	for _, tag := range auth {
		evidence = append(evidence, tag.Evidence)
	}
	for _, want := range []string{"child protection plan", "care proceedings"} {
		if !strings.Contains(strings.Join(evidence, " | "), want) {
			t.Errorf("no threat evidence mentions %q: %q", want, evidence)
		}
	}
	if got := threats("mixed"); len(got) < 1 {
		t.Errorf("mixed meeting has no threat tag")
	}
	if m := b.session("Team A/partnership.wav").Annotations.Metrics; m == nil || m.Roles[hark.RoleWorker].TalkShare <= 0 ||
		m.Roles[hark.RoleParent].TalkShare <= 0 || m.WorkerTurns == 0 || m.ReflectionToQuestion == nil {
		t.Errorf("session metrics missing or empty: %+v", m)
	}
	partnership := codes(b.session("Team A/partnership.wav"))
	for _, c := range []string{"reflective_listening", "joint_agenda_setting", "collaborative_planning", "shared_concern", "explaining_process"} {
		if len(partnership[c]) == 0 {
			t.Errorf("partnership meeting has no %s tag", c)
		}
	}

	t.Run("api", func(t *testing.T) {
		var list struct{ Recordings []APIRecordingView }
		if st := b.getJSON("/api/recordings", &list); st != 200 || len(list.Recordings) != 3 {
			t.Fatalf("GET /api/recordings: %d, %d recordings", st, len(list.Recordings))
		}
		rec := list.Recordings[0]
		if rec.Status != hark.StatusReady || rec.Team != "Team A" || len(rec.TagCounts) == 0 {
			t.Errorf("list entry %+v", rec)
		}
		var sess hark.Session
		if st := b.getJSON("/api/recordings/"+rec.ID, &sess); st != 200 || sess.Transcript == nil || len(sess.Transcript.Segments) == 0 || sess.Annotations == nil {
			t.Errorf("GET /api/recordings/%s: %d %+v", rec.ID, st, sess.Recording)
		}
		if st := b.getJSON("/api/recordings/rec_00000000000000000000", nil); st != 404 {
			t.Errorf("unknown recording: status %d, want 404", st)
		}
		resp, err := b.http.Get(b.up.Endpoints.HTTP + "/recordings/" + rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "<mark>") || !strings.Contains(string(page), "class=\"chip") {
			t.Errorf("session page: status %d, no highlighted evidence or chips", resp.StatusCode)
		}
		// Analysts reach the reports and nothing else.
		analyst := b.client("analyst-1", hark.RoleAnalyst)
		for path, want := range map[string]int{"/reports": 200, "/api/reports?by=team&codes=threat_of_escalation": 200, "/reports.csv?by=team": 200,
			"/api/recordings": 404, "/api/recordings/" + rec.ID: 404, "/recordings/" + rec.ID + "/audio": 404} {
			resp, err := analyst.Get(b.up.Endpoints.HTTP + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("analyst GET %s: %d, want %d", path, resp.StatusCode, want)
			}
			if path == "/reports" && !strings.Contains(string(body), "<svg") {
				t.Errorf("the reports page has no chart")
			}
		}
		// Signed out, nothing is shown.
		resp, err = http.Get(b.up.Endpoints.HTTP + "/api/recordings")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("signed out: GET /api/recordings answered %d, want 401", resp.StatusCode)
		}
	})

	t.Run("duplicate event and re-upload", func(t *testing.T) {
		before := snapshot(t, b)
		// A store that redelivers the same event, with no Nats-Msg-Id to dedupe it.
		s := b.session("Team A/mixed.wav")
		info := hark.ObjectInfo{Key: s.Recording.Key, ETag: s.Recording.ETag, Size: s.Recording.Size}
		q := b.queue()
		for range 2 {
			if err := q.Publish(context.Background(), hark.SubjectUploaded, "", ingest.NewUploadEvent("recordings", info, time.Now())); err != nil {
				t.Fatal(err)
			}
		}
		// A redelivered transcripts.ready message.
		if err := q.Publish(context.Background(), hark.SubjectTranscribed, "", []byte(fmt.Sprintf(`{"schema":1,"recording_id":%q}`, s.Recording.ID))); err != nil {
			t.Fatal(err)
		}
		// The same files uploaded again.
		if _, err := b.upload(uploadMeta{Team: "Team A"}, "", filepath.Join(meetingsDir, "mixed.wav"), filepath.Join(meetingsDir, "partnership.wav")); err != nil {
			t.Fatalf("re-upload: %v\n%s", err, b.out)
		}
		if !strings.Contains(b.out.String(), "already uploaded") {
			t.Errorf("re-upload output does not say it was already uploaded:\n%s", b.out)
		}
		b.waitIdle()
		after := snapshot(t, b)
		if after != before {
			t.Errorf("duplicates changed the index:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("reannotate with a new codebook version", func(t *testing.T) {
		ctx := context.Background()
		s := b.session("Team A/partnership.wav")
		oldVersion := s.Annotations.CodebookVersion
		first := s.Annotations.Tags[0]
		if err := b.up.idx.PutReview(ctx, &hark.ReviewDoc{RecordingID: s.Recording.ID, UpdatedAt: time.Now(),
			Decisions: []hark.Decision{{Key: first.Key, Review: hark.ReviewAccepted, By: "coach"}}}, s.Review.Version); err != nil {
			t.Fatal(err)
		}
		yaml := strings.Replace(string(annotate.DefaultCodebookYAML()), "version: "+oldVersion, "version: 2099.1.0-test", 1)
		if yaml == string(annotate.DefaultCodebookYAML()) {
			t.Fatalf("could not change the codebook version %q", oldVersion)
		}
		path := filepath.Join(t.TempDir(), "codebook.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := runHark(t, b.dataDir, "", "reannotate", "--codebook", path, "--team", "Team A")
		if err != nil {
			t.Fatalf("reannotate: %v\n%s", err, out)
		}
		if !strings.Contains(out, "3 recording(s) sent") {
			t.Fatalf("reannotate output:\n%s", out)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			s = b.session("Team A/partnership.wav")
			if s.Annotations.CodebookVersion == "2099.1.0-test" && s.Recording.Status == hark.StatusReady {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not re-annotated: version %s, status %s", s.Annotations.CodebookVersion, s.Recording.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, tg := range s.Annotations.Tags {
			if tg.Key == first.Key && tg.Review != hark.ReviewAccepted {
				t.Errorf("the coach's decision was lost in re-annotation: %+v", tg)
			}
		}
		if s.Recording.Attempts != 1 {
			t.Errorf("re-annotation transcribed again: attempts %d", s.Recording.Attempts)
		}
		store, err := ingest.NewStore(ingest.StoreConfig{Endpoint: b.up.Endpoints.S3, AccessKey: b.up.Secrets.S3AccessKey, SecretKey: b.up.Secrets.S3SecretKey, Bucket: "recordings"})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close(context.Background())
		if _, err := store.Stat(ctx, hark.AnnotationsVersionKey(s.Recording.ID, s.Annotations.Codebook, oldVersion)); err != nil {
			t.Errorf("the old version's annotations are gone: %v", err)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		dir := t.TempDir()
		corrupt := filepath.Join(dir, "corrupt.wav")
		if err := os.WriteFile(corrupt, []byte("RIFF\x10\x00\x00\x00WAVEfmt garbage that is not audio"), 0o644); err != nil {
			t.Fatal(err)
		}
		mp3 := filepath.Join(dir, "song.wav")
		if err := os.WriteFile(mp3, append([]byte("ID3\x03\x00\x00"), bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x00}, 100)...), 0o644); err != nil {
			t.Fatal(err)
		}
		good := filepath.Join(dir, "good.wav")
		copyFile(t, filepath.Join(meetingsDir, "mixed.wav"), good)
		copyFile(t, filepath.Join(meetingsDir, "mixed.vtt"), filepath.Join(dir, "good.vtt"))
		batch, err := b.upload(uploadMeta{Team: "Team B"}, "", corrupt, mp3, good)
		if err != nil {
			t.Fatalf("upload: %v\n%s", err, b.out)
		}
		// An event for an object that is not in the store.
		missing := hark.ObjectInfo{Key: "Team B/gone.wav", ETag: "d41d8cd98f00b204e9800998ecf8427e", Size: 10, Metadata: map[string]string{"hark-team": "Team B", "hark-batch": batch}}
		if err := b.queue().Publish(context.Background(), hark.SubjectUploaded, "", ingest.NewUploadEvent("recordings", missing, time.Now())); err != nil {
			t.Fatal(err)
		}
		r := b.waitBatch(batch, 4)
		if r.Statuses[hark.StatusReady] != 1 || r.Statuses[hark.StatusFailed] != 3 {
			t.Fatalf("want 1 ready and 3 failed, got %+v", r)
		}
		reasons := map[string]string{}
		for _, f := range r.Failures {
			reasons[f.Key] = string(f.Stage) + ": " + f.Reason
		}
		for key, want := range map[string]string{
			"Team B/corrupt.wav": "corrupt.wav",
			"Team B/song.wav":    "MP3 audio",
			"Team B/gone.wav":    "was not found",
		} {
			if !strings.Contains(reasons[key], want) {
				t.Errorf("%s: reason %q, want it to contain %q", key, reasons[key], want)
			}
		}
	})
}

// APIRecordingView is the part of the list API the tests read.
type APIRecordingView struct {
	ID        string         `json:"id"`
	Team      string         `json:"team"`
	Status    hark.Status    `json:"status"`
	TagCounts map[string]int `json:"tag_counts"`
}

func (b *testBundle) queue() *ingest.Queue { return b.up.queue }

// runHark runs hark with args in process against dataDir, with stdin as
// its standard input, and returns what it printed.
func runHark(t *testing.T, dataDir, stdin string, args ...string) (string, error) {
	t.Helper()
	out := &bytes.Buffer{}
	root := newRootCmd(out, out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append(args, "--data-dir", dataDir))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// snapshot summarises everything the index holds about every recording.
func snapshot(t *testing.T, b *testBundle) string {
	t.Helper()
	list, err := b.up.Index().Recordings(context.Background(), hark.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, r := range list {
		s, err := b.up.Index().Session(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s %s attempts=%d segments=%d tags=%d; ", r.Key, r.Status, r.Attempts, len(s.Transcript.Segments), len(s.Annotations.Tags))
	}
	tags, _ := b.up.Index().TagCounts(context.Background(), hark.CountFilter{})
	fmt.Fprintf(&sb, "recordings=%d tags=%v", len(list), tags)
	return sb.String()
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRestartMidBatch(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	const n = 9
	var paths []string
	for i := range n {
		name := []string{"partnership", "authoritarian", "mixed"}[i%3]
		p := filepath.Join(src, fmt.Sprintf("m%02d-%s.wav", i, name))
		copyFile(t, filepath.Join(meetingsDir, name+".wav"), p)
		copyFile(t, filepath.Join(meetingsDir, name+".vtt"), strings.TrimSuffix(p, ".wav")+".vtt")
		paths = append(paths, p)
	}
	// Transcription takes a while, so that the stop lands mid-batch.
	b := startUpWith(t, UpConfig{DataDir: dir, WrapEngine: func(e hark.Engine) hark.Engine { return delayedEngine{e, 300 * time.Millisecond} }})
	store, err := ingest.NewStore(ingest.StoreConfig{Endpoint: b.up.Endpoints.S3, AccessKey: b.up.Secrets.S3AccessKey, SecretKey: b.up.Secrets.S3SecretKey, Bucket: "recordings"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	const batch = "restart-batch"
	for _, p := range paths {
		key := "Team R/" + filepath.Base(p)
		vtt := strings.TrimSuffix(key, ".wav") + ".vtt"
		data, _ := os.ReadFile(strings.TrimSuffix(p, ".wav") + ".vtt")
		if _, err := store.Put(context.Background(), vtt, bytes.NewReader(data), int64(len(data)), "text/vtt", nil); err != nil {
			t.Fatal(err)
		}
		meta := map[string]string{"hark-team": "Team R", "hark-batch": batch}
		data, _ = os.ReadFile(p)
		info, err := store.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), "audio/wav", meta)
		if err != nil {
			t.Fatal(err)
		}
		// The store publishes the upload event; a second copy without a
		// message id, as some stores send, must change nothing.
		info.Metadata = meta
		if err := b.queue().Publish(context.Background(), hark.SubjectUploaded, "", ingest.NewUploadEvent("recordings", info, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	b.close() // work in hand finishes; the rest waits in the stream
	before, err := statusReportFromDisk(dir, batch)
	if err != nil {
		t.Fatal(err)
	}
	if before.Statuses[hark.StatusReady] == n {
		t.Fatalf("every recording was ready before the stop; the test did not stop mid-batch")
	}
	t.Logf("at stop: %+v", before.Statuses)

	b2 := startUp(t, dir)
	r := b2.waitBatch(batch, n)
	if r.Statuses[hark.StatusReady] != n {
		t.Fatalf("after restart: %+v", r)
	}
	b2.waitIdle()
	list, err := b2.up.Index().Recordings(context.Background(), hark.RecordingFilter{Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range list {
		if rec.Attempts != 1 {
			t.Errorf("%s was transcribed %d times, want once", rec.Key, rec.Attempts)
		}
		s, err := b2.up.Index().Session(context.Background(), rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.SplitN(strings.TrimSuffix(filepath.Base(rec.Key), ".wav"), "-", 2)[1]
		ref := b2.sessionTagsOf(base)
		if len(s.Annotations.Tags) != ref {
			t.Errorf("%s has %d tags, want %d like every copy of %s", rec.Key, len(s.Annotations.Tags), ref, base)
		}
	}
}

// sessionTagsOf returns the tag count of the first copy of a meeting.
func (b *testBundle) sessionTagsOf(name string) int {
	s := b.session(fmt.Sprintf("Team R/m%02d-%s.wav", map[string]int{"partnership": 0, "authoritarian": 1, "mixed": 2}[name], name))
	return len(s.Annotations.Tags)
}

func statusReportFromDisk(dataDir, batch string) (*StatusReport, error) {
	g := &globals{dataDir: dataDir}
	idx, err := openIndex(context.Background(), g, "")
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	return statusReport(context.Background(), idx, batch)
}
