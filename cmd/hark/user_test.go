package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/index"
)

// An admin's account commands against the index in a data directory:
// teams, users, passwords from standard input, one-time links, disabling,
// and the audit log they leave.
func TestUserTeamAuditCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	run := func(stdin string, args ...string) (string, error) {
		t.Helper()
		return runHark(t, dir, stdin, args...)
	}
	mustRun := func(stdin string, args ...string) string {
		t.Helper()
		out, err := run(stdin, args...)
		if err != nil {
			t.Fatalf("hark %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	mustRun("", "team", "add", "North")
	if out := mustRun("", "team", "list"); !strings.Contains(out, "North") {
		t.Errorf("team list:\n%s", out)
	}
	mustRun("", "user", "add", "sam", "--role", "coach", "--team", "North", "--display", "Sam Patel")
	for _, bad := range [][]string{
		{"user", "add", "sam", "--role", "coach"},      // taken
		{"user", "add", "kim", "--role", "supervisor"}, // no such role
	} {
		if out, err := run("", bad...); err == nil {
			t.Errorf("hark %s was accepted:\n%s", strings.Join(bad, " "), out)
		}
	}
	if out := mustRun("", "user", "list"); !strings.Contains(out, "sam") || !strings.Contains(out, "coach") || !strings.Contains(out, "North") {
		t.Errorf("user list:\n%s", out)
	}

	// A password only from standard input, and not a short one.
	if _, err := run("short\n", "user", "passwd", "sam"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	const password = "correct horse battery staple"
	if out := mustRun(password+"\n", "user", "passwd", "sam"); strings.Contains(out, password) {
		t.Errorf("the password was printed:\n%s", out)
	}
	idx, err := index.OpenSQLite(ctx, dir+"/index.db")
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	u, err := idx.UserByName(ctx, "sam")
	if err != nil {
		t.Fatal(err)
	}
	if !auth.CheckPassword(u.PasswordHash, password) || u.Role != hark.RoleCoach || u.Display != "Sam Patel" || len(u.Teams) != 1 || u.Teams[0] != "North" {
		t.Errorf("the account as stored: %+v", u)
	}

	// A one-time link signs in once.
	out := mustRun("", "user", "link", "sam", "--base-url", "https://hark.example")
	const prefix = "https://hark.example/signin/link?token="
	i := strings.Index(out, prefix)
	if i < 0 {
		t.Fatalf("user link printed no link:\n%s", out)
	}
	token := strings.Fields(out[i+len(prefix):])[0]
	signIn := auth.New(auth.Config{Accounts: idx})
	if u, err := signIn.UseSignInLink(ctx, httptest.NewRecorder(), token); err != nil || u.Name != "sam" {
		t.Fatalf("the printed link does not sign sam in: %v", err)
	}
	if _, err := signIn.UseSignInLink(ctx, httptest.NewRecorder(), token); err == nil {
		t.Error("the one-time link worked twice")
	}

	mustRun("", "user", "disable", "sam")
	if u, err := idx.UserByName(ctx, "sam"); err != nil || !u.Disabled {
		t.Errorf("after disable: %+v %v", u, err)
	}
	mustRun("", "user", "enable", "sam")
	if u, err := idx.UserByName(ctx, "sam"); err != nil || u.Disabled {
		t.Errorf("after enable: %+v %v", u, err)
	}

	// The audit log has what the admin did, as JSON for export.
	var entries []hark.AuditEntry
	raw := mustRun("", "audit", "--format", "json")
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		t.Fatalf("audit json: %v\n%s", err, raw)
	}
	actions := map[string]bool{}
	for _, e := range entries {
		actions[e.Action] = true
		if strings.Contains(e.Detail, password) {
			t.Errorf("the audit log holds the password: %+v", e)
		}
	}
	for _, want := range []string{"user-add", "user-disable"} {
		if !actions[want] {
			t.Errorf("audit log lacks %q: %v", want, actions)
		}
	}
}
