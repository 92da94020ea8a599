package index

import (
	"database/sql"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// dialect is what differs between the databases the index runs on. The
// queries, transactions and the migration runner are shared: both drivers
// bind $1..$N, and both support ON CONFLICT … DO UPDATE.
type dialect struct {
	// name is "sqlite" or "postgres", and also the folder under migrations/.
	name string
	// param is the placeholder of the nth parameter in long statements
	// (the batched inserts). SQLite looks "$N" up as a name, in time that
	// grows with the number of parameters (quadratic over a 100-row
	// insert); "?N" is a plain number to it.
	param string
	// time converts a timestamp into what a timestamp column stores:
	// fixed-width UTC text on SQLite, so that it sorts as text, and
	// TIMESTAMPTZ on PostgreSQL. Both keep microseconds.
	time func(time.Time) any
	// migrationsTable creates schema_migrations when it is missing.
	migrationsTable string
	// lockMigrations runs first in every migration's transaction so that
	// processes starting at once apply migrations one at a time. Empty where
	// the transaction itself is the lock (SQLite's BEGIN IMMEDIATE).
	lockMigrations string
	// readTx are the options of a read that spans several statements and
	// needs one consistent snapshot.
	readTx sql.TxOptions
	// maxOpenConns bounds the connection pool.
	maxOpenConns int
}

// sqliteTimeFormat is fixed width, so text order is time order.
const sqliteTimeFormat = "2006-01-02T15:04:05.000000Z"

var sqliteDialect = &dialect{
	name:  "sqlite",
	param: "?%d",
	time:  func(t time.Time) any { return t.UTC().Format(sqliteTimeFormat) },
	migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`,
	// A plain BEGIN: with _txlock=immediate the write transactions take
	// the write lock at BEGIN, but a read must not.
	readTx:       sql.TxOptions{ReadOnly: true},
	maxOpenConns: 4,
}

var postgresDialect = &dialect{
	name:  "postgres",
	param: "$%d",
	time:  func(t time.Time) any { return t },
	migrationsTable: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL
)`,
	// Released when the transaction ends, however it ends. The key is
	// "hark" in ASCII.
	lockMigrations: `SELECT pg_advisory_xact_lock(1751216747)`,
	readTx:         sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
	maxOpenConns:   10,
}

var (
	urlScheme    = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
	pgKeywordDSN = regexp.MustCompile(`^\s*(host|hostaddr|port|dbname|user|password|sslmode|service)\s*=`)
)

// parseDSN says which database dsn names: PostgreSQL for postgres:// and
// postgresql:// URLs (target is the URL), SQLite for sqlite:PATH, file:PATH
// or a plain path (target is the path).
func parseDSN(dsn string) (d *dialect, target string, err error) {
	switch lower := strings.ToLower(dsn); {
	case strings.TrimSpace(dsn) == "":
		return nil, "", errInvalidDSN(dsn, "it is empty")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return postgresDialect, dsn, nil
	case strings.HasPrefix(lower, "sqlite:"), strings.HasPrefix(lower, "file:"):
		path := dsn[strings.IndexByte(dsn, ':')+1:]
		// sqlite:///abs/path and sqlite://rel/path as well as sqlite:path.
		path = strings.TrimPrefix(path, "//")
		if strings.ContainsRune(path, '?') {
			return nil, "", errInvalidDSN(dsn, "SQLite DSNs take no parameters; hark sets its own")
		}
		if path == "" {
			return nil, "", errInvalidDSN(dsn, "it names no file")
		}
		return sqliteDialect, path, nil
	case pgKeywordDSN.MatchString(dsn):
		// Not echoed: it may hold a password in clear.
		return nil, "", hark.Errorf(hark.EINVALID, "index DSN: a PostgreSQL key=value DSN is not supported; write it as postgres://user:password@host:port/dbname")
	case urlScheme.MatchString(dsn):
		return nil, "", errInvalidDSN(dsn, "unknown scheme "+urlScheme.FindStringSubmatch(dsn)[1]+"://; use postgres://…, sqlite:PATH or a file path")
	default:
		return sqliteDialect, dsn, nil
	}
}

// redact returns dsn fit for a message or a log: the password of a URL
// replaced by xxxxx.
func redact(dsn string) string {
	if !urlScheme.MatchString(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return urlScheme.FindString(dsn) + "…"
	}
	return u.Redacted()
}

func errInvalidDSN(dsn, why string) error {
	return hark.Errorf(hark.EINVALID, "index DSN %q: %s", redact(dsn), why)
}
