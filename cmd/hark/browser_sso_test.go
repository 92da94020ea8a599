package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/oidctest"
)

// A coach signs in through the council's OpenID provider (Ory Hydra) in
// Chromium: the button on the sign-in page, the provider's redirects, and
// back on the recordings list of the team the provider named, as the
// coach.
func TestBrowserSSO(t *testing.T) {
	exe := chromiumPath(t)
	h := oidctest.Start(t)
	port := oidctest.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	id, secret := h.Client(base + "/signin/sso/callback")
	b := startUpWith(t, UpConfig{DataDir: t.TempDir(), HTTPAddr: fmt.Sprintf("127.0.0.1:%d", port), SSO: &auth.SSOConfig{
		Issuer: h.Issuer, ClientID: id, ClientSecret: secret, RedirectURL: base + "/signin/sso/callback", Name: "Council sign-in",
		RolePrefix: "hark-", TeamPrefix: "hark-",
	}})
	if err := b.up.idx.PutTeam(context.Background(), "North"); err != nil {
		t.Fatal(err)
	}
	h.SignInNext(oidctest.Person{Subject: "0f3c-77", Claims: map[string]any{
		"preferred_username": "jo.coach", "name": "Jo Coach", "roles": []string{"hark-coach"}, "groups": []string{"hark-North", "Finance"},
	}})

	p := newTab(t, "coach", startBrowser(t, exe))
	p.do("open the sign-in page", chromedp.Navigate(base+"/signin"))
	p.wait("the single sign-on button", `document.querySelector("a.sso")?.textContent === "Sign in with Council sign-in"`)
	p.screenshot("signin-sso.png")
	p.clickToLoad("a.sso")
	p.wait("the recordings list after single sign-on",
		fmt.Sprintf(`location.origin === %s && location.pathname === "/" && document.querySelector("h1")?.textContent === "Recordings"`, jsString(base)))
	p.wait("the coach's name in the header", `document.body.textContent.includes("Jo Coach")`)
	u, err := b.up.idx.UserByName(context.Background(), "jo.coach")
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != hark.RoleCoach || len(u.Teams) != 1 || u.Teams[0] != "North" {
		t.Errorf("the account from the provider's claims: %+v", u)
	}
	p.checkConsole()
}
