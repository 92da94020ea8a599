package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// A session double-coded by sam and alex: each codes it blind, through
// the review page and API as for any session, and sees only their own
// decisions and notes; a coach who is not one of its coders cannot change
// its review while the coders work; the session's own review and tags
// (what the reports count) are untouched.
func TestBlindDoubleCoding(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if err := b.idx.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: b.recA, Coders: []string{"sam", "alex"}, How: "by hand", MarkedBy: "lead", MarkedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sam := b.client("sam", hark.RoleCoach, "north")
	alex := b.client("alex", hark.RoleCoach, "north")
	lead := b.client("lead", hark.RoleCoach, "north")
	key := hark.TagKey(0, 0, 40, "open_question")

	if st, out := sam.review(b.recA, map[string]any{"version": 0, "action": "accept", "key": key}); st != http.StatusOK {
		t.Fatalf("sam accepts: %d %v", st, out)
	}
	if st, out := sam.review(b.recA, map[string]any{"version": 1, "action": "note", "segment": 1, "text": "SAMS-PRIVATE-NOTE"}); st != http.StatusOK {
		t.Fatalf("sam's note: %d %v", st, out)
	}
	if st, out := alex.review(b.recA, map[string]any{"version": 1, "action": "reject", "key": key}); st != http.StatusConflict {
		t.Errorf("alex, on sam's version: %d %v, want 409 (alex's own review is at version 0)", st, out)
	}
	if st, out := alex.review(b.recA, map[string]any{"version": 0, "action": "reject", "key": key}); st != http.StatusOK {
		t.Fatalf("alex rejects: %d %v", st, out)
	}
	if st, out := sam.review(b.recA, map[string]any{"version": 2, "action": "turn-merge", "segment": 0}); st != http.StatusBadRequest {
		t.Errorf("a correction of the turns in a blind review: %d %v, want 400", st, out)
	}

	review := func(c *client) hark.Review {
		t.Helper()
		_, body := c.get("/api/recordings/" + b.recA)
		var sess hark.Session
		if err := json.Unmarshal([]byte(body), &sess); err != nil || sess.Annotations == nil {
			t.Fatalf("the session: %v %s", err, body)
		}
		for _, tg := range sess.Annotations.Tags {
			if tg.Key == key {
				return tg.Review
			}
		}
		t.Fatalf("no tag %s in the session: %+v", key, sess.Annotations.Tags)
		return ""
	}
	if got := review(sam); got != hark.ReviewAccepted {
		t.Errorf("sam sees %s, want sam's own accepted", got)
	}
	if got := review(alex); got != hark.ReviewRejected {
		t.Errorf("alex sees %s, want alex's own rejected", got)
	}
	if got := review(lead); got != hark.ReviewPending {
		t.Errorf("the lead sees %s, want the session's own review: pending", got)
	}
	if _, page := sam.get("/recordings/" + b.recA); !strings.Contains(page, "Independent coding") || !strings.Contains(page, "SAMS-PRIVATE-NOTE") {
		t.Error("sam's page does not say it is sam's independent review with sam's note")
	}
	if _, page := lead.get("/recordings/" + b.recA); !strings.Contains(page, "being double-coded by sam, alex") || strings.Contains(page, `id="complete"`) {
		t.Error("the lead's page does not say the session waits for its coders, or offers to review it")
	}
	if st, out := lead.review(b.recA, map[string]any{"version": 0, "action": "accept", "key": key}); st != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["message"]), "double-coded") {
		t.Errorf("the lead changes a session being double-coded: %d %v, want 400", st, out)
	}
	shared, _ := b.idx.Review(ctx, b.recA)
	if shared.Version != 0 {
		t.Errorf("the session's own review changed: %+v", shared)
	}
	if sess, _ := b.idx.Session(ctx, b.recA); sess.Annotations.Tags[0].Review != hark.ReviewPending {
		t.Errorf("the session's tags took a coder's decision: %+v", sess.Annotations.Tags[0])
	}
}

