package annotate

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// The code ids the design brief makes stable API.
var stableCodes = []string{
	"reflective_listening", "open_question", "joint_agenda_setting", "collaborative_planning",
	"shared_concern", "affirmation", "asking_permission", "explaining_process",
	"threat_of_escalation", "directive", "dismissing_parent_view",
}

func TestDefaultCodebook(t *testing.T) {
	cb := DefaultCodebook()
	if cb.ID != "hark-practice" || cb.Version != "2026.12.4" {
		t.Errorf("id %q version %q; want hark-practice 2026.12.4", cb.ID, cb.Version)
	}
	for _, id := range stableCodes {
		c := cb.Code(id)
		if c == nil {
			t.Errorf("code %q is missing", id)
			continue
		}
		if len(c.Examples.Positive) < 3 || len(c.Examples.Negative) < 3 {
			t.Errorf("code %q has %d positive and %d negative examples; want at least 3 of each",
				id, len(c.Examples.Positive), len(c.Examples.Negative))
		}
		if len(c.Cues) == 0 {
			t.Errorf("code %q has no cues", id)
		}
	}
	// Each call returns its own copy.
	cb.Codes[0].Label = "changed"
	if DefaultCodebook().Codes[0].Label == "changed" {
		t.Error("DefaultCodebook shares its codes between calls")
	}
	if string(DefaultCodebookYAML()) != defaultCodebookYAML {
		t.Error("DefaultCodebookYAML differs from the embedded file")
	}
}

// The hard negatives the brief asks for must stay in the codebook.
func TestDefaultCodebookHardNegatives(t *testing.T) {
	cb := DefaultCodebook()
	for _, tc := range []struct{ code, example string }{
		{codeThreat, "Nobody is planning care proceedings."},
		{codeThreat, "Being on a plan doesn't mean removal."},
		{codeThreat, "The conference will look at what support your family needs."},
		{codeOpenQ, "Did you take her to the dentist?"},
		{codeReflection, "Parent: The school keep ringing me about him. || Worker: What have the school been saying?"},
	} {
		found := false
		for _, ex := range cb.Code(tc.code).Examples.Negative {
			found = found || ex == tc.example
		}
		if !found {
			t.Errorf("%s: negative example %q is missing", tc.code, tc.example)
		}
	}
}

const validCodebook = `id: test
version: 1.0.0
codes:
  - id: greeting
    label: Greeting
    definition: The worker greets the parent.
    role: worker
    polarity: neutral
    cues:
      - \bhello\b
    examples:
      positive:
        - "Hello, thanks for letting me in."
      negative:
        - "Parent: Hello."
`

func TestParseCodebook(t *testing.T) {
	cb, err := ParseCodebook("test.yaml", []byte(validCodebook))
	if err != nil {
		t.Fatal(err)
	}
	c := cb.Code("greeting")
	if cb.ID != "test" || cb.Version != "1.0.0" || c == nil || c.Role != "worker" || c.Polarity != hark.PolarityNeutral ||
		len(c.Cues) != 1 || c.Cues[0] != `\bhello\b` || len(c.Examples.Positive) != 1 || len(c.Examples.Negative) != 1 {
		t.Errorf("parsed %+v", cb)
	}
}

