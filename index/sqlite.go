package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteBusyTimeout is how long a connection waits for another one's lock
// (SQLite's busy handler), and also how long opening waits to switch a new
// file to WAL.
const sqliteBusyTimeout = 10 * time.Second

// sqliteURIEscaper escapes the characters that would end the path part of
// an SQLite URI filename; SQLite decodes %HH in the path.
var sqliteURIEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// sqliteDSN is the modernc.org/sqlite DSN for the index file at path:
// foreign keys, a busy timeout, and write transactions that take the write
// lock at BEGIN so that concurrent writers wait instead of failing. The
// journal mode is not in it: it is a property of the file, set once by
// useWAL (see there for why not on every connection).
func sqliteDSN(path string) string {
	return "file:" + sqliteURIEscaper.Replace(path) +
		fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)&_pragma=synchronous(NORMAL)&_txlock=immediate",
			sqliteBusyTimeout.Milliseconds())
}

// useWAL puts the database file into WAL mode, which it then keeps.
//
// The switch from a rollback journal to WAL cannot rely on the busy
// handler. SQLite makes it as a read transaction (to read the file header)
// that then upgrades to a write; a connection that holds a read lock and
// asks for the write lock while another connection also wants it would
// deadlock if it waited, so SQLite answers SQLITE_BUSY at once instead of
// calling the busy handler, and expects the caller to try again after
// letting go of its locks. That is what two processes opening a fresh index
// at the same instant hit (`hark up` beside `hark worker`, two workers after
// a reboot): one of them failed "database is locked" within milliseconds.
// So the switch is tried again, with a short pause after each refusal,
// until sqliteBusyTimeout. A file already in WAL mode (every open but the
// first) needs only the read.
func useWAL(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, sqliteBusyTimeout)
	defer cancel()
	pause := 2 * time.Millisecond
	for {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
		if err == nil && strings.EqualFold(mode, "wal") {
			return nil
		}
		if err == nil {
			err = db.QueryRowContext(ctx, `PRAGMA journal_mode=WAL`).Scan(&mode)
			if err == nil {
				if strings.EqualFold(mode, "wal") {
					return nil
				}
				return fmt.Errorf("switch to WAL: the file stayed in journal mode %q", mode)
			}
		}
		if !isBusy(err) {
			return fmt.Errorf("switch to WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("switch to WAL: another process held the file for %s: %w", sqliteBusyTimeout, err)
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
