package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"

	"github.com/harkworks/hark"
)

// MarkDoubleCoding marks a session for double coding, or changes its
// coders; a settled one is not marked again (ECONFLICT). ENOTFOUND for an
// unknown recording.
func (d *DB) MarkDoubleCoding(ctx context.Context, dc *hark.DoubleCoding) error {
	if err := hark.CheckDoubleCoding(dc); err != nil {
		return err
	}
	doc, err := json.Marshal(dc)
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode the double coding of %s", dc.RecordingID)
	}
	return d.tx(ctx, "mark "+dc.RecordingID+" for double coding", func(tx *sql.Tx) error {
		if err := recordingExists(ctx, tx, dc.RecordingID); err != nil {
			return err
		}
		old, err := readDoubleCoding(ctx, tx, dc.RecordingID)
		if err != nil && hark.ErrorCode(err) != hark.ENOTFOUND {
			return err
		}
		if old != nil && !old.Blind() {
			return hark.Errorf(hark.ECONFLICT, "%s was double-coded and settled on %s: its coding is done", dc.RecordingID, old.SettledAt.Format("2006-01-02"))
		}
		if old != nil {
			// A coder left out who has begun their review would leave it
			// behind, unseen: say so instead.
			for _, c := range old.Coders {
				if dc.Codes(c) {
					continue
				}
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM coder_reviews WHERE recording_id = $1 AND coder = $2`, params(dc.RecordingID, c)...).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					return hark.Errorf(hark.ECONFLICT, "%s has begun coding %s: keep them among its coders, or take the session out of double coding first (hark double-code unmark, which drops every coder's review of it)", c, dc.RecordingID)
				}
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO double_coding (recording_id, doc) VALUES ($1, $2)
ON CONFLICT (recording_id) DO UPDATE SET doc = excluded.doc`, params(dc.RecordingID, string(doc))...)
		return err
	})
}

// UnmarkDoubleCoding takes a session out of double coding, with the
// coders' reviews of it; a settled one stays (ECONFLICT), as its figures
// stand. Unmarking a session that is not marked is not an error.
func (d *DB) UnmarkDoubleCoding(ctx context.Context, id string) error {
	return d.tx(ctx, "unmark "+id, func(tx *sql.Tx) error {
		old, err := readDoubleCoding(ctx, tx, id)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if !old.Blind() {
			return hark.Errorf(hark.ECONFLICT, "%s was double-coded and settled: its coding stands", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM coder_reviews WHERE recording_id = $1`, params(id)...); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM double_coding WHERE recording_id = $1`, params(id)...)
		return err
	})
}

// DoubleCoding returns a session's double-coding mark; ENOTFOUND when it
// is not marked.
func (d *DB) DoubleCoding(ctx context.Context, id string) (*hark.DoubleCoding, error) {
	var dc *hark.DoubleCoding
	err := d.read(ctx, "read the double coding of "+id, func(tx *sql.Tx) error {
		var err error
		dc, err = readDoubleCoding(ctx, tx, id)
		return err
	})
	return dc, err
}

// DoubleCoded returns the marks of the double-coded sessions of the given
// teams (every team when teams is nil), oldest mark first.
func (d *DB) DoubleCoded(ctx context.Context, teams []string) ([]*hark.DoubleCoding, error) {
	var out []*hark.DoubleCoding
	err := d.read(ctx, "list double-coded sessions", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT r.team, c.doc FROM double_coding c JOIN recordings r ON r.id = c.recording_id ORDER BY c.recording_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var team, doc string
			if err := rows.Scan(&team, &doc); err != nil {
				return err
			}
			if teams != nil && !slices.Contains(teams, team) {
				continue
			}
			var dc hark.DoubleCoding
			if err := json.Unmarshal([]byte(doc), &dc); err != nil {
				return hark.WrapError(hark.EINTERNAL, err, "decode a double coding")
			}
			out = append(out, &dc)
		}
		return rows.Err()
	})
	sortByMark(out)
	return out, err
}

// CoderReview returns one coder's independent review of a session; one the
// coder has not started is empty, at version 0.
func (d *DB) CoderReview(ctx context.Context, id, coder string) (*hark.ReviewDoc, error) {
	var r *hark.ReviewDoc
	err := d.read(ctx, "read "+coder+"'s review of "+id, func(tx *sql.Tx) error {
		if err := recordingExists(ctx, tx, id); err != nil {
			return err
		}
		var doc string
		err := tx.QueryRowContext(ctx, `SELECT doc FROM coder_reviews WHERE recording_id = $1 AND coder = $2`, params(id, coder)...).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			r = &hark.ReviewDoc{Schema: hark.SchemaVersion, RecordingID: id, Coder: coder, Decisions: []hark.Decision{}, Added: []hark.Tag{}, Notes: []hark.Note{}}
			return nil
		}
		if err != nil {
			return err
		}
		r = &hark.ReviewDoc{}
		if err := json.Unmarshal([]byte(doc), r); err != nil {
			return hark.WrapError(hark.EINTERNAL, err, "decode %s's review of %s", coder, id)
		}
		return nil
	})
	return r, err
}

