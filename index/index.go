package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/harkworks/hark"
)

// DB is the index on a SQL database, SQLite or PostgreSQL. It is safe for
// concurrent use.
type DB struct {
	db      *sql.DB
	dialect *dialect
}

var _ hark.Index = (*DB)(nil)

// Open opens the index named by dsn and brings its schema up to date:
//
//   - postgres://… or postgresql://… is a PostgreSQL database (any pgx URL
//     parameter works, e.g. sslmode, search_path);
//   - sqlite:PATH, file:PATH or a plain PATH is an SQLite file, created if
//     missing.
//
// A malformed DSN is EINVALID; a database that cannot be reached is
// EUNAVAILABLE. Errors never show a password.
func Open(ctx context.Context, dsn string) (*DB, error) {
	d, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if d == postgresDialect {
		return openPostgres(ctx, target)
	}
	return OpenSQLite(ctx, target)
}

// OpenSQLite opens (creating if needed) the SQLite index at path and brings
// its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, hark.Errorf(hark.EINVALID, "open index: no SQLite file given")
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "open index %s", path)
	}
	if err := useWAL(ctx, db); err != nil {
		db.Close()
		return nil, wrapDB(err, "open %s", path)
	}
	return open(ctx, db, sqliteDialect, path)
}

// openPostgres opens the PostgreSQL index at the URL dsn through pgx's
// database/sql driver.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "open index %s", redact(dsn))
	}
	return open(ctx, stdlib.OpenDB(*cfg), postgresDialect, redact(dsn))
}

// open sizes the pool and migrates; name is what errors call the database.
func open(ctx context.Context, db *sql.DB, dl *dialect, name string) (*DB, error) {
	db.SetMaxOpenConns(dl.maxOpenConns)
	db.SetMaxIdleConns(dl.maxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	d := &DB{db: db, dialect: dl}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		var he *hark.Error
		if errors.As(err, &he) {
			return nil, &hark.Error{Code: he.Code, Message: "open index " + name + ": " + he.Message, Err: he.Err}
		}
		return nil, wrapDB(err, "open %s", name)
	}
	return d, nil
}

// Backend names the database the index is on: "sqlite" or "postgres".
func (d *DB) Backend() string { return d.dialect.name }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// PutRecording inserts a recording's row, or replaces it if the recording is
// already there. Its transcript and tags are kept.
func (d *DB) PutRecording(ctx context.Context, r *hark.Recording) error {
	return d.upsertRecording(ctx, r, "recordings.lease <= excluded.lease", nil,
		"recording %s was taken over by a newer attempt; this one (lease %d) stops", r.ID, r.Lease)
}

// ClaimRecording saves r only if the stored recording's lease is still
// prev (or there is none and prev is 0): the compare-and-set that lets one
// worker at a time own a recording. Otherwise it returns ECONFLICT.
func (d *DB) ClaimRecording(ctx context.Context, r *hark.Recording, prev int) error {
	return d.upsertRecording(ctx, r, "recordings.lease = $23", []any{prev},
		"recording %s was taken on by another worker first (lease %d)", r.ID, prev+1)
}

