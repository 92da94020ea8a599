package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// TestMigrationFiles checks that every dialect's migrations load, and that
// the dialects have the same versions under the same names, so that a
// version means one logical schema everywhere.
func TestMigrationFiles(t *testing.T) {
	var names [][]string
	for _, d := range []*dialect{sqliteDialect, postgresDialect} {
		ms, err := migrations(d)
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		if len(ms) == 0 {
			t.Fatalf("%s: no migrations", d.name)
		}
		var n []string
		for _, m := range ms {
			n = append(n, m.name)
		}
		names = append(names, n)
	}
	if !reflect.DeepEqual(names[0], names[1]) {
		t.Fatalf("sqlite has %v, postgres %v", names[0], names[1])
	}
}

// preMigrationSchema is the schema hark created before migrations were
// tracked.
const preMigrationSchema = `
CREATE TABLE IF NOT EXISTS recordings (
	id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,
	size INTEGER NOT NULL DEFAULT 0, duration REAL NOT NULL DEFAULT 0, channels INTEGER NOT NULL DEFAULT 0,
	sample_rate INTEGER NOT NULL DEFAULT 0, team TEXT NOT NULL DEFAULT '', worker TEXT NOT NULL DEFAULT '',
	meeting_type TEXT NOT NULL DEFAULT '', recorded_on TEXT NOT NULL DEFAULT '', batch TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL, stage TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL, transcript_doc TEXT NOT NULL DEFAULT '',
	annotations_doc TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_batch ON recordings(batch, status);
CREATE INDEX IF NOT EXISTS recordings_team ON recordings(team, recorded_on);
CREATE TABLE IF NOT EXISTS segments (
	recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
	start_s REAL NOT NULL, end_s REAL NOT NULL, speaker TEXT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL,
	confidence REAL NOT NULL, PRIMARY KEY (recording_id, idx)
);
CREATE TABLE IF NOT EXISTS tags (
	recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE, segment INTEGER NOT NULL,
	code TEXT NOT NULL, start_off INTEGER NOT NULL, end_off INTEGER NOT NULL, evidence TEXT NOT NULL,
	confidence REAL NOT NULL, source TEXT NOT NULL, review TEXT NOT NULL, codebook TEXT NOT NULL,
	codebook_version TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_recording ON tags(recording_id, segment);
CREATE INDEX IF NOT EXISTS tags_code ON tags(code);
`

// TestSQLiteAdoptsPreMigrationIndex opens an index written by hark before
// migrations were tracked: its rows stay, and its timestamps become
// sortable.
func TestSQLiteAdoptsPreMigrationIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	old, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(preMigrationSchema); err != nil {
		t.Fatal(err)
	}
	// The old format trimmed trailing zeros, so "b" sorted before "a".
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, created := range map[string]time.Time{"a": at, "b": at.Add(500 * time.Millisecond), "c": at.Add(-time.Second)} {
		r := rec(name, "north", "b1", hark.StatusReady, 0)
		r.CreatedAt, r.UpdatedAt = created, created
		if _, err := old.Exec(`INSERT INTO recordings (id, bucket, key, etag, status, doc, created_at, updated_at, transcript_doc)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ID, r.Bucket, r.Key, r.ETag, r.Status, mustJSON(t, r),
			created.Format(time.RFC3339Nano), created.Format(time.RFC3339Nano), `{"Engine":"sidecar"}`); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.Exec(`INSERT INTO segments VALUES ($1, 0, 0, 1.5, 'S1', 'worker', 'hello', 1)`, recID("a")); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	assertMigrations(t, db)
	list, err := db.Recordings(ctx, hark.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b", "a", "c"}; !reflect.DeepEqual(keys(list), want) {
		t.Fatalf("after migrating: %v, want %v", keys(list), want)
	}
	var created string
	if err := db.db.QueryRow(`SELECT created_at FROM recordings WHERE id = $1`, recID("b")).Scan(&created); err != nil {
		t.Fatal(err)
	}
	if created != "2026-01-02T03:04:05.500000Z" {
		t.Fatalf("created_at %q, want 2026-01-02T03:04:05.500000Z", created)
	}
	s, err := db.Session(ctx, recID("a"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Transcript == nil || len(s.Transcript.Segments) != 1 || s.Transcript.Segments[0].Text != "hello" {
		t.Fatalf("the old transcript: %+v", s.Transcript)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