// CoderReviews returns every coder's review of a session, by coder name.
func (d *DB) CoderReviews(ctx context.Context, id string) ([]*hark.ReviewDoc, error) {
	var out []*hark.ReviewDoc
	err := d.read(ctx, "read the coders' reviews of "+id, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT doc FROM coder_reviews WHERE recording_id = $1 ORDER BY coder`, params(id)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var doc string
			if err := rows.Scan(&doc); err != nil {
				return err
			}
			var r hark.ReviewDoc
			if err := json.Unmarshal([]byte(doc), &r); err != nil {
				return hark.WrapError(hark.EINTERNAL, err, "decode a coder's review of %s", id)
			}
			out = append(out, &r)
		}
		return rows.Err()
	})
	return out, err
}

// PutCoderReview saves a coder's review (r.Coder) as version prev+1, only
// if the stored version is still prev (ECONFLICT otherwise). It never
// touches the session's own review or its tags. The session must be
// marked for double coding with r.Coder among its coders, and not
// settled (EINVALID otherwise).
func (d *DB) PutCoderReview(ctx context.Context, r *hark.ReviewDoc, prev int) error {
	r.Version = prev + 1
	r.Schema = hark.SchemaVersion
	doc, err := json.Marshal(r)
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode %s's review of %s", r.Coder, r.RecordingID)
	}
	return d.tx(ctx, "save "+r.Coder+"'s review of "+r.RecordingID, func(tx *sql.Tx) error {
		dc, err := readDoubleCoding(ctx, tx, r.RecordingID)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			return hark.Errorf(hark.EINVALID, "%s is not marked for double coding", r.RecordingID)
		}
		if err != nil {
			return err
		}
		if !dc.Codes(r.Coder) {
			return hark.Errorf(hark.EINVALID, "%s is not one of the coders of %s", r.Coder, r.RecordingID)
		}
		if !dc.Blind() {
			return hark.Errorf(hark.EINVALID, "the double coding of %s was settled: the coders' reviews are kept as they were", r.RecordingID)
		}
		if all, err := allComplete(ctx, tx, dc); err != nil {
			return err
		} else if all {
			return hark.Errorf(hark.EINVALID, "every coder of %s has completed their review, which the reconciliation now shows side by side: the reviews are frozen until it is settled", r.RecordingID)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO coder_reviews (recording_id, coder, version, state, doc, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (recording_id, coder) DO UPDATE SET version = excluded.version, state = excluded.state, doc = excluded.doc, updated_at = excluded.updated_at
WHERE coder_reviews.version = $7`, params(r.RecordingID, r.Coder, r.Version, string(r.State), string(doc), d.dialect.time(r.UpdatedAt), prev)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return hark.Errorf(hark.ECONFLICT, "your review of this session changed since you loaded it (in another window?): reload the page and redo the change")
		}
		return nil
	})
}

// SettleDoubleCoding ends the double coding of a session, in one
// transaction: settled becomes the session's review (as PutReview, at
// version prev+1), and the mark records who settled it and when; the
// coders' reviews are kept, for the agreement figures. Every coder must
// have completed their review (EINVALID), and the session must still be
// blind (ECONFLICT).
func (d *DB) SettleDoubleCoding(ctx context.Context, settled *hark.ReviewDoc, prev int, by string) error {
	id := settled.RecordingID
	settled.Coder = ""
	settled.Version = prev + 1
	settled.Schema = hark.SchemaVersion
	doc, err := json.Marshal(settled)
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "encode review %s", id)
	}
	return d.tx(ctx, "settle the double coding of "+id, func(tx *sql.Tx) error {
		dc, err := readDoubleCoding(ctx, tx, id)
		if err != nil {
			return err
		}
		if !dc.Blind() {
			return hark.Errorf(hark.ECONFLICT, "the double coding of %s was settled already", id)
		}
		if all, err := allComplete(ctx, tx, dc); err != nil {
			return err
		} else if !all {
			return hark.Errorf(hark.EINVALID, "not every coder of %s has completed their review: settle it when they have", id)
		}
		if err := d.putReview(ctx, tx, settled, prev, doc); err != nil {
			return err
		}
		at := settled.UpdatedAt
		dc.SettledBy, dc.SettledAt = by, &at
		mark, err := json.Marshal(dc)
		if err != nil {
			return hark.WrapError(hark.EINTERNAL, err, "encode the double coding of %s", id)
		}
		res, err := tx.ExecContext(ctx, `UPDATE double_coding SET doc = $1 WHERE recording_id = $2`, params(string(mark), id)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return hark.Errorf(hark.ECONFLICT, "the double coding of %s changed while it was being settled", id)
		}
		return nil
	})
}

