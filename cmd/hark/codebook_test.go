package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCodebookLint(t *testing.T) {
	good := writeFile(t, "practice.yaml", string(annotate.DefaultCodebookYAML()))
	stdout, _, err := runCommand(t, newCodebookCmd, "lint", good)
	if err != nil {
		t.Fatalf("lint of the default codebook: %v\n%s", err, stdout)
	}
	if !strings.Contains(stdout, "codebook hark-practice 2026.12.4: 11 codes,") || !strings.Contains(stdout, "0 the rule tagger gets wrong") {
		t.Errorf("lint output %q", stdout)
	}

	// Problems come one a line with their line numbers, and fail.
	bad := writeFile(t, "team.yaml", `id: team-practice
version: 1.0.0
codes:
  - id: open_question
    label: Open question
    definition: An open question.
    role: worker
    polarity: great
  - id: Bad-Id
    label: Something
    definition: Something.
    role: worker
    polarity: strength
    cues:
      - "(unclosed"
`)
	stdout, _, err = runCommand(t, newCodebookCmd, "lint", bad)
	if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(hark.ErrorMessage(err), "team.yaml: 3 problems") {
		t.Fatalf("lint of a bad codebook: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	want := []string{
		bad + `:8: code "open_question": polarity "great" is not one of strength, concern, neutral`,
		bad + `:9: code "Bad-Id": id "Bad-Id" must be lower-case letters`,
		bad + `:15: code "Bad-Id": cue "(unclosed" is not a valid regular expression`,
	}
	if len(lines) != len(want) {
		t.Fatalf("lint printed %d lines, want %d:\n%s", len(lines), len(want), stdout)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want %q…", i+1, lines[i], w)
		}
	}

	// An example the rule tagger gets wrong is a warning with its line,
	// and an error with --strict.
	weak := writeFile(t, "weak.yaml", `id: team-practice
version: 1.0.0
codes:
  - id: praise
    label: Praise
    definition: The worker praises the parent.
    role: worker
    polarity: strength
    cues:
      - \bwell done\b
    examples:
      positive:
        - "Well done for getting him to school."
        - "You have been brilliant this week."
      negative:
        - "Parent: Well done me."
`)
	stdout, _, err = runCommand(t, newCodebookCmd, "lint", weak)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, weak+`:14: warning: code "praise": positive example not tagged`) || !strings.Contains(stdout, "1 the rule tagger gets wrong") {
		t.Errorf("lint output %q", stdout)
	}
	_, _, err = runCommand(t, newCodebookCmd, "lint", "--strict", weak)
	if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), "gets 1 of 3 examples wrong") {
		t.Errorf("lint --strict: %v", err)
	}

	_, _, err = runCommand(t, newCodebookCmd, "lint", filepath.Join(t.TempDir(), "none.yaml"))
	if hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("lint of a missing file: %v", err)
	}
}

func TestCodebookShow(t *testing.T) {
	stdout, _, err := runCommand(t, newCodebookCmd, "show")
	if err != nil {
		t.Fatal(err)
	}
	cb := annotate.DefaultCodebook()
	if !strings.Contains(stdout, "codebook hark-practice, version 2026.12.4: 11 codes") || !strings.Contains(stdout, "ID  ") {
		t.Errorf("table %q", stdout)
	}
	for _, c := range cb.Codes {
		if !strings.Contains(stdout, c.ID+" ") || !strings.Contains(stdout, c.Label) {
			t.Errorf("table lacks %s", c.ID)
		}
	}
	if !strings.Contains(stdout, "threat_of_escalation    worker  concern   Threat of escalation") {
		t.Errorf("table row:\n%s", stdout)
	}

	stdout, _, err = runCommand(t, newCodebookCmd, "show", "--format", "yaml")
	if err != nil || stdout != string(annotate.DefaultCodebookYAML()) {
		t.Errorf("show --format yaml: %v; not the embedded source", err)
	}

	stdout, _, err = runCommand(t, newCodebookCmd, "show", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got hark.Codebook
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.ID != cb.ID || len(got.Codes) != len(cb.Codes) || got.Codes[1].Cues[0] != cb.Codes[1].Cues[0] {
		t.Errorf("show --format json: %v %+v", err, got)
	}

	small := writeFile(t, "small.yaml", `id: small
version: "2"
codes:
  - id: praise
    label: Praise
    definition: The worker praises the parent.
    role: worker
    polarity: strength
`)
	stdout, _, err = runCommand(t, newCodebookCmd, "show", small)
	if err != nil || !strings.Contains(stdout, "codebook small, version 2: 1 codes") || !strings.Contains(stdout, "praise  worker  strength  Praise  0     0/0") {
		t.Errorf("show FILE: %v\n%s", err, stdout)
	}
	if _, _, err := runCommand(t, newCodebookCmd, "show", "--format", "csv"); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("show --format csv: %v", err)
	}
	bad := writeFile(t, "bad.yaml", "id: x\n")
	if _, _, err := runCommand(t, newCodebookCmd, "show", bad); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("show of a bad codebook: %v", err)
	}
}
