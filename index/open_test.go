package index

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn     string
		dialect string // "" when the DSN is invalid
		target  string
	}{
		{"postgres://hark:pw@db:5432/hark?sslmode=require", "postgres", "postgres://hark:pw@db:5432/hark?sslmode=require"},
		{"postgresql://db/hark", "postgres", "postgresql://db/hark"},
		{"POSTGRES://db/hark", "postgres", "POSTGRES://db/hark"},
		{"sqlite:/var/lib/hark/index.db", "sqlite", "/var/lib/hark/index.db"},
		{"sqlite:index.db", "sqlite", "index.db"},
		{"sqlite:///var/lib/hark/index.db", "sqlite", "/var/lib/hark/index.db"},
		{"file:/var/lib/hark/index.db", "sqlite", "/var/lib/hark/index.db"},
		{"file:data/index.db", "sqlite", "data/index.db"},
		{"/var/lib/hark/index.db", "sqlite", "/var/lib/hark/index.db"},
		{"hark-data/index.db", "sqlite", "hark-data/index.db"},
		{"my index #1 (100%).db", "sqlite", "my index #1 (100%).db"},
		{"", "", ""},
		{"  ", "", ""},
		{"sqlite:", "", ""},
		{"file:index.db?mode=ro", "", ""},
		{"mysql://db/hark", "", ""},
		{"host=db user=hark password=secret dbname=hark", "", ""},
	}
	for _, tt := range tests {
		d, target, err := parseDSN(tt.dsn)
		switch {
		case tt.dialect == "":
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Errorf("parseDSN(%q): got %v, want EINVALID", tt.dsn, err)
			} else if strings.Contains(err.Error(), "secret") {
				t.Errorf("parseDSN(%q): the error shows the password: %v", tt.dsn, err)
			}
		case err != nil:
			t.Errorf("parseDSN(%q): %v", tt.dsn, err)
		case d.name != tt.dialect || target != tt.target:
			t.Errorf("parseDSN(%q) = %s %q, want %s %q", tt.dsn, d.name, target, tt.dialect, tt.target)
		}
	}
}

// TestOpenSQLiteDSNs opens each form of SQLite DSN and checks that the file
// is where the DSN says, whatever characters its name has.
func TestOpenSQLiteDSNs(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ dsn, file string }{
		{filepath.Join(dir, "plain.db"), "plain.db"},
		{"sqlite:" + filepath.Join(dir, "scheme.db"), "scheme.db"},
		{"file:" + filepath.Join(dir, "file.db"), "file.db"},
		{filepath.Join(dir, `it's "odd" #1 ?x=y 100% café.db`), `it's "odd" #1 ?x=y 100% café.db`},
	} {
		db, err := Open(context.Background(), tt.dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", tt.dsn, err)
		}
		if db.Backend() != "sqlite" {
			t.Errorf("Open(%q): backend %s", tt.dsn, db.Backend())
		}
		if err := db.PutRecording(context.Background(), rec("a", "north", "b1", hark.StatusReady, 0)); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := os.Stat(filepath.Join(dir, tt.file)); err != nil {
			t.Errorf("Open(%q): %v", tt.dsn, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		switch name := strings.TrimSuffix(strings.TrimSuffix(e.Name(), "-wal"), "-shm"); name {
		case "plain.db", "scheme.db", "file.db", `it's "odd" #1 ?x=y 100% café.db`:
		default:
			t.Errorf("unexpected file %q", e.Name())
		}
	}
	if _, err := OpenSQLite(context.Background(), ""); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("OpenSQLite(\"\"): got %v, want EINVALID", err)
	}
}

// TestOpenPostgresErrors needs no server: a database that cannot be reached
// is EUNAVAILABLE, a malformed URL EINVALID, and neither shows the password.
func TestOpenPostgresErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for dsn, code := range map[string]string{
		"postgres://hark:s3cret-pw@127.0.0.1:1/hark?connect_timeout=5": hark.EUNAVAILABLE,
		"postgres://hark:s3cret-pw@127.0.0.1:99999/hark":               hark.EINVALID,
		"postgres://hark:s3cret-pw@127.0.0.1/hark?sslmode=bogus":       hark.EINVALID,
	} {
		_, err := Open(ctx, dsn)
		if hark.ErrorCode(err) != code {
			t.Errorf("Open(%s): got %v, want %s", redact(dsn), err, code)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%s): the error shows the password: %v", redact(dsn), err)
		}
	}
}
