package annotate

import (
	"context"
	"fmt"
	"os"
	"time"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// FuzzParseCodebook checks that no input makes the codebook parser panic,
// that every error is an EINVALID *hark.Error, and that a codebook it
// accepts is one the rule tagger can use. Seeds are in
// testdata/fuzz/FuzzParseCodebook and below.
func FuzzParseCodebook(f *testing.F) {
	f.Add(defaultCodebookYAML)
	f.Add([]byte(validCodebook))
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
		tm := time.AfterFunc(2*time.Second, func() { os.WriteFile(fmt.Sprintf("/tmp/slow-%d.yaml", time.Now().UnixNano()), data, 0o644) })
		defer tm.Stop()
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
