package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark/auth"
)

// ssoFlags are the single sign-on settings of `hark up` and `hark serve`.
// The client secret is never a flag: HARK_OIDC_CLIENT_SECRET or
// HARK_OIDC_CLIENT_SECRET_FILE.
type ssoFlags struct {
	issuer, clientID, redirect, name, scopes string
	rolesClaim, rolePrefix                   string
	teamsClaim, teamPrefix                   string
}

func (s *ssoFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.issuer, "oidc-issuer", env("HARK_OIDC_ISSUER", ""), "OpenID Connect issuer URL for single sign-on (off when empty)")
	f.StringVar(&s.clientID, "oidc-client-id", env("HARK_OIDC_CLIENT_ID", ""), "client ID registered with the provider (the secret: HARK_OIDC_CLIENT_SECRET[_FILE])")
	f.StringVar(&s.redirect, "oidc-redirect-url", env("HARK_OIDC_REDIRECT_URL", ""), "hark's callback as registered with the provider: https://HOST/signin/sso/callback")
	f.StringVar(&s.name, "oidc-name", env("HARK_OIDC_NAME", ""), "provider name on the sign-in button (default: the issuer's host)")
	f.StringVar(&s.scopes, "oidc-scopes", env("HARK_OIDC_SCOPES", ""), "scopes to ask for besides openid, profile and email, comma-separated (e.g. groups)")
	f.StringVar(&s.rolesClaim, "oidc-roles-claim", env("HARK_OIDC_ROLES_CLAIM", "roles"), "claim holding the hark role: admin, coach, analyst or researcher")
	f.StringVar(&s.rolePrefix, "oidc-role-prefix", env("HARK_OIDC_ROLE_PREFIX", ""), "prefix of role values in the roles claim (e.g. hark- for hark-coach)")
	f.StringVar(&s.teamsClaim, "oidc-teams-claim", env("HARK_OIDC_TEAMS_CLAIM", "groups"), "claim listing the person's teams")
	f.StringVar(&s.teamPrefix, "oidc-team-prefix", env("HARK_OIDC_TEAM_PREFIX", ""), "prefix of team values in the teams claim")
}

// config returns the single sign-on settings, or nil when no issuer is set.
func (s *ssoFlags) config() *auth.SSOConfig {
	if s.issuer == "" {
		return nil
	}
	var scopes []string
	for _, sc := range strings.Split(s.scopes, ",") {
		if sc = strings.TrimSpace(sc); sc != "" {
			scopes = append(scopes, sc)
		}
	}
	return &auth.SSOConfig{
		Issuer: s.issuer, ClientID: s.clientID, ClientSecret: secretEnv("HARK_OIDC_CLIENT_SECRET"), RedirectURL: s.redirect,
		Name: s.name, Scopes: scopes, RolesClaim: s.rolesClaim, RolePrefix: s.rolePrefix, TeamsClaim: s.teamsClaim, TeamPrefix: s.teamPrefix,
	}
}

// newAuth returns the sign-in service, with single sign-on when sso is set.
func newAuth(cfg auth.Config, sso *auth.SSOConfig) (*auth.Service, error) {
	a := auth.New(cfg)
	if sso != nil {
		if err := a.EnableSSO(*sso); err != nil {
			return nil, err
		}
	}
	return a, nil
}
