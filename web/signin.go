package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps a post-sign-in redirect on this site: a path, with no
// scheme, no host, no backslash and no control character (browsers drop a
// tab or a newline, so "/\t/evil.example" would leave the site).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (s *Server) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	if auth.UserFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "signin.html", "Sign in", s.signInData(w, r, safeNext(r.URL.Query().Get("next")), "", ""))
}

// signInData is what the sign-in page shows: the form with its token, and
// the single sign-on button when it is set up.
func (s *Server) signInData(w http.ResponseWriter, r *http.Request, next, name, msg string) map[string]any {
	d := map[string]any{"Next": next, "Name": name, "Error": msg, "CSRF": s.cfg.Auth.SignInFormToken(w, r)}
	if sso, ok := s.cfg.Auth.SSOName(); ok {
		d["SSO"] = sso
	}
	return d
}

// handleSSOStart sends the browser to the single sign-on provider.
func (s *Server) handleSSOStart(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if err := s.cfg.Auth.StartSSO(w, r, next); err != nil {
		s.ssoError(w, r, err, next)
	}
}

// ssoError shows the sign-in page with what went wrong. A provider that
// does not answer is said so (not hidden as a server error): the person
// can wait or use a password.
func (s *Server) ssoError(w http.ResponseWriter, r *http.Request, err error, next string) {
	var st int
	var msg string
	if hark.ErrorCode(err) == hark.EUNAVAILABLE {
		s.log.Warn("single sign-on provider unavailable", "err", err)
		st, msg = http.StatusServiceUnavailable, hark.ErrorMessage(err)
	} else if st, msg = s.status(r, err); st == http.StatusBadRequest {
		st = http.StatusUnauthorized
	}
	s.render(w, r, st, "signin.html", "Sign in", s.signInData(w, r, next, "", msg))
}

// handleSSOCallback is where the provider sends the browser back.
func (s *Server) handleSSOCallback(w http.ResponseWriter, r *http.Request) {
	_, next, err := s.cfg.Auth.FinishSSO(r.Context(), w, r)
	if err != nil {
		s.ssoError(w, r, err, "/")
		return
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	// A post another site made is refused before the name is looked at,
	// and counts against no one's limit.
	if err := s.cfg.Auth.CheckSignInForm(r); err != nil {
		s.render(w, r, http.StatusForbidden, "signin.html", "Sign in", s.signInData(w, r, next, name, hark.ErrorMessage(err)))
		return
	}
	if _, err := s.cfg.Auth.SignIn(r.Context(), w, r, name, password); err != nil {
		st, msg := s.status(r, err)
		if st == http.StatusBadRequest {
			st = http.StatusUnauthorized
		}
		s.render(w, r, st, "signin.html", "Sign in", s.signInData(w, r, next, name, msg))
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleSignInLink(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cfg.Auth.UseSignInLink(r.Context(), w, r.URL.Query().Get("token")); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request, u *hark.User) {
	s.cfg.Auth.SignOut(w, r)
	s.audit(r.Context(), u, "sign-out", "", "")
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, u *hark.User) {
	writeJSON(w, http.StatusOK, map[string]any{"user": u, "csrf": auth.CSRFToken(r.Context())})
}
