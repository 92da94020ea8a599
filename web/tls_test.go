package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns the files and the certificate.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		// Self-signed: it is its own CA.
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TestServeTLS starts the server with a certificate and talks to it as a
// TLS client that trusts that certificate: it answers over TLS 1.2 or
// later, refuses older TLS and clients that do not trust it, and answers
// no page to plain HTTP on the same port.
func TestServeTLS(t *testing.T) {
	tb := setup(t)
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir, "hark")
	s, err := New(Config{Addr: "127.0.0.1:0", Index: tb.idx, Accounts: tb.idx, Auth: tb.auth, TLSCert: certFile, TLSKey: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer s.Close(context.Background())
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s: want https://", s.URL())
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	get := func(t *testing.T, tc *tls.Config, url string) (*http.Response, string, error) {
		t.Helper()
		tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body), nil
	}

	t.Run("trusted client", func(t *testing.T) {
		resp, body, err := get(t, &tls.Config{RootCAs: pool}, s.URL()+"/healthz")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || body != "ok\n" {
			t.Fatalf("GET /healthz: %d %q", resp.StatusCode, body)
		}
		if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Fatalf("connection state %+v: want TLS 1.2 or later", resp.TLS)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol %s: want HTTP/2 over TLS", resp.Proto)
		}
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		if _, _, err := get(t, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, s.URL()+"/healthz"); err == nil {
			t.Fatal("a TLS 1.1 client was served")
		}
	})
	t.Run("untrusted client", func(t *testing.T) {
		_, _, err := get(t, &tls.Config{}, s.URL()+"/healthz")
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("a client without the CA: %v, want a certificate error", err)
		}
	})
	t.Run("plain HTTP", func(t *testing.T) {
		resp, body, err := get(t, nil, "http://"+strings.TrimPrefix(s.URL(), "https://")+"/healthz")
		if err == nil && (resp.StatusCode == http.StatusOK || strings.Contains(body, "ok")) {
			t.Fatalf("plain HTTP to the TLS port was served: %d %q", resp.StatusCode, body)
		}
	})
}

// TestTLSConfigErrors: a certificate without a key (or the other way
// round) fails New; a missing, unreadable or wrong file fails Start and
// names the file.
func TestTLSConfigErrors(t *testing.T) {
	tb := setup(t)
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir, "hark")
	_, otherKey, _ := selfSigned(t, dir, "other")
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable.key")
	if err := os.WriteFile(unreadable, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.crt")
	tests := []struct {
		name       string
		cert, key  string
		atNew      bool
		wantInText []string
	}{
		{"cert only", certFile, "", true, []string{"--tls-cert", "--tls-key"}},
		{"key only", "", keyFile, true, []string{"--tls-cert", "--tls-key"}},
		{"missing cert", missing, keyFile, false, []string{missing}},
		{"garbage cert", garbage, keyFile, false, []string{garbage}},
		{"garbage key", certFile, garbage, false, []string{garbage}},
		{"key of another certificate", certFile, otherKey, false, []string{certFile, otherKey}},
	}
	if os.Getuid() != 0 { // root reads any file
		tests = append(tests, struct {
			name       string
			cert, key  string
			atNew      bool
			wantInText []string
		}{"unreadable key", certFile, unreadable, false, []string{unreadable}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Config{Addr: "127.0.0.1:0", Index: tb.idx, Accounts: tb.idx, Auth: tb.auth, TLSCert: tt.cert, TLSKey: tt.key})
			if !tt.atNew {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				err = s.Start(context.Background())
				defer s.Close(context.Background())
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.wantInText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
}
