package faults

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// freshSchema creates an empty schema on the PostgreSQL server at dsn,
// drops it when the test ends, and returns dsn with its search_path set to
// it, so that every test (and every worker of the test) has an index of its
// own. It is index/postgres_test.go's approach.
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("HARK_TEST_POSTGRES: %v", err)
	}
	admin := stdlib.OpenDB(*cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := "hark_faults_" + randHex(6)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema on HARK_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
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

// pgCluster is a PostgreSQL server of one test's own, started with
// scripts/test-postgres.sh, that the test may stop and start.
type pgCluster struct {
	t    *testing.T
	dir  string
	port int
	dsn  string
}

var exportRe = regexp.MustCompile(`export HARK_TEST_POSTGRES=(\S+)`)

// startPrivatePostgres starts a throwaway PostgreSQL cluster for one test.
// It is the test's own, not the shared HARK_TEST_POSTGRES server, because
// restarting the shared one would break the other packages' PostgreSQL
// tests that `go test ./...` runs at the same time. Without the PostgreSQL
// binaries the test is skipped, except on CI, where it fails.
func startPrivatePostgres(t *testing.T) *pgCluster {
	t.Helper()
	// Under the system temp dir, not t.TempDir: as root the script runs
	// the server as the postgres user, who must be able to reach it.
	dir, err := os.MkdirTemp("", "hark-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{t: t, dir: dir, port: freePort(t)}
	t.Cleanup(func() {
		c.stop()
		os.RemoveAll(dir)
	})
	out, err := c.script("start", dir, strconv.Itoa(c.port))
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("start a PostgreSQL cluster of the test's own: %v\n%s", err, out)
		}
		t.Skipf("cannot start a PostgreSQL cluster (scripts/test-postgres.sh): %v\n%s", err, out)
	}
	m := exportRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("scripts/test-postgres.sh printed no export line:\n%s", out)
	}
	c.dsn = m[1]
	return c
}

func (c *pgCluster) script(args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(scriptsDir, "test-postgres.sh")}, args...)...)
	cmd.Dir = filepath.Dir(scriptsDir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stop stops the server (pg_ctl -m fast: connections are cut).
func (c *pgCluster) stop() {
	if out, err := c.script("stop", c.dir); err != nil {
		c.t.Errorf("stop PostgreSQL: %v\n%s", err, out)
	}
}

// start starts the server again on its port.
func (c *pgCluster) start() {
	c.t.Helper()
	if out, err := c.script("start", c.dir, strconv.Itoa(c.port)); err != nil {
		c.t.Fatalf("start PostgreSQL again: %v\n%s", err, out)
	}
}
