package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/index"
)

// testBundle is a web server over a real SQLite index with two teams'
// recordings and a user of every role.
type testBundle struct {
	t      *testing.T
	srv    *httptest.Server
	server *Server
	rep    *Reports
	idx    *index.DB
	auth   *auth.Service
	recA   string // team north
	recB   string // team south
	codeOK string
	retags *[]string // recordings sent to be tagged again
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	idx, err := index.OpenSQLite(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	cb := annotate.DefaultCodebook()
	a := auth.New(auth.Config{Accounts: idx})
	rep, err := NewReports(ReportsConfig{Source: idx, Codebook: cb,
		User: func(r *http.Request) (*hark.User, error) { return auth.UserFrom(r.Context()), nil },
		CSRF: func(r *http.Request) string { return auth.CSRFToken(r.Context()) }})
	if err != nil {
		t.Fatal(err)
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "# no team data\n") })
	retags := &[]string{}
	retag := func(_ context.Context, id string) error { *retags = append(*retags, id); return nil }
	s, err := New(Config{Index: idx, Accounts: idx, Auth: a, Codebook: cb, Routes: rep.Routes, Metrics: metrics, Retag: retag})
	if err != nil {
		t.Fatal(err)
	}
	b := &testBundle{t: t, server: s, rep: rep, idx: idx, auth: a, codeOK: cb.Codes[0].ID, retags: retags}
	b.srv = httptest.NewServer(s.Handler())
	t.Cleanup(b.srv.Close)
	b.recA = b.seed("north", "north/visit.wav")
	b.recB = b.seed("south", "south/visit.wav")
	return b
}

// seed stores a ready recording with a transcript and two machine tags.
func (b *testBundle) seed(team, key string) string {
	ctx := context.Background()
	now := time.Now().UTC()
	r := &hark.Recording{Schema: 1, ID: hark.RecordingID("recordings", key, "e1"), Bucket: "recordings", Key: key, ETag: "e1",
		Team: team, Batch: team + "-batch", Status: hark.StatusReady, Attempts: 1, DurationSeconds: 20, CreatedAt: now, UpdatedAt: now}
	if err := b.idx.PutRecording(ctx, r); err != nil {
		b.t.Fatal(err)
	}
	tr := &hark.Transcript{RecordingID: r.ID, Engine: "sidecar", Segments: []hark.Segment{
		{Index: 0, Start: 0, End: 4, Speaker: "Worker", Role: hark.RoleWorker, Text: "What would you like to talk about today?"},
		{Index: 1, Start: 4, End: 9, Speaker: "Parent", Role: hark.RoleParent, Text: "The mornings — café trips make us late."},
		{Index: 2, Start: 9, End: 15, Speaker: "Worker", Role: hark.RoleWorker, Text: "If you don't engage we will go to court."},
	}}
	if err := b.idx.PutTranscript(ctx, tr); err != nil {
		b.t.Fatal(err)
	}
	an := &hark.Annotations{RecordingID: r.ID, Codebook: "hark-practice", CodebookVersion: "1", Tagger: "rules", Tags: []hark.Tag{
		{Segment: 0, Code: "open_question", Start: 0, End: 40, Evidence: tr.Segments[0].Text, Confidence: .9, Source: hark.SourceRules, Review: hark.ReviewPending},
		{Segment: 2, Code: "threat_of_escalation", Start: 0, End: 40, Evidence: tr.Segments[2].Text, Confidence: .9, Source: hark.SourceRules, Review: hark.ReviewPending},
	}}
	if err := b.idx.PutAnnotations(ctx, an); err != nil {
		b.t.Fatal(err)
	}
	return r.ID
}

