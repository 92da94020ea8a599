package ingest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/harkworks/hark/s3server"
)

// testPKI is a private CA written to dir, which issues certificates for
// 127.0.0.1.
type testPKI struct {
	t      *testing.T
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	CAFile string
	serial int64
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{t: t, dir: t.TempDir()}
	key := p.key()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hark test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if p.ca, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.caKey, p.serial = key, 1
	p.CAFile = p.write("ca.crt", "CERTIFICATE", der)
	return p
}

func (p *testPKI) key() *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	return key
}

func (p *testPKI) write(name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// issue returns the files of a certificate for 127.0.0.1 signed by the CA,
// for a server or a client, and the key pair.
func (p *testPKI) issue(name string, usage x509.ExtKeyUsage) (certFile, keyFile string, pair tls.Certificate) {
	p.t.Helper()
	key := p.key()
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	certFile, keyFile = p.write(name+".crt", "CERTIFICATE", der), p.write(name+".key", "PRIVATE KEY", keyDER)
	if pair, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		p.t.Fatal(err)
	}
	return certFile, keyFile, pair
}

// pool is a pool holding the CA.
func (p *testPKI) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	return pool
}

// startTLSNATS runs nats-server in-process with JetStream, requiring TLS
// with the PKI's server certificate and, when mutual, a client certificate
// from the same CA.
func startTLSNATS(t *testing.T, p *testPKI, mutual bool) string {
	t.Helper()
	_, _, pair := p.issue("nats", x509.ExtKeyUsageServerAuth)
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	if mutual {
		tc.ClientCAs, tc.ClientAuth = p.pool(), tls.RequireAndVerifyClientCert
	}
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(),
		TLS: true, TLSVerify: mutual, TLSConfig: tc, TLSTimeout: 5,
		Authorization: "tls-test-token", NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}