// No route shows one coder another's blind review: every route the server
// and the reports register is asked, as alex (the other coder) and as a
// coach of the team who is not a coder, for the session sam coded; sam's
// note never comes back. A route without a probe fails the test, as in
// TestEveryRouteKeepsTeamsApart.
func TestBlindReviewsOnEveryRoute(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if err := b.idx.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: b.recA, Coders: []string{"sam", "alex"}, MarkedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sam := b.client("sam", hark.RoleCoach, "north")
	if st, out := sam.review(b.recA, map[string]any{"version": 0, "action": "note", "segment": -1, "text": "SAMS-PRIVATE-NOTE", "moment": true}); st != http.StatusOK {
		t.Fatalf("sam's note: %d %v", st, out)
	}
	if st, out := sam.review(b.recA, map[string]any{"version": 1, "action": "add", "segment": 1, "start": 0, "end": 9, "code": "affirmation"}); st != http.StatusOK {
		t.Fatalf("sam's tag: %d %v", st, out)
	}
	read := func(paths ...string) []string { return paths }
	probes := map[string][]string{
		"GET /static/": read("/static/review.js"), "GET /signin": nil, "POST /signin": nil, "GET /signin/link": nil,
		"GET /signin/sso": nil, "GET /signin/sso/callback": nil, "POST /signout": nil,
		"GET /{$}":                             read("/", "/?team=north"),
		"GET /recordings/{id}":                 read("/recordings/{id}"),
		"GET /recordings/{id}/sheet":           read("/recordings/{id}/sheet"),
		"GET /recordings/{id}/reconcile":       read("/recordings/{id}/reconcile"), // sam's review is not complete: nothing shown
		"POST /recordings/{id}/reconcile":      nil,                                // TestReconcile
		"GET /recordings/{id}/audio":           nil,                                // audio only
		"GET /recordings/{id}/export/{format}": read("/recordings/{id}/export/json", "/recordings/{id}/export/csv", "/recordings/{id}/export/vtt", "/recordings/{id}/export/srt", "/recordings/{id}/export/eaf", "/recordings/{id}/export/qdpx"),
		"GET /admin/audit":                     read("/admin/audit"),
		"GET /admin/forget":                    read("/admin/forget"),
		"GET /export/{format}":                 read("/export/qdpx?team=north"),
		"POST /admin/forget":                   nil, "POST /api/admin/forget": nil,
		"GET /api/me":                      read("/api/me"),
		"GET /api/recordings":              read("/api/recordings?team=north"),
		"GET /api/recordings/{id}":         read("/api/recordings/{id}"),
		"POST /api/recordings/{id}/review": nil, // TestBlindDoubleCoding
		"GET /api/status":                  read("/api/status"),
		"GET /api/audit":                   read("/api/audit"),
		"GET /healthz":                     nil, "GET /readyz": nil, "GET /metrics": read("/metrics"),
		"GET /reports":            read("/reports?by=team,code"),
		"GET /api/reports":        read("/api/reports?by=team,code"),
		"GET /reports.csv":        read("/reports.csv?by=team,code"),
		"GET /api/reports/coders": read("/api/reports/coders", "/api/reports/coders?format=csv"),
		"GET /api/reports/family": read("/api/reports/family?by=team", "/api/reports/family?format=csv&part=cues"),
	}
	var patterns []string
	for _, rt := range append(b.server.routes(), b.rep.routes()...) {
		patterns = append(patterns, rt.pattern)
	}
	sort.Strings(patterns)
	for name, who := range map[string]*client{"alex": b.client("alex", hark.RoleCoach, "north"), "lead": b.client("lead", hark.RoleCoach, "north")} {
		for _, pattern := range patterns {
			paths, ok := probes[pattern]
			if !ok {
				t.Errorf("route %q is not in the blind-coding walk: add a probe saying what it shows of a coder's review", pattern)
				continue
			}
			for _, p := range paths {
				p = strings.ReplaceAll(p, "{id}", b.recA)
				if st, body := who.get(p); strings.Contains(body, "SAMS-PRIVATE-NOTE") {
					t.Errorf("%s: GET %s = %d shows sam's blind review", name, p, st)
				}
			}
		}
	}
	// Sam's own view has it, on the same routes: the walk can see a leak.
	if _, body := sam.get("/recordings/" + b.recA + "/sheet"); !strings.Contains(body, "SAMS-PRIVATE-NOTE") {
		t.Error("sam's own reflection sheet lacks sam's note: the walk proves nothing")
	}
	if _, body := sam.get("/recordings/" + b.recA + "/export/csv"); !strings.Contains(body, "affirmation") {
		t.Error("sam's own export lacks sam's tag")
	}
}

