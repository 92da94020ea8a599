package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/oidctest"
)

// The single sign-on tests sign people in through Ory Hydra, a real OpenID
// provider, run by package oidctest.

// ssoBundle is the web server with single sign-on through Hydra.
func ssoBundle(t *testing.T, cfg auth.SSOConfig) (*testBundle, *oidctest.Provider) {
	t.Helper()
	b := setup(t)
	h := oidctest.Start(t)
	for _, team := range []string{"north", "south"} {
		if err := b.idx.PutTeam(context.Background(), team); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Issuer = h.Issuer
	cfg.RedirectURL = b.srv.URL + "/signin/sso/callback"
	cfg.ClientID, cfg.ClientSecret = h.Client(cfg.RedirectURL)
	if err := b.auth.EnableSSO(cfg); err != nil {
		t.Fatal(err)
	}
	return b, h
}

// ssoSignIn walks a fresh browser through the sign-in from the page's
// button, and returns it with the final status and body.
func (b *testBundle) ssoSignIn(next string) (*client, int, string) {
	b.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: b.t, base: b.srv.URL, http: &http.Client{Jar: jar}}
	st, body := c.get("/signin/sso?next=" + url.QueryEscape(next))
	return c, st, body
}

func TestSSOSignIn(t *testing.T) {
	b, h := ssoBundle(t, auth.SSOConfig{Name: "Council SSO", RolePrefix: "hark-", TeamPrefix: "hark-", Scopes: []string{"groups"}})

	// The sign-in page offers the provider.
	if st, body := (&client{t: t, base: b.srv.URL, http: http.DefaultClient}).get("/signin"); st != http.StatusOK || !strings.Contains(body, "Sign in with Council SSO") {
		t.Fatalf("sign-in page: %d, no single sign-on button", st)
	}

	// A coach of north: roles and teams come from the claims; teams that
	// are not hark teams, and unprefixed ones, are ignored.
	h.SignInNext(oidctest.Person{Subject: "s-4711", Claims: map[string]any{
		"preferred_username": "jo.coach", "name": "Jo Coach", "email": "jo@council.example",
		"roles": []string{"hark-coach"}, "groups": []string{"hark-north", "hark-east", "south", "finance"},
	}})
	c, st, body := b.ssoSignIn("/recordings/" + b.recA)
	if st != http.StatusOK || !strings.Contains(body, "What would you like to talk about today?") {
		t.Fatalf("after single sign-on, the recording asked for: %d\n%s", st, body)
	}
	if st, _ := c.get("/recordings/" + b.recB); st != http.StatusNotFound {
		t.Errorf("SSO coach of north opens south's recording: %d, want 404", st)
	}
	u, err := b.idx.UserByName(context.Background(), "jo.coach")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != hark.RoleCoach || strings.Join(u.Teams, ",") != "north" || u.Display != "Jo Coach" || u.PasswordHash != "" ||
		u.OIDCSubject != h.Issuer+"|s-4711" {
		t.Errorf("account from Claims: %+v", u)
	}
	// The session works like any other: its CSRF token guards changes.
	_, me := c.get("/api/me")
	var m struct{ CSRF string }
	_ = json.Unmarshal([]byte(me), &m)
	c.csrf = m.CSRF
	if st, out := c.review(b.recA, map[string]any{"version": 0, "action": "accept", "key": hark.TagKey(0, 0, 40, "open_question")}); st != http.StatusOK {
		t.Errorf("SSO coach accepts a tag: %d %v", st, out)
	}

	// The provider is the authority: the next sign-in with other claims
	// changes the same account's role (an analyst sees no transcripts).
	h.SignInNext(oidctest.Person{Subject: "s-4711", Claims: map[string]any{
		"preferred_username": "jo.coach", "name": "Jo Coach", "roles": "hark-analyst", "groups": []string{"hark-north"},
	}})
	c2, st, _ := b.ssoSignIn("/api/me")
	if st != http.StatusOK {
		t.Fatalf("second sign-in: %d", st)
	}
	u2, err := b.idx.UserByName(context.Background(), "jo.coach")
	if err != nil || u2.ID != u.ID || u2.Role != hark.RoleAnalyst {
		t.Fatalf("after the claims changed: %+v, %v (want the same account, now analyst)", u2, err)
	}
	if st, _ := c2.get("/recordings/" + b.recA); st != http.StatusNotFound {
		t.Errorf("analyst from claims opens a transcript: %d, want 404", st)
	}

	// Several roles: the one that may do most wins; values without the
	// prefix (the directory's own "Admin" group) are not hark roles.
	h.SignInNext(oidctest.Person{Subject: "s-9", Claims: map[string]any{"preferred_username": "sam", "roles": []string{"hark-analyst", "Admin", "hark-Coach", "admin"}}})
	if _, st, _ := b.ssoSignIn("/"); st != http.StatusOK {
		t.Fatalf("sign-in with several roles: %d", st)
	}
	if u, err := b.idx.UserByName(context.Background(), "sam"); err != nil || u.Role != hark.RoleCoach {
		t.Errorf("several roles: %+v %v, want coach", u, err)
	}

	log, err := b.idx.AuditLog(context.Background(), hark.AuditFilter{User: "jo.coach"})
	if err != nil {
		t.Fatal(err)
	}
	var signIns int
	for _, e := range log {
		if e.Action == "sign-in" && e.Detail == "single sign-on" {
			signIns++
		}
	}
	if signIns != 2 {
		t.Errorf("audit log has %d single sign-on sign-ins of jo.coach, want 2: %+v", signIns, log)
	}
}