// client signs a new user in through a one-time link.
func (b *testBundle) client(name string, role hark.UserRole, teams ...string) *client {
	b.t.Helper()
	ctx := context.Background()
	u := &hark.User{ID: auth.NewID("u_"), Name: name, Role: role, Teams: teams, CreatedAt: time.Now()}
	if err := b.idx.PutUser(ctx, u); err != nil {
		b.t.Fatal(err)
	}
	token, err := b.auth.NewSignInLink(ctx, u, time.Minute)
	if err != nil {
		b.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	noFollow := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := &client{t: b.t, base: b.srv.URL, http: noFollow}
	if st, _ := c.get("/signin/link?token=" + url.QueryEscape(token)); st != http.StatusSeeOther {
		b.t.Fatalf("sign in %s: status %d", name, st)
	}
	if st, _ := c.get("/signin/link?token=" + url.QueryEscape(token)); st != http.StatusBadRequest {
		b.t.Fatalf("a one-time link worked twice: status %d", st)
	}
	c.http = &http.Client{Jar: jar}
	st, body := c.get("/api/me")
	if st != http.StatusOK {
		b.t.Fatalf("%s not signed in: %d", name, st)
	}
	var me struct{ CSRF string }
	_ = json.Unmarshal([]byte(body), &me)
	c.csrf = me.CSRF
	return c
}

type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func (c *client) do(req *http.Request) (int, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (c *client) get(path string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.do(req)
}

// review posts a review change with the session's CSRF token.
func (c *client) review(id string, change map[string]any) (int, map[string]any) {
	c.t.Helper()
	data, _ := json.Marshal(change)
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/recordings/"+id+"/review", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.csrf)
	st, body := c.do(req)
	var out map[string]any
	_ = json.Unmarshal([]byte(body), &out)
	return st, out
}

func TestAccessByTeamAndRole(t *testing.T) {
	b := setup(t)
	coachA := b.client("coach-a", hark.RoleCoach, "north")
	analyst := b.client("analyst", hark.RoleAnalyst)
	admin := b.client("admin", hark.RoleAdmin)
	researcher := b.client("researcher-b", hark.RoleResearcher, "south")
	anon := &client{t: t, base: b.srv.URL, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	perRecording := []string{"/recordings/%s", "/recordings/%s/sheet", "/recordings/%s/audio", "/recordings/%s/export/json",
		"/recordings/%s/export/csv", "/recordings/%s/export/vtt", "/api/recordings/%s"}
	for _, p := range perRecording {
		if st, _ := coachA.get(fmt.Sprintf(p, b.recB)); st != http.StatusNotFound {
			t.Errorf("coach of north: GET %s of south's recording = %d, want 404", p, st)
		}
		if st, _ := analyst.get(fmt.Sprintf(p, b.recA)); st != http.StatusNotFound {
			t.Errorf("analyst: GET %s = %d, want 404 (aggregates only)", p, st)
		}
		if st, _ := researcher.get(fmt.Sprintf(p, b.recA)); st != http.StatusNotFound {
			t.Errorf("researcher of south: GET %s of north's recording = %d, want 404", p, st)
		}
		if st, _ := anon.get(fmt.Sprintf(p, b.recA)); st != http.StatusSeeOther && st != http.StatusUnauthorized {
			t.Errorf("signed out: GET %s = %d, want a redirect to sign in or 401", p, st)
		}
	}
	for _, p := range []string{"/recordings/%s", "/recordings/%s/sheet", "/recordings/%s/export/csv", "/api/recordings/%s"} {
		if st, _ := coachA.get(fmt.Sprintf(p, b.recA)); st != http.StatusOK {
			t.Errorf("coach of north: GET %s of north's recording = %d, want 200", p, st)
		}
		if st, _ := admin.get(fmt.Sprintf(p, b.recB)); st != http.StatusOK {
			t.Errorf("admin: GET %s = %d, want 200", p, st)
		}
	}
	// Lists show only the user's teams.
	_, body := coachA.get("/api/recordings")
	if !strings.Contains(body, b.recA) || strings.Contains(body, b.recB) {
		t.Errorf("coach of north lists: %s", body)
	}
	if st, _ := coachA.get("/api/recordings?team=south"); st != http.StatusOK {
		t.Errorf("filter for another team: %d", st)
	} else if _, body := coachA.get("/api/recordings?team=south"); strings.Contains(body, b.recB) {
		t.Errorf("coach of north sees south through a filter")
	}
	if st, _ := analyst.get("/api/recordings"); st != http.StatusNotFound {
		t.Errorf("analyst lists recordings: %d, want 404", st)
	}
	// Changing another team's review is refused as not found.
	if st, _ := coachA.review(b.recB, map[string]any{"version": 0, "action": "accept", "key": hark.TagKey(0, 0, 40, "open_question")}); st != http.StatusNotFound {
		t.Errorf("coach of north reviews south: %d, want 404", st)
	}
	// A researcher reads but does not review.
	if st, _ := researcher.review(b.recB, map[string]any{"version": 0, "action": "accept", "key": hark.TagKey(0, 0, 40, "open_question")}); st != http.StatusBadRequest {
		t.Errorf("researcher reviews: %d, want 400", st)
	}
	// The audit log is for admins.
	if st, _ := coachA.get("/admin/audit"); st != http.StatusNotFound {
		t.Errorf("coach opens the audit log: %d, want 404", st)
	}
	if st, body := admin.get("/api/audit"); st != http.StatusOK || !strings.Contains(body, `"action": "view"`) {
		t.Errorf("admin audit log: %d %s", st, body)
	}
}

func TestReviewChanges(t *testing.T) {
	b := setup(t)
	c := b.client("coach", hark.RoleCoach, "north")
	open := hark.TagKey(0, 0, 40, "open_question")
	threat := hark.TagKey(2, 0, 40, "threat_of_escalation")

	st, resp := c.review(b.recA, map[string]any{"version": 0, "action": "accept", "key": open})
	if st != http.StatusOK || resp["version"].(float64) != 1 {
		t.Fatalf("accept: %d %v", st, resp)
	}
	// A second coach's page still shows version 0: refused, not overwritten.
	other := b.client("coach2", hark.RoleCoach, "north")
	st, resp = other.review(b.recA, map[string]any{"version": 0, "action": "reject", "key": open})
	if st != http.StatusConflict || !strings.Contains(fmt.Sprint(resp["message"]), "reload") {
		t.Fatalf("stale change: %d %v, want 409 asking to reload", st, resp)
	}
	st, _ = c.review(b.recA, map[string]any{"version": 1, "action": "recode", "key": threat, "code": "directive"})
	if st != http.StatusOK {
		t.Fatalf("recode: %d", st)
	}
	st, _ = c.review(b.recA, map[string]any{"version": 2, "action": "moment", "key": threat, "moment": true})
	if st != http.StatusOK {
		t.Fatalf("moment: %d", st)
	}
	// "café" is two bytes in UTF-8: offsets are bytes.
	text := "The mornings — café trips make us late."
	start := strings.Index(text, "café trips")
	st, resp = c.review(b.recA, map[string]any{"version": 3, "action": "add", "segment": 1, "start": start, "end": start + len("café trips"), "code": "shared_concern"})
	if st != http.StatusOK {
		t.Fatalf("add: %d %v", st, resp)
	}
	st, _ = c.review(b.recA, map[string]any{"version": 4, "action": "note", "segment": 2, "text": "Talk about this one.", "moment": true})
	if st != http.StatusOK {
		t.Fatalf("note: %d", st)
	}
	bad := []struct {
		name   string
		change map[string]any
		want   string
	}{
		{"empty selection", map[string]any{"action": "add", "segment": 1, "start": 3, "end": 3, "code": "shared_concern"}, "select some words"},
		{"out of range", map[string]any{"action": "add", "segment": 1, "start": 0, "end": 999, "code": "shared_concern"}, "outside the turn"},
		{"no such turn", map[string]any{"action": "add", "segment": 9, "start": 0, "end": 3, "code": "shared_concern"}, "no turn 9"},
		{"half a character", map[string]any{"action": "add", "segment": 1, "start": start + 4, "end": start + 10, "code": "shared_concern"}, "cuts a character"},
		{"unknown code", map[string]any{"action": "add", "segment": 1, "start": 0, "end": 3, "code": "nonsense"}, "unknown code"},
		{"oversized note", map[string]any{"action": "note", "segment": -1, "text": strings.Repeat("x", hark.MaxNoteBytes+1)}, "too long"},
		{"empty note", map[string]any{"action": "note", "segment": -1, "text": "  "}, "empty"},
		{"unknown tag", map[string]any{"action": "accept", "key": "m:9:0:1:x"}, "no tag"},
		{"unknown action", map[string]any{"action": "explode"}, "unknown review action"},
	}
	for _, tt := range bad {
		tt.change["version"] = 5
		st, resp := c.review(b.recA, tt.change)
		if st != http.StatusBadRequest && st != http.StatusNotFound {
			t.Errorf("%s: status %d, want 400 or 404", tt.name, st)
		}
		if !strings.Contains(fmt.Sprint(resp["message"]), tt.want) {
			t.Errorf("%s: message %q, want it to contain %q", tt.name, resp["message"], tt.want)
		}
	}
	// Nothing the coach wrote was lost, and the machine's code is kept.
	sess, err := b.idx.Session(context.Background(), b.recA)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Review.Version != 5 || len(sess.Review.Notes) != 1 || len(sess.Review.Added) != 1 || sess.Review.Added[0].Evidence != "café trips" {
		t.Fatalf("review: %+v", sess.Review)
	}
	var recoded *hark.Tag
	for i, tg := range sess.Annotations.Tags {
		if tg.Key == threat {
			recoded = &sess.Annotations.Tags[i]
		}
	}
	if recoded == nil || recoded.Code != "directive" || recoded.OrigCode != "threat_of_escalation" || !recoded.Moment {
		t.Fatalf("recoded tag: %+v", recoded)
	}
	// CSRF: without the token, or from another site, nothing changes.
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/api/recordings/"+b.recA+"/review", strings.NewReader(`{"version":5,"action":"reject","key":"`+open+`"}`))
	if st, _ := c.do(req); st != http.StatusForbidden {
		t.Errorf("no CSRF token: %d, want 403", st)
	}
	req, _ = http.NewRequest(http.MethodPost, b.srv.URL+"/api/recordings/"+b.recA+"/review", strings.NewReader(`{"version":5,"action":"reject","key":"`+open+`"}`))
	req.Header.Set("X-CSRF-Token", c.csrf)
	req.Header.Set("Origin", "https://evil.example")
	if st, _ := c.do(req); st != http.StatusForbidden {
		t.Errorf("cross-site origin: %d, want 403", st)
	}
	// The reflection sheet shows the chosen moment and its note; exports carry the codes.
	_, sheet := c.get("/recordings/" + b.recA + "/sheet")
	if !strings.Contains(sheet, "Talk about this one.") || !strings.Contains(sheet, "If you don&#39;t engage we will go to court.") {
		t.Errorf("sheet lacks the chosen moment:\n%s", sheet)
	}
	_, csv := c.get("/recordings/" + b.recA + "/export/csv")
	if !strings.Contains(csv, "directive") || !strings.Contains(csv, "threat_of_escalation") || !strings.Contains(csv, "coach") {
		t.Errorf("CSV export:\n%s", csv)
	}
	_, vtt := c.get("/recordings/" + b.recA + "/export/vtt")
	if !strings.HasPrefix(vtt, "WEBVTT") || !regexp.MustCompile(`<v Worker>If you don't engage we will go to court\. \[directive\]`).MatchString(vtt) {
		t.Errorf("VTT export:\n%s", vtt)
	}
	_, srt := c.get("/recordings/" + b.recA + "/export/srt")
	if !strings.HasPrefix(srt, "1\r\n00:00:00,000 --> 00:00:04,000\r\nWorker: What would you like to talk about today?") ||
		!regexp.MustCompile(`\r\n3\r\n00:00:09,000 --> 00:00:15,000\r\nWorker: If you don't engage we will go to court\. \[directive\]\r\n$`).MatchString(srt) {
		t.Errorf("SRT export:\n%q", srt)
	}
}

func TestSignInWithPassword(t *testing.T) {
	b := setup(t)
	hash, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.idx.PutUser(context.Background(), &hark.User{ID: "u1", Name: "sam", Role: hark.RoleCoach, Teams: []string{"north"}, PasswordHash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: b.srv.URL, http: &http.Client{Jar: jar}}
	token := signInToken(t, c)
	post := func(password string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/signin", strings.NewReader(url.Values{"name": {"sam"}, "password": {password}, "next": {"/"}, "csrf": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return c.do(req)
	}
	if st, body := post("wrong password!!"); st != http.StatusUnauthorized || !strings.Contains(body, "name or the password is wrong") {
		t.Fatalf("wrong password: %d", st)
	}
	if st, body := post("correct horse battery staple"); st != http.StatusOK || !strings.Contains(body, "Recordings") {
		t.Fatalf("right password: %d", st)
	}
	for range 5 {
		post("wrong password!!")
	}
	if _, body := post("correct horse battery staple"); !strings.Contains(body, "too many failed sign-ins") {
		t.Fatalf("no limit after repeated failures")
	}
}

// /static/ serves its files and lists nothing: a directory is not found.
func TestStaticFilesOnly(t *testing.T) {
	b := setup(t)
	c := &client{t: t, base: b.srv.URL, http: http.DefaultClient}
	for _, path := range []string{"/static/", "/static/?C=N;O=D", "/static/./"} {
		st, body := c.get(path)
		if st != http.StatusNotFound || strings.Contains(body, "review.js") || strings.Contains(body, "hark.css") {
			t.Errorf("GET %s = %d %.80q, want 404 without a listing", path, st, body)
		}
	}
	for _, path := range []string{"/static/hark.css", "/static/review.js"} {
		if st, body := c.get(path); st != http.StatusOK || body == "" {
			t.Errorf("GET %s = %d", path, st)
		}
	}
}
