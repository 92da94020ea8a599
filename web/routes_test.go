package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// walkProbe is how one route is asked for team north's data by a user of
// team south, and what it must answer.
type walkProbe struct {
	// paths are the requests made (GET unless post is set); {id} is
	// north's recording.
	paths []string
	post  bool
	// want, when not 0, is the status every request must get (for a
	// user of the roles in wantFor, or every role when wantFor is empty).
	want    int
	wantFor []hark.UserRole
	// check, when set, looks at the answer beyond the leak check.
	check func(t *testing.T, role hark.UserRole, path string, status int, body string)
}

// TestEveryRouteKeepsTeamsApart walks every route the server and the
// reports register, as a coach and as a researcher of team south, asking
// for team north's recording, batch and counts: nothing of north's may come
// back (its recording id, key, batch or name), per-recording routes answer
// 404 as for a recording that does not exist, and the batch status counts
// only south. A route registered without a probe here fails the test: a new
// route must say how it keeps teams apart.
func TestEveryRouteKeepsTeamsApart(t *testing.T) {
	b := setup(t)
	notFound := http.StatusNotFound
	status := func(t *testing.T, role hark.UserRole, path string, st int, body string) {
		if role == hark.RoleCoach {
			if st != notFound {
				t.Errorf("coach: GET %s = %d, want 404 (status is for admins and researchers)", path, st)
			}
			return
		}
		var got StatusAnswer
		if err := json.Unmarshal([]byte(body), &got); st != http.StatusOK || err != nil {
			t.Fatalf("researcher: GET %s = %d %s", path, st, body)
		}
		want := map[hark.Status]int{}
		if !strings.Contains(path, "north") {
			want[hark.StatusReady] = 1 // south's one recording
		}
		if len(got.Statuses) != len(want) || got.Statuses[hark.StatusReady] != want[hark.StatusReady] {
			t.Errorf("researcher of south: GET %s counts %v, want %v", path, got.Statuses, want)
		}
	}
	probes := map[string]walkProbe{
		"GET /static/":             {paths: []string{"/static/review.js", "/static/hark.css"}},
		"GET /signin":              {paths: []string{"/signin", "/signin?next=/recordings/{id}"}},
		"POST /signin":             {paths: []string{"/signin"}, post: true},
		"GET /signin/link":         {paths: []string{"/signin/link?token=not-a-token"}},
		"GET /signin/sso":          {paths: []string{"/signin/sso"}},
		"GET /signin/sso/callback": {paths: []string{"/signin/sso/callback?state=x&code=y"}},
		"POST /signout":            {paths: []string{"/signout"}, post: true},

		"GET /{$}":                             {paths: []string{"/", "/?team=north", "/?batch=north-batch"}, want: http.StatusOK},
		"GET /recordings/{id}":                 {paths: []string{"/recordings/{id}"}, want: notFound},
		"GET /recordings/{id}/sheet":           {paths: []string{"/recordings/{id}/sheet"}, want: notFound},
		"GET /recordings/{id}/reconcile":       {paths: []string{"/recordings/{id}/reconcile"}, want: notFound},
		"POST /recordings/{id}/reconcile":      {paths: []string{"/recordings/{id}/reconcile"}, post: true, want: notFound},
		"GET /recordings/{id}/audio":           {paths: []string{"/recordings/{id}/audio"}, want: notFound},
		"GET /recordings/{id}/export/{format}": {paths: []string{"/recordings/{id}/export/json", "/recordings/{id}/export/csv", "/recordings/{id}/export/vtt", "/recordings/{id}/export/srt", "/recordings/{id}/export/wav-redacted"}, want: notFound},
		"GET /admin/audit":                     {paths: []string{"/admin/audit"}, want: notFound},
		"GET /admin/forget":                    {paths: []string{"/admin/forget"}, want: notFound},
		"GET /export/{format}":                 {paths: []string{"/export/qdpx", "/export/qdpx?team=north", "/export/qdpx?batch=north-batch"}},
		"POST /admin/forget":                   {paths: []string{"/admin/forget"}, post: true, want: notFound},
		"POST /api/admin/forget":               {paths: []string{"/api/admin/forget"}, post: true, want: notFound},

		"GET /api/me":                      {paths: []string{"/api/me"}, want: http.StatusOK},
		"GET /api/recordings":              {paths: []string{"/api/recordings", "/api/recordings?team=north", "/api/recordings?batch=north-batch"}, want: http.StatusOK},
		"GET /api/recordings/{id}":         {paths: []string{"/api/recordings/{id}"}, want: notFound},
		"POST /api/recordings/{id}/review": {paths: []string{"/api/recordings/{id}/review"}, post: true, want: notFound},
		"GET /api/status":                  {paths: []string{"/api/status", "/api/status?batch=north-batch"}, check: status},
		"GET /api/audit":                   {paths: []string{"/api/audit"}, want: notFound},
		"GET /healthz":                     {paths: []string{"/healthz"}},
		"GET /readyz":                      {paths: []string{"/readyz"}},
		"GET /metrics":                     {paths: []string{"/metrics"}},
		"GET /reports":                     {paths: []string{"/reports?by=team", "/reports?by=team&team=north"}, want: http.StatusOK},
		"GET /api/reports":                 {paths: []string{"/api/reports?by=team", "/api/reports?by=team,code&team=north,south"}, want: http.StatusOK},
		"GET /reports.csv":                 {paths: []string{"/reports.csv?by=team", "/reports.csv?by=team&team=north"}, want: http.StatusOK},
		"GET /api/reports/coders":          {paths: []string{"/api/reports/coders", "/api/reports/coders?team=north", "/api/reports/coders?format=csv"}, want: http.StatusOK},
		"GET /api/reports/family":          {paths: []string{"/api/reports/family?by=team", "/api/reports/family?by=team&team=north", "/api/reports/family?format=csv&part=cues"}, want: http.StatusOK},
	}
	var patterns []string
	for _, rt := range append(b.server.routes(), b.rep.routes()...) {
		patterns = append(patterns, rt.pattern)
	}
	sort.Strings(patterns)
	if len(patterns) < 25 {
		t.Fatalf("only %d routes registered: %v", len(patterns), patterns)
	}
	// What of north's must never reach a user of south.
	leaks := []string{b.recA, "north/visit.wav", "north-batch", "north"}
	for _, role := range []hark.UserRole{hark.RoleCoach, hark.RoleResearcher} {
		for _, pattern := range patterns {
			p, ok := probes[pattern]
			if !ok {
				t.Errorf("route %q is not in the cross-team walk: add a probe saying how it answers another team's user", pattern)
				continue
			}
			for _, path := range p.paths {
				path = strings.ReplaceAll(path, "{id}", b.recA)
				// A fresh sign-in for every request: one of them signs out.
				c := b.client(string(role)+"-south-"+url.PathEscape(pattern+path), role, "south")
				var st int
				var body string
				if p.post {
					req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(`{"version":0,"action":"accept","key":"0:0:40:open_question"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-CSRF-Token", c.csrf)
					st, body = c.do(req)
				} else {
					st, body = c.get(path)
				}
				for _, leak := range leaks {
					// What the request named may be echoed back (a filter,
					// a 404 naming the id); anything else of north's not.
					if !strings.Contains(path, leak) && strings.Contains(body, leak) {
						t.Errorf("%s of south: %s %s answers %d with %q of north's in it", role, pattern, path, st, leak)
					}
				}
				if p.want != 0 && st != p.want {
					t.Errorf("%s of south: %s %s = %d, want %d", role, pattern, path, st, p.want)
				}
				if p.check != nil {
					p.check(t, role, path, st, body)
				}
			}
		}
	}
	for pattern := range probes {
		found := false
		for _, q := range patterns {
			found = found || q == pattern
		}
		if !found {
			t.Errorf("probe for %q, which no longer is a route: remove it", pattern)
		}
	}
}

// The batch status withholds tag counts over fewer ready recordings than
// the reports' suppression threshold, as a report withholds a small row.
func TestStatusSuppressesSmallCounts(t *testing.T) {
	b := setup(t) // north and south, one ready recording each, one threat each
	admin := b.client("admin", hark.RoleAdmin)
	researcher := b.client("researcher", hark.RoleResearcher, "south")
	get := func(c *client, path string) StatusAnswer {
		t.Helper()
		st, body := c.get(path)
		var got StatusAnswer
		if err := json.Unmarshal([]byte(body), &got); st != http.StatusOK || err != nil {
			t.Fatalf("GET %s = %d %s", path, st, body)
		}
		return got
	}
	got := get(admin, "/api/status")
	if got.Statuses[hark.StatusReady] != 2 || !got.TagsSuppressed || got.Tags != nil || got.MinCell != 5 ||
		!strings.Contains(got.Message, "at least 5") {
		t.Fatalf("admin, two ready recordings: %+v, want counts with tags withheld", got)
	}
	for i := range 4 {
		b.seed("south", "south/more-"+string(rune('a'+i))+".wav")
	}
	if got := get(researcher, "/api/status?batch=south-batch"); got.Statuses[hark.StatusReady] != 5 || got.TagsSuppressed ||
		got.Tags["threat_of_escalation"] != 5 || got.Tags["open_question"] != 5 {
		t.Fatalf("researcher of south, five ready recordings: %+v, want the tag counts", got)
	}
	if got := get(researcher, "/api/status?batch=north-batch"); len(got.Statuses) != 0 || len(got.Tags) != 0 {
		t.Fatalf("researcher of south asks for north's batch: %+v, want nothing", got)
	}
	if got := get(admin, "/api/status?batch=north-batch"); got.Statuses[hark.StatusReady] != 1 || !got.TagsSuppressed {
		t.Fatalf("admin, north's batch of one: %+v, want tags withheld", got)
	}
}

// A request for another team's recording is audited ("denied", the id,
// the route), and answered exactly as one for a recording that does not
// exist, which is audited the same way.
func TestRefusedRecordingsAudited(t *testing.T) {
	b := setup(t)
	missing := hark.RecordingID("recordings", "north/never-uploaded.wav", "e1")
	c := b.client("kim", hark.RoleCoach, "south")
	routes := []string{"/recordings/{id}", "/recordings/{id}/sheet", "/recordings/{id}/audio", "/recordings/{id}/export/csv", "/api/recordings/{id}"}
	for _, route := range routes {
		hidden := strings.ReplaceAll(route, "{id}", b.recA)
		st, body := c.get(hidden)
		st2, body2 := c.get(strings.ReplaceAll(route, "{id}", missing))
		if st != http.StatusNotFound || st2 != st || strings.ReplaceAll(body2, missing, b.recA) != body {
			t.Errorf("GET %s: %d, and for a recording that does not exist %d: the answers differ", hidden, st, st2)
		}
	}
	st, _ := c.review(b.recA, map[string]any{"version": 0, "action": "accept", "key": "0:0:40:open_question"})
	if st != http.StatusNotFound {
		t.Errorf("review of north's recording: %d", st)
	}
	entries, err := b.idx.AuditLog(context.Background(), hark.AuditFilter{User: "kim"})
	if err != nil {
		t.Fatal(err)
	}
	denied := map[string]string{} // detail → recording
	for _, e := range entries {
		if e.Action == "denied" {
			denied[e.Detail] = e.RecordingID
		}
	}
	for _, route := range routes {
		for id, why := range map[string]string{b.recA: "another team's recording", missing: "no such recording"} {
			detail := "GET " + strings.ReplaceAll(route, "{id}", id) + ": " + why
			if denied[detail] != id {
				t.Errorf("no audit entry \"denied\" %s %q (have %v)", id, detail, denied)
			}
		}
	}
	if denied["review change: another team's recording"] != b.recA {
		t.Errorf("the refused review change is not audited: %v", denied)
	}
	for _, e := range entries {
		if e.Action == "view" || e.Action == "play" || e.Action == "export" {
			t.Errorf("a refused request was audited as %q", e.Action)
		}
	}
}
