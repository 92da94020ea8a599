package annotate

import (
	"context"
	"fmt"
	"strings"

	"github.com/harkworks/hark"
)

// ExampleContext is what the other speaker says before an example that
// brings no context of its own.
const ExampleContext = "Okay."

// ExampleTurn is one turn of a codebook example.
type ExampleTurn struct {
	Role hark.Role
	Text string
}

// ParseExample splits a codebook example into its turns.
//
// A codebook's examples are tests: every tagger must give each positive
// example its code and must not give it to any negative one. An example is
// one turn, or several turns separated by "||". Each turn may start with the
// speaker's role and a colon (Worker, Parent, Child or Other, in any case):
//
//	"Parent: I'm shattered, she was up all night. || Worker: You're exhausted."
//
// The last turn is the one the example is about; without a role it has the
// role last, which is the code's role (a worker's for codes that apply to
// anyone). The turns before it are context and must name their role.
// ParseExample returns an error saying what is wrong for an empty turn, an
// unknown role, or a context turn without a role.
func ParseExample(example string, last hark.Role) ([]ExampleTurn, error) {
	parts := strings.Split(example, "||")
	turns := make([]ExampleTurn, 0, len(parts))
	for i, part := range parts {
		role, text, named, err := splitRole(part)
		if err != nil {
			return nil, fmt.Errorf("turn %d: %w", i+1, err)
		}
		if text == "" {
			return nil, fmt.Errorf("turn %d is empty", i+1)
		}
		if !named {
			if i < len(parts)-1 {
				return nil, fmt.Errorf("turn %d needs a speaker, as in \"Parent: ...\", since only the last turn may leave it out", i+1)
			}
			role = last
		}
		turns = append(turns, ExampleTurn{Role: role, Text: text})
	}
	return turns, nil
}

// splitRole reads an optional "Role:" prefix.
func splitRole(turn string) (role hark.Role, text string, named bool, err error) {
	turn = strings.TrimSpace(turn)
	colon := strings.IndexByte(turn, ':')
	if colon <= 0 || colon > 12 || strings.ContainsAny(turn[:colon], " \t") {
		return "", turn, false, nil
	}
	name := strings.ToLower(turn[:colon])
	switch r := hark.Role(name); r {
	case hark.RoleWorker, hark.RoleParent, hark.RoleChild, hark.RoleOther:
		return r, strings.TrimSpace(turn[colon+1:]), true, nil
	}
	// "Note: ..." or a time "10:30" is text, not a speaker; only a word
	// that looks like a speaker's name is an error.
	if strings.IndexFunc(turn[:colon], func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') }) >= 0 {
		return "", turn, false, nil
	}
	return "", "", false, fmt.Errorf("speaker %q is not one of Worker, Parent, Child, Other", turn[:colon])
}

// ExampleTranscript builds the transcript an example of code c is checked
// on: its turns as segments four seconds apart, with ExampleContext said
// before a single-turn example. The example's own turn is the last segment.
func ExampleTranscript(c *hark.Code, example string) (*hark.Transcript, error) {
	turns, err := ParseExample(example, defaultRole(c.Role))
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "code %q: example %q", c.ID, example)
	}
	if len(turns) == 1 {
		other := hark.RoleParent
		if turns[0].Role != hark.RoleWorker {
			other = hark.RoleWorker
		}
		turns = append([]ExampleTurn{{Role: other, Text: ExampleContext}}, turns...)
	}
	t := &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: "example", Engine: "example"}
	for i, turn := range turns {
		t.Segments = append(t.Segments, hark.Segment{
			Index:      i,
			Start:      float64(4 * i),
			End:        float64(4*i + 3),
			Speaker:    string(turn.Role),
			Role:       turn.Role,
			Text:       turn.Text,
			Confidence: 1,
		})
	}
	return t, nil
}

// ExampleFailure is a codebook example a tagger got wrong.
type ExampleFailure struct {
	Code     string   // the code the example belongs to
	Positive bool     // whether the example should carry the code
	Example  string   // the example as written in the codebook
	Got      []string // the codes the tagger gave the example's last turn
}

// String describes the failure for a test log or a person editing the codebook.
func (f ExampleFailure) String() string {
	if f.Positive {
		return fmt.Sprintf("code %q: positive example not tagged (got %v): %s", f.Code, f.Got, f.Example)
	}
	return fmt.Sprintf("code %q: negative example tagged: %s", f.Code, f.Example)
}

// CheckExamples runs the tagger on every example of every code in the
// codebook and returns the examples it gets wrong; none means the tagger
// passes the codebook's tests. It returns an error only when the tagger
// fails or ctx is done.
func CheckExamples(ctx context.Context, tg hark.Tagger, cb *hark.Codebook) ([]ExampleFailure, error) {
	var failures []ExampleFailure
	for i := range cb.Codes {
		c := &cb.Codes[i]
		for _, set := range []struct {
			positive bool
			examples []string
		}{{true, c.Examples.Positive}, {false, c.Examples.Negative}} {
			for _, ex := range set.examples {
				t, err := ExampleTranscript(c, ex)
				if err != nil {
					return failures, err
				}
				a, err := tg.Tag(ctx, t)
				if err != nil {
					return failures, fmt.Errorf("tag example of %q: %w", c.ID, err)
				}
				lastSeg := t.Segments[len(t.Segments)-1].Index
				var got []string
				has := false
				for _, tag := range a.Tags {
					if tag.Segment == lastSeg {
						got = append(got, tag.Code)
						has = has || tag.Code == c.ID
					}
				}
				if has != set.positive {
					failures = append(failures, ExampleFailure{Code: c.ID, Positive: set.positive, Example: ex, Got: got})
				}
			}
		}
	}
	return failures, nil
}
