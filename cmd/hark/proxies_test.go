package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A trusted-proxies setting that is not a list of addresses stops the
// server at start, saying what to give.
func TestServeTrustedProxiesSetting(t *testing.T) {
	db := filepath.Join(t.TempDir(), "index.db")
	_, _, err := runCommand(t, newServeCmd, "--db", db, "--http", "127.0.0.1:0", "--trusted-proxies", "10.0.0.0/8,proxy.council.example")
	if err == nil || !strings.Contains(err.Error(), `"proxy.council.example"`) || !strings.Contains(err.Error(), "CIDR") {
		t.Fatalf("serve --trusted-proxies with a host name: %v, want refused", err)
	}
	t.Setenv("HARK_TRUSTED_PROXIES", "not-an-address")
	if _, _, err := runCommand(t, newServeCmd, "--db", db, "--http", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "not-an-address") {
		t.Fatalf("serve with HARK_TRUSTED_PROXIES=not-an-address: %v, want refused", err)
	}
}
