package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/harkworks/hark"
)

// CookieName is the sign-in session cookie.
const CookieName = "hark_session"

// linkMarker marks a stored session that is a one-time sign-in link rather
// than a browser session.
const linkMarker = "one-time-link"

// Config configures the Service.
type Config struct {
	Accounts hark.Accounts
	// SessionTTL is how long a sign-in lasts. Default 12 hours.
	SessionTTL time.Duration
	// SecureCookies sets the Secure attribute: on whenever hark is served
	// over HTTPS (directly or behind a TLS proxy).
	SecureCookies bool
	// Limiter limits failed sign-ins for one account. Default: 5 failures
	// per 15 minutes per name, counted in Accounts, so that every web
	// server of a deployment shares the limit.
	Limiter *Limiter
	// AddrLimiter limits failed sign-ins from one client address, whatever
	// the names tried. Default: 20 per 15 minutes, so that one account's
	// failures lock that account, not everyone behind the same office
	// address, while a spray of guesses at many names is still stopped.
	AddrLimiter *Limiter
	// TrustedProxies are the reverse proxies (ParseTrustedProxies) whose
	// X-Forwarded-For and Forwarded headers name the client's address.
	// Without them the address is the direct peer's, and headers a client
	// sends are ignored.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	// Now returns the time; tests may stub it.
	Now func() time.Time
}

// Service signs people in and out and tells handlers who is signed in.
type Service struct {
	cfg   Config
	log   *slog.Logger
	dummy func() string
	sso   *sso // nil unless single sign-on is enabled
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewLimiter(cfg.Accounts, 5, 15*time.Minute)
	}
	if cfg.AddrLimiter == nil {
		cfg.AddrLimiter = NewLimiter(cfg.Accounts, 20, 15*time.Minute)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, log: cfg.Logger, dummy: sync.OnceValue(func() string {
		h, _ := HashPassword("not a real password, only for timing")
		return h
	})}
}

// dummyHash is checked against when the user does not exist, so that an
// unknown name takes as long as a wrong password.
func (s *Service) dummyHash() string { return s.dummy() }

// errSignIn is the one message for a wrong name or password, so that the
// page does not tell which one was wrong.
var errSignIn = hark.Errorf(hark.EINVALID, "the name or the password is wrong")

// SignIn checks a name and password and, if they are right, starts a session
// and sets its cookie.
func (s *Service) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, name, password string) (*hark.User, error) {
	now := s.cfg.Now()
	keys := []string{"name:" + strings.ToLower(name), "addr:" + s.clientAddr(r)}
	limiters := []*Limiter{s.cfg.Limiter, s.cfg.AddrLimiter}
	// Each attempt counts before the (slow) password check, so that
	// attempts in parallel cannot all pass before the first failure is in.
	for i, k := range keys {
		ok, until, err := limiters[i].Try(ctx, k, now)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, hark.Errorf(hark.EINVALID, "too many failed sign-ins: try again after %s", until.Format("15:04"))
		}
	}
	u, err := s.cfg.Accounts.UserByName(ctx, name)
	if err != nil && hark.ErrorCode(err) != hark.ENOTFOUND {
		return nil, err
	}
	if err != nil || u.Disabled || u.PasswordHash == "" || !CheckPassword(u.PasswordHash, password) {
		if err != nil { // spend the same time as a real check, so names cannot be probed
			CheckPassword(s.dummyHash(), password)
		}
		s.audit(ctx, name, "sign-in-failed", "")
		return nil, errSignIn
	}
	// The name's failures are forgotten; of the address's only this
	// attempt, so that signing in to one's own account does not reset a
	// spray of guesses at others from the same address.
	for i, k := range keys {
		if err := limiters[i].Succeeded(ctx, k, now, i == 0); err != nil {
			s.log.Warn("forget a successful sign-in attempt", "err", err)
		}
	}
	if err := s.StartSession(ctx, w, u); err != nil {
		return nil, err
	}
	s.audit(ctx, u.Name, "sign-in", "password")
	return u, nil
}

