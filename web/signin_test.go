package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
)

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"":                          "/",
		"/recordings/rec_1":         "/recordings/rec_1",
		"/reports?team=North&x=1":   "/reports?team=North&x=1",
		"https://evil.example/":     "/",
		"//evil.example/":           "/",
		"/\\evil.example/":          "/",
		"/\t/evil.example/":         "/",
		"/\n/evil.example/":         "/",
		"/%09/evil.example/":        "/%09/evil.example/", // still a path here; a browser does not decode it into a tab
		"relative/path":             "/",
		"javascript:alert(1)":       "/",
		"/ok/../still-on-this-site": "/ok/../still-on-this-site",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// signInToken opens the sign-in page as c and returns its form's token
// (the cookie it matches is in c's jar).
func signInToken(t *testing.T, c *client) string {
	t.Helper()
	st, body := c.get("/signin")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if st != http.StatusOK || m == nil {
		t.Fatalf("GET /signin: %d, no csrf field in the form", st)
	}
	return m[1]
}

// A sign-in post must come from hark's own sign-in page: another site's
// form (login CSRF, signing the victim in to the attacker's account) is
// refused by its Origin or Referer, and without the page's token.
func TestSignInFormFromThisSiteOnly(t *testing.T) {
	b := setup(t)
	hash, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.idx.PutUser(context.Background(), &hark.User{ID: "u1", Name: "sam", Role: hark.RoleCoach, Teams: []string{"north"}, PasswordHash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	newClient := func() *client {
		jar, _ := cookiejar.New(nil)
		return &client{t: t, base: b.srv.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	}
	post := func(c *client, token string, header map[string]string) int {
		form := url.Values{"name": {"sam"}, "password": {"correct horse battery staple"}, "next": {"/"}}
		if token != "" {
			form.Set("csrf", token)
		}
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		st, _ := c.do(req)
		return st
	}
	signedIn := func(c *client) bool {
		st, _ := c.get("/api/me")
		return st == http.StatusOK
	}
	self := b.srv.URL
	tests := []struct {
		name   string
		token  bool // the form carries the page's token
		header map[string]string
		want   int
	}{
		{"from the sign-in page", true, map[string]string{"Origin": self}, http.StatusSeeOther},
		{"from the page under hark's no-referrer policy", true, map[string]string{"Origin": "null"}, http.StatusSeeOther},
		{"from the page, Referer only", true, map[string]string{"Referer": self + "/signin"}, http.StatusSeeOther},
		{"another site's Origin", true, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"another site's Referer", true, map[string]string{"Referer": "https://evil.example/login.html"}, http.StatusForbidden},
		{"no token", false, map[string]string{"Origin": self}, http.StatusForbidden},
		{"no token, no Origin (a cross-site form the cookie did not follow)", false, nil, http.StatusForbidden},
	}
	for _, tt := range tests {
		c := newClient()
		token := ""
		if tt.token {
			token = signInToken(t, c)
		}
		if st := post(c, token, tt.header); st != tt.want {
			t.Errorf("%s: POST /signin = %d, want %d", tt.name, st, tt.want)
		}
		if in := signedIn(c); in != (tt.want == http.StatusSeeOther) {
			t.Errorf("%s: signed in %v", tt.name, in)
		}
	}
	// A token from another browser (the attacker's own) does not match the
	// victim's cookie.
	attacker, victim := newClient(), newClient()
	token := signInToken(t, attacker)
	signInToken(t, victim)
	if st := post(victim, token, nil); st != http.StatusForbidden || signedIn(victim) {
		t.Errorf("the attacker's token in the victim's browser: %d", st)
	}
}