// RestoreDoubleCoding puts back a session's double-coding mark and its
// coders' reviews as the object store keeps them, for `hark reindex`. A
// mark the index holds stays, unless the stored one is settled and the
// index's is not, or both are blind and the stored one was marked later; a
// coder's review is put back only where the index has none or an older
// version of it. Reviews by someone who is not a coder of the mark that
// stands are left out, and their coders returned, for the caller to say
// so.
func (d *DB) RestoreDoubleCoding(ctx context.Context, dc *hark.DoubleCoding, reviews []*hark.ReviewDoc) (skipped []string, err error) {
	if err := hark.CheckDoubleCoding(dc); err != nil {
		return nil, err
	}
	mark, err := json.Marshal(dc)
	if err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "encode the double coding of %s", dc.RecordingID)
	}
	docs := make([]string, len(reviews))
	for i, r := range reviews {
		data, err := json.Marshal(r)
		if err != nil {
			return nil, hark.WrapError(hark.EINTERNAL, err, "encode %s's review of %s", r.Coder, r.RecordingID)
		}
		docs[i] = string(data)
	}
	err = d.tx(ctx, "restore the double coding of "+dc.RecordingID, func(tx *sql.Tx) error {
		skipped = nil
		if err := recordingExists(ctx, tx, dc.RecordingID); err != nil {
			return err
		}
		stands := dc
		old, err := readDoubleCoding(ctx, tx, dc.RecordingID)
		switch {
		case hark.ErrorCode(err) == hark.ENOTFOUND:
			_, err = tx.ExecContext(ctx, `INSERT INTO double_coding (recording_id, doc) VALUES ($1, $2)`, params(dc.RecordingID, string(mark))...)
		case err != nil:
		case old.Blind() && (!dc.Blind() || dc.MarkedAt.After(old.MarkedAt)):
			_, err = tx.ExecContext(ctx, `UPDATE double_coding SET doc = $1 WHERE recording_id = $2`, params(string(mark), dc.RecordingID)...)
		default:
			stands = old
		}
		if err != nil {
			return err
		}
		for i, r := range reviews {
			if r.RecordingID != dc.RecordingID || !stands.Codes(r.Coder) {
				skipped = append(skipped, r.Coder)
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO coder_reviews (recording_id, coder, version, state, doc, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (recording_id, coder) DO UPDATE SET version = excluded.version, state = excluded.state, doc = excluded.doc, updated_at = excluded.updated_at
WHERE coder_reviews.version < excluded.version`, params(r.RecordingID, r.Coder, r.Version, string(r.State), docs[i], d.dialect.time(r.UpdatedAt))...); err != nil {
				return err
			}
		}
		return nil
	})
	return skipped, err
}

// allComplete reports whether every coder of dc has completed their review.
func allComplete(ctx context.Context, tx *sql.Tx, dc *hark.DoubleCoding) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT coder, state FROM coder_reviews WHERE recording_id = $1`, params(dc.RecordingID)...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	complete := map[string]bool{}
	for rows.Next() {
		var coder, state string
		if err := rows.Scan(&coder, &state); err != nil {
			return false, err
		}
		complete[coder] = state == string(hark.ReviewComplete)
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, c := range dc.Coders {
		if !complete[c] {
			return false, nil
		}
	}
	return true, nil
}

func readDoubleCoding(ctx context.Context, tx *sql.Tx, id string) (*hark.DoubleCoding, error) {
	var doc string
	err := tx.QueryRowContext(ctx, `SELECT doc FROM double_coding WHERE recording_id = $1`, params(id)...).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hark.Errorf(hark.ENOTFOUND, "%s is not marked for double coding", id)
	}
	if err != nil {
		return nil, err
	}
	var dc hark.DoubleCoding
	if err := json.Unmarshal([]byte(doc), &dc); err != nil {
		return nil, hark.WrapError(hark.EINTERNAL, err, "decode the double coding of %s", id)
	}
	return &dc, nil
}

func recordingExists(ctx context.Context, tx *sql.Tx, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recordings WHERE id = $1`, params(id)...).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound(id)
	}
	return nil
}

func sortByMark(dcs []*hark.DoubleCoding) {
	slices.SortStableFunc(dcs, func(a, b *hark.DoubleCoding) int { return a.MarkedAt.Compare(b.MarkedAt) })
}

// CoderSession returns a double-coded session as one of its coders codes
// it: the machine's tags with the coder's own review applied (none of the
// session's review, nor another coder's), and the coder's review.
func (d *DB) CoderSession(ctx context.Context, id, coder string) (*hark.Session, error) {
	s, err := d.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	rev, err := d.CoderReview(ctx, id, coder)
	if err != nil {
		return nil, err
	}
	s.Review = rev
	if s.Annotations == nil {
		return s, nil
	}
	var machine []hark.Tag
	err = d.read(ctx, "read the machine's tags of "+id, func(tx *sql.Tx) error {
		machine, err = machineTags(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Annotations.Tags = rev.Apply(machine)
	return s, nil
}