func (d *DB) upsertRecording(ctx context.Context, r *hark.Recording, where string, extra []any, conflict string, cargs ...any) error {
	if r.ID == "" {
		return hark.Errorf(hark.EINVALID, "save recording: it has no id")
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode recording %s", r.ID)
	}
	args := []any{r.ID, r.Bucket, r.Key, r.ETag, r.Size, r.DurationSeconds, r.Channels, r.SampleRate, r.Team, r.Worker,
		r.MeetingType, r.RecordedOn, r.Batch, string(r.Status), string(r.Stage), r.Reason, r.Attempts, string(doc),
		d.dialect.time(r.CreatedAt), d.dialect.time(r.UpdatedAt), r.Lease, r.Family}
	// Not for an erased recording. The probe row in forgotten makes this
	// and a forget of the same recording take turns on its key: a forget
	// committed first leaves its row, and the probe finds it; a forget that
	// comes after waits for this to commit, then deletes what it wrote.
	hash := hark.ErasedHash(r.ID)
	return d.tx(ctx, "save recording "+r.ID, func(tx *sql.Tx) error {
		probe, err := tx.ExecContext(ctx, `INSERT INTO forgotten (id_hash, at) VALUES ($1, '') ON CONFLICT (id_hash) DO NOTHING`, params(hash)...)
		if err != nil {
			return err
		}
		if n, err := probe.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return erasedError(true, r.ID)
		}
		res, err := tx.ExecContext(ctx, `
INSERT INTO recordings (id, bucket, key, etag, size, duration, channels, sample_rate, team, worker, meeting_type,
	recorded_on, batch, status, stage, reason, attempts, doc, created_at, updated_at, lease, family)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
ON CONFLICT (id) DO UPDATE SET size = excluded.size, duration = excluded.duration, channels = excluded.channels,
	sample_rate = excluded.sample_rate, team = excluded.team, worker = excluded.worker, meeting_type = excluded.meeting_type,
	recorded_on = excluded.recorded_on, batch = excluded.batch, status = excluded.status, stage = excluded.stage,
	reason = excluded.reason, attempts = excluded.attempts, doc = excluded.doc, updated_at = excluded.updated_at,
	lease = excluded.lease, family = excluded.family
WHERE `+where, params(append(args, extra...)...)...)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM forgotten WHERE id_hash = $1 AND at = ''`, params(hash)...); err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return hark.Errorf(hark.ECONFLICT, conflict, cargs...)
		}
		return nil
	})
}

// erasedError is the error for a write to recording id when gone.
func erasedError(gone bool, id string) error {
	if !gone {
		return nil
	}
	return hark.Erased("recording " + id)
}

// Recording returns one recording, or ENOTFOUND.
func (d *DB) Recording(ctx context.Context, id string) (*hark.Recording, error) {
	var doc string
	err := d.db.QueryRowContext(ctx, `SELECT doc FROM recordings WHERE id = $1`, params(id)...).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, wrapDB(err, "read recording %s", id)
	}
	return decodeRecording(id, doc)
}

// defaultLimit is how many recordings Recordings returns when the filter
// sets no limit.
const defaultLimit = 1000

// Recordings lists recordings, newest first, with their tag counts (rejected
// tags not counted). It returns an empty list, not an error, when nothing
// matches.
func (d *DB) Recordings(ctx context.Context, f hark.RecordingFilter) ([]hark.RecordingSummary, error) {
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v string) {
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
	if f.Worker != "" {
		add("worker = $%d", f.Worker)
	}
	if f.Family != "" {
		add("family = $%d", f.Family)
	}
	if f.MeetingType != "" {
		add("meeting_type = $%d", f.MeetingType)
	}
	if f.From != "" {
		add("recorded_on >= $%d", f.From)
	}
	if f.To != "" {
		add("recorded_on <= $%d", f.To)
	}
	if f.Code != "" {
		add("id IN (SELECT recording_id FROM tags WHERE code = $%d AND review <> 'rejected')", f.Code)
	}
	if f.Teams != nil {
		if len(f.Teams) == 0 {
			return []hark.RecordingSummary{}, nil
		}
		ph := make([]string, len(f.Teams))
		for i, t := range f.Teams {
			args = append(args, t)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		where = append(where, "team IN ("+strings.Join(ph, ", ")+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	args = append(args, limit)
	list := fmt.Sprintf(`SELECT doc FROM recordings WHERE %s ORDER BY created_at DESC, key, id LIMIT $%d`,
		strings.Join(where, " AND "), len(args))

	out := []hark.RecordingSummary{}
	err := d.read(ctx, "list recordings", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, list, params(args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var doc string
			if err := rows.Scan(&doc); err != nil {
				return err
			}
			r, err := decodeRecording("", doc)
			if err != nil {
				return err
			}
			out = append(out, hark.RecordingSummary{Recording: *r, TagCounts: map[string]int{}})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		byID := make(map[string]int, len(out))
		ph := make([]string, len(out))
		ids := make([]any, len(out))
		for i, s := range out {
			byID[s.ID] = i
			ph[i] = fmt.Sprintf("$%d", i+1)
			ids[i] = s.ID
		}
		rows, err = tx.QueryContext(ctx, `SELECT recording_id, code, review, COUNT(*) FROM tags
WHERE recording_id IN (`+strings.Join(ph, ", ")+`) GROUP BY recording_id, code, review`, params(ids...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, code, review string
			var n int
			if err := rows.Scan(&id, &code, &review, &n); err != nil {
				return err
			}
			i, ok := byID[id]
			if !ok {
				continue
			}
			out[i].Tags += n
			if review != string(hark.ReviewPending) {
				out[i].Reviewed += n
			}
			if review != string(hark.ReviewRejected) {
				out[i].TagCounts[code] += n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// transcriptHeader is what the index keeps of a transcript besides its
// segments.
type transcriptHeader struct {
	Engine, Model, Language string
	Audio                   hark.AudioInfo
	Speakers                *hark.SpeakerInfo `json:",omitempty"`
}

// annotationsHeader is what the index keeps of annotations besides the tags.
type annotationsHeader struct {
	Codebook, CodebookVersion, Tagger string
	Usage                             *hark.TaggerUsage    `json:",omitempty"`
	Metrics                           *hark.SessionMetrics `json:",omitempty"`
	Moments                           []hark.Moment        `json:",omitempty"`
	Family                            *hark.FamilyLens     `json:",omitempty"`
}

// headerOf returns what the index keeps of a's header.
func headerOf(a *hark.Annotations) annotationsHeader {
	return annotationsHeader{a.Codebook, a.CodebookVersion, a.Tagger, a.Usage, a.Metrics, a.Moments, a.Family}
}

// PutTranscript replaces a recording's segments with the transcript's. It
// returns ENOTFOUND for a recording the index does not have, and EINVALID
// for a transcript with two segments of the same index.
func (d *DB) PutTranscript(ctx context.Context, t *hark.Transcript) error {
	seen := make(map[int]bool, len(t.Segments))
	rows := make([][]any, len(t.Segments))
	for i, s := range t.Segments {
		if seen[s.Index] {
			return hark.Errorf(hark.EINVALID, "transcript %s: segment index %d appears twice", t.RecordingID, s.Index)
		}
		seen[s.Index] = true
		rows[i] = []any{t.RecordingID, s.Index, s.Start, s.End, s.Speaker, string(s.Role), s.Text, s.Confidence}
	}
	doc, err := json.Marshal(transcriptHeader{t.Engine, t.Model, t.Language, t.Audio, t.Speakers})
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode transcript %s", t.RecordingID)
	}
	return d.tx(ctx, "save transcript "+t.RecordingID, func(tx *sql.Tx) error {
		// The recording's row first: it is the existence check, and its row
		// lock makes concurrent replacements of one recording's segments
		// take turns (on PostgreSQL a DELETE alone would miss rows another
		// transaction is inserting).
		if err := lockRecording(ctx, tx, `UPDATE recordings SET transcript_doc = $1 WHERE id = $2`, string(doc), t.RecordingID, t.Lease); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM segments WHERE recording_id = $1`, params(t.RecordingID)...); err != nil {
			return err
		}
		return d.insertRows(ctx, tx, "segments",
			[]string{"recording_id", "idx", "start_s", "end_s", "speaker", "role", "text", "confidence"}, rows)
	})
}

