package hark

import (
	"context"
	"slices"
	"time"
)

// UserRole is what a user may do.
type UserRole string

// The roles. Coaches and researchers see the recordings of their teams;
// analysts see aggregates only (no transcripts, no audio); admins manage
// accounts and teams and see everything.
const (
	RoleAdmin      UserRole = "admin"
	RoleCoach      UserRole = "coach"
	RoleAnalyst    UserRole = "analyst"
	RoleResearcher UserRole = "researcher"
)

// ParseUserRole returns the role named s.
func ParseUserRole(s string) (UserRole, error) {
	switch r := UserRole(s); r {
	case RoleAdmin, RoleCoach, RoleAnalyst, RoleResearcher:
		return r, nil
	}
	return "", Errorf(EINVALID, "unknown role %q: use admin, coach, analyst or researcher", s)
}

// User is an account.
type User struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"` // the sign-in name
	Display  string   `json:"display,omitempty"`
	Role     UserRole `json:"role"`
	Teams    []string `json:"teams"`
	Disabled bool     `json:"disabled"`
	// PasswordHash is the encoded memory-hard hash; empty for accounts that
	// sign in only through single sign-on or a one-time link.
	PasswordHash string    `json:"-"`
	OIDCSubject  string    `json:"oidc_subject,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// CanReadTranscripts reports whether the user may see transcripts and audio
// of recordings of team.
func (u *User) CanReadTranscripts(team string) bool {
	switch u.Role {
	case RoleAdmin:
		return true
	case RoleCoach, RoleResearcher:
		return slices.Contains(u.Teams, team)
	}
	return false
}

// CanReview reports whether the user may change tags and notes of
// recordings of team.
func (u *User) CanReview(team string) bool {
	return (u.Role == RoleCoach || u.Role == RoleAdmin) && u.CanReadTranscripts(team)
}

// VisibleTeams returns the teams whose recordings the user may list, and
// whether the user may list all teams.
func (u *User) VisibleTeams() (teams []string, all bool) {
	if u.Role == RoleAdmin {
		return nil, true
	}
	if u.Role == RoleAnalyst {
		return nil, false
	}
	return u.Teams, false
}

// WebSession is a signed-in browser session. The token itself is never
// stored, only its hash.
type WebSession struct {
	TokenHash string
	UserID    string
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuditEntry is one audited action: who viewed, played, exported or changed
// what, and when.
type AuditEntry struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	User        string    `json:"user"`
	Action      string    `json:"action"` // e.g. view, play, export, review, sign-in, user-add
	RecordingID string    `json:"recording_id,omitempty"`
	Detail      string    `json:"detail,omitempty"`
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	User        string
	RecordingID string
	Since       time.Time
	Limit       int
}

// Accounts stores users, teams, sign-in sessions and the audit log.
// Lookups return ENOTFOUND for unknown users and sessions.
type Accounts interface {
	// PutUser inserts or updates a user by ID; ECONFLICT when another user
	// has the name.
	PutUser(ctx context.Context, u *User) error
	User(ctx context.Context, id string) (*User, error)
	UserByName(ctx context.Context, name string) (*User, error)
	UserByOIDC(ctx context.Context, subject string) (*User, error)
	Users(ctx context.Context) ([]User, error)
	PutTeam(ctx context.Context, name string) error
	Teams(ctx context.Context) ([]string, error)
	PutWebSession(ctx context.Context, s *WebSession) error
	// WebSession returns the session with the token hash, ENOTFOUND when
	// there is none or it has expired.
	WebSession(ctx context.Context, tokenHash string, now time.Time) (*WebSession, error)
	DeleteWebSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions signs a user out everywhere.
	DeleteUserSessions(ctx context.Context, userID string) error
	Audit(ctx context.Context, e *AuditEntry) error
	AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	SignInFailures
}

// SignInFailures keeps sign-in attempts that have not succeeded, so that
// every web server of a deployment counts them together.
type SignInFailures interface {
	// SignInAttempt records an attempt for key (a name or an address) at
	// at, forgets every attempt from before forgetBefore, and returns key's
	// attempts since forgetBefore, this one included, oldest first — in
	// one transaction, so that attempts made at the same moment all count.
	SignInAttempt(ctx context.Context, key string, at, forgetBefore time.Time) ([]time.Time, error)
	// ForgetSignInAttempt forgets key's attempt at at (one that succeeded).
	ForgetSignInAttempt(ctx context.Context, key string, at time.Time) error
	// ClearSignInFailures forgets all of key's attempts (after a sign-in).
	ClearSignInFailures(ctx context.Context, key string) error
}
