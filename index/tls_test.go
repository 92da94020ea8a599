package index

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hark talks to PostgreSQL over TLS when the DSN says so, checking the
// server's certificate against the CA file the DSN names
// (sslmode=verify-full&sslrootcert=FILE): the connection is encrypted, and a
// CA that did not sign the server's certificate is refused.
func TestPostgresTLS(t *testing.T) {
	dsn := postgresDSN(t)
	ca := os.Getenv("HARK_TEST_POSTGRES_CA")
	if ca == "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("CI is set but HARK_TEST_POSTGRES_CA is not: start PostgreSQL with scripts/test-postgres.sh, which turns its TLS on")
		}
		t.Skip("HARK_TEST_POSTGRES_CA is not set (scripts/test-postgres.sh prints it)")
	}
	tlsDSN := strings.Replace(dsn, "sslmode=disable", "sslmode=verify-full&sslrootcert="+ca, 1)
	if tlsDSN == dsn {
		t.Fatalf("the test DSN has no sslmode=disable to replace")
	}
	ctx := context.Background()
	db, err := Open(ctx, tlsDSN)
	if err != nil {
		t.Fatalf("open over TLS: %v", err)
	}
	defer db.Close()
	var encrypted bool
	if err := db.db.QueryRowContext(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&encrypted); err != nil || !encrypted {
		t.Errorf("the connection is not encrypted: %v %v", encrypted, err)
	}
	// A CA that did not sign the server's certificate.
	other := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(other, otherCA(t), 0o600); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(ctx, strings.Replace(dsn, "sslmode=disable", "sslmode=verify-full&sslrootcert="+other, 1))
	if err == nil {
		db2.Close()
		t.Fatal("a server whose certificate the CA did not sign was trusted")
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("refused, but not for its certificate: %v", err)
	}
}

// otherCA is a CA certificate, made now, that signed no server.
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "another CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, ca, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
