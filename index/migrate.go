package index

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/harkworks/hark"
)

// migrationFiles are the schema changes, one folder per dialect, each file
// named NNNN_name.sql. The same version means the same logical schema on
// every dialect.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migration is one schema change, applied in one transaction.
type migration struct {
	version int
	name    string // the file name, e.g. 0001_init.sql
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// migrations returns the dialect's migrations in version order. The
// versions must run 1, 2, 3… with no gap or repeat.
func migrations(d *dialect) ([]migration, error) {
	dir := "migrations/" + d.name
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var out []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s/%s: name is not NNNN_name.sql", dir, e.Name())
		}
		version, _ := strconv.Atoi(m[1])
		data, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", dir, e.Name(), err)
		}
		out = append(out, migration{version: version, name: e.Name(), sql: string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s/%s: expected version %04d", dir, m.name, i+1)
		}
	}
	return out, nil
}

// migrate applies the migrations the database has not had yet, each in its
// own transaction together with its row in schema_migrations. It is safe
// when several processes start at once: on PostgreSQL each transaction
// first takes an advisory lock, on SQLite BEGIN IMMEDIATE takes the write
// lock; then the version row is claimed, and a version another process
// applied meanwhile is skipped.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := migrations(d.dialect)
	if err != nil {
		return hark.WrapError(hark.EINTERNAL, err, "index migrations")
	}
	for _, m := range ms {
		if err := d.tx(ctx, "migrate "+m.name, func(tx *sql.Tx) error {
			if d.dialect.lockMigrations != "" {
				if _, err := tx.ExecContext(ctx, d.dialect.lockMigrations); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, d.dialect.migrationsTable); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)
ON CONFLICT (version) DO NOTHING`, m.version, m.name, d.dialect.time(time.Now()))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return err // applied already (n == 0), or the error
			}
			_, err = tx.ExecContext(ctx, m.sql)
			return err
		}); err != nil {
			return err
		}
	}
	var newest int
	if err := d.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return wrapDB(err, "read schema version")
	}
	if newest > len(ms) {
		return hark.Errorf(hark.ECONFLICT,
			"the index schema is at version %d but this hark knows only up to %d: run a newer hark, or point it at a fresh index and run `hark reindex`",
			newest, len(ms))
	}
	return nil
}
