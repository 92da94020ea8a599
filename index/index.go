// Package index is the SQL index over the object store: recordings,
// segments and tags, for the pages, the API and reports. It runs on SQLite
// (modernc.org/sqlite, no cgo) and can be rebuilt from the object store at
// any time, since the object store is the system of record.
package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/harkworks/hark"
)

// DB is the index on a SQL database.
type DB struct {
	db *sql.DB
}

var _ hark.Index = (*DB)(nil)

// OpenSQLite opens (creating if needed) the SQLite index at path and brings
// its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	d := &DB{db: db}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

const schema = `
CREATE TABLE IF NOT EXISTS recordings (
	id TEXT PRIMARY KEY,
	bucket TEXT NOT NULL,
	key TEXT NOT NULL,
	etag TEXT NOT NULL,
	size INTEGER NOT NULL DEFAULT 0,
	duration REAL NOT NULL DEFAULT 0,
	channels INTEGER NOT NULL DEFAULT 0,
	sample_rate INTEGER NOT NULL DEFAULT 0,
	team TEXT NOT NULL DEFAULT '',
	worker TEXT NOT NULL DEFAULT '',
	meeting_type TEXT NOT NULL DEFAULT '',
	recorded_on TEXT NOT NULL DEFAULT '',
	batch TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	stage TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0,
	doc TEXT NOT NULL,
	transcript_doc TEXT NOT NULL DEFAULT '',
	annotations_doc TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_batch ON recordings(batch, status);
CREATE INDEX IF NOT EXISTS recordings_team ON recordings(team, recorded_on);
CREATE TABLE IF NOT EXISTS segments (
	recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
	idx INTEGER NOT NULL,
	start_s REAL NOT NULL,
	end_s REAL NOT NULL,
	speaker TEXT NOT NULL,
	role TEXT NOT NULL,
	text TEXT NOT NULL,
	confidence REAL NOT NULL,
	PRIMARY KEY (recording_id, idx)
);
CREATE TABLE IF NOT EXISTS tags (
	recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
	segment INTEGER NOT NULL,
	code TEXT NOT NULL,
	start_off INTEGER NOT NULL,
	end_off INTEGER NOT NULL,
	evidence TEXT NOT NULL,
	confidence REAL NOT NULL,
	source TEXT NOT NULL,
	review TEXT NOT NULL,
	codebook TEXT NOT NULL,
	codebook_version TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_recording ON tags(recording_id, segment);
CREATE INDEX IF NOT EXISTS tags_code ON tags(code);
`

