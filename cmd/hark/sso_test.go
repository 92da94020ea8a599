package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestServeSSOSettings(t *testing.T) {
	db := filepath.Join(t.TempDir(), "index.db")
	// Incomplete settings stop the server at start with what is missing.
	_, _, err := runCommand(t, newServeCmd, "--db", db, "--http", "127.0.0.1:0", "--oidc-issuer", "https://login.council.example")
	if err == nil || !strings.Contains(err.Error(), "HARK_OIDC_CLIENT_ID") {
		t.Fatalf("serve with an issuer and nothing else: %v, want an error naming the missing settings", err)
	}

	// The secret comes from a file, never a flag; the rest from flags or env.
	secret := filepath.Join(t.TempDir(), "oidc-secret")
	if err := os.WriteFile(secret, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HARK_OIDC_CLIENT_SECRET_FILE", secret)
	t.Setenv("HARK_OIDC_CLIENT_ID", "hark-web")
	t.Setenv("HARK_OIDC_TEAM_PREFIX", "hark-")
	var f ssoFlags
	cmd := &cobra.Command{Use: "serve"}
	f.add(cmd)
	if err := cmd.ParseFlags([]string{"--oidc-issuer", "https://login.council.example", "--oidc-scopes", "groups, roles",
		"--oidc-redirect-url", "https://hark.council.example/signin/sso/callback"}); err != nil {
		t.Fatal(err)
	}
	cfg := f.config()
	if cfg.ClientSecret != "s3cr3t" || cfg.ClientID != "hark-web" || strings.Join(cfg.Scopes, "|") != "groups|roles" || cfg.TeamPrefix != "hark-" ||
		cfg.RolesClaim != "roles" || cfg.TeamsClaim != "groups" {
		t.Errorf("settings: %+v", cfg)
	}
	if (&ssoFlags{}).config() != nil {
		t.Error("single sign-on is on without an issuer")
	}
}
