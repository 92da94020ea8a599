package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q is not Argon2id with the chosen parameters", h)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if !CheckPassword(h, "correct horse battery staple") {
		t.Fatal("the right password does not match")
	}
	for _, bad := range []string{"correct horse battery stapl", "", "Correct horse battery staple"} {
		if CheckPassword(h, bad) {
			t.Errorf("%q matches", bad)
		}
	}
	for _, enc := range []string{"", "plain", "$argon2i$v=19$m=65536,t=3,p=2$AAAA$AAAA", "$argon2id$v=19$m=0,t=3,p=2$AAAA$AAAA", h[:len(h)-3] + "!!!"} {
		if CheckPassword(enc, "correct horse battery staple") {
			t.Errorf("malformed hash %q matches", enc)
		}
	}
	if _, err := HashPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
}

// openIndex opens a fresh SQLite index, where the limiter counts.
func openIndex(t *testing.T) *index.DB {
	t.Helper()
	idx, err := index.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	l := NewLimiter(openIndex(t), 3, time.Minute)
	try := func(key string, at time.Time) (bool, time.Time) {
		t.Helper()
		ok, until, err := l.Try(ctx, key, at)
		if err != nil {
			t.Fatal(err)
		}
		return ok, until
	}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range 3 { // three failed attempts
		if ok, _ := try("k", now.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("refused after %d failures", i)
		}
	}
	ok, until := try("k", now.Add(30*time.Second))
	if ok || !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("after 3 failures: allowed=%v until %v, want refused until 10:01:00", ok, until)
	}
	if ok, _ := try("other", now); !ok {
		t.Fatal("another key is limited too")
	}
	if ok, _ := try("k", now.Add(91*time.Second)); !ok {
		t.Fatal("still refused after the window")
	}
	// A success forgets: the name's failures all, the address's only itself.
	at := now.Add(92 * time.Second)
	try("name", at)
	try("name", at)
	_ = l.Succeeded(ctx, "name", at, true)
	for range 3 {
		if ok, _ := try("name", at); !ok {
			t.Fatal("a success did not clear the name's failures")
		}
	}
	try("addr", at.Add(-2*time.Second))
	try("addr", at.Add(-time.Second))
	try("addr", at)
	_ = l.Succeeded(ctx, "addr", at, false)
	if ok, _ := try("addr", at.Add(time.Second)); !ok {
		t.Fatal("the successful attempt was counted against the address")
	}
	if ok, _ := try("addr", at.Add(2*time.Second)); ok {
		t.Fatal("a success forgot the address's earlier failures")
	}
}

