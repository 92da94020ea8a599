package index

import (
	"context"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// testRenameAndRemoveUser: a renamed account keeps its id, teams and
// sessions under the new name, and the old name is free; a removed one can
// no longer sign in and is gone from every lookup and from Users, while
// the audit log keeps its entries and its name is not given to another.
func testRenameAndRemoveUser(t *testing.T, db *DB) {
	ctx := context.Background()
	now := time.Now().UTC()
	for _, u := range []*hark.User{
		{ID: "u1", Name: "sam", Role: hark.RoleCoach, Teams: []string{"north"}, PasswordHash: "$argon2id$x", OIDCSubject: "iss|sub-1", CreatedAt: base},
		{ID: "u2", Name: "kim", Role: hark.RoleAnalyst, CreatedAt: base},
	} {
		if err := db.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutWebSession(ctx, &hark.WebSession{TokenHash: "t1", UserID: "u1", CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, &hark.AuditEntry{At: now, User: "sam", Action: "view", RecordingID: "rec_1"}); err != nil {
		t.Fatal(err)
	}

	if err := db.RenameUser(ctx, "u1", "kim"); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Fatalf("rename to a name taken: %v, want ECONFLICT", err)
	}
	if err := db.RenameUser(ctx, "u9", "lee"); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("rename of no account: %v, want ENOTFOUND", err)
	}
	if err := db.RenameUser(ctx, "u1", "samuel"); err != nil {
		t.Fatal(err)
	}
	if got, err := db.UserByName(ctx, "samuel"); err != nil || got.ID != "u1" || len(got.Teams) != 1 || got.PasswordHash == "" {
		t.Fatalf("after rename: %+v %v", got, err)
	}
	if _, err := db.UserByName(ctx, "sam"); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Fatalf("the old name after rename: %v", err)
	}
	if _, err := db.WebSession(ctx, "t1", now); err != nil {
		t.Fatalf("a rename signed the account out: %v", err)
	}

	if err := db.RemoveUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	for what, lookup := range map[string]func() (*hark.User, error){
		"by id":   func() (*hark.User, error) { return db.User(ctx, "u1") },
		"by name": func() (*hark.User, error) { return db.UserByName(ctx, "samuel") },
		"by OIDC": func() (*hark.User, error) { return db.UserByOIDC(ctx, "iss|sub-1") },
	} {
		if u, err := lookup(); hark.ErrorCode(err) != hark.ENOTFOUND {
			t.Errorf("a removed account found %s: %+v %v", what, u, err)
		}
	}
	if _, err := db.WebSession(ctx, "t1", now); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("a removed account's session is still there: %v", err)
	}
	users, err := db.Users(ctx)
	if err != nil || len(users) != 1 || users[0].Name != "kim" {
		t.Errorf("users after a removal: %+v %v", users, err)
	}
	if entries, err := db.AuditLog(ctx, hark.AuditFilter{User: "sam"}); err != nil || len(entries) != 1 {
		t.Errorf("the removed account's audit entries: %+v %v", entries, err)
	}
	if err := db.RemoveUser(ctx, "u1"); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("removing twice: %v, want ENOTFOUND", err)
	}
	// The name stays the removed account's; the account cannot come back.
	if err := db.PutUser(ctx, &hark.User{ID: "u3", Name: "samuel", Role: hark.RoleCoach, CreatedAt: base}); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Errorf("a new account with a removed account's name: %v, want ECONFLICT", err)
	}
	if err := db.RenameUser(ctx, "u2", "samuel"); hark.ErrorCode(err) != hark.ECONFLICT {
		t.Errorf("a rename to a removed account's name: %v, want ECONFLICT", err)
	}
	if err := db.PutUser(ctx, &hark.User{ID: "u1", Name: "samuel", Role: hark.RoleCoach, PasswordHash: "$argon2id$y", CreatedAt: base}); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("a removed account saved again: %v, want ENOTFOUND", err)
	}
	if teams, err := db.Teams(ctx); err != nil || len(teams) != 0 {
		t.Errorf("a removed account's teams are still listed: %v %v", teams, err)
	}
}
