package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	if auth.UserFrom(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "signin.html", "Sign in", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	if _, err := s.cfg.Auth.SignIn(r.Context(), w, r, name, password); err != nil {
		st, msg := s.status(r, err)
		if st == http.StatusBadRequest {
			st = http.StatusUnauthorized
		}
		s.render(w, r, st, "signin.html", "Sign in", map[string]any{"Next": next, "Name": name, "Error": msg})
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