// The coders' agreement in the reports' API: over the user's teams'
// double-coded sessions whose reviews are all complete, per code, as JSON
// and CSV, withheld under the threshold.
func TestCoderAgreementAPI(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	ids := []string{b.recA}
	for i := range 4 {
		ids = append(ids, b.seed("north", fmt.Sprintf("north/more-%d.wav", i)))
	}
	threat := hark.TagKey(2, 0, 40, "threat_of_escalation")
	open := hark.TagKey(0, 0, 40, "open_question")
	for i, id := range ids {
		if err := b.idx.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: id, Coders: []string{"sam", "alex"}, MarkedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		for _, coder := range []string{"sam", "alex"} {
			th := hark.ReviewAccepted
			if coder == "alex" && i == 0 {
				th = hark.ReviewRejected
			}
			doc := &hark.ReviewDoc{RecordingID: id, Coder: coder, State: hark.ReviewComplete, UpdatedAt: time.Now(), Decisions: []hark.Decision{
				{Key: open, Review: hark.ReviewAccepted, By: coder}, {Key: threat, Review: th, By: coder}}}
			if err := b.idx.PutCoderReview(ctx, doc, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	analyst := b.client("ana", hark.RoleAnalyst)
	st, body := analyst.get("/api/reports/coders?seed=3&rounds=100")
	var rep struct {
		Options struct {
			Seed string `json:"seed"`
		} `json:"options"`
		Rows []struct {
			Code       string `json:"code"`
			Sessions   *int   `json:"sessions"`
			Suppressed bool   `json:"suppressed"`
			Segments   *struct {
				Kappa struct {
					Value *float64 `json:"value"`
				} `json:"kappa"`
			} `json:"segments"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &rep); st != http.StatusOK || err != nil {
		t.Fatalf("GET /api/reports/coders = %d %v\n%s", st, err, body)
	}
	kappa := map[string]float64{}
	for _, r := range rep.Rows {
		if r.Suppressed || r.Sessions == nil || *r.Sessions != 5 || r.Segments == nil || r.Segments.Kappa.Value == nil {
			t.Errorf("row %+v: want 5 sessions and a kappa", r)
			continue
		}
		kappa[r.Code] = *r.Segments.Kappa.Value
	}
	// Turns: 15 (3 a session). open_question agrees everywhere (kappa 1);
	// the threat: both 4, sam only 1, neither 10: observed 14/15, chance
	// (5/15)(4/15) + (10/15)(11/15) = 130/225, kappa (14/15 − 130/225) /
	// (1 − 130/225) = (210 − 130)/(225 − 130) = 80/95.
	if kappa["open_question"] != 1 || fmt.Sprintf("%.6f", kappa["threat_of_escalation"]) != fmt.Sprintf("%.6f", 80.0/95) || rep.Options.Seed != "3" {
		t.Errorf("kappa %v (seed %s), want open_question 1 and threat_of_escalation %.3f", kappa, rep.Options.Seed, 80.0/95)
	}
	if st, csv := analyst.get("/api/reports/coders?format=csv&seed=3"); st != http.StatusOK || !strings.HasPrefix(csv, "code,coders,sessions,unit") || !strings.Contains(csv, "threat_of_escalation,alex sam,5,turn,15") {
		t.Errorf("CSV: %d\n%s", st, csv)
	}
	if st, _ := analyst.get("/api/reports/coders?unit-seconds=0.000000001"); st != http.StatusBadRequest {
		t.Errorf("time units of a nanosecond: %d, want 400", st)
	}
	south := b.client("kim", hark.RoleCoach, "south")
	if st, body := south.get("/api/reports/coders"); st != http.StatusOK || strings.Contains(body, "threat_of_escalation") {
		t.Errorf("a coach of south sees north's coding: %d %s", st, body)
	}

	// Beside the machine–coach agreement (one session settled, so that
	// the codebook version has a reviewed session): the coders' kappa on
	// the same code, in the JSON, the CSV and the page.
	settled, _ := b.idx.CoderReview(ctx, ids[1], "sam")
	if err := b.idx.SettleDoubleCoding(ctx, settled, 0, "lead"); err != nil {
		t.Fatal(err)
	}
	_, body = analyst.get("/api/reports?agreement=1")
	var agree struct {
		Rows []struct {
			Code   string `json:"code"`
			Coders *struct {
				Sessions *int `json:"sessions"`
				Segments *struct {
					Kappa struct {
						Value *float64 `json:"value"`
					} `json:"kappa"`
				} `json:"segments"`
			} `json:"coders"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(body), &agree); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range agree.Rows {
		if r.Code == "threat_of_escalation" {
			found = r.Coders != nil && r.Coders.Sessions != nil && *r.Coders.Sessions == 5 && r.Coders.Segments != nil &&
				fmt.Sprintf("%.6f", *r.Coders.Segments.Kappa.Value) == fmt.Sprintf("%.6f", 80.0/95)
		}
	}
	if !found {
		t.Errorf("the agreement report has no coders' kappa beside the threat:\n%s", body)
	}
	if _, csv := analyst.get("/reports.csv?agreement=1"); !strings.Contains(strings.SplitN(csv, "\n", 2)[0], "coder_sessions,coder_kappa,coder_alpha") || !strings.Contains(csv, ",5,0.8421,") {
		t.Errorf("the agreement CSV lacks the coders' columns:\n%s", csv)
	}
	if _, page := analyst.get("/reports?by=team"); !strings.Contains(page, "Coders&#39; kappa") && !strings.Contains(page, "Coders' kappa") {
		t.Error("the reports page has no coders' kappa column")
	}
	// Four sessions are under the threshold of five: withheld.
	if err := b.idx.UnmarkDoubleCoding(ctx, ids[4]); err != nil {
		t.Fatal(err)
	}
	_, body = analyst.get("/api/reports/coders")
	rep.Rows = nil
	if err := json.Unmarshal([]byte(body), &rep); err != nil || len(rep.Rows) == 0 {
		t.Fatalf("four sessions: %v\n%s", err, body)
	}
	for _, r := range rep.Rows {
		if !r.Suppressed || r.Sessions != nil || r.Segments != nil {
			t.Errorf("four sessions, not withheld: %+v", r)
		}
	}
}

// Once both coders have completed, the reconciliation page shows where
// they disagree, turn by turn, and settling it (whose answer stands, for
// each) makes the session's review: the chosen answers, every coder's
// notes, the answers to suggested moments both coders gave alike; the
// double coding is then settled and no longer blind.
func TestReconcile(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	// The seeded session's one suggested moment (its threat), and a second
	// one for the coders to answer differently.
	threatMoment := b.suggestMoments(b.recA)[0]
	seeded, err := b.idx.Session(ctx, b.recA)
	if err != nil {
		t.Fatal(err)
	}
	an := seeded.Annotations
	planned := hark.Moment{Key: hark.MomentKey(hark.CuePlannedTogether, 0), Rank: 2, Kind: hark.MomentStrength, Cue: hark.CuePlannedTogether,
		Start: 0, End: 9, Segments: []int{0, 1}, Reason: "The worker set the agenda with the parent."}
	an.Moments = append(an.Moments, planned)
	if err := b.idx.PutAnnotations(ctx, an); err != nil {
		t.Fatal(err)
	}
	if err := b.idx.MarkDoubleCoding(ctx, &hark.DoubleCoding{RecordingID: b.recA, Coders: []string{"sam", "alex"}, MarkedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sam := b.client("sam", hark.RoleCoach, "north")
	alex := b.client("alex", hark.RoleCoach, "north")
	lead := b.client("lead", hark.RoleCoach, "north")
	open := hark.TagKey(0, 0, 40, "open_question")
	threat := hark.TagKey(2, 0, 40, "threat_of_escalation")
	must := func(c *client, change map[string]any) {
		t.Helper()
		if st, out := c.review(b.recA, change); st != http.StatusOK {
			t.Fatalf("%v: %d %v", change, st, out)
		}
	}
	must(sam, map[string]any{"version": 0, "action": "recode", "key": open, "code": "affirmation"})
	must(sam, map[string]any{"version": 1, "action": "accept", "key": threat})
	must(sam, map[string]any{"version": 2, "action": "note", "segment": 2, "text": "sam: a clear threat"})
	must(sam, map[string]any{"version": 3, "action": "suggestion", "key": threatMoment.Key, "state": "accepted"})
	must(sam, map[string]any{"version": 4, "action": "suggestion", "key": planned.Key, "state": "accepted"})
	must(alex, map[string]any{"version": 0, "action": "accept", "key": open})
	must(alex, map[string]any{"version": 1, "action": "reject", "key": threat})
	must(alex, map[string]any{"version": 2, "action": "suggestion", "key": threatMoment.Key, "state": "accepted"})
	must(alex, map[string]any{"version": 3, "action": "suggestion", "key": planned.Key, "state": "dismissed"})
	must(alex, map[string]any{"version": 4, "action": "state", "state": "complete"})

	if _, page := lead.get("/recordings/" + b.recA + "/reconcile"); !strings.Contains(page, `id="waiting"`) || !strings.Contains(page, "Waiting for: sam") || strings.Contains(page, "sam: a clear threat") {
		t.Errorf("with sam's review in hand, the page shows more than who it waits for")
	}
	must(sam, map[string]any{"version": 5, "action": "state", "state": "complete"})
	_, page := lead.get("/recordings/" + b.recA + "/reconcile")
	// Sam gave the open question the code affirmation; alex kept it:
	// two disagreements on turn 0, one on the threat.
	for _, want := range []string{`data-code="open_question"`, `data-code="affirmation"`, `data-code="threat_of_escalation"`, "3 disagreement(s) over 3 turn(s)"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the reconciliation page lacks %s:\n%s", want, page)
		}
	}
	if err := b.idx.PutCoderReview(ctx, &hark.ReviewDoc{RecordingID: b.recA, Coder: "sam", UpdatedAt: time.Now()}, 6); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("a coder's change once every coder completed: %v, want EINVALID (frozen)", err)
	}
	post := func(form url.Values) (int, string) {
		form.Set("csrf", lead.csrf)
		req, _ := http.NewRequest(http.MethodPost, lead.base+"/recordings/"+b.recA+"/reconcile", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return lead.do(req)
	}
	if st, body := post(url.Values{}); st != http.StatusOK || !strings.Contains(body, "choose whose answer stands") {
		t.Errorf("settling without an answer: %d", st)
	}
	if st, body := post(url.Values{"d-0-open_question": {"alex"}, "d-0-affirmation": {"sam"}, "d-2-threat_of_escalation": {"alex"}}); st != http.StatusOK || !strings.Contains(body, "settled two ways") {
		t.Errorf("one tag settled two ways: %d", st)
	}
	if st, body := post(url.Values{"d-0-open_question": {"alex"}, "d-0-affirmation": {"alex"}, "d-2-threat_of_escalation": {"alex"}}); st != http.StatusOK || !strings.Contains(body, "Team north") {
		t.Fatalf("settling: %d\n%s", st, body)
	}
	dc, err := b.idx.DoubleCoding(ctx, b.recA)
	if err != nil || dc.Blind() || dc.SettledBy != "lead" {
		t.Fatalf("the double coding after settling: %+v %v", dc, err)
	}
	shared, _ := b.idx.Review(ctx, b.recA)
	got := map[string]hark.Review{}
	for _, d := range shared.Decisions {
		got[d.Key] = d.Review
	}
	if got[open] != hark.ReviewAccepted || got[threat] != hark.ReviewRejected || len(shared.Decisions) != 2 || shared.Decisions[0].Code != "" || len(shared.Notes) != 1 || shared.State != hark.ReviewComplete {
		t.Errorf("the settled review: %+v", shared)
	}
	if len(shared.Suggestions) != 1 || shared.Suggestions[0].Key != threatMoment.Key || shared.Suggestions[0].State != hark.SuggestionAccepted {
		t.Errorf("the settled answers to suggested moments %+v, want only %s accepted, on which both agreed", shared.Suggestions, threatMoment.Key)
	}
	// No longer blind: sam sees the session's review, which is alex's
	// answer on the threat.
	_, body := sam.get("/api/recordings/" + b.recA)
	var sess hark.Session
	json.Unmarshal([]byte(body), &sess)
	for _, tg := range sess.Annotations.Tags {
		if tg.Key == threat && tg.Review != hark.ReviewRejected {
			t.Errorf("after settling sam sees the threat %s, want the settled rejected", tg.Review)
		}
	}
}
