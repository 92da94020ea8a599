package qda_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/qda"
	"github.com/harkworks/hark/qda/qdatest"
)

func TestCodebookRoundTrip(t *testing.T) {
	cb := annotate.DefaultCodebook()
	var buf bytes.Buffer
	if err := qda.WriteCodebook(&buf, cb); err != nil {
		t.Fatal(err)
	}
	qdatest.ValidateCodebook(t, sharedQDA, buf.Bytes())
	got, err := qda.ReadCodebook(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Codes) != len(cb.Codes) {
		t.Fatalf("%d codes back, want %d", len(got.Codes), len(cb.Codes))
	}
	for i, c := range got.Codes {
		want := cb.Code(c.ID)
		if want == nil {
			t.Errorf("code %d: id %q is not the codebook's", i, c.ID)
			continue
		}
		if c.Label != want.Label || c.Definition != want.Definition || c.Boundaries != want.Boundaries ||
			c.Polarity != want.Polarity || c.Role != want.Role || c.GUID != qda.CodeGUID(want.ID) || c.Color == "" {
			t.Errorf("code %s came back as %+v", want.ID, c)
		}
	}
	// Without hark's line, ids come from the GUIDs of the codebook being updated.
	known := map[string]string{qda.CodeGUID("reflective_listening"): "reflective_listening"}
	doc := []byte(`<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo"><Codes>
<Code guid="` + qda.CodeGUID("reflective_listening") + `" name="Reflections" isCodable="true"><Description>Saying back.</Description></Code>
<Code guid="11111111-2222-3333-4444-555555555555" name="Concerns" isCodable="false"><Code guid="11111111-2222-3333-4444-555555555556" name="Blame" isCodable="true"/></Code>
</Codes></CodeBook>`)
	qdatest.ValidateCodebook(t, sharedQDA, doc)
	got, err = qda.ReadCodebook(bytes.NewReader(doc), int64(len(doc)), known)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Codes) != 2 || got.Codes[0].ID != "reflective_listening" || got.Codes[0].Label != "Reflections" ||
		got.Codes[1].ID != "blame" || got.Codes[1].Polarity != hark.PolarityConcern || got.Codes[1].Definition != "Blame" || got.Origin != "NVivo" {
		t.Errorf("read %+v", got)
	}
}

// TestReadAtlasSample reads the codebook of the project ATLAS.ti 23 wrote.
func TestReadAtlasSample(t *testing.T) {
	qdatest.Schema(t, sharedQDA)
	data, err := os.ReadFile(filepath.Join(sharedQDA, "atlas-ti-sample.qdpx"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := qda.ReadCodebook(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got.Codes {
		names = append(names, c.Label)
	}
	want := []string{"Commits", "2022-05-10T02:05:59Z 19e4dce", "2022-02-11T10:39:25Z cdbfd92"}
	if len(names) != 3 || names[0] != want[0] || names[1] != want[1] || names[2] != want[2] {
		t.Fatalf("codes %q, want %q", names, want)
	}
	if got.Codes[0].ID != "commits" || got.Codes[1].ID != "code_2022_05_10t02_05_59z_19e4dce" || got.Codes[0].GUID != "A182CD3A-D83C-4D8C-BC80-26D9103EC6D6" {
		t.Errorf("ids %q %q, guid %s", got.Codes[0].ID, got.Codes[1].ID, got.Codes[0].GUID)
	}
	if _, err := qda.ReadCodebook(bytes.NewReader([]byte("<html/>")), 7, nil); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("an HTML page: %v", err)
	}
}
