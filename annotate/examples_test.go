package annotate

import (
	"context"
	"testing"
)

func TestDefaultCodebookExamples(t *testing.T) {
	cb := DefaultCodebook()
	rt, err := NewRuleTagger(cb)
	if err != nil {
		t.Fatal(err)
	}
	failures, err := CheckExamples(context.Background(), rt, cb)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		t.Error(f)
	}
}
