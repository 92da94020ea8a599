package main

import (
	"encoding/csv"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// hark correct, from the command line: the turns listed with their
// numbers, the worker's threat inside the parent's turn given to the
// worker from its first words (the threat is tagged on the worker's turn
// and the CSV export says so), a turn's words edited from standard input,
// two turns merged; every correction audited as the account named, bad
// ones refused with a reason, another team's session not found, and all of
// it kept when the index is rebuilt from the store.
func TestCorrectCommand(t *testing.T) {
	data := t.TempDir()
	b := startUp(t, data)
	batch, err := b.upload(uploadMeta{Team: "North"}, "", mergedTurnsMeeting(t))
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, 1)
	sess := b.session("North/visit.wav")
	id, turns := sess.Recording.ID, len(sess.Transcript.Segments)
	run := func(stdin string, args ...string) (string, error) {
		t.Helper()
		return runHark(t, data, stdin, append([]string{"correct"}, args...)...)
	}
	for _, args := range [][]string{{"team", "add", "South"}, {"user", "add", "sam", "--role", "coach", "--team", "North"},
		{"user", "add", "kim", "--role", "coach", "--team", "South"}} {
		if out, err := runHark(t, data, "", args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}

	out, err := run("", "show", id, "--as", "sam")
	if err != nil {
		t.Fatalf("show: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^\s*(\d+)  0:40  Parent \(parent\)  So what happens if I can't\? If you don't comply`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "no corrections yet") {
		t.Fatalf("show does not list the joined turn:\n%s", out)
	}
	joined := m[1]

	if out, err := run("", "turn", id, joined, "Worker", "--from", "If you don't", "--as", "sam"); err != nil ||
		!strings.Contains(out, "turn-speaker saved") || !strings.Contains(out, "tagged again") {
		t.Fatalf("turn: %v\n%s", err, out)
	}
	threatOnWorker := func(s *hark.Session) bool {
		for _, tag := range s.Annotations.Tags {
			for _, sg := range s.Transcript.Segments {
				if sg.Index == tag.Segment && tag.Code == "threat_of_escalation" && sg.Role == hark.RoleWorker && strings.HasPrefix(sg.Text, "If you don't comply") {
					return true
				}
			}
		}
		return false
	}
	for deadline := time.Now().Add(30 * time.Second); !threatOnWorker(b.session("North/visit.wav")); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no threat on the worker's new turn: %+v", b.session("North/visit.wav").Transcript.Segments)
		}
	}
	if out, err := run("I'm here because Leo has been late to school twelve times this term.\n", "text", id, "0", "--as", "sam"); err != nil {
		t.Fatalf("text: %v\n%s", err, out)
	}
	if out, err := run("", "merge", id, "0", "--as", "sam"); err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}

	for _, bad := range []struct {
		stdin string
		args  []string
		code  string
		want  string
	}{
		{"", []string{"merge", id, "0"}, hark.EINVALID, "--as NAME"},
		{"", []string{"merge", id, "0", "--as", "nobody"}, hark.EINVALID, `no account "nobody"`},
		{"", []string{"merge", id, "0", "--as", "kim"}, hark.ENOTFOUND, "not found"},
		{"", []string{"show", id, "--as", "kim"}, hark.ENOTFOUND, "not found"},
		{"", []string{"turn", id, "1", "Worker", "--from", "elephants", "--as", "sam"}, hark.EINVALID, `no word starting "elephants"`},
		{"", []string{"merge", id, "x", "--as", "sam"}, hark.EINVALID, "not a turn number"},
		{"  \n", []string{"text", id, "1", "--as", "sam"}, hark.EINVALID, "cannot be empty"},
		{"", []string{"role", id, "Worker", "boss", "--as", "sam"}, hark.EINVALID, "not a role"},
	} {
		out, err := run(bad.stdin, bad.args...)
		if hark.ErrorCode(err) != bad.code || !strings.Contains(hark.ErrorMessage(err), bad.want) {
			t.Errorf("%v: %v (%s), want %s with %q", bad.args, err, out, bad.code, bad.want)
		}
	}

	after := b.session("North/visit.wav")
	if n := len(after.Transcript.Segments); n != turns {
		t.Errorf("%d turns after a split and a merge, want %d", n, turns)
	}
	if got := after.Transcript.Segments[0].Text; !strings.HasPrefix(got, "I'm here because Leo has been late to school twelve times this term. I know, but") {
		t.Errorf("turn 0: %q", got)
	}
	out, err = run("", "show", id, "--as", "sam")
	if err != nil || !strings.Contains(out, "sam  turn "+joined+" from byte") || !strings.Contains(out, "sam  turn 0's words edited") ||
		!strings.Contains(out, "sam  turn 0 merged with the next") {
		t.Errorf("show does not list the corrections: %v\n%s", err, out)
	}
	entries, err := b.up.idx.AuditLog(t.Context(), hark.AuditFilter{RecordingID: id})
	if err != nil {
		t.Fatal(err)
	}
	audited := 0
	for _, e := range entries {
		if e.User == "sam" && e.Action == "review" && strings.HasPrefix(e.Detail, "turn-") {
			audited++
		}
	}
	if audited != 3 {
		t.Errorf("%d turn corrections audited as sam, want 3: %+v", audited, entries)
	}

	// The export has the threat on the worker's turn.
	for deadline := time.Now().Add(30 * time.Second); !threatOnWorker(b.session("North/visit.wav")); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the threat on the worker's turn is gone after the merge")
		}
	}
	resp, err := b.client("coach", hark.RoleCoach, "North").Get(b.up.Endpoints.HTTP + "/recordings/" + id + "/export/csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		found = found || r[6] == "threat_of_escalation" && r[5] == "worker" && strings.HasPrefix(r[12], "If you don't comply")
	}
	if !found {
		t.Errorf("the CSV export has no threat on the worker's corrected turn:\n%v", rows)
	}

	reindexKeeps(t, b, data, "North/visit.wav")
}
