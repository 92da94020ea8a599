package faults

import (
	"bytes"
	"context"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/transcribe"
)

// referenceTags runs the default engine (the sidecar transcript) and the
// default tagger (the rules with hark's own model) with the built-in
// codebook on a meeting in this process, as a worker would with no fault,
// and returns the tags in canonical form.
func referenceTags(t *testing.T, name string, m *meeting) []string {
	t.Helper()
	ctx := context.Background()
	rec := &hark.Recording{ID: "rec_00000000000000000000", Bucket: bucket, Key: name + ".wav"}
	tr, err := transcribe.NewService(transcribe.Config{}).Transcribe(ctx, hark.EngineInput{
		Recording: rec, Audio: bytes.NewReader(m.wav), Sidecar: &hark.Sidecar{Name: name + ".vtt", Data: m.vtt}})
	if err != nil {
		t.Fatalf("reference transcription of %s: %v", name, err)
	}
	tr.RecordingID = rec.ID
	for i := range tr.Segments {
		tr.Segments[i].Index = i
	}
	cb := annotate.DefaultCodebook()
	rules, err := annotate.NewRuleTagger(cb)
	if err != nil {
		t.Fatal(err)
	}
	model, err := annotate.DefaultModel(cb)
	if err != nil {
		t.Fatal(err)
	}
	tagger, err := annotate.NewModelTagger(rules, model)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tagger.Tag(ctx, tr)
	if err != nil {
		t.Fatalf("reference tagging of %s: %v", name, err)
	}
	if len(a.Tags) == 0 && name != "" {
		t.Logf("reference run of %s has no tags", name)
	}
	return canonicalTags(a.Tags)
}