// PutAnnotations replaces a recording's tags with the annotations'. It
// returns ENOTFOUND for a recording the index does not have.
func (d *DB) PutAnnotations(ctx context.Context, a *hark.Annotations) error {
	doc, err := json.Marshal(headerOf(a))
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode annotations %s", a.RecordingID)
	}
	return d.tx(ctx, "save tags "+a.RecordingID, func(tx *sql.Tx) error {
		// The recording's row first, as in PutTranscript.
		if err := lockRecording(ctx, tx, `UPDATE recordings SET annotations_doc = $1 WHERE id = $2`, string(doc), a.RecordingID, a.Lease); err != nil {
			return err
		}
		if err := putFamily(ctx, tx, a.RecordingID, a.Family, a.Moments); err != nil {
			return err
		}
		review, err := readReview(ctx, tx, a.RecordingID)
		if err != nil {
			return err
		}
		var machine []hark.Tag
		for _, t := range a.Tags {
			if t.Source != hark.SourceCoach {
				machine = append(machine, t)
			}
		}
		return d.writeTags(ctx, tx, a.RecordingID, a.Codebook, a.CodebookVersion, machine, review)
	})
}

// lockRecording runs update, an UPDATE of one recording's row by id, and
// returns ENOTFOUND when there is no such row. With lease > 0 the row must
// also still hold that lease, else it returns ECONFLICT: a later attempt
// owns the recording.
func lockRecording(ctx context.Context, tx *sql.Tx, update, doc, id string, lease int) error {
	args := []any{doc, id}
	if lease > 0 {
		update += ` AND lease = $3`
		args = append(args, lease)
	}
	res, err := tx.ExecContext(ctx, update, params(args...)...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	var cur int
	switch err := tx.QueryRowContext(ctx, `SELECT lease FROM recordings WHERE id = $1`, params(id)...).Scan(&cur); {
	case errors.Is(err, sql.ErrNoRows):
		if gone, err := erasedRecording(ctx, tx, id); err != nil {
			return err
		} else if gone {
			return erasedError(true, id)
		}
		return notFound(id)
	case err != nil:
		return err
	}
	return hark.Errorf(hark.ECONFLICT, "recording %s was taken over (lease %d); the results made under lease %d are dropped", id, cur, lease)
}

// insertBatch is how many rows one INSERT statement carries: few round
// trips for a long transcript, and far below either database's limit on
// parameters.
const insertBatch = 100

// insertRows inserts rows into table, insertBatch rows a statement.
func (d *DB) insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	for len(rows) > 0 {
		n := min(len(rows), insertBatch)
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, n*len(cols))
		for i, row := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, v)
				fmt.Fprintf(&b, d.dialect.param, len(args))
			}
			b.WriteByte(')')
		}
		if _, err := tx.ExecContext(ctx, b.String(), params(args...)...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// Session returns a recording with its transcript and tags, as far as they
// exist, read from one snapshot; ENOTFOUND for an unknown recording.
func (d *DB) Session(ctx context.Context, id string) (*hark.Session, error) {
	var s *hark.Session
	err := d.read(ctx, "read session "+id, func(tx *sql.Tx) error {
		var doc, tdoc, adoc string
		err := tx.QueryRowContext(ctx, `SELECT doc, transcript_doc, annotations_doc FROM recordings WHERE id = $1`, params(id)...).Scan(&doc, &tdoc, &adoc)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		rec, err := decodeRecording(id, doc)
		if err != nil {
			return err
		}
		s = &hark.Session{Recording: rec}
		if tdoc != "" {
			if s.Transcript, err = readTranscript(ctx, tx, id, tdoc); err != nil {
				return err
			}
		}
		if adoc != "" {
			if s.Annotations, err = readAnnotations(ctx, tx, id, adoc); err != nil {
				return err
			}
		}
		s.Review, err = readReview(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func readTranscript(ctx context.Context, tx *sql.Tx, id, doc string) (*hark.Transcript, error) {
	var h transcriptHeader
	if err := json.Unmarshal([]byte(doc), &h); err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "decode transcript %s", id)
	}
	t := &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: id, Engine: h.Engine, Model: h.Model,
		Language: h.Language, Audio: h.Audio, Speakers: h.Speakers, Segments: []hark.Segment{}}
	rows, err := tx.QueryContext(ctx, `SELECT idx, start_s, end_s, speaker, role, text, confidence FROM segments
WHERE recording_id = $1 ORDER BY idx`, params(id)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sg hark.Segment
		var role string
		if err := rows.Scan(&sg.Index, &sg.Start, &sg.End, &sg.Speaker, &role, &sg.Text, &sg.Confidence); err != nil {
			return nil, err
		}
		sg.Role = hark.Role(role)
		t.Segments = append(t.Segments, sg)
	}
	return t, rows.Err()
}

func readAnnotations(ctx context.Context, tx *sql.Tx, id, doc string) (*hark.Annotations, error) {
	var h annotationsHeader
	if err := json.Unmarshal([]byte(doc), &h); err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "decode annotations %s", id)
	}
	a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: id, Codebook: h.Codebook,
		CodebookVersion: h.CodebookVersion, Tagger: h.Tagger, Usage: h.Usage, Metrics: h.Metrics,
		Moments: h.Moments, Family: h.Family, Tags: []hark.Tag{}}
	rows, err := tx.QueryContext(ctx, `SELECT segment, code, start_off, end_off, evidence, confidence, source, review,
	tag_key, orig_code, reviewed_by, reviewed_at, moment FROM tags
WHERE recording_id = $1 ORDER BY segment, start_off, code, end_off, source, review`, params(id)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t hark.Tag
		var src, rev string
		var at nullTime
		var moment int
		if err := rows.Scan(&t.Segment, &t.Code, &t.Start, &t.End, &t.Evidence, &t.Confidence, &src, &rev,
			&t.Key, &t.OrigCode, &t.ReviewedBy, &at, &moment); err != nil {
			return nil, err
		}
		t.Source, t.Review, t.Moment = hark.Source(src), hark.Review(rev), moment != 0
		if at.Valid {
			t.ReviewedAt = &at.Time
		}
		a.Tags = append(a.Tags, t)
	}
	return a, rows.Err()
}

