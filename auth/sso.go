package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/harkworks/hark"
)

// SSOConfig configures single sign-on through an OpenID Connect provider
// (a council's Entra ID, Keycloak, Okta, ADFS …). hark signs people in with
// the authorization code flow with PKCE, and takes each person's role and
// teams from claims at every sign-in: the provider is the authority.
type SSOConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is read
	// at the first sign-in (and again after a failure).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is hark's callback as registered with the provider:
	// https://hark.example.org/signin/sso/callback.
	RedirectURL string
	// Name is shown on the sign-in button ("Sign in with Name"). Default:
	// the issuer's host.
	Name string
	// Scopes are asked for besides openid, profile and email (for
	// example "groups" or "roles", where the provider needs it).
	Scopes []string
	// RolesClaim names the claim holding the hark role (a string or a list
	// of strings): admin, coach, analyst or researcher, each after
	// RolePrefix (values without the prefix are ignored). Default "roles". When a person has several, the one that
	// may do most wins: admin, coach, researcher, analyst.
	RolesClaim string
	RolePrefix string
	// TeamsClaim names the claim listing the person's teams, each after
	// TeamPrefix. Default "groups". Values that are not a hark team (see
	// `hark team add`) are ignored.
	TeamsClaim string
	TeamPrefix string
	// HTTPClient talks to the provider; default a client with a 10 second
	// timeout.
	HTTPClient *http.Client
}

// ssoCookie holds the state of one sign-in between the redirect to the
// provider and its return, in the browser that started it.
const ssoCookie = "hark_sso"

// ssoPath is where the state cookie is sent.
const ssoPath = "/signin/sso"

// ssoTTL is how long a person has to sign in at the provider.
const ssoTTL = 10 * time.Minute

type sso struct {
	cfg SSOConfig

	mu       sync.Mutex
	provider *oidc.Provider
}

type ssoState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
}

// EnableSSO turns on single sign-on. It checks the configuration but does
// not reach the provider: that happens at the first sign-in, so hark starts
// while the provider is away.
func (s *Service) EnableSSO(cfg SSOConfig) error {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return hark.Errorf(hark.EINVALID, "single sign-on needs the issuer URL, the client ID and the redirect URL (HARK_OIDC_ISSUER, HARK_OIDC_CLIENT_ID, HARK_OIDC_REDIRECT_URL)")
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Host == "" || (iss.Scheme != "https" && iss.Scheme != "http") {
		return hark.Errorf(hark.EINVALID, "single sign-on issuer %q is not an http(s) URL", cfg.Issuer)
	}
	if u, err := url.Parse(cfg.RedirectURL); err != nil || u.Host == "" || !strings.HasSuffix(u.Path, ssoPath+"/callback") {
		return hark.Errorf(hark.EINVALID, "single sign-on redirect URL %q must be hark's own address ending in %s/callback", cfg.RedirectURL, ssoPath)
	}
	if cfg.Name == "" {
		cfg.Name = iss.Host
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = "roles"
	}
	if cfg.TeamsClaim == "" {
		cfg.TeamsClaim = "groups"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	s.sso = &sso{cfg: cfg}
	return nil
}

// SSOName returns the provider's name for the sign-in button, and whether
// single sign-on is on.
func (s *Service) SSOName() (string, bool) {
	if s.sso == nil {
		return "", false
	}
	return s.sso.cfg.Name, true
}

func (p *sso) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.cfg.HTTPClient)
}

// discover returns the provider, reading its discovery document the first
// time (and after a failure).
func (p *sso) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	prov, err := oidc.NewProvider(p.ctx(ctx), p.cfg.Issuer)
	if err != nil {
		return nil, hark.Errorf(hark.EUNAVAILABLE, "the sign-on provider %s is not answering (%v): try again in a minute, or ask an admin", p.cfg.Name, err)
	}
	p.provider = prov
	return prov, nil
}

func (p *sso) oauth2(prov *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID, "profile", "email"}
	for _, sc := range p.cfg.Scopes {
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, RedirectURL: p.cfg.RedirectURL,
		Endpoint: prov.Endpoint(), Scopes: scopes}
}

