package index

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresDSN returns the PostgreSQL server the tests may use, from
// HARK_TEST_POSTGRES. Without it the test is skipped, except on CI (CI set
// to true), where PostgreSQL must be tested and its absence is a failure.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("HARK_TEST_POSTGRES")
	if dsn != "" {
		return dsn
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal("CI is set but HARK_TEST_POSTGRES is not: CI must test the PostgreSQL index; " +
			"start a server with scripts/test-postgres.sh and export the line it prints")
	}
	t.Skip("HARK_TEST_POSTGRES is not set; to test the PostgreSQL index run: eval \"$(scripts/test-postgres.sh)\"")
	return ""
}

// TestPostgres runs the conformance suite on PostgreSQL, each test in a
// schema of its own that is dropped when it ends.
func TestPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	admin := openAdmin(t, dsn)
	runConformance(t, func(t *testing.T) string {
		return freshSchema(t, admin, dsn)
	})
}

func openAdmin(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("HARK_TEST_POSTGRES: %v", err)
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("HARK_TEST_POSTGRES=%s: %v", redact(dsn), err)
	}
	return admin
}

// freshSchema creates an empty schema, drops it when the test ends, and
// returns dsn with its search_path set to it.
func freshSchema(t *testing.T, admin *sql.DB, dsn string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "hark_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("HARK_TEST_POSTGRES is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