// Attempts in parallel all count: no more than the limit get through to
// the password check, however many arrive at once.
func TestLimiterParallel(t *testing.T) {
	ctx := context.Background()
	l := NewLimiter(openIndex(t), 5, 15*time.Minute)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ok, _, err := l.Try(ctx, "name:sam", now.Add(time.Duration(i)*time.Millisecond))
			if err != nil {
				t.Error(err)
			}
			if ok {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != 5 {
		t.Fatalf("%d of 20 parallel attempts went ahead, want 5", n)
	}
}

// Two web servers over one index share the sign-in limit: failures at one
// count at the other, and a restart forgets nothing.
func TestSignInLimitShared(t *testing.T) {
	ctx := context.Background()
	idx := openIndex(t)
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.PutUser(ctx, &hark.User{ID: "u_1", Name: "sam", Role: hark.RoleCoach, PasswordHash: h, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	replica := func() *Service {
		return New(Config{Accounts: idx, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	}
	a, b := replica(), replica()
	signIn := func(s *Service, addr, password string) error {
		r := httptest.NewRequest(http.MethodPost, "/signin", nil)
		r.RemoteAddr = addr + ":5000"
		_, err := s.SignIn(ctx, httptest.NewRecorder(), r, "sam", password)
		return err
	}
	// Five wrong passwords, from five addresses, spread over two servers.
	for i := range 5 {
		s := a
		if i%2 == 1 {
			s = b
		}
		if err := signIn(s, fmt.Sprintf("10.0.0.%d", i), "wrong"); err == nil || strings.Contains(err.Error(), "too many") {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	for _, s := range []*Service{a, b, replica()} {
		err := signIn(s, "10.0.0.99", "correct horse battery staple")
		if err == nil || !strings.Contains(err.Error(), "too many failed sign-ins") {
			t.Fatalf("the right password after five failures across servers: %v, want refused", err)
		}
	}
	now = now.Add(16 * time.Minute)
	if err := signIn(b, "10.0.0.99", "correct horse battery staple"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestCheckCSRF(t *testing.T) {
	withSession := func(r *http.Request, csrf string) *http.Request {
		return r.WithContext(context.WithValue(r.Context(), sessionKey, &hark.WebSession{CSRF: csrf}))
	}
	tests := []struct {
		name   string
		method string
		header string
		origin string
		ok     bool
	}{
		{"get needs nothing", http.MethodGet, "", "", true},
		{"post with the token", http.MethodPost, "tok", "", true},
		{"post with the token from this site", http.MethodPost, "tok", "http://example.org", true},
		{"post without a token", http.MethodPost, "", "", false},
		{"post with a wrong token", http.MethodPost, "nope", "", false},
		{"post from another site", http.MethodPost, "tok", "https://evil.example", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "http://example.org/api/x", nil)
		if tt.header != "" {
			r.Header.Set("X-CSRF-Token", tt.header)
		}
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		err := CheckCSRF(withSession(r, "tok"))
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v", tt.name, err)
		}
	}
	// Without a session there is no token to match.
	r := httptest.NewRequest(http.MethodPost, "http://example.org/api/x", nil)
	r.Header.Set("X-CSRF-Token", "")
	if CheckCSRF(r) == nil {
		t.Error("a post without a session passed")
	}
}

func TestTokens(t *testing.T) {
	a, ha := NewToken()
	b, hb := NewToken()
	if a == b || ha == hb || len(a) < 40 || HashToken(a) != ha || strings.Contains(ha, a) {
		t.Fatalf("tokens %q %q hashes %q %q", a, b, ha, hb)
	}
}

// Behind a reverse proxy every request comes from the proxy's address:
// with the proxy trusted, failures count per account and per client, so
// five wrong passwords for one account lock that account only.
func TestSignInLockoutBehindProxy(t *testing.T) {
	ctx := context.Background()
	idx := openIndex(t)
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sam", "kim"} {
		if err := idx.PutUser(ctx, &hark.User{ID: "u_" + name, Name: name, Role: hark.RoleCoach, PasswordHash: h, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	proxies, err := ParseTrustedProxies("10.0.0.1, 192.168.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Accounts: idx, TrustedProxies: proxies, Logger: slog.New(slog.DiscardHandler)})
	signIn := func(peer, forwarded, name, password string) error {
		r := httptest.NewRequest(http.MethodPost, "/signin", nil)
		r.RemoteAddr = peer + ":5000"
		if forwarded != "" {
			r.Header.Set("X-Forwarded-For", forwarded)
		}
		_, err := s.SignIn(ctx, httptest.NewRecorder(), r, name, password)
		return err
	}
	for i := range 5 {
		if err := signIn("10.0.0.1", "203.0.113.5", "sam", "wrong"); err == nil || strings.Contains(err.Error(), "too many") {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if err := signIn("10.0.0.1", "198.51.100.7", "sam", "correct horse battery staple"); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("sam after five failures: %v, want locked", err)
	}
	for _, client := range []string{"198.51.100.7", "203.0.113.5"} {
		if err := signIn("10.0.0.1", client, "kim", "correct horse battery staple"); err != nil {
			t.Fatalf("kim from %s, after five failures for sam through the same proxy: %v", client, err)
		}
	}
	// A spray of guesses at many names from one client is still stopped,
	// also when it writes its own X-Forwarded-For to look like many.
	for i := range 20 {
		_ = signIn("203.0.113.66", fmt.Sprintf("198.18.0.%d", i), fmt.Sprintf("guess%d", i), "wrong")
	}
	if err := signIn("203.0.113.66", "198.18.0.99", "kim", "correct horse battery staple"); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("after 20 failures from one untrusted client: %v, want its address locked", err)
	}
}

func TestClientAddr(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.1,fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{TrustedProxies: proxies})
	tests := []struct {
		peer, xff, forwarded, want string
	}{
		{"203.0.113.5:1", "", "", "203.0.113.5"},
		{"203.0.113.5:1", "198.51.100.7", "", "203.0.113.5"},                       // not a proxy: its header is ignored
		{"10.0.0.1:1", "", "", "10.0.0.1"},                                         // a proxy that names no one
		{"10.0.0.1:1", "198.51.100.7", "", "198.51.100.7"},                         //
		{"10.0.0.1:1", "1.2.3.4, 198.51.100.7", "", "198.51.100.7"},                // the client's own entry is not believed
		{"10.0.0.1:1", "198.51.100.7, 10.0.0.1", "", "198.51.100.7"},               // two trusted hops
		{"10.0.0.1:1", "junk, 198.51.100.7", "", "198.51.100.7"},                   //
		{"10.0.0.1:1", "198.51.100.7, junk", "", "10.0.0.1"},                       // the proxy wrote no address
		{"[fd00::2]:1", "", `for="[2001:db8::9]:4711";proto=https`, "2001:db8::9"}, // Forwarded, IPv6
		{"10.0.0.1:1", "9.9.9.9", "for=198.51.100.7, for=10.0.0.1", "198.51.100.7"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/signin", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if tt.forwarded != "" {
			r.Header.Set("Forwarded", tt.forwarded)
		}
		if got := s.clientAddr(r); got != tt.want {
			t.Errorf("peer %s, X-Forwarded-For %q, Forwarded %q: %s, want %s", tt.peer, tt.xff, tt.forwarded, got, tt.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8, proxy.example"); err == nil {
		t.Error("a host name was taken for a trusted proxy")
	}
}
