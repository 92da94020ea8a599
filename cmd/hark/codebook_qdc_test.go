package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/qda/qdatest"
)

// sharedQDA is the REFI-QDA reference folder, ../shared/qda from the
// repository root.
// It is absolute: the embedded S3 server of other tests in this package
// changes the working directory while it runs.
var sharedQDA = func() string {
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "qda"))
	if err != nil {
		panic(err)
	}
	return p
}()

// hark codebook export --format qdc, then import: the codes come back with
// their ids, labels, definitions and polarity, and the cues and examples
// of the YAML being updated stay.
func TestCodebookQDCRoundTrip(t *testing.T) {
	dir := t.TempDir()
	qdc := filepath.Join(dir, "hark.qdc")
	if msg, err := runHark(t, dir, "", "codebook", "export", "--format", "qdc", "-o", qdc); err != nil {
		t.Fatalf("export: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(qdc)
	if err != nil {
		t.Fatal(err)
	}
	qdatest.ValidateCodebook(t, sharedQDA, data)

	// Into a new YAML: no cues, but every code back.
	bare := filepath.Join(dir, "bare.yaml")
	if msg, err := runHark(t, dir, "", "codebook", "import", qdc, "-o", bare); err != nil {
		t.Fatalf("import: %v\n%s", err, msg)
	}
	want := annotate.DefaultCodebook()
	got, err := annotate.LoadCodebook(bare)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Codes) != len(want.Codes) {
		t.Fatalf("%d codes, want %d", len(got.Codes), len(want.Codes))
	}
	for _, c := range want.Codes {
		g := got.Code(c.ID)
		if g == nil || g.Label != c.Label || g.Definition != c.Definition || g.Polarity != c.Polarity || g.Role != c.Role || len(g.Cues) != 0 {
			t.Errorf("code %s came back as %+v", c.ID, g)
		}
	}
	// Over hark's own YAML: the cues and examples stay.
	own := filepath.Join(dir, "codebook.yaml")
	if err := os.WriteFile(own, annotate.DefaultCodebookYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := runHark(t, dir, "", "codebook", "import", qdc, "-o", own); err != nil {
		t.Fatalf("import: %v\n%s", err, msg)
	}
	got, err = annotate.LoadCodebook(own)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.Version != want.Version {
		t.Errorf("codebook %s %s, want %s %s", got.ID, got.Version, want.ID, want.Version)
	}
	for _, c := range want.Codes {
		g := got.Code(c.ID)
		if g == nil || len(g.Cues) != len(c.Cues) || len(g.Examples.Positive) != len(c.Examples.Positive) {
			t.Errorf("code %s lost its cues or examples: %+v", c.ID, g)
		}
	}
}

// The codebook of the project ATLAS.ti 23 wrote imports, its codes there.
func TestCodebookImportAtlas(t *testing.T) {
	qdatest.Schema(t, sharedQDA)
	dir := t.TempDir()
	out := filepath.Join(dir, "atlas.yaml")
	msg, err := runHark(t, dir, "", "codebook", "import", filepath.Join(sharedQDA, "atlas-ti-sample.qdpx"), "-o", out)
	if err != nil || !strings.Contains(msg, "3 codes") {
		t.Fatalf("import: %v\n%s", err, msg)
	}
	cb, err := annotate.LoadCodebook(out)
	if err != nil {
		t.Fatal(err)
	}
	if c := cb.Code("commits"); c == nil || c.Label != "Commits" {
		t.Errorf("codes %+v", cb.Codes)
	}
	if msg, err := runHark(t, dir, "", "codebook", "import", out, "-o", filepath.Join(dir, "x.yaml")); err == nil {
		t.Errorf("importing a YAML file: %s", msg)
	}
}
