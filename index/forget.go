package index

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/harkworks/hark"
)

// Forget erases recordings from the index: their rows, transcripts, tags,
// reviews (with notes and corrections), report rows and the audit entries
// about them. What is kept of each is the hash of its id (hark.ErasedHash),
// so that a worker still busy with one cannot write it back: the writes for
// an erased recording return ECONFLICT wrapping hark.ErrErased. On SQLite
// deleted content is overwritten (secure_delete) and the write-ahead log is
// checkpointed and truncated, so no text is left in the files; on
// PostgreSQL the deleted rows are vacuumed. It returns how many of the
// recordings the index had.
func (d *DB) Forget(ctx context.Context, ids []string, at time.Time) (int, error) {
	n := 0
	err := d.tx(ctx, "forget recordings", func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO forgotten (id_hash, at) VALUES ($1, $2) ON CONFLICT (id_hash) DO NOTHING`,
				params(hark.ErasedHash(id), d.dialect.time(at))...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM audit WHERE recording_id = $1`, params(id)...); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM recordings WHERE id = $1`, params(id)...)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err == nil {
				n += int(k)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, d.scrub(ctx)
}

// scrub makes the deleted rows unreadable in the database's files.
func (d *DB) scrub(ctx context.Context) error {
	if d.dialect.name == "sqlite" {
		// secure_delete (set on every connection) zeroed the freed pages;
		// the log still holds the pages as they were until it is
		// checkpointed into the database and truncated.
		var busy, log, done int
		for range 50 {
			if err := d.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done); err != nil {
				return wrapDB(err, "checkpoint the index after forgetting")
			}
			if busy == 0 {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
		return hark.Errorf(hark.EUNAVAILABLE, "the index is busy: the erased rows are deleted, but the log could not be truncated; run `hark forget` again when the workers are idle")
	}
	for _, table := range []string{"audit", "reviews", "coder_reviews", "double_coding", "tags", "segments", "report_sessions", "family_moments", "family_pending", "recordings"} {
		if _, err := d.db.ExecContext(ctx, `VACUUM `+table); err != nil {
			return wrapDB(err, "vacuum %s after forgetting", table)
		}
	}
	return nil
}

// erasedRecording reports whether the recording was erased.
func erasedRecording(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM forgotten WHERE id_hash = $1`, params(hark.ErasedHash(id))...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Erased reports whether the recording was erased (hark forget).
func (d *DB) Erased(ctx context.Context, id string) (bool, error) {
	return erasedRecording(ctx, d.db, id)
}