func TestParseCodebookErrors(t *testing.T) {
	// code returns a codebook with one code whose body is the given lines,
	// starting on line 5.
	code := func(lines ...string) string {
		return "id: test\nversion: 1\ncodes:\n  - id: greeting\n" + strings.Join(lines, "\n") + "\n"
	}
	full := func(extra ...string) string {
		return code(append([]string{
			"    label: Greeting",
			"    definition: A greeting.",
			"    role: worker",
			"    polarity: neutral",
		}, extra...)...)
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"bad polarity", code("    label: Greeting", "    definition: A greeting.", "    role: worker", "    polarity: bad"),
			[]string{`c.yaml:8: code "greeting": polarity "bad" is not one of strength, concern, neutral`}},
		{"bad role", code("    label: Greeting", "    definition: A greeting.", "    role: teacher", "    polarity: neutral"),
			[]string{`c.yaml:7: code "greeting": role "teacher" is not one of worker, parent, any`}},
		{"missing fields", code(),
			[]string{`c.yaml:4: code "greeting" has no label`, `c.yaml:4: code "greeting" has no definition`,
				`c.yaml:4: code "greeting" has no role`, `c.yaml:4: code "greeting" has no polarity`}},
		{"no id or version", "description: x\ncodes: []\n",
			[]string{`c.yaml:1: the codebook has no id`, `c.yaml:1: the codebook has no version`, `c.yaml:2: the codebook's code list is empty`}},
		{"no codes", "id: x\nversion: 1\n", []string{`c.yaml:1: the codebook has no codes`}},
		{"bad code id", strings.Replace(full(), "id: greeting", "id: Greeting", 1),
			[]string{`c.yaml:4: code "Greeting": id "Greeting" must be lower-case letters, digits and underscores, starting with a letter`}},
		{"duplicate code", full() + "  - id: greeting\n    label: Again\n    definition: Again.\n    role: any\n    polarity: neutral\n",
			[]string{`c.yaml:9: code "greeting": id "greeting" is used twice (first on line 4)`}},
		{"bad cue", full("    cues:", "      - \\bhello\\b", "      - (unclosed"),
			[]string{`c.yaml:11: code "greeting": cue "(unclosed" is not a valid regular expression: missing closing ): ` + "`(unclosed`"}},
		{"empty cue", full("    cues:", `      - ""`), []string{`c.yaml:10: code "greeting": cue 1 is empty`}},
		{"unknown top field", "id: x\nversion: 1\ncodez: []\n",
			[]string{`c.yaml:3: codebook: unknown field "codez" (known fields: id, version, description, codes)`}},
		{"unknown code field", full("    cue: hello"),
			[]string{`c.yaml:9: code "greeting": unknown field "cue" (known fields: id, label, definition, boundaries, role, polarity, cues, ruled_out_by, outweighed_by, examples)`}},
		{"ruled out by an unknown code", full("    ruled_out_by: [farewell]"),
			[]string{`c.yaml:9: code "greeting": ruled_out_by names "farewell", which the codebook does not have`}},
		{"ruled out by itself", full("    ruled_out_by:", "      - greeting"),
			[]string{`c.yaml:10: code "greeting": ruled_out_by names the code itself`}},
		{"ruled_out_by not a list", full("    ruled_out_by: farewell"),
			[]string{`c.yaml:9: code "greeting": ruled_out_by must be a list, not a text`}},
		{"outweighed by an unknown code", full("    outweighed_by: [farewell]"),
			[]string{`c.yaml:9: code "greeting": outweighed_by names "farewell", which the codebook does not have`}},
		{"outweighed by itself", full("    outweighed_by:", "      - greeting"),
			[]string{`c.yaml:10: code "greeting": outweighed_by names the code itself`}},
		{"outweighed_by not a list", full("    outweighed_by: farewell"),
			[]string{`c.yaml:9: code "greeting": outweighed_by must be a list, not a text`}},
		{"unknown examples field", full("    examples:", "      positives: []"),
			[]string{`c.yaml:10: code "greeting": examples: unknown field "positives" (known fields: positive, negative)`}},
		{"duplicate field", full("    role: parent"),
			[]string{`c.yaml:9: code "greeting": field "role" appears twice (first on line 7)`}},
		{"label not text", code("    label: {a: b}", "    definition: A greeting.", "    role: worker", "    polarity: neutral"),
			[]string{`c.yaml:5: code "greeting": label must be text, not a mapping`}},
		{"cues not a list", full("    cues: hello"), []string{`c.yaml:9: code "greeting": cues must be a list, not a text`}},
		{"codes not a list", "id: x\nversion: 1\ncodes: hello\n", []string{`c.yaml:3: codes must be a list of codes, not a text`}},
		{"code not a mapping", "id: x\nversion: 1\ncodes:\n  - hello\n", []string{`c.yaml:4: code 1 must be a mapping`}},
		{"top is a list", "- a\n- b\n", []string{`c.yaml:1: the codebook must be a mapping with id, version and codes, not a list`}},
		{"empty", "", []string{`c.yaml: the codebook is empty`}},
		// The YAML parser names the line of the block it was reading.
		{"syntax", "id: x\nversion: 1\ncodes:\n  - id: a\n   label: b\n", []string{`c.yaml:3: invalid YAML: did not find expected '-' indicator`}},
		{"tab indent", "id: x\n\tversion: 1\n", []string{`c.yaml:2: invalid YAML: found a tab character`}},
		{"unclosed quote", "id: \"x\nversion: 1\n", []string{`c.yaml:3: invalid YAML: found unexpected end of stream`}},
		{"example unknown speaker", full("    examples:", "      positive:", `        - "Teacher: Hello. || Worker: Hello."`),
			[]string{`c.yaml:11: code "greeting": positive example 1: turn 1: speaker "Teacher" is not one of Worker, Parent, Child, Other`}},
		{"example context without speaker", full("    examples:", "      negative:", `        - "Hello. || Worker: Hello."`),
			[]string{`c.yaml:11: code "greeting": negative example 1: turn 1 needs a speaker`}},
		{"example empty turn", full("    examples:", "      negative:", `        - "Parent: Hi. || "`),
			[]string{`c.yaml:11: code "greeting": negative example 1: turn 2 is empty`}},
		{"positive in wrong role", full("    examples:", "      positive:", `        - "Parent: Hello."`),
			[]string{`c.yaml:11: code "greeting": positive example 1: its last turn is said by a parent, but the code applies to a worker`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCodebook("c.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error for\n%s", tc.yaml)
			}
			var he *hark.Error
			if !errors.As(err, &he) || he.Code != hark.EINVALID {
				t.Errorf("error %T %v; want a *hark.Error with code EINVALID", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestParseCodebookManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("id: x\nversion: 1\ncodes:\n")
	for i := 0; i < 30; i++ {
		b.WriteString("  - id: c\n    label: L\n    definition: D\n    role: any\n    polarity: nope\n")
	}
	_, err := ParseCodebook("c.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxProblems+1 || !strings.Contains(lines[maxProblems], "more problems") {
		t.Errorf("got %d lines, last %q; want %d problems and a count of the rest", len(lines), lines[len(lines)-1], maxProblems)
	}
	lineRE := regexp.MustCompile(`^c\.yaml:\d+: `)
	for _, l := range lines[:maxProblems] {
		if !lineRE.MatchString(l) {
			t.Errorf("problem without a line: %q", l)
		}
	}
}

func TestParseCodebookTooLarge(t *testing.T) {
	_, err := ParseCodebook("big.yaml", make([]byte, MaxCodebookSize+1))
	if hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("got %v; want EINVALID", err)
	}
}

func TestLoadCodebook(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(validCodebook), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("id: x\nversion: 1\ncodes: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cb, err := LoadCodebook(good); err != nil || cb.ID != "test" {
		t.Errorf("good: %v, %v", cb, err)
	}
	if _, err := LoadCodebook(bad); hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), bad+":3: ") {
		t.Errorf("bad: got %v; want EINVALID naming %s:3", err, bad)
	}
	if _, err := LoadCodebook(filepath.Join(dir, "missing.yaml")); hark.ErrorCode(err) != hark.ENOTFOUND {
		t.Errorf("missing: got %v; want ENOTFOUND", err)
	}
}

