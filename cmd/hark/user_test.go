package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// hark upload --prefix refuses hark's own areas and unsafe prefixes before
// anything is stored, saying what to use; before, a prefix of results
// printed "1 uploaded" and the recording was never seen.
func TestUploadPrefixChecked(t *testing.T) {
	b := startUp(t, t.TempDir())
	dir := t.TempDir()
	wav := filepath.Join(dir, "visit.wav")
	copyFile(t, filepath.Join(meetingsDir, "mixed.wav"), wav)
	for prefix, says := range map[string]string{
		"results":         "inside results/",
		"results/North":   "inside results/",
		"codebooks":       "inside codebooks/",
		"voices/North":    "inside voices/",
		"models":          "inside models/",
		"../North":        `".."`,
		"North/../voices": `".."`,
		"/North":          "absolute",
		`North\2026`:      "backslash",
		"North//2026":     "empty part",
		"North/\x1b[2J":   "control character",
	} {
		b.out.Reset()
		err := runUpload(context.Background(), b.g, &uploadOptions{meta: uploadMeta{Team: "North"}, prefix: prefix}, []string{wav})
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(hark.ErrorMessage(err), says) || !strings.Contains(hark.ErrorMessage(err), "leave --prefix out") {
			t.Errorf("upload --prefix %q: %v, want refused saying %q and what to use instead", prefix, err, says)
		}
		if strings.Contains(b.out.String(), "uploaded") {
			t.Errorf("upload --prefix %q printed:\n%s", prefix, b.out)
		}
	}
	var keys []string
	if err := b.up.store.List(context.Background(), "", func(o hark.ObjectInfo) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("refused uploads stored %v", keys)
	}
	// A prefix of names is taken.
	batch, err := b.upload(uploadMeta{Team: "North"}, "North/2026-12", wav)
	if err != nil {
		t.Fatalf("upload --prefix North/2026-12: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	b.session("North/2026-12/visit.wav")
}

// One rule for team and account names: what upload takes as a team is
// what team add and user add take, so that no team can hold users but
// never recordings.
func TestNamesAgree(t *testing.T) {
	dir := t.TempDir()
	wav := filepath.Join(t.TempDir(), "visit.wav")
	copyFile(t, filepath.Join(meetingsDir, "mixed.wav"), wav)
	run := func(args ...string) error {
		t.Helper()
		_, err := runHark(t, dir, "", args...)
		return err
	}
	for _, team := range []string{"<b>North</b>", `North" onmouseover="x`, "results", "..", " North", "North/South"} {
		errs := map[string]error{
			"team add":        run("team", "add", team),
			"user add --team": run("user", "add", "sam", "--role", "coach", "--team", team),
			"upload --team":   run("upload", "--team", team, wav),
		}
		want := hark.ErrorMessage(hark.CheckName("team", team))
		for what, err := range errs {
			if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(hark.ErrorMessage(err), want) {
				t.Errorf("%s %q: %v, want refused as %q", what, team, err, want)
			}
		}
	}
	for _, name := range []string{"<img src=x>", "sam\n", ""} {
		if err := run("user", "add", name, "--role", "analyst"); hark.ErrorCode(err) != hark.EINVALID {
			t.Errorf("user add %q: %v, want refused", name, err)
		}
	}
	if err := run("team", "add", "Team A (east) + B & C-1"); err != nil {
		t.Errorf("team add of a name upload takes: %v", err)
	}
	if err := run("user", "add", "sam@council.example", "--role", "coach", "--team", "Team A (east) + B & C-1"); err != nil {
		t.Errorf("user add of an e-mail name: %v", err)
	}
}

// hark user rename and remove, as docs/review.md tells an admin to use
// them: a renamed account signs in under its new name; a removed one can
// no longer sign in (password or session) and is gone from the list,
// while the audit log keeps what it did and its name is not given again.
func TestUserRenameRemove(t *testing.T) {
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
	const password = "correct horse battery staple"
	mustRun("", "user", "add", "sam", "--role", "coach", "--team", "North")
	mustRun("", "user", "add", "kim", "--role", "analyst")
	mustRun(password+"\n", "user", "passwd", "sam")
	idx, err := index.OpenSQLite(ctx, dir+"/index.db")
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	signIn := func(name string) (*httptest.ResponseRecorder, error) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/signin", nil)
		_, err := auth.New(auth.Config{Accounts: idx}).SignIn(ctx, w, r, name, password)
		return w, err
	}
	if _, err := signIn("sam"); err != nil {
		t.Fatal(err)
	}

	for _, bad := range [][]string{
		{"user", "rename", "sam", "kim"},        // taken
		{"user", "rename", "nobody", "lee"},     // no such account
		{"user", "rename", "sam", "<b>sam</b>"}, // not a name
		{"user", "remove", "nobody"},            // no such account
	} {
		if out, err := run("", bad...); err == nil {
			t.Errorf("hark %s was accepted:\n%s", strings.Join(bad, " "), out)
		}
	}
	mustRun("", "user", "rename", "sam", "samuel")
	if _, err := signIn("sam"); err == nil {
		t.Error("the old name still signs in")
	}
	w, err := signIn("samuel")
	if err != nil {
		t.Fatalf("the new name does not sign in: %v", err)
	}
	cookie := w.Result().Cookies()[0]
	if out := mustRun("", "user", "list"); !strings.Contains(out, "samuel") || strings.Contains(out, "sam ") {
		t.Errorf("user list after rename:\n%s", out)
	}

	mustRun("", "user", "remove", "samuel")
	if _, err := signIn("samuel"); err == nil {
		t.Error("a removed account signs in with its password")
	}
	if _, err := idx.WebSession(ctx, auth.HashToken(cookie.Value), time.Now()); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("a removed account's session is still valid: %v", err)
	}
	if out := mustRun("", "user", "list"); strings.Contains(out, "samuel") || !strings.Contains(out, "kim") {
		t.Errorf("user list after remove:\n%s", out)
	}
	if _, err := run("", "user", "link", "samuel", "--base-url", "https://hark.example"); err == nil {
		t.Error("a sign-in link for a removed account")
	}
	if _, err := run("", "user", "add", "samuel", "--role", "coach", "--team", "North"); hark.ErrorCode(err) != hark.ECONFLICT ||
		!strings.Contains(hark.ErrorMessage(err), "removed account") {
		t.Errorf("a new account under a removed account's name: %v, want refused", err)
	}

	// The audit log still has what sam did, and when the name changed.
	var entries []hark.AuditEntry
	if err := json.Unmarshal([]byte(mustRun("", "audit", "--format", "json")), &entries); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range entries {
		seen[e.User+" "+e.Action] = e.Detail
	}
	u, _ := idx.Users(ctx)
	for _, want := range []string{"sam sign-in", "samuel sign-in", "cli user-rename", "cli user-remove"} {
		if _, ok := seen[want]; !ok {
			t.Errorf("the audit log lacks %q: %v (users %v)", want, seen, u)
		}
	}
	if d := seen["cli user-rename"]; !strings.Contains(d, "sam → samuel") || !strings.Contains(d, "u_") {
		t.Errorf("user-rename entry %q, want the names and the account's id", d)
	}
}
