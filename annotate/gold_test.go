package annotate

import (
	"context"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

const goldCSV = "\ufefftranscript_id,index,speaker,role,start,end,text,codes,notes\n" +
	"a,0,Jo,worker,0,4,\"What brings you here, then?\",open_question,asked first\n" +
	"a,1,Sam,Parent,4,9,The school sent me.,\n" +
	"a,3,Jo,worker,,,\"Okay, so the school are worried.\",reflective_listening; open_question ;reflective_listening\n" +
	"b,0,,,,,Hello.,\n"

func TestReadGold(t *testing.T) {
	data, err := ReadGold("gold.csv", strings.NewReader(goldCSV), DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 2 {
		t.Fatalf("%d transcripts", len(data))
	}
	a := data[0]
	if a.Transcript.RecordingID != "a" || len(a.Transcript.Segments) != 3 {
		t.Fatalf("transcript a: %+v", a.Transcript)
	}
	want := []hark.Segment{
		{Index: 0, Start: 0, End: 4, Speaker: "Jo", Role: hark.RoleWorker, Text: "What brings you here, then?", Confidence: 1},
		{Index: 1, Start: 4, End: 9, Speaker: "Sam", Role: hark.RoleParent, Text: "The school sent me.", Confidence: 1},
		{Index: 3, Start: 10, End: 14, Speaker: "Jo", Role: hark.RoleWorker, Text: "Okay, so the school are worried.", Confidence: 1},
	}
	if !reflect.DeepEqual(a.Transcript.Segments, want) {
		t.Errorf("segments\n%+v\nwant\n%+v", a.Transcript.Segments, want)
	}
	if !reflect.DeepEqual(a.Labels, [][]string{{codeOpenQ}, nil, {codeReflection, codeOpenQ}}) {
		t.Errorf("labels %v", a.Labels)
	}
	b := data[1].Transcript.Segments[0]
	if b.Role != hark.RoleUnknown || b.Speaker != "unknown" {
		t.Errorf("segment without role or speaker: %+v", b)
	}
}

func TestReadGoldErrors(t *testing.T) {
	cb := DefaultCodebook()
	for _, tc := range []struct {
		name, csv string
		want      []string
	}{
		{"empty", "", []string{"g.csv: the file is empty"}},
		{"no codes column", "transcript_id,index,role,text\na,0,worker,Hi.\n", []string{"g.csv:1: the header has no codes column"}},
		{"no rows", "transcript_id,index,role,text,codes\n", []string{"g.csv: no turns"}},
		{"bad rows", "transcript_id,index,role,text,codes\n" +
			"a,zero,worker,Hi.,\n" +
			",1,worker,Hi.,\n" +
			"a,2,boss,Hi.,\n" +
			"a,3,worker,Hi.,open_qestion\n" +
			"a,3,parent,Again.,\n" +
			"a,4,parent,,\n", []string{
			`g.csv:2: index "zero" is not a whole number`,
			"g.csv:3: no transcript_id",
			`g.csv:4: role "boss" is not one of`,
			`g.csv:5: code "open_qestion" is not in codebook hark-practice`,
			"g.csv:6: transcript a: index 3 comes after 3",
			"g.csv:7: transcript a, index 4: the turn has no text",
		}},
		{"bad times", "transcript_id,index,role,text,codes,start,end\na,0,worker,Hi.,,x,\na,1,worker,Hi.,,5,2\n", []string{
			`g.csv:2: start "x" is not a number`, `g.csv:3: end "2" is not a number of seconds after start`}},
		{"bad quoting", "transcript_id,index,role,text,codes\na,0,worker,\"Hi.,\n", []string{"g.csv:2:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadGold("g.csv", strings.NewReader(tc.csv), cb)
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error %v, want invalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// The repository's gold file reads, and every row is a turn.
func TestReadGoldTestdata(t *testing.T) {
	f, err := os.Open("../testdata/eval/gold.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := ReadGold("gold.csv", f, DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	turns := 0
	for _, lt := range data {
		turns += len(lt.Transcript.Segments)
	}
	if len(data) != 2 || turns != 22 {
		t.Errorf("%d transcripts, %d turns", len(data), turns)
	}
}

func TestAgreementByCode(t *testing.T) {
	// Ten worker turns. The tagger gives open_question to turns starting
	// with "What" (turns 0-3); the coders to turns 0, 1 and 4.
	tr := &hark.Transcript{RecordingID: "t"}
	texts := []string{"What a", "What b", "What c", "What d", "How e", "f", "g", "h", "i", "j"}
	labels := make([][]string, len(texts))
	for i, s := range texts {
		tr.Segments = append(tr.Segments, hark.Segment{Index: i, Role: hark.RoleWorker, Text: s})
	}
	labels[0], labels[1], labels[4] = []string{codeOpenQ}, []string{codeOpenQ}, []string{codeOpenQ}
	data := []LabelledTranscript{{Transcript: tr, Labels: labels}}
	agree, err := AgreementByCode(context.Background(), prefixTagger{"What": codeOpenQ}, data, []string{codeOpenQ, codeDirective})
	if err != nil {
		t.Fatal(err)
	}
	// TP 2, FP 2, FN 1, TN 5. po = 7/10; pe = (4·3 + 6·7)/100 = 0.54;
	// kappa = (0.7 - 0.54)/0.46 = 0.3478.
	o := agree[0]
	if o.Code != codeOpenQ || o.Gold != 3 || o.Tagged != 4 || o.TruePositives != 2 || o.FalsePositives != 2 || o.FalseNegatives != 1 || o.TrueNegatives != 5 {
		t.Errorf("open_question: %+v", o)
	}
	if !near(o.Precision, 0.5) || !near(o.Recall, 2.0/3) || !near(o.F1, 4.0/7) || o.Kappa == nil || !near(*o.Kappa, 0.16/0.46) {
		t.Errorf("open_question: %+v, kappa %v", o, o.Kappa)
	}
	// Nobody gives directive: kappa is undefined.
	if d := agree[1]; d.Code != codeDirective || d.TrueNegatives != 10 || d.Kappa != nil {
		t.Errorf("directive: %+v", d)
	}
}

func TestKappa(t *testing.T) {
	for _, tc := range []struct {
		tp, fp, fn, tn int
		want           float64 // NaN: undefined
	}{
		{5, 0, 0, 5, 1},
		{0, 5, 5, 0, -1},
		{0, 0, 1, 21, 0},
		{0, 0, 0, 10, math.NaN()},
		{10, 0, 0, 0, math.NaN()},
		{0, 0, 0, 0, math.NaN()},
		{20, 5, 10, 15, 0.4}, // po 0.7; pe (25·30 + 25·20)/2500 = 0.5
	} {
		k := kappa(tc.tp, tc.fp, tc.fn, tc.tn)
		switch {
		case math.IsNaN(tc.want) && k != nil:
			t.Errorf("kappa%v = %v, want undefined", tc, *k)
		case !math.IsNaN(tc.want) && (k == nil || !near(*k, tc.want)):
			t.Errorf("kappa%v = %v, want %v", tc, k, tc.want)
		}
	}
}

func TestTagStatsAdd(t *testing.T) {
	var total TagStats
	total.Add(TagStats{Mode: ModeLLM, Model: "m", Usage: LLMUsage{Requests: 2, PromptTokens: 10, CompletionTokens: 3, TotalTokens: 13}, Returned: 4, LLMTags: 3, Tags: 3, Dropped: map[string]int{DropSpanNotFound: 1}})
	total.Add(TagStats{Mode: ModeLLM, Model: "m", Usage: LLMUsage{Requests: 1, Retries: 1, PromptTokens: 5, CompletionTokens: 1, TotalTokens: 6}, Returned: 1, Dropped: map[string]int{DropSpanNotFound: 1, DropWrongRole: 1}})
	want := TagStats{Mode: ModeLLM, Model: "m", Usage: LLMUsage{Requests: 3, Retries: 1, PromptTokens: 15, CompletionTokens: 4, TotalTokens: 19}, Returned: 5, LLMTags: 3, Tags: 3, Dropped: map[string]int{DropSpanNotFound: 2, DropWrongRole: 1}}
	if !reflect.DeepEqual(total, want) || total.DroppedTotal() != 3 {
		t.Errorf("total %+v, want %+v", total, want)
	}
}

// FuzzReadGold checks that no input makes the gold reader panic and that
// every error is EINVALID.
func FuzzReadGold(f *testing.F) {
	f.Add(goldCSV)
	f.Add("transcript_id,index,role,text,codes\na,0,worker,\"Hi\nthere\",open_question;;\n")
	f.Add("codes,text,role,index,transcript_id\n;,x,child,7,z\n")
	cb := DefaultCodebook()
	f.Fuzz(func(t *testing.T, data string) {
		got, err := ReadGold("f.csv", strings.NewReader(data), cb)
		if err != nil {
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		for _, lt := range got {
			if len(lt.Labels) != len(lt.Transcript.Segments) || len(lt.Transcript.Segments) == 0 {
				t.Fatalf("transcript %s: %d labels for %d segments", lt.Transcript.RecordingID, len(lt.Labels), len(lt.Transcript.Segments))
			}
		}
	})
}

// Two coders' agreement, worked by hand: on 8 worker turns coder one gives
// open_question to turns 0-3 and coder two to turns 0-2 and 4; both 3,
// one only 1, two only 1, neither 3: po = 6/8, pe = (4·4 + 4·4)/64 = 0.5,
// kappa = (0.75 - 0.5) / 0.5 = 0.5.
func TestCoderAgreement(t *testing.T) {
	coding := func(coded ...int) []LabelledTranscript {
		tr := &hark.Transcript{RecordingID: "m1"}
		labels := make([][]string, 8)
		for i := 0; i < 8; i++ {
			tr.Segments = append(tr.Segments, hark.Segment{Index: i, Role: hark.RoleWorker, Text: "x"})
		}
		for _, i := range coded {
			labels[i] = []string{"open_question"}
		}
		return []LabelledTranscript{{Transcript: tr, Labels: labels}}
	}
	a, err := CoderAgreement(coding(0, 1, 2, 3), coding(0, 1, 2, 4), []string{"open_question", "directive"})
	if err != nil {
		t.Fatal(err)
	}
	q := a[0]
	if q.Gold != 4 || q.Tagged != 4 || q.TruePositives != 3 || q.FalseNegatives != 1 || q.FalsePositives != 1 || q.TrueNegatives != 3 ||
		q.Kappa == nil || math.Abs(*q.Kappa-0.5) > 1e-12 {
		t.Errorf("open_question %+v", q)
	}
	if a[1].Kappa != nil || a[1].TrueNegatives != 8 {
		t.Errorf("directive, coded by neither: %+v (kappa undefined)", a[1])
	}
	short := coding(0)
	short[0].Transcript.Segments = short[0].Transcript.Segments[:7]
	if _, err := CoderAgreement(coding(0), short, []string{"open_question"}); hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), "8 turns in the first coding and 7") {
		t.Errorf("different turns: %v", err)
	}
	other := coding(0)
	other[0].Transcript.RecordingID = "m2"
	if _, err := CoderAgreement(coding(0), other, []string{"open_question"}); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("different transcripts: %v", err)
	}
}