func (d *DB) migrate(ctx context.Context) error {
	for _, stmt := range strings.Split(schema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := d.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// PutRecording inserts or replaces a recording's row.
func (d *DB) PutRecording(ctx context.Context, r *hark.Recording) error {
	doc, err := json.Marshal(r)
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode recording %s", r.ID)
	}
	_, err = d.db.ExecContext(ctx, `
INSERT INTO recordings (id, bucket, key, etag, size, duration, channels, sample_rate, team, worker, meeting_type,
	recorded_on, batch, status, stage, reason, attempts, doc, created_at, updated_at)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)
ON CONFLICT (id) DO UPDATE SET size=excluded.size, duration=excluded.duration, channels=excluded.channels,
	sample_rate=excluded.sample_rate, team=excluded.team, worker=excluded.worker, meeting_type=excluded.meeting_type,
	recorded_on=excluded.recorded_on, batch=excluded.batch, status=excluded.status, stage=excluded.stage,
	reason=excluded.reason, attempts=excluded.attempts, doc=excluded.doc, updated_at=excluded.updated_at`,
		r.ID, r.Bucket, r.Key, r.ETag, r.Size, r.DurationSeconds, r.Channels, r.SampleRate, r.Team, r.Worker, r.MeetingType,
		r.RecordedOn, r.Batch, string(r.Status), string(r.Stage), r.Reason, r.Attempts, string(doc),
		r.CreatedAt.UTC().Format(time.RFC3339Nano), r.UpdatedAt.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return wrapDB(err, "save recording %s", r.ID)
	}
	return nil
}

// Recording returns one recording.
func (d *DB) Recording(ctx context.Context, id string) (*hark.Recording, error) {
	var doc string
	err := d.db.QueryRowContext(ctx, `SELECT doc FROM recordings WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hark.Errorf(hark.ENOTFOUND, "recording %s not found", id)
	}
	if err != nil {
		return nil, wrapDB(err, "read recording %s", id)
	}
	var r hark.Recording
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "decode recording %s", id)
	}
	return &r, nil
}

// Recordings lists recordings, newest first, with their tag counts.
func (d *DB) Recordings(ctx context.Context, f hark.RecordingFilter) ([]hark.RecordingSummary, error) {
	where, args := []string{"1=1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Team != "" {
		add("team = $%d", f.Team)
	}
	if f.Batch != "" {
		add("batch = $%d", f.Batch)
	}
	if f.Status != "" {
		add("status = $%d", string(f.Status))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	rows, err := d.db.QueryContext(ctx, fmt.Sprintf(`SELECT doc FROM recordings WHERE %s ORDER BY created_at DESC, key LIMIT $%d`,
		strings.Join(where, " AND "), len(args)), args...)
	if err != nil {
		return nil, wrapDB(err, "list recordings")
	}
	defer rows.Close()
	var out []hark.RecordingSummary
	byID := map[string]int{}
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, wrapDB(err, "list recordings")
		}
		var s hark.RecordingSummary
		if err := json.Unmarshal([]byte(doc), &s.Recording); err != nil {
			return nil, hark.WrapError(hark.EINTERNAL, err, "decode recording")
		}
		s.TagCounts = map[string]int{}
		byID[s.ID] = len(out)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapDB(err, "list recordings")
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(out))
	ph := make([]string, 0, len(out))
	targs := make([]any, 0, len(out))
	for i, s := range out {
		ids = append(ids, s.ID)
		ph = append(ph, fmt.Sprintf("$%d", i+1))
		targs = append(targs, s.ID)
	}
	trows, err := d.db.QueryContext(ctx, `SELECT recording_id, code, COUNT(*) FROM tags WHERE review <> 'rejected' AND recording_id IN (`+
		strings.Join(ph, ",")+`) GROUP BY recording_id, code`, targs...)
	if err != nil {
		return nil, wrapDB(err, "count tags")
	}
	defer trows.Close()
	for trows.Next() {
		var id, code string
		var n int
		if err := trows.Scan(&id, &code, &n); err != nil {
			return nil, wrapDB(err, "count tags")
		}
		out[byID[id]].TagCounts[code] = n
	}
	return out, wrapDB(trows.Err(), "count tags")
}

// PutTranscript replaces a recording's segments.
func (d *DB) PutTranscript(ctx context.Context, t *hark.Transcript) error {
	doc, err := json.Marshal(struct {
		Engine, Model, Language string
		Audio                   hark.AudioInfo
	}{t.Engine, t.Model, t.Language, t.Audio})
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode transcript %s", t.RecordingID)
	}
	return d.tx(ctx, "save transcript "+t.RecordingID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM segments WHERE recording_id = $1`, t.RecordingID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE recordings SET transcript_doc = $1 WHERE id = $2`, string(doc), t.RecordingID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hark.Errorf(hark.ENOTFOUND, "recording %s not found", t.RecordingID)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO segments (recording_id, idx, start_s, end_s, speaker, role, text, confidence) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range t.Segments {
			if _, err := stmt.ExecContext(ctx, t.RecordingID, s.Index, s.Start, s.End, s.Speaker, string(s.Role), s.Text, s.Confidence); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutAnnotations replaces a recording's tags.
func (d *DB) PutAnnotations(ctx context.Context, a *hark.Annotations) error {
	doc, err := json.Marshal(struct{ Codebook, CodebookVersion, Tagger string }{a.Codebook, a.CodebookVersion, a.Tagger})
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode annotations %s", a.RecordingID)
	}
	return d.tx(ctx, "save tags "+a.RecordingID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE recording_id = $1`, a.RecordingID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE recordings SET annotations_doc = $1 WHERE id = $2`, string(doc), a.RecordingID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return hark.Errorf(hark.ENOTFOUND, "recording %s not found", a.RecordingID)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO tags (recording_id, segment, code, start_off, end_off, evidence, confidence, source, review, codebook, codebook_version) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, t := range a.Tags {
			if _, err := stmt.ExecContext(ctx, a.RecordingID, t.Segment, t.Code, t.Start, t.End, t.Evidence, t.Confidence,
				string(t.Source), string(t.Review), a.Codebook, a.CodebookVersion); err != nil {
				return err
			}
		}
		return nil
	})
}

// Session returns a recording with its transcript and tags, as far as they exist.
func (d *DB) Session(ctx context.Context, id string) (*hark.Session, error) {
	rec, err := d.Recording(ctx, id)
	if err != nil {
		return nil, err
	}
	var tdoc, adoc string
	if err := d.db.QueryRowContext(ctx, `SELECT transcript_doc, annotations_doc FROM recordings WHERE id = $1`, id).Scan(&tdoc, &adoc); err != nil {
		return nil, wrapDB(err, "read session %s", id)
	}
	s := &hark.Session{Recording: rec}
	if tdoc != "" {
		var h struct {
			Engine, Model, Language string
			Audio                   hark.AudioInfo
		}
		if err := json.Unmarshal([]byte(tdoc), &h); err != nil {
			return nil, hark.WrapError(hark.EINTERNAL, err, "decode transcript %s", id)
		}
		t := &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: id, Engine: h.Engine, Model: h.Model, Language: h.Language, Audio: h.Audio, Segments: []hark.Segment{}}
		rows, err := d.db.QueryContext(ctx, `SELECT idx, start_s, end_s, speaker, role, text, confidence FROM segments WHERE recording_id = $1 ORDER BY idx`, id)
		if err != nil {
			return nil, wrapDB(err, "read segments %s", id)
		}
		defer rows.Close()
		for rows.Next() {
			var sg hark.Segment
			var role string
			if err := rows.Scan(&sg.Index, &sg.Start, &sg.End, &sg.Speaker, &role, &sg.Text, &sg.Confidence); err != nil {
				return nil, wrapDB(err, "read segments %s", id)
			}
			sg.Role = hark.Role(role)
			t.Segments = append(t.Segments, sg)
		}
		if err := rows.Err(); err != nil {
			return nil, wrapDB(err, "read segments %s", id)
		}
		s.Transcript = t
	}
	if adoc != "" {
		var h struct{ Codebook, CodebookVersion, Tagger string }
		if err := json.Unmarshal([]byte(adoc), &h); err != nil {
			return nil, hark.WrapError(hark.EINTERNAL, err, "decode annotations %s", id)
		}
		a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: id, Codebook: h.Codebook, CodebookVersion: h.CodebookVersion, Tagger: h.Tagger, Tags: []hark.Tag{}}
		rows, err := d.db.QueryContext(ctx, `SELECT segment, code, start_off, end_off, evidence, confidence, source, review FROM tags WHERE recording_id = $1 ORDER BY segment, start_off, code`, id)
		if err != nil {
			return nil, wrapDB(err, "read tags %s", id)
		}
		defer rows.Close()
		for rows.Next() {
			var t hark.Tag
			var src, rev string
			if err := rows.Scan(&t.Segment, &t.Code, &t.Start, &t.End, &t.Evidence, &t.Confidence, &src, &rev); err != nil {
				return nil, wrapDB(err, "read tags %s", id)
			}
			t.Source, t.Review = hark.Source(src), hark.Review(rev)
			a.Tags = append(a.Tags, t)
		}
		if err := rows.Err(); err != nil {
			return nil, wrapDB(err, "read tags %s", id)
		}
		s.Annotations = a
	}
	return s, nil
}

// StatusCounts counts recordings per status.
func (d *DB) StatusCounts(ctx context.Context, batch string) (map[hark.Status]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM recordings WHERE $1 = '' OR batch = $1 GROUP BY status`, batch)
	if err != nil {
		return nil, wrapDB(err, "count recordings")
	}
	defer rows.Close()
	out := map[hark.Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, wrapDB(err, "count recordings")
		}
		out[hark.Status(st)] = n
	}
	return out, wrapDB(rows.Err(), "count recordings")
}

// TagCounts counts tags per code over ready recordings, excluding rejected tags.
func (d *DB) TagCounts(ctx context.Context, batch string) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT t.code, COUNT(*) FROM tags t JOIN recordings r ON r.id = t.recording_id
WHERE r.status = 'ready' AND t.review <> 'rejected' AND ($1 = '' OR r.batch = $1) GROUP BY t.code`, batch)
	if err != nil {
		return nil, wrapDB(err, "count tags")
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return nil, wrapDB(err, "count tags")
		}
		out[code] = n
	}
	return out, wrapDB(rows.Err(), "count tags")
}

func (d *DB) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return wrapDB(err, "%s", what)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		var he *hark.Error
		if errors.As(err, &he) {
			return err
		}
		return wrapDB(err, "%s", what)
	}
	return wrapDB(tx.Commit(), "%s", what)
}

func wrapDB(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return hark.WrapError(hark.EUNAVAILABLE, err, "index: "+format, args...)
}
