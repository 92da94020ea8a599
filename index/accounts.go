package index

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

var _ hark.Accounts = (*DB)(nil)

// userRemoved, in users.disabled (0 active, 1 disabled), marks an account
// removed with RemoveUser: its row stays, without credentials, teams or
// sessions, so that its id and name stay with the audit log's entries
// (which name the user) and the name is not given to anyone else. Every
// lookup passes over it; read as a user it would be a disabled one.
const userRemoved = 2

// PutUser inserts or updates a user and their teams.
func (d *DB) PutUser(ctx context.Context, u *hark.User) error {
	if u.ID == "" || u.Name == "" {
		return hark.Errorf(hark.EINVALID, "a user needs an id and a name")
	}
	disabled := 0
	if u.Disabled {
		disabled = 1
	}
	return d.tx(ctx, "save user "+u.Name, func(tx *sql.Tx) error {
		var other string
		var state int
		err := tx.QueryRowContext(ctx, `SELECT id, disabled FROM users WHERE name = $1`, params(u.Name)...).Scan(&other, &state)
		switch {
		case err == nil && other != u.ID && state == userRemoved:
			return hark.Errorf(hark.ECONFLICT, "%q is the name of a removed account, and the audit log names them by it: choose another name", u.Name)
		case err == nil && other != u.ID:
			return hark.Errorf(hark.ECONFLICT, "there is already a user called %q", u.Name)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = $1`, params(u.ID)...).Scan(&state)
		if err == nil && state == userRemoved {
			return hark.Errorf(hark.ENOTFOUND, "the account %s was removed", u.ID)
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, display, role, password_hash, disabled, oidc_subject, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, display = excluded.display, role = excluded.role,
	password_hash = excluded.password_hash, disabled = excluded.disabled, oidc_subject = excluded.oidc_subject`,
			params(u.ID, u.Name, u.Display, string(u.Role), u.PasswordHash, disabled, u.OIDCSubject, d.dialect.time(u.CreatedAt))...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_teams WHERE user_id = $1`, params(u.ID)...); err != nil {
			return err
		}
		for _, t := range u.Teams {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_teams (user_id, team) VALUES ($1, $2) ON CONFLICT DO NOTHING`, params(u.ID, t)...); err != nil {
				return err
			}
		}
		return nil
	})
}

const userColumns = `id, name, display, role, password_hash, disabled, oidc_subject, created_at`

func (d *DB) userWhere(ctx context.Context, what, where string, arg any) (*hark.User, error) {
	var u *hark.User
	err := d.read(ctx, what, func(tx *sql.Tx) error {
		users, err := scanUsers(ctx, tx, `SELECT `+userColumns+` FROM users WHERE (`+where+`) AND disabled <> `+itoa(userRemoved), arg)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return hark.Errorf(hark.ENOTFOUND, "no such user")
		}
		u = &users[0]
		return nil
	})
	return u, err
}

func scanUsers(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]hark.User, error) {
	rows, err := tx.QueryContext(ctx, q, params(args...)...)
	if err != nil {
		return nil, err
	}
	var out []hark.User
	for rows.Next() {
		var u hark.User
		var role string
		var disabled int
		var created nullTime
		if err := rows.Scan(&u.ID, &u.Name, &u.Display, &role, &u.PasswordHash, &disabled, &u.OIDCSubject, &created); err != nil {
			rows.Close()
			return nil, err
		}
		u.Role, u.Disabled, u.CreatedAt, u.Teams = hark.UserRole(role), disabled != 0, created.Time, []string{}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		trows, err := tx.QueryContext(ctx, `SELECT team FROM user_teams WHERE user_id = $1 ORDER BY team`, params(out[i].ID)...)
		if err != nil {
			return nil, err
		}
		for trows.Next() {
			var t string
			if err := trows.Scan(&t); err != nil {
				trows.Close()
				return nil, err
			}
			out[i].Teams = append(out[i].Teams, t)
		}
		trows.Close()
	}
	return out, nil
}