// StartSession starts a browser session for u and sets its cookie.
func (s *Service) StartSession(ctx context.Context, w http.ResponseWriter, u *hark.User) error {
	token, hash := NewToken()
	csrf, _ := NewToken()
	now := s.cfg.Now()
	if err := s.cfg.Accounts.PutWebSession(ctx, &hark.WebSession{TokenHash: hash, UserID: u.ID, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: now.Add(s.cfg.SessionTTL),
	})
	return nil
}

// SignOut ends the request's session and clears its cookie.
func (s *Service) SignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		_ = s.cfg.Accounts.DeleteWebSession(r.Context(), HashToken(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// NewSignInLink returns a token that signs the user in once, within ttl.
func (s *Service) NewSignInLink(ctx context.Context, u *hark.User, ttl time.Duration) (string, error) {
	token, hash := NewToken()
	now := s.cfg.Now()
	if err := s.cfg.Accounts.PutWebSession(ctx, &hark.WebSession{TokenHash: hash, UserID: u.ID, CSRF: linkMarker, CreatedAt: now, ExpiresAt: now.Add(ttl)}); err != nil {
		return "", err
	}
	return token, nil
}

// UseSignInLink exchanges a one-time link's token for a session.
func (s *Service) UseSignInLink(ctx context.Context, w http.ResponseWriter, token string) (*hark.User, error) {
	hash := HashToken(token)
	link, err := s.cfg.Accounts.WebSession(ctx, hash, s.cfg.Now())
	if err != nil || link.CSRF != linkMarker {
		return nil, hark.Errorf(hark.EINVALID, "this sign-in link is not valid: it was used already or has expired; ask an admin for a new one (`hark user link NAME`)")
	}
	if err := s.cfg.Accounts.DeleteWebSession(ctx, hash); err != nil {
		return nil, err
	}
	u, err := s.cfg.Accounts.User(ctx, link.UserID)
	if err != nil || u.Disabled {
		return nil, hark.Errorf(hark.EINVALID, "this account is disabled")
	}
	if err := s.StartSession(ctx, w, u); err != nil {
		return nil, err
	}
	s.audit(ctx, u.Name, "sign-in", "one-time link")
	return u, nil
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
)

// Middleware puts the signed-in user, if any, into the request's context.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
			sess, err := s.cfg.Accounts.WebSession(r.Context(), HashToken(c.Value), s.cfg.Now())
			if err == nil && sess.CSRF != linkMarker {
				u, err := s.cfg.Accounts.User(r.Context(), sess.UserID)
				if err == nil && !u.Disabled {
					ctx := context.WithValue(r.Context(), userKey, u)
					ctx = context.WithValue(ctx, sessionKey, sess)
					r = r.WithContext(ctx)
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// UserFrom returns the signed-in user, or nil.
func UserFrom(ctx context.Context) *hark.User {
	u, _ := ctx.Value(userKey).(*hark.User)
	return u
}

// CSRFToken returns the session's CSRF token for forms and scripts.
func CSRFToken(ctx context.Context) string {
	if s, ok := ctx.Value(sessionKey).(*hark.WebSession); ok {
		return s.CSRF
	}
	return ""
}

// ErrCSRF is returned for a state-changing request without the session's
// CSRF token.
var ErrCSRF = errors.New("the form has expired or came from another site: reload the page and try again")

// CheckCSRF checks a state-changing request: it must come from this site
// (Origin or Referer, when the browser sends one) and carry the session's
// token in the X-CSRF-Token header or the csrf form field.
func CheckCSRF(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		if u, err := url.Parse(origin); err != nil || u.Host != r.Host {
			return ErrCSRF
		}
	}
	want := CSRFToken(r.Context())
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrCSRF
	}
	return nil
}

func (s *Service) audit(ctx context.Context, user, action, detail string) {
	if err := s.cfg.Accounts.Audit(ctx, &hark.AuditEntry{At: s.cfg.Now(), User: user, Action: action, Detail: detail}); err != nil {
		s.log.Warn("audit log", "err", err)
	}
}
