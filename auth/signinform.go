package auth

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/harkworks/hark"
)

// signInCookie holds the sign-in form's token before anyone is signed in.
const signInCookie = "hark_signin"

// errSignInForm is the answer to a sign-in post that did not come from
// hark's own sign-in page.
var errSignInForm = hark.Errorf(hark.EINVALID, "the sign-in form has expired or came from another site: sign in from this page")

// SignInFormToken returns the token the sign-in form carries, and sets
// the cookie it is checked against (SameSite=Strict, so another site's
// page cannot post a sign-in with it): the browser's token when it has
// one, so that two open sign-in tabs both work, else a new one.
func (s *Service) SignInFormToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(signInCookie); err == nil && len(c.Value) >= 40 {
		return c.Value
	}
	token, _ := NewToken()
	http.SetCookie(w, &http.Cookie{
		Name: signInCookie, Value: token, Path: "/signin", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteStrictMode, Expires: s.cfg.Now().Add(s.cfg.SessionTTL),
	})
	return token
}

// CheckSignInForm refuses a sign-in post that another site made (login
// CSRF: signing the victim in to the attacker's account): its Origin, or
// without one its Referer, must be this site, and it must carry the token
// of SignInFormToken in the csrf field, matching the cookie. An Origin of
// "null" (sent under hark's no-referrer policy, and by sandboxed pages)
// says nothing, so the token decides.
func (s *Service) CheckSignInForm(r *http.Request) error {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
			return errSignInForm
		}
	} else if ref := r.Header.Get("Referer"); ref != "" {
		if u, err := url.Parse(ref); err != nil || u.Host != r.Host {
			return errSignInForm
		}
	}
	c, err := r.Cookie(signInCookie)
	got := r.PostFormValue("csrf")
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
		return errSignInForm
	}
	return nil
}