func TestParseExample(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  []ExampleTurn
		error string
	}{
		{in: "You're exhausted.", want: []ExampleTurn{{hark.RoleWorker, "You're exhausted."}}},
		{in: "Parent: I'm shattered. || Worker: You're exhausted.",
			want: []ExampleTurn{{hark.RoleParent, "I'm shattered."}, {hark.RoleWorker, "You're exhausted."}}},
		{in: "parent: I'm shattered. ||You're exhausted.",
			want: []ExampleTurn{{hark.RoleParent, "I'm shattered."}, {hark.RoleWorker, "You're exhausted."}}},
		{in: "Child: Can I go out? || Other: Not now. || Parent: Ask your dad.",
			want: []ExampleTurn{{hark.RoleChild, "Can I go out?"}, {hark.RoleOther, "Not now."}, {hark.RoleParent, "Ask your dad."}}},
		// A colon that is not after a speaker's name is text.
		{in: "The review is at 10:30: bring a friend.", want: []ExampleTurn{{hark.RoleWorker, "The review is at 10:30: bring a friend."}}},
		{in: "Next steps: the review.", want: []ExampleTurn{{hark.RoleWorker, "Next steps: the review."}}},
		{in: "Teacher: Hello.", error: `speaker "Teacher" is not one of`},
		{in: "Hello. || You're here.", error: "turn 1 needs a speaker"},
		{in: " || Worker: Hi.", error: "turn 1 is empty"},
		{in: "", error: "turn 1 is empty"},
	} {
		got, err := ParseExample(tc.in, hark.RoleWorker)
		switch {
		case tc.error != "":
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("ParseExample(%q): error %v; want %q", tc.in, err, tc.error)
			}
		case err != nil:
			t.Errorf("ParseExample(%q): %v", tc.in, err)
		case len(got) != len(tc.want):
			t.Errorf("ParseExample(%q) = %v; want %v", tc.in, got, tc.want)
		default:
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("ParseExample(%q) = %v; want %v", tc.in, got, tc.want)
					break
				}
			}
		}
	}
}

func TestExampleTranscript(t *testing.T) {
	c := &hark.Code{ID: "x", Role: "worker"}
	tr, err := ExampleTranscript(c, "You're exhausted.")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Segments) != 2 || tr.Segments[0].Role != hark.RoleParent || tr.Segments[0].Text != ExampleContext ||
		tr.Segments[1].Role != hark.RoleWorker || tr.Segments[1].Index != 1 {
		t.Errorf("got %+v", tr.Segments)
	}
	if _, err := ExampleTranscript(c, "Teacher: hi"); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("bad example: %v; want EINVALID", err)
	}
}
