package index

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// SetRetention stores a team's retention policy (team "" the default).
func (d *DB) SetRetention(ctx context.Context, r hark.Retention) error {
	if r.AudioDays < 0 || r.ResultsDays < 0 || r.ReviewDays < 0 || r.AuditDays < 0 {
		return hark.Errorf(hark.EINVALID, "retention days cannot be negative (0 keeps the data)")
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO retention (team, audio_days, results_days, review_days, audit_days) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (team) DO UPDATE SET audio_days = excluded.audio_days, results_days = excluded.results_days,
	review_days = excluded.review_days, audit_days = excluded.audit_days`,
		params(r.Team, r.AudioDays, r.ResultsDays, r.ReviewDays, r.AuditDays)...)
	return wrapDB(err, "save the retention policy of team %q", r.Team)
}

// Retentions returns every stored policy, the default ("") first.
func (d *DB) Retentions(ctx context.Context) ([]hark.Retention, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT team, audio_days, results_days, review_days, audit_days FROM retention ORDER BY team`)
	if err != nil {
		return nil, wrapDB(err, "read the retention policies")
	}
	defer rows.Close()
	var out []hark.Retention
	for rows.Next() {
		var r hark.Retention
		if err := rows.Scan(&r.Team, &r.AudioDays, &r.ResultsDays, &r.ReviewDays, &r.AuditDays); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecordingsBefore returns up to limit recordings of team (every team for
// "") created before t, oldest first.
func (d *DB) RecordingsBefore(ctx context.Context, team string, t time.Time, limit int) ([]*hark.Recording, error) {
	q := `SELECT id, doc, created_at FROM recordings WHERE created_at < $1`
	args := []any{d.dialect.time(t)}
	if team != "" {
		q += ` AND team = $2`
		args = append(args, team)
	}
	q += ` ORDER BY created_at LIMIT ` + itoa(limit)
	rows, err := d.db.QueryContext(ctx, q, params(args...)...)
	if err != nil {
		return nil, wrapDB(err, "list recordings before %s", t.Format(time.DateOnly))
	}
	defer rows.Close()
	var out []*hark.Recording
	for rows.Next() {
		var id, doc string
		var created nullTime
		if err := rows.Scan(&id, &doc, &created); err != nil {
			return nil, err
		}
		r, err := decodeRecording(id, doc)
		if err != nil {
			return nil, err
		}
		// When it came is the index's word, as the query read it.
		if created.Valid {
			r.CreatedAt = created.Time
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteReview removes a recording's review (decisions, notes,
// corrections) and its double coding, if any (the mark and the coders'
// independent reviews): the coaches' tags go with it, and the machine's
// are pending again.
func (d *DB) DeleteReview(ctx context.Context, id string) error {
	return d.tx(ctx, "delete review "+id, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM reviews WHERE recording_id = $1`, params(id)...); err != nil {
			return err
		}
		// The coders' independent reviews are reviews too, and their mark
		// goes with them.
		if _, err := tx.ExecContext(ctx, `DELETE FROM coder_reviews WHERE recording_id = $1`, params(id)...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM double_coding WHERE recording_id = $1`, params(id)...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE recording_id = $1 AND source = 'coach'`, params(id)...); err != nil {
			return err
		}
		// The machine's tags go back to pending, under the machine's code.
		if _, err := tx.ExecContext(ctx, `UPDATE tags SET code = CASE WHEN orig_code <> '' THEN orig_code ELSE code END, orig_code = '',
	review = 'pending', reviewed_by = '', reviewed_at = NULL, moment = 0 WHERE recording_id = $1`, params(id)...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recordings SET review_state = '' WHERE id = $1`, params(id)...); err != nil {
			return err
		}
		// After the recording, as every writer of the family report's rows.
		_, err := tx.ExecContext(ctx, `UPDATE family_moments SET answers = '' WHERE recording_id = $1`, params(id)...)
		return err
	})
}

// PruneAudit deletes the audit entries made before t, and returns how many.
func (d *DB) PruneAudit(ctx context.Context, t time.Time) (int, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM audit WHERE at < $1`, params(d.dialect.time(t))...)
	if err != nil {
		return 0, wrapDB(err, "prune the audit log")
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		if err := d.scrub(ctx); err != nil {
			return int(n), err
		}
	}
	return int(n), nil
}

// SetRedaction stores a team's redaction policy (team "" the default).
func (d *DB) SetRedaction(ctx context.Context, r hark.Redaction) error {
	if err := hark.CheckRedactionMode(r.Mode); err != nil {
		return err
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO redaction (team, mode, names) VALUES ($1, $2, $3)
ON CONFLICT (team) DO UPDATE SET mode = excluded.mode, names = excluded.names`, params(r.Team, r.Mode, strings.Join(r.Names, "\n"))...)
	return wrapDB(err, "save the redaction policy of team %q", r.Team)
}

// Redaction returns the redaction policy team follows: its own, else the
// default, else off.
func (d *DB) Redaction(ctx context.Context, team string) (hark.Redaction, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT team, mode, names FROM redaction WHERE team = $1 OR team = '' ORDER BY team DESC`, params(team)...)
	if err != nil {
		return hark.Redaction{}, wrapDB(err, "read the redaction policy of team %q", team)
	}
	defer rows.Close()
	out := hark.Redaction{Team: team, Mode: hark.RedactOff}
	if rows.Next() {
		var names string
		if err := rows.Scan(&out.Team, &out.Mode, &names); err != nil {
			return out, err
		}
		if names != "" {
			out.Names = strings.Split(names, "\n")
		}
	}
	return out, rows.Err()
}

// Redactions returns every stored redaction policy, the default first.
func (d *DB) Redactions(ctx context.Context) ([]hark.Redaction, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT team, mode, names FROM redaction ORDER BY team`)
	if err != nil {
		return nil, wrapDB(err, "read the redaction policies")
	}
	defer rows.Close()
	var out []hark.Redaction
	for rows.Next() {
		var r hark.Redaction
		var names string
		if err := rows.Scan(&r.Team, &r.Mode, &names); err != nil {
			return nil, err
		}
		if names != "" {
			r.Names = strings.Split(names, "\n")
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