// StatusCounts counts the recordings f selects per status.
func (d *DB) StatusCounts(ctx context.Context, f hark.CountFilter) (map[hark.Status]int, error) {
	out := map[hark.Status]int{}
	where, args, none := countWhere(f, "")
	if none {
		return out, nil
	}
	q := `SELECT status, COUNT(*) FROM recordings` + where + ` GROUP BY status`
	err := d.counts(ctx, "count recordings", q, args, func(k string, n int) { out[hark.Status(k)] = n })
	return out, err
}

// TagCounts counts tags per code over the ready recordings f selects,
// excluding rejected tags.
func (d *DB) TagCounts(ctx context.Context, f hark.CountFilter) (map[string]int, error) {
	out := map[string]int{}
	where, args, none := countWhere(f, "r.")
	if none {
		return out, nil
	}
	if where == "" {
		where = " WHERE "
	} else {
		where += " AND "
	}
	q := `SELECT t.code, COUNT(*) FROM tags t JOIN recordings r ON r.id = t.recording_id` + where +
		`r.status = 'ready' AND t.review <> 'rejected' GROUP BY t.code`
	err := d.counts(ctx, "count tags", q, args, func(k string, n int) { out[k] = n })
	return out, err
}

// countWhere is the WHERE clause (with its leading space, or "") and the
// arguments that select f's recordings, their columns prefixed by col;
// none is true when f can select nothing (an empty team list). The batch
// is a plain equality rather than one statement that also matches an
// empty batch, which would keep a prepared plan from using the batch
// index.
func countWhere(f hark.CountFilter, col string) (where string, args []any, none bool) {
	var conds []string
	if f.Batch != "" {
		args = append(args, f.Batch)
		conds = append(conds, fmt.Sprintf("%sbatch = $%d", col, len(args)))
	}
	if f.Teams != nil {
		if len(f.Teams) == 0 {
			return "", nil, true
		}
		ph := make([]string, len(f.Teams))
		for i, t := range f.Teams {
			args = append(args, t)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		conds = append(conds, col+"team IN ("+strings.Join(ph, ", ")+")")
	}
	if len(conds) == 0 {
		return "", nil, false
	}
	return " WHERE " + strings.Join(conds, " AND "), params(args...), false
}

// counts runs a query of (key, count) rows and hands each row to fn.
func (d *DB) counts(ctx context.Context, what, q string, args []any, fn func(string, int)) error {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return wrapDB(err, "%s", what)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return wrapDB(err, "%s", what)
		}
		fn(k, n)
	}
	return wrapDB(rows.Err(), "%s", what)
}