// TestQueueTLS connects to a NATS server that requires TLS (and, in the
// mutual cases, a client certificate): with the CA file (and the client
// certificate) the queue works; without them, or with a bad file, Connect
// fails and says why.
func TestQueueTLS(t *testing.T) {
	p := newTestPKI(t)
	clientCert, clientKey, _ := p.issue("client", x509.ExtKeyUsageClientAuth)
	other := newTestPKI(t) // a CA the server's certificate does not chain to
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("no certificate here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsURL, mtlsURL := startTLSNATS(t, p, false), startTLSNATS(t, p, true)
	tests := []struct {
		name    string
		cfg     QueueConfig
		wantErr string // empty: connects and works
	}{
		{"CA", QueueConfig{URL: tlsURL, CAFile: p.CAFile}, ""},
		{"CA with a tls:// URL", QueueConfig{URL: strings.Replace(tlsURL, "nats://", "tls://", 1), CAFile: p.CAFile}, ""},
		{"mutual TLS", QueueConfig{URL: mtlsURL, CAFile: p.CAFile, CertFile: clientCert, KeyFile: clientKey}, ""},
		{"no CA", QueueConfig{URL: tlsURL}, "certificate"},
		{"another CA", QueueConfig{URL: tlsURL, CAFile: other.CAFile}, "certificate"},
		{"mutual TLS without a client certificate", QueueConfig{URL: mtlsURL, CAFile: p.CAFile}, "connect to NATS"},
		{"missing CA file", QueueConfig{URL: tlsURL, CAFile: filepath.Join(p.dir, "none.crt")}, filepath.Join(p.dir, "none.crt")},
		{"garbage CA file", QueueConfig{URL: tlsURL, CAFile: garbage}, garbage},
		{"certificate without a key", QueueConfig{URL: mtlsURL, CAFile: p.CAFile, CertFile: clientCert}, "HARK_NATS_KEY"},
		{"garbage client key", QueueConfig{URL: mtlsURL, CAFile: p.CAFile, CertFile: clientCert, KeyFile: garbage}, garbage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tt.cfg.Token, tt.cfg.Logger = "tls-test-token", slog.New(slog.DiscardHandler)
			q, err := Connect(ctx, tt.cfg)
			if tt.wantErr != "" {
				if err == nil {
					q.Close(ctx)
					t.Fatalf("connected; want an error naming %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer q.Close(ctx)
			if _, err := q.nc.TLSConnectionState(); err != nil {
				t.Fatalf("connection is not TLS: %v", err)
			}
			if _, err := q.Setup(ctx); err != nil {
				t.Fatalf("Setup over TLS: %v", err)
			}
			if err := q.Publish(ctx, "hark.recordings.uploaded", "tls-1", []byte(`{}`)); err != nil {
				t.Fatalf("Publish over TLS: %v", err)
			}
		})
	}
}

// TestStoreTLS reaches the embedded S3 server through a TLS front whose
// certificate comes from a private CA: with StoreConfig.CAFile the store
// works over https://; without it the client refuses the certificate.
func TestStoreTLS(t *testing.T) {
	ctx := context.Background()
	srv, err := s3server.Start(ctx, s3server.Config{Dir: filepath.Join(t.TempDir(), "s3"), Addr: "127.0.0.1:0", AccessKey: "hark-test", SecretKey: "hark-test-secret-key"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	backend, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	// The proxy keeps the client's Host header, which the signature covers.
	proxy := httputil.NewSingleHostReverseProxy(backend)
	p := newTestPKI(t)
	_, _, pair := p.issue("s3", x509.ExtKeyUsageServerAuth)
	front := httptest.NewUnstartedServer(proxy)
	front.TLS = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	front.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes of "without the CA"
	front.StartTLS()
	t.Cleanup(front.Close)
	if !strings.HasPrefix(front.URL, "https://") {
		t.Fatalf("front %s is not https", front.URL)
	}
	cfg := StoreConfig{Endpoint: front.URL, AccessKey: "hark-test", SecretKey: "hark-test-secret-key", Bucket: "recordings", Region: "us-east-1"}

	t.Run("with the CA", func(t *testing.T) {
		c := cfg
		c.CAFile = p.CAFile
		st, err := NewStore(c)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close(ctx)
		if _, err := st.EnsureBucket(ctx); err != nil {
			t.Fatalf("EnsureBucket over TLS: %v", err)
		}
		if _, err := st.Put(ctx, "North/a.txt", bytes.NewReader([]byte("over tls")), 8, "text/plain", nil); err != nil {
			t.Fatalf("Put over TLS: %v", err)
		}
		rc, _, err := st.Get(ctx, "North/a.txt")
		if err != nil {
			t.Fatalf("Get over TLS: %v", err)
		}
		defer rc.Close()
		if data, _ := io.ReadAll(rc); string(data) != "over tls" {
			t.Fatalf("Get: %q", data)
		}
	})
	t.Run("without the CA", func(t *testing.T) {
		st, err := NewStore(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close(ctx)
		if _, err := st.EnsureBucket(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("EnsureBucket with an untrusted certificate: %v, want a certificate error", err)
		}
	})
	t.Run("bad CA file", func(t *testing.T) {
		c := cfg
		c.CAFile = filepath.Join(p.dir, "none.crt")
		if _, err := NewStore(c); err == nil || !strings.Contains(err.Error(), c.CAFile) {
			t.Fatalf("NewStore with a missing CA file: %v, want an error naming it", err)
		}
	})
	t.Run("plain http endpoint", func(t *testing.T) {
		var logged bytes.Buffer
		c := StoreConfig{Endpoint: srv.URL(), AccessKey: "hark-test", SecretKey: "hark-test-secret-key", Bucket: "recordings", Region: "us-east-1",
			CAFile: p.CAFile, Logger: slog.New(slog.NewTextHandler(&logged, nil))}
		st, err := NewStore(c)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close(ctx)
		if !strings.Contains(logged.String(), "not encrypted") {
			t.Errorf("a CA file for an http:// endpoint was not warned about: %q", logged.String())
		}
	})
}

// TestConnectErrorHidesCredentials: a NATS URL with a token or a password
// in it never shows them in Connect's error (which commands log).
func TestConnectErrorHidesCredentials(t *testing.T) {
	for _, u := range []string{
		"nats://planted-token-9a8b@127.0.0.1:1",
		"nats://hark:planted-token-9a8b@127.0.0.1:1",
		"nats://127.0.0.1:1,tls://planted-token-9a8b@127.0.0.1:2",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		q, err := Connect(ctx, QueueConfig{URL: u, Logger: slog.New(slog.DiscardHandler)})
		cancel()
		if err == nil {
			q.Close(context.Background())
			t.Fatalf("%s: connected", u)
		}
		if strings.Contains(err.Error(), "planted-token-9a8b") || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("Connect(%s): %q shows the token or not the server", u, err)
		}
	}
}