// User returns the user with the id.
func (d *DB) User(ctx context.Context, id string) (*hark.User, error) {
	return d.userWhere(ctx, "read user", "id = $1", id)
}

// UserByName returns the user with the sign-in name.
func (d *DB) UserByName(ctx context.Context, name string) (*hark.User, error) {
	return d.userWhere(ctx, "read user", "name = $1", name)
}

// UserByOIDC returns the user linked to a single sign-on subject.
func (d *DB) UserByOIDC(ctx context.Context, subject string) (*hark.User, error) {
	if subject == "" {
		return nil, hark.Errorf(hark.ENOTFOUND, "no such user")
	}
	return d.userWhere(ctx, "read user", "oidc_subject = $1", subject)
}

// Users lists every user by name.
func (d *DB) Users(ctx context.Context) ([]hark.User, error) {
	var out []hark.User
	err := d.read(ctx, "list users", func(tx *sql.Tx) error {
		var err error
		out, err = scanUsers(ctx, tx, `SELECT `+userColumns+` FROM users WHERE disabled <> `+itoa(userRemoved)+` ORDER BY name`)
		return err
	})
	return out, err
}

// RenameUser gives the account with the id a new sign-in name. The audit
// log keeps the old name on what was done under it. It returns ENOTFOUND
// for no such account (or a removed one) and ECONFLICT when the name is
// taken, also by a removed account.
func (d *DB) RenameUser(ctx context.Context, id, name string) error {
	u, err := d.User(ctx, id)
	if err != nil {
		return err
	}
	u.Name = name
	return d.PutUser(ctx, u)
}