// tx runs fn in a write transaction and commits it if fn returns nil.
func (d *DB) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	return d.inTx(ctx, nil, what, fn)
}

// read runs fn in a read-only transaction on one snapshot.
func (d *DB) read(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	return d.inTx(ctx, &d.dialect.readTx, what, fn)
}

func (d *DB) inTx(ctx context.Context, opts *sql.TxOptions, what string, fn func(*sql.Tx) error) error {
	tx, err := d.db.BeginTx(ctx, opts)
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

func decodeRecording(id, doc string) (*hark.Recording, error) {
	var r hark.Recording
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "decode recording %s", id)
	}
	return &r, nil
}

func notFound(id string) error {
	return hark.Errorf(hark.ENOTFOUND, "recording %s not found", id)
}

// params returns args with every string made storable in a text column on
// both databases: invalid UTF-8 becomes U+FFFD byte by byte, as
// encoding/json does when the object store's documents are written, and NUL,
// which PostgreSQL text cannot hold, becomes U+FFFD too.
func params(args ...any) []any {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = storable(s)
		}
	}
	return args
}

func storable(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// wrapDB makes a database error an EUNAVAILABLE hark error, since the usual
// cause is a database that is down or busy.
func wrapDB(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return hark.WrapError(hark.EUNAVAILABLE, err, "index: "+format, args...)
}

// Ready reports whether the database answers.
func (d *DB) Ready(ctx context.Context) error {
	return wrapDB(d.db.PingContext(ctx), "index database")
}