// StartSSO sends the browser to the provider to sign in, remembering where
// to go afterwards.
func (s *Service) StartSSO(w http.ResponseWriter, r *http.Request, next string) error {
	if s.sso == nil {
		return hark.Errorf(hark.ENOTFOUND, "single sign-on is not set up on this server")
	}
	prov, err := s.sso.discover(r.Context())
	if err != nil {
		return err
	}
	st := ssoState{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Next: next}
	b, _ := json.Marshal(st)
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: ssoPath,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(ssoTTL / time.Second)})
	u := s.sso.oauth2(prov).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

// errSSOState is the message when the callback does not match a sign-in
// this browser started.
var errSSOState = hark.Errorf(hark.EINVALID, "this sign-in was not started in this browser or took longer than 10 minutes: start again from the sign-in page")

// FinishSSO completes a sign-in when the provider sends the browser back:
// it checks the state, exchanges the code, verifies the ID token, finds or
// creates the account from the claims, and starts a session. It returns the
// user and where to go next.
func (s *Service) FinishSSO(ctx context.Context, w http.ResponseWriter, r *http.Request) (*hark.User, string, error) {
	if s.sso == nil {
		return nil, "", hark.Errorf(hark.ENOTFOUND, "single sign-on is not set up on this server")
	}
	q := r.URL.Query()
	c, cerr := r.Cookie(ssoCookie)
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: ssoPath, HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	// The state first: only an answer to a sign-in this browser started is
	// read at all, so a crafted link cannot put words on this page or in
	// the audit log.
	var st ssoState
	if cerr != nil {
		return nil, "", errSSOState
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(b, &st) != nil || st.State == "" || q.Get("state") != st.State {
		return nil, "", errSSOState
	}
	if e := q.Get("error"); e != "" {
		msg := e
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		s.audit(ctx, "", "sign-in-failed", "single sign-on: provider said "+clip(msg, 200))
		return nil, "", hark.Errorf(hark.EINVALID, "the sign-on provider did not sign you in (%s)", clip(msg, 200))
	}
	prov, err := s.sso.discover(ctx)
	if err != nil {
		return nil, "", err
	}
	pctx := s.sso.ctx(ctx)
	tok, err := s.sso.oauth2(prov).Exchange(pctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.Response == nil || re.Response.StatusCode < 500) {
			s.audit(ctx, "", "sign-in-failed", "single sign-on: code refused: "+clip(re.ErrorCode, 100))
			return nil, "", hark.Errorf(hark.EINVALID, "the sign-on provider refused the sign-in (%s %s): start again from the sign-in page", re.ErrorCode, clip(re.ErrorDescription, 200))
		}
		return nil, "", hark.Errorf(hark.EUNAVAILABLE, "the sign-on provider %s is not answering (%v): try again in a minute", s.sso.cfg.Name, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, "", hark.Errorf(hark.EINVALID, "the sign-on provider sent no ID token: is the client registered for OpenID Connect with the openid scope?")
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: s.sso.cfg.ClientID}).Verify(pctx, raw)
	if err != nil {
		s.audit(ctx, "", "sign-in-failed", "single sign-on: ID token rejected")
		return nil, "", hark.Errorf(hark.EINVALID, "the ID token from the sign-on provider is not valid (%v)", err)
	}
	if idt.Nonce != st.Nonce {
		s.audit(ctx, "", "sign-in-failed", "single sign-on: nonce mismatch")
		return nil, "", hark.Errorf(hark.EINVALID, "the ID token from the sign-on provider does not belong to this sign-in: start again from the sign-in page")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, "", hark.Errorf(hark.EINVALID, "the ID token's claims cannot be read: %v", err)
	}
	// Some providers put groups and roles only in the userinfo answer.
	_, hasRoles := claims[s.sso.cfg.RolesClaim]
	_, hasTeams := claims[s.sso.cfg.TeamsClaim]
	if (!hasRoles || !hasTeams) && prov.UserInfoEndpoint() != "" {
		if ui, err := prov.UserInfo(pctx, oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == idt.Subject {
			more := map[string]any{}
			if ui.Claims(&more) == nil {
				for k, v := range more {
					if _, ok := claims[k]; !ok {
						claims[k] = v
					}
				}
			}
		}
	}
	u, err := s.ssoUser(ctx, idt.Issuer, idt.Subject, claims)
	if err != nil {
		return nil, "", err
	}
	if err := s.StartSession(ctx, w, u); err != nil {
		return nil, "", err
	}
	s.audit(ctx, u.Name, "sign-in", "single sign-on")
	return u, st.Next, nil
}

// roleOrder ranks roles by what they may do, most first.
var roleOrder = []hark.UserRole{hark.RoleAdmin, hark.RoleCoach, hark.RoleResearcher, hark.RoleAnalyst}

// ssoUser finds or creates the account of a provider's subject and brings
// its role, teams and display name up to date from the claims.
func (s *Service) ssoUser(ctx context.Context, issuer, subject string, claims map[string]any) (*hark.User, error) {
	cfg := s.sso.cfg
	key := issuer + "|" + subject
	name := firstString(claims, "preferred_username", "email")
	if name == "" {
		name = subject
	}
	var role hark.UserRole
	for _, v := range claimStrings(claims[cfg.RolesClaim]) {
		// With a prefix, only prefixed values count: a directory's own
		// "Admin" group must not make anyone a hark admin.
		val, ok := strings.CutPrefix(v, cfg.RolePrefix)
		if !ok {
			continue
		}
		r, err := hark.ParseUserRole(strings.ToLower(val))
		if err == nil && (role == "" || slices.Index(roleOrder, r) < slices.Index(roleOrder, role)) {
			role = r
		}
	}
	if role == "" {
		s.audit(ctx, name, "sign-in-failed", "single sign-on: no hark role in claim "+cfg.RolesClaim)
		return nil, hark.Errorf(hark.EINVALID, "your sign-on account has no hark role: ask your administrator to give you admin, coach, analyst or researcher (%sROLE in the %q claim)", cfg.RolePrefix, cfg.RolesClaim)
	}
	known, err := s.cfg.Accounts.Teams(ctx)
	if err != nil {
		return nil, err
	}
	var teams []string
	for _, v := range claimStrings(claims[cfg.TeamsClaim]) {
		if t, ok := strings.CutPrefix(v, cfg.TeamPrefix); ok && slices.Contains(known, t) && !slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	slices.Sort(teams)
	u, err := s.cfg.Accounts.UserByOIDC(ctx, key)
	switch {
	case hark.ErrorCode(err) == hark.ENOTFOUND:
		if other, err := s.cfg.Accounts.UserByName(ctx, name); err == nil {
			s.audit(ctx, name, "sign-in-failed", "single sign-on: name taken by account "+other.ID)
			return nil, hark.Errorf(hark.ECONFLICT, "a hark account called %q exists already and is not linked to single sign-on: ask an admin to rename it (`hark user rename`)", name)
		}
		u = &hark.User{ID: NewID("u_"), Name: name, OIDCSubject: key, CreatedAt: s.cfg.Now().UTC()}
	case err != nil:
		return nil, err
	case u.Disabled:
		s.audit(ctx, u.Name, "sign-in-failed", "single sign-on: account disabled")
		return nil, hark.Errorf(hark.EINVALID, "this account is disabled in hark: ask an admin")
	}
	display := firstString(claims, "name")
	slices.Sort(u.Teams)
	if u.Role == role && slices.Equal(u.Teams, teams) && u.Display == display && u.Name == name {
		return u, nil
	}
	before := fmt.Sprintf("%s %v", u.Role, u.Teams)
	u.Role, u.Teams, u.Display, u.Name = role, teams, display, name
	if err := s.cfg.Accounts.PutUser(ctx, u); err != nil {
		return nil, err
	}
	s.audit(ctx, u.Name, "user-sso", fmt.Sprintf("from claims: %s %v (was %s)", role, teams, strings.TrimSpace(before)))
	return u, nil
}

// claimStrings reads a claim that is a string (maybe space- or
// comma-separated) or a list of strings.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func firstString(claims map[string]any, names ...string) string {
	for _, n := range names {
		if s, ok := claims[n].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func randomString() string {
	t, _ := NewToken()
	return t
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