// RemoveUser removes the account with the id: it can no longer sign in
// (its sessions end, its password, single sign-on link and teams go) and
// it is gone from Users and every lookup, but its row stays, so that the
// audit log's entries keep naming one account and the name is not given
// to another (userRemoved). It returns ENOTFOUND for no such account.
func (d *DB) RemoveUser(ctx context.Context, id string) error {
	return d.tx(ctx, "remove user "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = $1, password_hash = '', oidc_subject = '', display = ''
WHERE id = $2 AND disabled <> $1`, params(userRemoved, id)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return hark.Errorf(hark.ENOTFOUND, "no such user")
		}
		for _, q := range []string{`DELETE FROM user_teams WHERE user_id = $1`, `DELETE FROM web_sessions WHERE user_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, params(id)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutTeam adds a team; adding one that exists changes nothing. The name
// must pass hark.CheckName, so that the team can hold recordings.
func (d *DB) PutTeam(ctx context.Context, name string) error {
	if err := hark.CheckName("team", name); err != nil {
		return err
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		params(name, d.dialect.time(time.Now()))...)
	return wrapDB(err, "save team %s", name)
}

// Teams lists the teams: those added and those recordings or users name.
func (d *DB) Teams(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM teams UNION SELECT DISTINCT team FROM recordings WHERE team <> ''
UNION SELECT DISTINCT team FROM user_teams ORDER BY 1`)
	if err != nil {
		return nil, wrapDB(err, "list teams")
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, wrapDB(err, "list teams")
		}
		out = append(out, t)
	}
	return out, wrapDB(rows.Err(), "list teams")
}

// PutWebSession stores a sign-in session.
func (d *DB) PutWebSession(ctx context.Context, s *hark.WebSession) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		params(s.TokenHash, s.UserID, s.CSRF, d.dialect.time(s.CreatedAt), d.dialect.time(s.ExpiresAt))...)
	return wrapDB(err, "save session")
}

// WebSession returns an unexpired session.
func (d *DB) WebSession(ctx context.Context, tokenHash string, now time.Time) (*hark.WebSession, error) {
	var s hark.WebSession
	var created, expires nullTime
	err := d.db.QueryRowContext(ctx, `SELECT token_hash, user_id, csrf, created_at, expires_at FROM web_sessions WHERE token_hash = $1`,
		params(tokenHash)...).Scan(&s.TokenHash, &s.UserID, &s.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hark.Errorf(hark.ENOTFOUND, "not signed in")
	}
	if err != nil {
		return nil, wrapDB(err, "read session")
	}
	s.CreatedAt, s.ExpiresAt = created.Time, expires.Time
	if !now.Before(s.ExpiresAt) {
		_ = d.DeleteWebSession(ctx, tokenHash)
		return nil, hark.Errorf(hark.ENOTFOUND, "the session has expired; sign in again")
	}
	return &s, nil
}

// DeleteWebSession signs one session out.
func (d *DB) DeleteWebSession(ctx context.Context, tokenHash string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, params(tokenHash)...)
	return wrapDB(err, "delete session")
}

// DeleteUserSessions signs a user out everywhere.
func (d *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, params(userID)...)
	return wrapDB(err, "delete sessions")
}

// Audit appends an entry to the audit log.
func (d *DB) Audit(ctx context.Context, e *hark.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO audit (at, user_name, action, recording_id, detail) VALUES ($1, $2, $3, $4, $5)`,
		params(d.dialect.time(e.At), e.User, e.Action, e.RecordingID, e.Detail)...)
	return wrapDB(err, "write audit log")
}

// AuditLog returns audit entries, newest first.
func (d *DB) AuditLog(ctx context.Context, f hark.AuditFilter) ([]hark.AuditEntry, error) {
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", "$"+itoa(len(args)), 1))
	}
	if f.User != "" {
		add("user_name = ?", f.User)
	}
	if f.RecordingID != "" {
		add("recording_id = ?", f.RecordingID)
	}
	if !f.Since.IsZero() {
		add("at >= ?", d.dialect.time(f.Since))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	rows, err := d.db.QueryContext(ctx, `SELECT id, at, user_name, action, recording_id, detail FROM audit WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT $`+itoa(len(args)), params(args...)...)
	if err != nil {
		return nil, wrapDB(err, "read audit log")
	}
	defer rows.Close()
	out := []hark.AuditEntry{}
	for rows.Next() {
		var e hark.AuditEntry
		var at nullTime
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Action, &e.RecordingID, &e.Detail); err != nil {
			return nil, wrapDB(err, "read audit log")
		}
		e.At = at.Time
		out = append(out, e)
	}
	return out, wrapDB(rows.Err(), "read audit log")
}

func itoa(n int) string { return strconv.Itoa(n) }

// SignInAttempt records a sign-in attempt, forgets those older than
// forgetBefore, and returns key's attempts since then, oldest first, in one
// transaction.
func (d *DB) SignInAttempt(ctx context.Context, key string, at, forgetBefore time.Time) ([]time.Time, error) {
	var out []time.Time
	err := d.tx(ctx, "record a sign-in attempt", func(tx *sql.Tx) error {
		out = nil
		if _, err := tx.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE at < $1`, params(d.dialect.time(forgetBefore))...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sign_in_failures (key, at) VALUES ($1, $2)`, params(key, d.dialect.time(at))...); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT at FROM sign_in_failures WHERE key = $1 AND at >= $2 ORDER BY at`, params(key, d.dialect.time(forgetBefore))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t nullTime
			if err := rows.Scan(&t); err != nil {
				return err
			}
			out = append(out, t.Time)
		}
		return rows.Err()
	})
	return out, err
}

// ForgetSignInAttempt forgets key's attempt at at.
func (d *DB) ForgetSignInAttempt(ctx context.Context, key string, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE key = $1 AND at = $2`, params(key, d.dialect.time(at))...)
	return wrapDB(err, "forget a sign-in attempt")
}

// ClearSignInFailures forgets key's failed sign-ins.
func (d *DB) ClearSignInFailures(ctx context.Context, key string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE key = $1`, params(key)...)
	return wrapDB(err, "clear failed sign-ins")
}
