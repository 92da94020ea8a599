// Package oidctest runs Ory Hydra, a certified OpenID provider, on loopback
// for hark's single sign-on tests. Hydra is a separate process (built from
// tools/hydra by `make hydra`; .ci/run builds it) with an in-memory store.
// It leaves the login and consent screens to an app of the operator's: here
// a small one that plays the council's directory, accepting the person the
// test names with the claims the test gives. The protocol — discovery, the
// authorization code with PKCE, signed ID tokens, the token endpoint — is
// all Hydra's.
package oidctest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// repoRoot is the repository's root, found from this file's place in it.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// binary returns the path of a built Hydra: HARK_TEST_HYDRA, else bin/hydra
// in the repository. Without one the test is skipped, or fails when CI is
// set.
func binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("HARK_TEST_HYDRA")
	if bin == "" {
		bin = filepath.Join(repoRoot(), "bin", "hydra")
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Ory Hydra is missing at %s (build it with `make hydra`, or set HARK_TEST_HYDRA): the single sign-on tests need it", bin)
		}
		t.Skipf("Ory Hydra is not built (%v): run `make hydra` to test single sign-on", err)
	}
	return bin
}

// Person is who the directory app signs in next, and with which claims.
type Person struct {
	Subject string
	Claims  map[string]any
	Refuse  string // when set, the directory refuses the sign-in with this description
}

// Provider is a running Hydra with its directory app.
type Provider struct {
	t testing.TB
	// Issuer is the provider's issuer URL (with a trailing slash, as Hydra
	// announces it).
	Issuer string
	admin  string

	mu   sync.Mutex
	next Person
}

// FreePort returns a loopback port nothing listens on.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs Hydra with an in-memory store and the directory app; both
// stop with the test.
func Start(t testing.TB) *Provider {
	t.Helper()
	bin := binary(t)
	h := &Provider{t: t}
	app := httptest.NewServer(http.HandlerFunc(h.directory))
	t.Cleanup(app.Close)
	pub, adm := FreePort(t), FreePort(t)
	h.Issuer = fmt.Sprintf("http://127.0.0.1:%d/", pub)
	h.admin = fmt.Sprintf("http://127.0.0.1:%d", adm)
	logPath := filepath.Join(t.TempDir(), "hydra.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out")
	cmd.Env = append(os.Environ(),
		"DSN=memory", "LOG_LEVEL=warn", "SECRETS_SYSTEM=hark-test-system-secret-0123456789",
		"URLS_SELF_ISSUER="+h.Issuer, "URLS_LOGIN="+app.URL+"/login", "URLS_CONSENT="+app.URL+"/consent",
		fmt.Sprintf("SERVE_PUBLIC_PORT=%d", pub), fmt.Sprintf("SERVE_ADMIN_PORT=%d", adm),
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_ADMIN_HOST=127.0.0.1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("hydra log:\n%s", data)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(h.admin + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hydra did not become ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return h
}

// adminCall calls Hydra's admin API.
func (h *Provider) adminCall(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, _ := json.Marshal(in)
		body = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, h.admin+path, body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hydra %s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

// Client registers hark as a confidential client with the redirect URL and
// returns its ID and secret.
func (h *Provider) Client(redirect string) (id, secret string) {
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := h.adminCall(http.MethodPost, "/admin/clients", map[string]any{
		"client_name": "hark", "redirect_uris": []string{redirect}, "grant_types": []string{"authorization_code"},
		"response_types": []string{"code"}, "scope": "openid profile email groups", "token_endpoint_auth_method": "client_secret_basic",
	}, &c); err != nil {
		h.t.Fatal(err)
	}
	return c.ID, c.Secret
}

// SignInNext makes the directory sign p in at the next sign-in.
func (h *Provider) SignInNext(p Person) {
	h.mu.Lock()
	h.next = p
	h.mu.Unlock()
}

// directory is the operator's login and consent app.
func (h *Provider) directory(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	p := h.next
	h.mu.Unlock()
	var redirect struct {
		To string `json:"redirect_to"`
	}
	var err error
	switch r.URL.Path {
	case "/login":
		ch := url.QueryEscape(r.URL.Query().Get("login_challenge"))
		if p.Refuse != "" {
			err = h.adminCall(http.MethodPut, "/admin/oauth2/auth/requests/login/reject?login_challenge="+ch,
				map[string]any{"error": "access_denied", "error_description": p.Refuse}, &redirect)
		} else {
			err = h.adminCall(http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+ch,
				map[string]any{"subject": p.Subject}, &redirect)
		}
	case "/consent":
		ch := url.QueryEscape(r.URL.Query().Get("consent_challenge"))
		var req struct {
			Scope    []string `json:"requested_scope"`
			Audience []string `json:"requested_access_token_audience"`
		}
		if err = h.adminCall(http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+ch, nil, &req); err == nil {
			err = h.adminCall(http.MethodPut, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+ch, map[string]any{
				"grant_scope": req.Scope, "grant_access_token_audience": req.Audience,
				"session": map[string]any{"id_token": p.Claims},
			}, &redirect)
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.t.Errorf("directory app: %v", err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, redirect.To, http.StatusFound)
}
