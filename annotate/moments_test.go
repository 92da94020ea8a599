package annotate

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/transcribe"
)

// readScript reads a meeting written for the tests (testdata/moments): one
// turn per line as "Worker: …" or "Parent: …", lines starting with "#"
// comments, and "# moment: CUE SEGMENT" the moments a coach should be
// pointed to. Each turn lasts 0.3 s a word plus 0.3 s, with 0.4 s between.
func readScript(t *testing.T, path string) (*hark.Transcript, []hark.Moment) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := &hark.Transcript{RecordingID: filepath.Base(path)}
	var want []hark.Moment
	at := 0.4
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "# moment:"); ok {
			f := strings.Fields(rest)
			seg, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("%s: %q: %v", path, line, err)
			}
			want = append(want, hark.Moment{Cue: f[0], Segments: []int{seg}})
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		who, text, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("%s: %q has no speaker", path, line)
		}
		d := 0.3*float64(len(strings.Fields(text))) + 0.3
		tr.Segments = append(tr.Segments, hark.Segment{Index: len(tr.Segments), Start: at, End: at + d,
			Speaker: who, Role: hark.Role(strings.ToLower(who)), Text: text, Confidence: 1})
		at += d + 0.4
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tr, want
}

func tagFor(t *testing.T, tr *hark.Transcript) *hark.Annotations {
	t.Helper()
	tg, err := NewTagger(ModeRules, newTestTagger(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := tg.Tag(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// inTop reports whether a moment of cue whose window holds segment is
// among the first n.
func inTop(moments []hark.Moment, n int, cue string, segment int) bool {
	for _, m := range moments[:min(n, len(moments))] {
		if m.Cue == cue && slices.Contains(m.Segments, segment) {
			return true
		}
	}
	return false
}

func describeMoments(moments []hark.Moment) string {
	var b strings.Builder
	for _, m := range moments {
		b.WriteString("\n  " + strconv.Itoa(m.Rank) + " " + m.Cue + " " + strconv.Quote(m.Key) + " " + strconv.FormatFloat(m.Score, 'f', 2, 64))
	}
	return b.String()
}

// The meetings written for the tests have known moments: the ranking puts
// every one of them in the top five.
func TestKnownMomentsInTopFive(t *testing.T) {
	paths, err := filepath.Glob("../testdata/moments/*.txt")
	if err != nil || len(paths) < 4 {
		t.Fatalf("meetings %v, %v", paths, err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			tr, want := readScript(t, path)
			if len(want) == 0 {
				t.Fatal("no known moments")
			}
			a := tagFor(t, tr)
			if len(a.Moments) > MaxMoments {
				t.Errorf("%d moments, at most %d", len(a.Moments), MaxMoments)
			}
			for _, w := range want {
				if !inTop(a.Moments, 5, w.Cue, w.Segments[0]) {
					t.Errorf("%s at segment %d is not in the top five:%s", w.Cue, w.Segments[0], describeMoments(a.Moments))
				}
			}
			for i, m := range a.Moments {
				if m.Rank != i+1 || m.Kind != hark.CueKind(m.Cue) || m.Reason == "" || m.Key != hark.MomentKey(m.Cue, keySegment(t, m.Key)) || !slices.Contains(m.Segments, keySegment(t, m.Key)) {
					t.Errorf("moment %d: %+v", i, m)
				}
				if i > 0 && m.Score > a.Moments[i-1].Score {
					t.Errorf("moment %d scores %.2f, above the one ranked before it (%.2f)", i, m.Score, a.Moments[i-1].Score)
				}
				if !strings.HasSuffix(m.Reason, ".") || strings.Contains(m.Reason, "\"") {
					t.Errorf("moment %d: reason %q should be a plain sentence that quotes nothing", i, m.Reason)
				}
			}
			// The same transcript and tags give the same moments.
			if again := SuggestMoments(tr, a); !slices.EqualFunc(again, a.Moments, func(x, y hark.Moment) bool {
				return x.Key == y.Key && x.Rank == y.Rank && slices.Equal(x.Segments, y.Segments)
			}) {
				t.Errorf("suggested again:%s\nfirst:%s", describeMoments(again), describeMoments(a.Moments))
			}
		})
	}
}

func keySegment(t *testing.T, key string) int {
	_, n, _ := strings.Cut(key, "@")
	i, err := strconv.Atoi(n)
	if err != nil {
		t.Fatalf("key %q", key)
	}
	return i
}

func readMeetingVTT(t *testing.T, name string) *hark.Transcript {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("../testdata/meetings", name+".vtt"))
	if err != nil {
		t.Fatal(err)
	}
	segs, err := transcribe.ParseVTT(name+".vtt", data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range segs {
		segs[i].Role = hark.Role(strings.ToLower(segs[i].Speaker))
	}
	return &hark.Transcript{RecordingID: name, Segments: segs}
}

// The authoritarian meeting's two threats of escalation are among its top
// five moments, and the partnership meeting, which has none, is mostly
// strengths.
func TestTestdataMeetingsMoments(t *testing.T) {
	a := tagFor(t, readMeetingVTT(t, "authoritarian"))
	for _, seg := range []int{10, 12} {
		if !inTop(a.Moments, 5, hark.CueThreat, seg) {
			t.Errorf("authoritarian: the threat at segment %d is not in the top five:%s", seg, describeMoments(a.Moments))
		}
	}
	for _, m := range a.Moments {
		if m.Kind == hark.MomentStrength {
			t.Errorf("authoritarian: strength %s", m.Key)
		}
	}
	p := tagFor(t, readMeetingVTT(t, "partnership"))
	strengths := 0
	for _, m := range p.Moments {
		if m.Kind == hark.MomentStrength {
			strengths++
		}
	}
	if len(p.Moments) < 5 || strengths*2 < len(p.Moments) {
		t.Errorf("partnership: %d moments, %d strengths:%s", len(p.Moments), strengths, describeMoments(p.Moments))
	}
	for _, name := range []string{"authoritarian", "partnership", "mixed"} {
		noTwice(t, name, tagFor(t, readMeetingVTT(t, name)).Moments)
	}
}

// noTwice fails when two moments of one kind are one moment told twice:
// each window holds the segment that set the other off (the authoritarian
// meeting's parent's distress at 0:05 and the worker's turn after it that
// set it aside).
func noTwice(t *testing.T, name string, ms []hark.Moment) {
	t.Helper()
	trigger := func(m hark.Moment) int {
		_, seg, _ := strings.Cut(m.Key, "@")
		n, err := strconv.Atoi(seg)
		if err != nil {
			t.Fatalf("%s: key %q", name, m.Key)
		}
		return n
	}
	for i, a := range ms {
		for _, b := range ms[i+1:] {
			if a.Kind == b.Kind && slices.Contains(a.Segments, trigger(b)) && slices.Contains(b.Segments, trigger(a)) {
				t.Errorf("%s: %s and %s are one moment told twice:%s", name, a.Key, b.Key, describeMoments(ms))
			}
		}
	}
}

// A session where nobody is the worker (speakers not told apart) has no
// moments, and the family lens counts nothing it cannot know.
func TestNoWorkerNoMoments(t *testing.T) {
	tr := readMeetingVTT(t, "authoritarian")
	for i := range tr.Segments {
		tr.Segments[i].Role, tr.Segments[i].Speaker = hark.RoleUnknown, ""
	}
	a := tagFor(t, tr)
	if len(a.Moments) != 0 {
		t.Errorf("moments without a worker:%s", describeMoments(a.Moments))
	}
	if f := a.Family; f == nil || f.ParentTurns != 0 || f.ParentTalkShare != 0 || f.ParentQuestionsAnsweredShare != nil {
		t.Errorf("family without a parent: %+v", f)
	}
	if m := SuggestMoments(nil, nil); len(m) != 0 {
		t.Errorf("moments of nothing: %v", m)
	}
}

func ptr[T any](v T) *T { return &v }

// The family lens of the three testdata meetings, worked out by hand from
// their scripts and WebVTT times: talk is the sum of the cues' lengths
// (authoritarian 26.743 s of the parent's in 62.542 s, partnership 24.557
// in 79.377, mixed 22.153 in 55.450); turns are runs of one speaker
// (partnership's worker speaks twice running, so it has 19 turns).
func TestFamilyLensTestdataMeetings(t *testing.T) {
	for _, c := range []struct {
		name string
		want hark.FamilyLens
	}{
		// The parent asks once ("So what happens if I can't?"), answered
		// by a threat; voices strain three times ("I'm on my own in the
		// mornings", "Nobody asks how hard it is", "I just need some
		// help"), each met with a dismissal or a direction. Two
		// directions, no permission, nothing explained.
		{"authoritarian", hark.FamilyLens{ParentTalkShare: 26.743 / 62.542, ParentTurnShare: 8.0 / 16, ParentTurns: 8,
			ParentInterruptedShare: ptr(0.0), ParentQuestions: 1, ParentQuestionsAnswered: 1, ParentQuestionsAnsweredShare: ptr(1.0),
			ExplainedBeforeDecision: ptr(false), Advice: 2, PermissionBeforeAdvice: ptr(false),
			ParentFears: 3, ParentFearsMetShare: ptr(0.0)}},
		// One question ("Can my sister come with me?"), answered ("Of
		// course"); rights and next steps in the worker's second segment
		// running (68.171 s); permission asked, no direction, no threat.
		{"partnership", hark.FamilyLens{ParentTalkShare: 24.557 / 79.377, ParentTurnShare: 9.0 / 19, ParentTurns: 9,
			ParentInterruptedShare: ptr(0.0), ParentQuestions: 1, ParentQuestionsAnswered: 1, ParentQuestionsAnsweredShare: ptr(1.0),
			RightsExplained: true, RightsExplainedAt: ptr(68.171), NextStepsExplained: true, NextStepsExplainedAt: ptr(68.171),
			PermissionAsked: 1}},
		// One question ("Will I be able to say what I think?"), answered
		// ("Yes, …"); what happens next and a copy of the notes explained
		// at 33.076 s, after the direction at 19.9 s.
		{"mixed", hark.FamilyLens{ParentTalkShare: 22.153 / 55.450, ParentTurnShare: 8.0 / 16, ParentTurns: 8,
			ParentInterruptedShare: ptr(0.0), ParentQuestions: 1, ParentQuestionsAnswered: 1, ParentQuestionsAnsweredShare: ptr(1.0),
			RightsExplained: true, RightsExplainedAt: ptr(33.076), NextStepsExplained: true, NextStepsExplainedAt: ptr(33.076),
			ExplainedBeforeDecision: ptr(false), Advice: 1, PermissionBeforeAdvice: ptr(false)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := tagFor(t, readMeetingVTT(t, c.name)).Family
			if got == nil {
				t.Fatal("no family lens")
			}
			if !sameFamily(*got, c.want) {
				t.Errorf("family lens\n got %s\nwant %s", familyString(*got), familyString(c.want))
			}
		})
	}
}

// The meetings written for the tests: a parent cut off twice, a fear met.
func TestFamilyLensInterruptedAndMet(t *testing.T) {
	tr, _ := readScript(t, "../testdata/moments/talkedover.txt")
	f := tagFor(t, tr).Family
	if f.ParentInterrupted != 2 || f.ParentInterruptedShare == nil || *f.ParentInterruptedShare != 0.5 || f.ParentFears != 1 || f.ParentFearsMet != 0 {
		t.Errorf("talked over: %s", familyString(*f))
	}
	a := tagFor(t, tr)
	// Cut off at segment 1; at segment 3 too, where the fear unmet is the
	// moment and says both.
	if !inTop(a.Moments, 5, hark.CueTalkedOver, 1) || !inTop(a.Moments, 5, hark.CueFearUnmet, 3) {
		t.Errorf("the parent cut off at segments 1 and 3 is not among the moments:%s", describeMoments(a.Moments))
	}
	for _, m := range a.Moments {
		if m.Cue == hark.CueFearUnmet && !strings.Contains(m.Reason, "cut off") {
			t.Errorf("the fear unmet at segment 3 does not say the parent was cut off: %q", m.Reason)
		}
	}
	tr, _ = readScript(t, "../testdata/moments/landed.txt")
	f = tagFor(t, tr).Family
	if f.ParentFears != 1 || f.ParentFearsMet != 1 || f.PermissionAsked != 1 || !f.RightsExplained || f.ParentQuestions != 0 || f.ParentQuestionsAnsweredShare != nil {
		t.Errorf("landed: %s", familyString(*f))
	}
}

func sameFamily(a, b hark.FamilyLens) bool {
	near := func(x, y float64) bool { return x-y < 1e-9 && y-x < 1e-9 }
	nearP := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && near(*x, *y) }
	sameB := func(x, y *bool) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return near(a.ParentTalkShare, b.ParentTalkShare) && near(a.ParentTurnShare, b.ParentTurnShare) && a.ParentTurns == b.ParentTurns &&
		a.ParentInterrupted == b.ParentInterrupted && nearP(a.ParentInterruptedShare, b.ParentInterruptedShare) &&
		a.ParentQuestions == b.ParentQuestions && a.ParentQuestionsAnswered == b.ParentQuestionsAnswered &&
		nearP(a.ParentQuestionsAnsweredShare, b.ParentQuestionsAnsweredShare) &&
		a.RightsExplained == b.RightsExplained && nearP(a.RightsExplainedAt, b.RightsExplainedAt) &&
		a.NextStepsExplained == b.NextStepsExplained && nearP(a.NextStepsExplainedAt, b.NextStepsExplainedAt) &&
		sameB(a.ExplainedBeforeDecision, b.ExplainedBeforeDecision) && a.PermissionAsked == b.PermissionAsked &&
		a.Advice == b.Advice && sameB(a.PermissionBeforeAdvice, b.PermissionBeforeAdvice) &&
		a.ParentFears == b.ParentFears && a.ParentFearsMet == b.ParentFearsMet && nearP(a.ParentFearsMetShare, b.ParentFearsMetShare)
}

func familyString(f hark.FamilyLens) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// A long meeting has at most MaxMoments moments, with room kept for
// strengths among many things to reflect on.
func TestMomentsOfALongMeeting(t *testing.T) {
	one, _ := readScript(t, "../testdata/moments/frightened.txt")
	landed, _ := readScript(t, "../testdata/moments/landed.txt")
	tr := &hark.Transcript{RecordingID: "long"}
	at := 0.0
	for r := 0; r < 6; r++ {
		for _, part := range []*hark.Transcript{one, one, landed} {
			for _, s := range part.Segments {
				s.Index, s.Start, s.End = len(tr.Segments), s.Start+at, s.End+at
				tr.Segments = append(tr.Segments, s)
			}
			at = tr.Segments[len(tr.Segments)-1].End + 0.4
		}
	}
	a := tagFor(t, tr)
	if len(a.Moments) != MaxMoments {
		t.Fatalf("%d moments:%s", len(a.Moments), describeMoments(a.Moments))
	}
	strengths := 0
	for _, m := range a.Moments {
		if m.Kind == hark.MomentStrength {
			strengths++
		}
	}
	if strengths != minKind {
		t.Errorf("%d strengths of %d:%s", strengths, len(a.Moments), describeMoments(a.Moments))
	}
}

// BenchmarkSuggestMoments reads a synthetic one-hour meeting of 700 turns
// for its moments and family lens, as Tagger.Tag does after tagging.
func BenchmarkSuggestMoments(b *testing.B) {
	rt := newTestTagger(b)
	tr := syntheticMeeting(700)
	a, err := rt.Tag(context.Background(), tr)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		turns := readTurns(tr, a)
		if m, f := suggest(tr, turns), measureFamily(tr, turns); f == nil || m == nil {
			b.Fatal("nothing suggested")
		}
	}
}

// Whether the next worker turn answers a parent's question.
func TestParentQuestionAnswered(t *testing.T) {
	for _, c := range []struct {
		worker string
		want   bool
	}{
		{"The review meeting is on the twelfth, at the school.", true}, // takes up its words
		{"Of course, and I'll send you the letter.", true},             // opens as an answer
		{"Let me explain what happens next: the review meeting looks at the plan.", true},
		{"You need to keep the kitchen tidy for my visit.", false},
		{"What do you think about the kitchen?", false},                         // only asks
		{"That's not really the point. The meeting is the least of it.", false}, // dismisses
	} {
		tr := conversation("Parent: When is the review meeting, and can I come to it?", "Worker: "+c.worker)
		f := tagFor(t, tr).Family
		if f.ParentQuestions != 1 || (f.ParentQuestionsAnswered == 1) != c.want {
			t.Errorf("%q: %d questions, %d answered, want answered %v", c.worker, f.ParentQuestions, f.ParentQuestionsAnswered, c.want)
		}
	}
}
