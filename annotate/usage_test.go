package annotate

import (
	"context"
	"testing"
)

// TestTaggerRecordsUsage checks that token use reaches the annotations,
// which the pipeline stores next to the recording.
func TestTaggerRecordsUsage(t *testing.T) {
	cb := DefaultCodebook()
	rules := newTestTagger(t)
	f := newFakeLLM(t, cb)
	lt, _ := newLLMTestTagger(t, f, LLMConfig{})
	tr := readMeeting(t, "mixed")
	ctx := context.Background()

	tg, err := NewTagger(ModeRules, rules, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tg.Tag(ctx, tr)
	if err != nil || a.Usage != nil {
		t.Fatalf("rules mode: usage %+v, err %v; want none", a.Usage, err)
	}
	tg, err = NewTagger(ModeLLM, rules, lt, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, stats, err := tg.TagStats(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	a, err = tg.Tag(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	u := a.Usage
	if u == nil || u.Requests != stats.Usage.Requests || u.TotalTokens != stats.Usage.TotalTokens || u.TotalTokens == 0 || u.Model == "" {
		t.Fatalf("llm mode: usage %+v, stats %+v", u, stats.Usage)
	}
}
