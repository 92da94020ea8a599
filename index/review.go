package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/harkworks/hark"
)

// tagColumns are the columns a tag row is written with.
var tagColumns = []string{"recording_id", "segment", "code", "start_off", "end_off", "evidence", "confidence", "source",
	"review", "codebook", "codebook_version", "tag_key", "orig_code", "reviewed_by", "reviewed_at", "moment"}

// writeTags replaces a recording's tags with the machine's tags with the
// review applied, and the coaches' own tags.
func (d *DB) writeTags(ctx context.Context, tx *sql.Tx, id, codebook, version string, machine []hark.Tag, review *hark.ReviewDoc) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE recording_id = $1`, params(id)...); err != nil {
		return err
	}
	tags := review.Apply(machine)
	rows := make([][]any, len(tags))
	for i, t := range tags {
		rows[i] = d.tagRow(id, codebook, version, t)
	}
	return d.insertRows(ctx, tx, "tags", tagColumns, rows)
}

// readReview returns the recording's review document, or an empty one.
func readReview(ctx context.Context, tx *sql.Tx, id string) (*hark.ReviewDoc, error) {
	var doc string
	err := tx.QueryRowContext(ctx, `SELECT doc FROM reviews WHERE recording_id = $1`, params(id)...).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return &hark.ReviewDoc{Schema: hark.SchemaVersion, RecordingID: id, Decisions: []hark.Decision{}, Added: []hark.Tag{}, Notes: []hark.Note{}}, nil
	}
	if err != nil {
		return nil, err
	}
	var r hark.ReviewDoc
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "decode review %s", id)
	}
	return &r, nil
}

// machineTags reads the recording's machine tags as the tagger made them:
// coach tags left out, changed codes put back.
func machineTags(ctx context.Context, tx *sql.Tx, id string) ([]hark.Tag, error) {
	rows, err := tx.QueryContext(ctx, `SELECT segment, code, orig_code, start_off, end_off, evidence, confidence, source FROM tags
WHERE recording_id = $1 AND source <> 'coach' ORDER BY segment, start_off, end_off, code`, params(id)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hark.Tag
	for rows.Next() {
		var t hark.Tag
		var orig, src string
		if err := rows.Scan(&t.Segment, &t.Code, &orig, &t.Start, &t.End, &t.Evidence, &t.Confidence, &src); err != nil {
			return nil, err
		}
		if orig != "" {
			t.Code = orig
		}
		t.Source = hark.Source(src)
		out = append(out, t)
	}
	return out, rows.Err()
}

// Review returns a recording's review document; a recording nobody has
// reviewed has an empty one at version 0. ENOTFOUND for an unknown recording.
func (d *DB) Review(ctx context.Context, id string) (*hark.ReviewDoc, error) {
	var r *hark.ReviewDoc
	err := d.read(ctx, "read review "+id, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recordings WHERE id = $1`, params(id)...).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound(id)
		}
		var err error
		r, err = readReview(ctx, tx, id)
		return err
	})
	return r, err
}

// PutReview saves a review document as version prev+1, only if the stored
// version is still prev (ECONFLICT otherwise: the change was made on a stale
// view), and applies it to the recording's tags.
func (d *DB) PutReview(ctx context.Context, r *hark.ReviewDoc, prev int) error {
	r.Version = prev + 1
	r.Schema = hark.SchemaVersion
	doc, err := json.Marshal(r)
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode review %s", r.RecordingID)
	}
	return d.tx(ctx, "save review "+r.RecordingID, func(tx *sql.Tx) error { return d.putReview(ctx, tx, r, prev, doc) })
}

// putReview is PutReview within tx, doc being r encoded.
func (d *DB) putReview(ctx context.Context, tx *sql.Tx, r *hark.ReviewDoc, prev int, doc []byte) error {
	var adoc string
	err := tx.QueryRowContext(ctx, `SELECT annotations_doc FROM recordings WHERE id = $1`, params(r.RecordingID)...).Scan(&adoc)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(r.RecordingID)
	}
	if err != nil {
		return err
	}
	if err := lockRecording(ctx, tx, `UPDATE recordings SET review_state = $1 WHERE id = $2`, string(r.State), r.RecordingID, 0); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO reviews (recording_id, version, doc, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (recording_id) DO UPDATE SET version = excluded.version, doc = excluded.doc, updated_at = excluded.updated_at
WHERE reviews.version = $5`, params(r.RecordingID, r.Version, string(doc), d.dialect.time(r.UpdatedAt), prev)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return hark.Errorf(hark.ECONFLICT, "someone else changed this session's review since you loaded it; reload the page to see their changes (nothing of yours was lost: redo the change after reloading)")
	}
	if err := putAnswers(ctx, tx, r.RecordingID, r.Suggestions); err != nil {
		return err
	}
	if adoc == "" {
		return nil // no machine tags yet; coach tags are written when annotations arrive
	}
	var h annotationsHeader
	if err := json.Unmarshal([]byte(adoc), &h); err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "decode annotations %s", r.RecordingID)
	}
	machine, err := machineTags(ctx, tx, r.RecordingID)
	if err != nil {
		return err
	}
	return d.writeTags(ctx, tx, r.RecordingID, h.Codebook, h.CodebookVersion, machine, r)
}

// nullTime scans a nullable timestamp stored as text (SQLite) or TIMESTAMPTZ
// (PostgreSQL).
type nullTime struct {
	Time  time.Time
	Valid bool
}

func (n *nullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		n.Valid = false
		return nil
	case time.Time:
		n.Time, n.Valid = x.UTC(), true
		return nil
	case string:
		return n.parse(x)
	case []byte:
		return n.parse(string(x))
	}
	return fmt.Errorf("timestamp of type %T", v)
}

func (n *nullTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	n.Time, n.Valid = t.UTC(), true
	return nil
}
