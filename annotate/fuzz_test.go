package annotate

import (
	"context"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// FuzzParseCodebook checks that no input makes the codebook parser panic,
// that every error is an EINVALID *hark.Error, and that a codebook it
// accepts is one the rule tagger can use. Seeds are in
// testdata/fuzz/FuzzParseCodebook and below. The default codebook itself
// is not a seed: the fuzzer's minimisation stalls on inputs that large
// (golang/go#48820, #52569), and its parts are seeds instead.
func FuzzParseCodebook(f *testing.F) {
	f.Add([]byte(validCodebook))
	for _, c := range DefaultCodebook().Codes[:3] {
		y := "id: seed\nversion: 1\ncodes:\n  - id: " + c.ID + "\n    label: x\n    definition: x\n    role: " + c.Role +
			"\n    polarity: " + string(c.Polarity) + "\n    cues:\n"
		for _, cue := range c.Cues {
			y += "      - " + cue + "\n"
		}
		y += "    examples:\n      positive:\n        - \"" + c.Examples.Positive[0] + "\"\n"
		f.Add([]byte(y))
	}
	f.Add([]byte("id: x\nversion: 1\ncodes:\n  - &c {id: a, label: A, definition: D, role: any, polarity: neutral}\n  - *c\n"))
	f.Add([]byte("id: &a x\nversion: *a\ncodes: &l [*l]\n"))
	f.Add([]byte("id: x\nversion: 1\ncodes:\n  - {id: a, label: A, definition: D, role: any, polarity: neutral, cues: ['(?i)\\\\p{Greek}+', '[[:alpha:]]{2,}']}\n"))
	f.Add([]byte("id: x\nversion: 1\ncodes:\n  - {id: a, label: A, definition: D, role: worker, polarity: neutral, examples: {positive: ['Parent: a || b || Worker: c', '||'], negative: [': x']}}\n"))
	f.Add([]byte("{id: x, version: 1, codes: [{id: a}]}\n---\nid: y\n"))
	f.Add([]byte("\xff\xfe id: x"))
	tr := &hark.Transcript{Segments: []hark.Segment{
		{Index: 0, Role: hark.RoleParent, Speaker: "p", Text: "I'm shattered, she was up all night."},
		{Index: 1, Role: hark.RoleWorker, Speaker: "w", Text: "You're exhausted. What would help? If you don't let me in, I'll call the police."},
		{Index: 2, Role: hark.RoleUnknown, Text: "αβγ – ‘quoted’ … [inaudible] --"},
	}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8<<10 {
			// Large inputs find nothing small ones do not, and stall the
			// fuzzer's minimisation.
			return
		}
		cb, err := ParseCodebook("fuzz.yaml", data)
		if err != nil {
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		seen := map[string]bool{}
		for i := range cb.Codes {
			c := &cb.Codes[i]
			if !codeIDRE.MatchString(c.ID) || seen[c.ID] {
				t.Fatalf("accepted code id %q", c.ID)
			}
			seen[c.ID] = true
			for _, ex := range append(c.Examples.Positive, c.Examples.Negative...) {
				if _, err := ExampleTranscript(c, ex); err != nil {
					t.Fatalf("accepted example %q: %v", ex, err)
				}
			}
		}
		rt, err := NewRuleTagger(cb)
		if err != nil {
			t.Fatalf("accepted a codebook the tagger rejects: %v", err)
		}
		a, err := rt.Tag(context.Background(), tr)
		if err != nil {
			t.Fatal(err)
		}
		checkTags(t, tr, a)
	})
}

// FuzzRuleTagger checks that no segment text makes the rule tagger panic
// and that its tags always hold their evidence.
func FuzzRuleTagger(f *testing.F) {
	for _, s := range append(append([]string{}, workerTurns...), parentTurns...) {
		f.Add("I'm so tired of it all.", s)
	}
	f.Add("", "")
	f.Add("...", "?!")
	f.Add("[inaudible 00:01:02]", "-- so you're... [laughs] -")
	f.Add("Mr. Smith said no.", "So, Mr. Smith, what do you think?")
	f.Add("“Quoted,” she said.", "You’re saying it’s “fine”? Isn’t it?")
	f.Add("ok", "so how are things going with the kids since the review")
	f.Add("\xff\xfe", "You\u212a \u017f are")
	rt, err := NewRuleTagger(DefaultCodebook())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, parent, worker string) {
		tr := &hark.Transcript{Segments: []hark.Segment{
			{Index: 0, Role: hark.RoleParent, Speaker: "p", Text: parent},
			{Index: 1, Role: hark.RoleWorker, Speaker: "w", Text: worker},
			{Index: 2, Role: hark.RoleParent, Speaker: "p", Text: "Yeah."},
			{Index: 3, Role: hark.RoleWorker, Speaker: "w", Text: "-" + worker},
		}}
		a, err := rt.Tag(context.Background(), tr)
		if err != nil {
			t.Fatal(err)
		}
		checkTags(t, tr, a)
	})
}