func TestSSORefusals(t *testing.T) {
	b, h := ssoBundle(t, auth.SSOConfig{})
	ctx := context.Background()

	// No hark role in the Claims: refused with what to ask for, no account.
	h.SignInNext(oidctest.Person{Subject: "s-1", Claims: map[string]any{"preferred_username": "no.role", "groups": []string{"north"}}})
	if _, st, body := b.ssoSignIn("/"); st != http.StatusUnauthorized || !strings.Contains(body, "no hark role") {
		t.Errorf("no role: %d, want 401 with a message\n%s", st, body)
	}
	if _, err := b.idx.UserByName(ctx, "no.role"); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("an account was made for a person without a role: %v", err)
	}

	// The directory refuses the person: the provider's reason is shown.
	h.SignInNext(oidctest.Person{Refuse: "The person cancelled the sign-in"})
	if _, st, body := b.ssoSignIn("/"); st != http.StatusUnauthorized || !strings.Contains(body, "cancelled the sign-in") {
		t.Errorf("refused at the provider: %d\n%s", st, body)
	}

	// A local account with the same name is not taken over.
	local := &hark.User{ID: auth.NewID("u_"), Name: "pat", Role: hark.RoleCoach, Teams: []string{"south"}, CreatedAt: time.Now()}
	if err := b.idx.PutUser(ctx, local); err != nil {
		t.Fatal(err)
	}
	h.SignInNext(oidctest.Person{Subject: "s-2", Claims: map[string]any{"preferred_username": "pat", "roles": []string{"admin"}}})
	if _, st, body := b.ssoSignIn("/"); st != http.StatusConflict || !strings.Contains(body, "exists already") {
		t.Errorf("name of a local account: %d\n%s", st, body)
	}
	if u, _ := b.idx.UserByName(ctx, "pat"); u.Role != hark.RoleCoach || u.OIDCSubject != "" {
		t.Errorf("the local account changed: %+v", u)
	}

	// An account disabled in hark stays out, whatever the provider says.
	h.SignInNext(oidctest.Person{Subject: "s-3", Claims: map[string]any{"preferred_username": "lee", "roles": []string{"coach"}}})
	if _, st, _ := b.ssoSignIn("/"); st != http.StatusOK {
		t.Fatalf("first sign-in of lee: %d", st)
	}
	lee, err := b.idx.UserByName(ctx, "lee")
	if err != nil {
		t.Fatal(err)
	}
	lee.Disabled = true
	if err := b.idx.PutUser(ctx, lee); err != nil {
		t.Fatal(err)
	}
	if _, st, body := b.ssoSignIn("/"); st != http.StatusUnauthorized || !strings.Contains(body, "disabled") {
		t.Errorf("disabled account: %d\n%s", st, body)
	}

	// A callback that this browser did not start is refused, and so is a
	// forged code with the right state. A crafted error answer shows
	// nothing of its own text.
	anon := &client{t: t, base: b.srv.URL, http: http.DefaultClient}
	if st, body := anon.get("/signin/sso/callback?code=abc&state=xyz"); st != http.StatusUnauthorized || !strings.Contains(body, "not started in this browser") {
		t.Errorf("callback without a sign-in: %d\n%s", st, body)
	}
	if st, body := anon.get("/signin/sso/callback?state=xyz&error=access_denied&error_description=Call+0800+SCAM"); st != http.StatusUnauthorized || strings.Contains(body, "SCAM") {
		t.Errorf("crafted error answer: %d\n%s", st, body)
	}
	jar, _ := cookiejar.New(nil)
	noFollow := &client{t: t, base: b.srv.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/signin/sso", nil)
	resp, err := noFollow.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), h.Issuer) || loc.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("start: %d to %s, want a redirect to the provider with PKCE", resp.StatusCode, loc)
	}
	if st, body := noFollow.get("/signin/sso/callback?code=forged&state=" + url.QueryEscape(loc.Query().Get("state"))); st != http.StatusUnauthorized || !strings.Contains(body, "refused the sign-in") {
		t.Errorf("forged code: %d\n%s", st, body)
	}
}

func TestSSOProviderDown(t *testing.T) {
	b := setup(t)
	port := oidctest.FreePort(t) // nothing listens there
	if err := b.auth.EnableSSO(auth.SSOConfig{Issuer: fmt.Sprintf("http://127.0.0.1:%d/", port), ClientID: "hark",
		RedirectURL: b.srv.URL + "/signin/sso/callback", Name: "Council SSO"}); err != nil {
		t.Fatal(err)
	}
	// hark starts and serves; the button says what is wrong and the
	// password form still works.
	anon := &client{t: t, base: b.srv.URL, http: http.DefaultClient}
	st, body := anon.get("/signin/sso")
	if st != http.StatusServiceUnavailable || !strings.Contains(body, "not answering") || !strings.Contains(body, `name="password"`) {
		t.Errorf("provider down: %d\n%s", st, body)
	}
}

func TestSSOConfigErrors(t *testing.T) {
	a := auth.New(auth.Config{})
	for _, cfg := range []auth.SSOConfig{
		{ClientID: "hark", RedirectURL: "https://hark.example/signin/sso/callback"},
		{Issuer: "council.example", ClientID: "hark", RedirectURL: "https://hark.example/signin/sso/callback"},
		{Issuer: "https://login.council.example", ClientID: "hark", RedirectURL: "https://hark.example/callback"},
	} {
		if err := a.EnableSSO(cfg); hark.ErrorCode(err) != hark.EINVALID {
			t.Errorf("EnableSSO(%+v) = %v, want EINVALID", cfg, err)
		}
	}
	if _, ok := a.SSOName(); ok {
		t.Error("single sign-on is on after bad settings")
	}
}
