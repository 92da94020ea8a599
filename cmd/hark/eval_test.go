package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
)

// goldFile is a small human-coded set written for these tests: two home
// visits, 22 turns (11 by workers), each worker turn coded by hand.
// goldFile is absolute: the embedded S3 server of other tests in this
// package changes the working directory while it runs.
var goldFile = func() string {
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "eval", "gold.csv"))
	if err != nil {
		panic(err)
	}
	return p
}()

// The rule tagger on the gold file, counted by hand from its tags (see
// testdata/eval/README.md): it finds every coded turn, and makes one
// mistake (an affirmation read as a reflection too).
//
//   - reflective_listening: it tags the real reflection (visit-01 #2) and
//     also an affirmation (visit-01 #10); the explanation (visit-02 #2) it
//     reads as a reflection too, but the explanation rules it out: TP 1,
//     FP 1, FN 0, TN 20. Precision 1/2, recall 1, F1 = 2·(1/2)·1 / (3/2)
//     = 2/3. Kappa: po = 21/22; pe = (2·1 + 20·21)/22² = 422/484;
//     kappa = (462 − 422)/(484 − 422) = 40/62 = 0.6452.
//   - affirmation: it finds the one affirmation (visit-01 #10, by "That
//     takes real effort"): TP 1, TN 21, kappa 1.
//   - open_question: all three found, no others: TP 3, TN 19, kappa 1.
//   - shared_concern: neither side codes any turn, so pe = 1 and kappa is
//     undefined (null).
//   - every other code: its one coded turn found, nothing else, kappa 1.
func TestEvalGold(t *testing.T) {
	stdout, stderr, err := runCommand(t, newEvalCmd, "--gold", goldFile, "--format", "json", "--tagger", "rules")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	var r EvalReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	// The JSON is a contract: these fields, in this order.
	if got := objectKeys(t, json.RawMessage(stdout)); !slices.Equal(got, []string{"gold", "transcripts", "turns", "codebook", "codebook_version", "tagger", "codes"}) {
		t.Errorf("keys %v", got)
	}
	var raw struct{ Codes []json.RawMessage }
	json.Unmarshal([]byte(stdout), &raw)
	for _, c := range raw.Codes {
		if got := objectKeys(t, c); !slices.Equal(got, []string{"code", "gold", "tagged", "true_positives", "false_positives", "false_negatives", "true_negatives", "precision", "recall", "f1", "kappa"}) {
			t.Fatalf("code keys %v", got)
		}
	}
	if r.Transcripts != 2 || r.Turns != 22 || r.Codebook != "hark-practice" || r.Tagger != "rules" || len(r.Codes) != 11 {
		t.Fatalf("report %+v", r)
	}
	type want struct {
		tp, fp, fn, tn int
		p, r, f1       float64
		kappa          float64 // NaN: null
	}
	wants := map[string]want{
		"reflective_listening":   {1, 1, 0, 20, 0.5, 1, 2.0 / 3, 40.0 / 62},
		"open_question":          {3, 0, 0, 19, 1, 1, 1, 1},
		"joint_agenda_setting":   {1, 0, 0, 21, 1, 1, 1, 1},
		"collaborative_planning": {1, 0, 0, 21, 1, 1, 1, 1},
		"shared_concern":         {0, 0, 0, 22, 0, 0, 0, math.NaN()},
		"affirmation":            {1, 0, 0, 21, 1, 1, 1, 1},
		"asking_permission":      {1, 0, 0, 21, 1, 1, 1, 1},
		"explaining_process":     {1, 0, 0, 21, 1, 1, 1, 1},
		"threat_of_escalation":   {1, 0, 0, 21, 1, 1, 1, 1},
		"directive":              {1, 0, 0, 21, 1, 1, 1, 1},
		"dismissing_parent_view": {1, 0, 0, 21, 1, 1, 1, 1},
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	cb := annotate.DefaultCodebook()
	for i, a := range r.Codes {
		if cb.Codes[i].ID != a.Code {
			t.Errorf("code %d is %s: want codebook order", i, a.Code)
		}
		w, ok := wants[a.Code]
		if !ok {
			t.Errorf("unexpected code %s", a.Code)
			continue
		}
		if a.TruePositives != w.tp || a.FalsePositives != w.fp || a.FalseNegatives != w.fn || a.TrueNegatives != w.tn ||
			a.Gold != w.tp+w.fn || a.Tagged != w.tp+w.fp || !near(a.Precision, w.p) || !near(a.Recall, w.r) || !near(a.F1, w.f1) {
			t.Errorf("%s: %+v, want %+v", a.Code, a, w)
		}
		switch {
		case math.IsNaN(w.kappa) && a.Kappa != nil:
			t.Errorf("%s: kappa %v, want null", a.Code, *a.Kappa)
		case !math.IsNaN(w.kappa) && (a.Kappa == nil || !near(*a.Kappa, w.kappa)):
			t.Errorf("%s: kappa %v, want %v", a.Code, a.Kappa, w.kappa)
		}
	}
	// The JSON says null for an undefined kappa.
	if !strings.Contains(stdout, `"kappa": null`) {
		t.Errorf("no null kappa in %s", stdout)
	}

	// The table says the same.
	stdout, _, err = runCommand(t, newEvalCmd, "--gold", goldFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"2 transcripts, 22 turns; codebook hark-practice",
		"reflective_listening           1      2     1     1     0    20     0.500   1.000  0.667  0.645",
		"shared_concern                 0      0     0     0     0    22     0.000   0.000  0.000      -",
		"affirmation                    1      1     1     0     0    21     1.000   1.000  1.000  1.000",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("transcript_id,index,role,text,codes\nv1,0,worker,How are you?,open_question\nv1,1,parent,Fine.,\nv1,2,worker,Well done.,affirmaton\nv1,2,worker,Again.,\n"), 0o644)
	noCodes := filepath.Join(dir, "nocodes.csv")
	os.WriteFile(noCodes, []byte("transcript_id,index,role,text\nv1,0,worker,Hello.\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code string
		msg  []string
	}{
		{nil, hark.EINVALID, []string{"--gold FILE"}},
		{[]string{"--gold", filepath.Join(dir, "none.csv")}, hark.ENOTFOUND, []string{"does not exist"}},
		{[]string{"--gold", bad}, hark.EINVALID, []string{`bad.csv:4: code "affirmaton" is not in codebook`, "bad.csv:5: transcript v1: index 2 comes after 2"}},
		{[]string{"--gold", noCodes}, hark.EINVALID, []string{"nocodes.csv:1: the header has no codes column"}},
		{[]string{"--gold", goldFile, "--format", "yaml"}, hark.EINVALID, []string{"use text or json"}},
	} {
		_, _, err := runCommand(t, newEvalCmd, tc.args...)
		if hark.ErrorCode(err) != tc.code {
			t.Errorf("eval %v: %v, want %s", tc.args, err, tc.code)
			continue
		}
		for _, m := range tc.msg {
			if !strings.Contains(hark.ErrorMessage(err), m) {
				t.Errorf("eval %v: %q lacks %q", tc.args, hark.ErrorMessage(err), m)
			}
		}
	}
}
