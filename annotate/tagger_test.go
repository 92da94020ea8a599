package annotate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// newTestTagger returns a rule tagger for the default codebook.
func newTestTagger(t testing.TB) *RuleTagger {
	t.Helper()
	rt, err := NewRuleTagger(DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// checkTags checks what every tag must satisfy: a segment that exists,
// evidence that is the text between its offsets, a confidence in (0, 1].
func checkTags(t testing.TB, tr *hark.Transcript, a *hark.Annotations) {
	t.Helper()
	texts := make(map[int]string)
	for _, s := range tr.Segments {
		texts[s.Index] = s.Text
	}
	type key struct {
		seg  int
		code string
	}
	seen := make(map[key]bool)
	for _, tag := range a.Tags {
		text, ok := texts[tag.Segment]
		switch {
		case !ok:
			t.Errorf("tag %+v: no segment %d", tag, tag.Segment)
		case tag.Start < 0 || tag.End > len(text) || tag.Start >= tag.End:
			t.Errorf("tag %+v: span [%d, %d) outside %q", tag, tag.Start, tag.End, text)
		case text[tag.Start:tag.End] != tag.Evidence:
			t.Errorf("tag %+v: text[%d:%d] = %q, not the evidence", tag, tag.Start, tag.End, text[tag.Start:tag.End])
		case tag.Evidence != strings.TrimSpace(tag.Evidence):
			t.Errorf("tag %+v: evidence has surrounding space", tag)
		}
		if tag.Confidence <= 0 || tag.Confidence > 1 {
			t.Errorf("tag %+v: confidence outside (0, 1]", tag)
		}
		if tag.Source != hark.SourceRules || tag.Review != hark.ReviewPending {
			t.Errorf("tag %+v: source %q review %q; want rules, pending", tag, tag.Source, tag.Review)
		}
		k := key{tag.Segment, tag.Code}
		if seen[k] {
			t.Errorf("segment %d has two %s tags", tag.Segment, tag.Code)
		}
		seen[k] = true
	}
}

// The codebook's examples are tests: every positive is tagged with its code
// and no negative is.
func TestRuleTaggerCodebookExamples(t *testing.T) {
	cb := DefaultCodebook()
	failures, err := CheckExamples(context.Background(), newTestTagger(t), cb)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// conversation builds a transcript from alternating "Role: text" lines.
func conversation(lines ...string) *hark.Transcript {
	tr := &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: "rec_test", Engine: "test"}
	for i, l := range lines {
		role, text, ok := strings.Cut(l, ": ")
		r := hark.Role(strings.ToLower(role))
		if !ok {
			r, text = hark.RoleUnknown, l
		}
		tr.Segments = append(tr.Segments, hark.Segment{
			Index: i, Start: float64(5 * i), End: float64(5*i + 4), Speaker: string(r), Role: r, Text: text, Confidence: 1,
		})
	}
	return tr
}

// codesOf returns the codes of the tags on the segment with the given index.
func codesOf(a *hark.Annotations, seg int) map[string]string {
	out := make(map[string]string)
	for _, t := range a.Tags {
		if t.Segment == seg {
			out[t.Code] = t.Evidence
		}
	}
	return out
}

func TestRuleTaggerCases(t *testing.T) {
	rt := newTestTagger(t)
	for _, tc := range []struct {
		name    string
		lines   []string // the last line is the one checked
		want    []string
		notWant []string
	}{
		// Questions: open versus closed.
		{"wh question", []string{"Worker: Why do you think the school rang?"}, []string{codeOpenQ}, nil},
		{"tell me", []string{"Worker: Tell me what a good evening looks like."}, []string{codeOpenQ}, nil},
		{"can you tell me", []string{"Worker: Can you tell me more about Friday?"}, []string{codeOpenQ}, nil},
		{"can you tell me if is closed", []string{"Worker: Can you tell me if Mason was in school on Monday?"}, nil, []string{codeOpenQ}},
		{"can you tell me whether, unpunctuated", []string{"worker: um so can you tell me whether the nursery place came through"}, nil, []string{codeOpenQ}},
		{"can you tell me a fact is closed", []string{"Worker: Could you tell me what time he got home?"}, nil, []string{codeOpenQ}},
		{"can you tell me what happened stays open", []string{"Worker: Could you tell me what happened when he got home?"}, []string{codeOpenQ}, nil},
		{"tell me if, asked", []string{"Worker: Tell me if he's been weighed this week?"}, nil, []string{codeOpenQ}},
		{"a question after a lead-in, unpunctuated", []string{"worker: hiya paul thanks for having me um so before we get going what do you want to get out of today"}, []string{codeOpenQ}, nil},
		{"the lead-in stays a statement", []string{"worker: we both want jayden in school and not drifting so what do you reckon would help on the bad mornings"}, []string{codeShared, codeOpenQ}, nil},
		{"shared concern, then the question", []string{"worker: we both want liam sleeping somewhere safe how do you think we could make some space round his bed"}, []string{codeShared, codeOpenQ}, nil},
		{"no inverted question, no cut", []string{"worker: so what you said about the school run was really helpful"}, nil, []string{codeOpenQ}},
		{"anything you'd like to add", []string{"Worker: Is there anything you'd like to add before I write it up?"}, []string{codeOpenQ}, nil},
		{"anything you want, unpunctuated", []string{"worker: is there anything you want to ask me before i go"}, []string{codeOpenQ}, nil},
		{"anything it needs is no invitation", []string{"Worker: Is there anything it needs before Friday?"}, nil, []string{codeOpenQ}},
		{"leave to ask what", []string{"Worker: Can I ask what you make of that?"}, []string{codeOpenQ}, nil},
		{"asking the interpreter to ask", []string{"Worker: Could you ask her what she'd like us to talk about today?"}, []string{codeOpenQ}, nil},
		{"leave to ask, unpunctuated", []string{"worker: mind if i ask how you feel about that"}, []string{codeOpenQ}, nil},
		{"leave to ask a fact is closed", []string{"Worker: Can I ask what time he gets home?"}, nil, []string{codeOpenQ}},
		{"an invitation put as a statement", []string{"Worker: I'd really like to hear from him what happened on Monday morning."}, []string{codeOpenQ}, nil},
		{"an invitation, the codebook's", []string{"Worker: I'd love to hear how bath time goes."}, []string{codeOpenQ}, nil},
		{"I'd like to know a fact is closed", []string{"Worker: I'd like to know what time he got in."}, nil, []string{codeOpenQ}},
		{"whats, unpunctuated", []string{"worker: whats it been like for you having a thirteen year old in the house again"}, []string{codeOpenQ}, nil},
		{"whats after a lead-in", []string{"worker: nice to meet you marcus so tia whats on your mind for today"}, []string{codeOpenQ}, nil},
		{"whats happened is, a statement", []string{"parent: he just left", "worker: so whats happened is hes left you with all of it"}, nil, []string{codeOpenQ}},
		{"a relative clause is no question", []string{"worker: shes got her nan who is a big support to her"}, nil, []string{codeOpenQ}},
		{"which is a worry, no question", []string{"worker: he missed school again which is a worry for all of us"}, nil, []string{codeOpenQ}},
		{"a question reported is none", []string{"worker: and she turned round and said what are you going to do about it"}, nil, []string{codeOpenQ}},
		{"what do you call it is none", []string{"worker: we can meet at the erm what do you call it the family hub"}, nil, []string{codeOpenQ}},
		{"thats whats, no question", []string{"worker: so thats whats been worrying the school"}, nil, []string{codeOpenQ}},
		{"i dont know whats, no question", []string{"worker: i dont know whats got into him lately"}, nil, []string{codeOpenQ}},
		{"whats her name, no question", []string{"worker: i spoke to whats her name the head teacher"}, nil, []string{codeOpenQ}},
		{"whats … is, a statement", []string{"worker: so whats worried the school most of all is the bruising"}, nil, []string{codeOpenQ}},
		{"did they ask you why is closed", []string{"Worker: Did they ask you why you were late?"}, nil, []string{codeOpenQ}},
		{"I'll ask her teacher how is a plan", []string{"worker: ill ask her teacher how shes getting on and let you know"}, nil, []string{codeOpenQ}},
		{"anything he wants at his dad's is closed", []string{"Worker: Does he get anything he wants at his dad's?"}, nil, []string{codeOpenQ}},
		{"anything you need, or any other questions", []string{"Worker: Is there anything you need from me, or any other questions?"}, []string{codeOpenQ}, nil},
		{"anything you'd love to change", []string{"Worker: Is there anything you'd love to change?"}, []string{codeOpenQ}, nil},
		{"hear from the school what", []string{"Worker: I'd like to hear from the school what they think."}, []string{codeOpenQ}, nil},
		{"what size, unpunctuated", []string{"worker: what size are his shoes now"}, nil, []string{codeOpenQ}},
		{"nobody listens to you is a reflection", []string{"Parent: Every meeting they talk over me.", "Worker: Nobody listens to you, and you feel talked at."}, []string{codeReflection}, nil},
		{"allowed to feel it, within a reflection", []string{"Parent: I don't want to go to that group.", "Worker: You don't want to go to the group, and you're allowed to feel that."}, []string{codeReflection}, nil},
		{"what time's, a fact", []string{"Worker: So what time's she been getting in, roughly?"}, nil, []string{codeOpenQ}},
		{"what percentage, a fact", []string{"Worker: What percentage is he on at the moment?"}, nil, []string{codeOpenQ}},
		{"tell me if you need anything is an offer", []string{"Worker: Tell me if you need anything before Friday."}, nil, []string{codeOpenQ}},
		{"question after a lead-in", []string{"Worker: Sam, now the baby's here, how ready are you to try it?"}, []string{codeOpenQ}, nil},
		{"a number on a scale is a fact", []string{"Worker: Sam, on a scale of one to ten, how ready are you to try it?"}, nil, []string{codeOpenQ}},
		{"what number", []string{"Worker: If ten is completely sure, what number would you give it?"}, nil, []string{codeOpenQ}},
		{"preposition before the question word", []string{"Worker: In what ways has Leo changed since the summer?"}, []string{codeOpenQ}, nil},
		{"preposition before a fact question", []string{"Worker: At what time does the nursery open?"}, nil, []string{codeOpenQ}},
		{"anything else, as a yes/no", []string{"Worker: Is there anything else you want to tell me about the weekend?"}, []string{codeOpenQ}, nil},
		{"any questions", []string{"Worker: Do you have any questions for me?"}, []string{codeOpenQ}, nil},
		{"a proposal is not an open question", []string{"Worker: What would you think about trying a star chart?"}, []string{codePlanning}, []string{codeOpenQ}},
		{"thoughts on a wh-clause", []string{"Worker: Have you thought about how you might get him to bed earlier?"}, []string{codeOpenQ}, nil},
		{"do you think is closed", []string{"Worker: Do you think he's eating enough?"}, nil, []string{codeOpenQ}},
		{"how about if we", []string{"Worker: How about if we meet at the school next time?"}, nil, []string{codeOpenQ}},
		{"what do you think about that", []string{"Parent: The school want him on a reduced timetable.", "Worker: What do you think about that?"}, []string{codeOpenQ}, nil},
		{"yes/no", []string{"Worker: Have you spoken to the school?"}, nil, []string{codeOpenQ, codeReflection}},
		{"how many", []string{"Worker: How many nights did he sleep at his dad's?"}, nil, []string{codeOpenQ}},
		{"closed without a question mark", []string{"Worker: Do you want a cup of tea"}, nil, []string{codeOpenQ}},
		{"no punctuation at all", []string{"worker: so how are things going with the kids since the review"}, []string{codeOpenQ}, nil},
		{"a fact asked without punctuation is no reflection", []string{"parent: its two buses its not one bus from where i am now", "worker: so what time does school finish on a friday"}, nil, []string{codeReflection, codeOpenQ}},
		{"a plan summed up with the worker's own step is no reflection", []string{"Parent: Thursday's fine for me.", "Worker: Okay, so you take her Thursday, and I'll ring the nursery to send her lunch notes home."}, nil, []string{codeReflection}},
		{"a reassurance is no reflection", []string{"Parent: I keep thinking you'll take her off me.", "Worker: Nobody's taking her off you, Chloe."}, nil, []string{codeReflection}},
		{"not in trouble is no reflection", []string{"Parent: I thought I'd be in trouble for ringing you.", "Worker: You're not in trouble."}, nil, []string{codeReflection}},
		{"your choice is no reflection", []string{"Parent: I don't want to go to the group.", "Worker: That's your choice, and you're allowed to feel that."}, nil, []string{codeReflection}},
		{"then ill, not I'll", []string{"Parent: I was up with both of them all week and then I went down with it.", "Worker: You were exhausted and then ill yourself."}, []string{codeReflection}, nil},
		{"what school was like is no question", []string{"parent: i hated school i was never there", "worker: so what school was like for you growing up was pretty miserable"}, nil, []string{codeOpenQ}},
		{"ill in a reflection is not the worker's step", []string{"parent: ive been in bed most of the week with it", "worker: so youve been really ill and youve still got them to school every day"}, []string{codeReflection}, nil},
		{"a wh-clause with no noun of a fact stays a statement", []string{"parent: he just walked out on us", "worker: so what happened was he left you with all of it"}, []string{codeReflection}, nil},
		{"why don't you", []string{"Worker: Why don't you just ring the GP?"}, []string{codeDirective}, []string{codeOpenQ}},
		{"what I'm hearing is a statement", []string{"Parent: I can't cope with him.", "Worker: What I'm hearing is that you feel alone with it."}, []string{codeReflection}, []string{codeOpenQ}},

		// Reflections need something to reflect and are not questions.
		{"simple reflection", []string{"Parent: I haven't slept properly in weeks.", "Worker: You haven't slept properly for weeks."}, []string{codeReflection}, nil},
		{"reflection of feeling", []string{"Parent: Every time the phone rings I think it's the school.", "Worker: That must be really stressful."}, []string{codeReflection}, nil},
		{"reflection split by a backchannel", []string{"Parent: His dad never turns up when he says he will.", "Worker: So you're left picking up the pieces-", "Parent: Yeah.", "Worker: -and explaining it to him."}, []string{codeReflection}, nil},
		{"question is not a reflection", []string{"Parent: I haven't slept properly in weeks.", "Worker: Have you slept properly at all?"}, nil, []string{codeReflection}},
		{"worker's own plan", []string{"Parent: I haven't slept properly in weeks.", "Worker: I'll ask the health visitor to call you."}, nil, []string{codeReflection}},
		{"information", []string{"Parent: What's a core group?", "Worker: The core group meets every six weeks and includes the school and the health visitor."}, nil, []string{codeReflection}},
		{"greeting", []string{"Parent: Come in.", "Worker: Thanks, it's good to see you again."}, nil, []string{codeReflection}},

		// Threats, reassurance and explanation.
		{"threat with or", []string{"Worker: You let me see Ava today or I'll have to call the police."}, []string{codeThreat}, []string{codeExplaining}},
		{"threat with unless", []string{"Worker: Unless he's in school every day, this goes to court."}, []string{codeThreat}, nil},
		{"threat with no choice", []string{"Worker: If you won't work with us we won't have any choice but care proceedings."}, []string{codeThreat}, nil},
		{"a broken condition and what stops", []string{"Worker: You must arrive sober. Break any of them and the sessions stop."}, []string{codeThreat}, nil},
		{"refuse and it goes to the conference", []string{"Worker: Refuse and I'll record that you're not cooperating, and that goes to the conference."}, []string{codeThreat}, nil},
		{"again, and the worker acts", []string{"Worker: If it's like this again, I'm taking photos for the conference."}, []string{codeThreat}, nil},
		{"taken further otherwise", []string{"Worker: Ana needs to find another adult for some of the days, otherwise I'll have to take this further."}, []string{codeThreat}, nil},
		{"spoken pre proceedings", []string{"worker: if things dont improve with contact the local authority could look at pre proceedings"}, []string{codeThreat}, nil},
		{"court denied", []string{"Worker: If Kian can't stay with his mum, you'd be first. It wouldn't go to court unless it had to."}, nil, []string{codeThreat}},
		{"police there to protect", []string{"Worker: If I think you're at risk I have to tell the police, but that's to protect you, not to get you arrested."}, nil, []string{codeThreat}},
		{"unless there's something to ask", []string{"worker: there was a strategy discussion with the police this morning ill cover that first unless theres something you want to ask"}, nil, []string{codeThreat}},
		{"the record says otherwise", []string{"Worker: Well, he would tell you that. The police record says otherwise."}, nil, []string{codeThreat}},
		{"a test that shows otherwise", []string{"Worker: If the next test shows otherwise, it goes to court."}, []string{codeThreat}, nil},
		{"police to protect the children", []string{"Worker: If you don't let me in I'll ring the police, that's to protect them."}, []string{codeThreat}, nil},
		{"unless something changes", []string{"Worker: Unless there's something different by the review, we'll apply to court."}, []string{codeThreat}, nil},
		{"not court, a conference", []string{"Worker: If it doesn't go to court this time, it will go to conference."}, []string{codeThreat}, nil},
		{"a break is no condition", []string{"Worker: Let's take a break and come back to the plan."}, nil, []string{codeThreat}},
		{"well looked after is praise", []string{"Worker: I can tell Esi is very well looked after, and next time we'll start with school."}, nil, []string{codeThreat}},
		{"a solicitor offered", []string{"Worker: If you want a solicitor, I can give you the number of one who knows these meetings."}, nil, []string{codeThreat}},
		{"reassurance", []string{"Worker: Nobody is talking about taking the children into care."}, nil, []string{codeThreat}},
		{"negated", []string{"Worker: We're not going to court over this."}, nil, []string{codeThreat}},
		{"explanation", []string{"Worker: Let me explain what happens next: the conference will decide whether a plan is needed."}, []string{codeExplaining}, []string{codeThreat}},
		{"condition without escalation", []string{"Worker: If you don't want tea, that's fine."}, nil, []string{codeThreat}},
		// Conditions about what happens, not only what the parent fails
		// to do, and consequences put as the next step of the process.
		{"if found out", []string{"Worker: If I find out he's been staying over, we'll be calling a strategy discussion."}, []string{codeThreat}, nil},
		{"if it drops", []string{"Worker: If his attendance drops under seventy again, the next step is pre-proceedings."}, []string{codeThreat}, nil},
		{"if nothing has changed", []string{"Worker: If nothing's changed by the review, the conference will want to look at a plan."}, []string{codeThreat}, nil},
		{"if he is back", []string{"Worker: If he's back in the house, we'd be looking at a legal planning meeting."}, []string{codeThreat}, nil},
		{"if it happens, no speech engine's punctuation", []string{"worker: if it happens again itll be out of my hands and it goes to my manager"}, []string{codeThreat}, nil},
		{"process explained on a condition", []string{"Worker: If the conference decides a plan is needed, you'll get a copy of it and a date for the first core group."}, nil, []string{codeThreat}},
		{"court named to reassure, on a condition", []string{"Worker: If things carry on like this, nobody will be talking about court."}, nil, []string{codeThreat}},
		{"good news on a condition", []string{"Worker: If the next test comes back clear, we'd be looking at ending the plan at the review."}, nil, []string{codeThreat}},

		// Directives and what only looks like one.
		{"imperative", []string{"Worker: Get him to bed by eight every night."}, []string{codeDirective}, nil},
		{"must", []string{"Worker: You must keep the kitchen knives out of reach."}, []string{codeDirective}, nil},
		{"don't worry", []string{"Worker: Don't worry about the forms, I'll help."}, nil, []string{codeDirective}},
		{"take your time", []string{"Worker: Take your time."}, nil, []string{codeDirective}},
		{"negated need", []string{"Worker: You don't need to answer that now."}, nil, []string{codeDirective}},
		{"parent's own should", []string{"Parent: I should be better at this.", "Worker: You feel you should be managing on your own."}, []string{codeReflection}, []string{codeDirective}},

		// Roles: worker codes are not found in other people's turns.
		{"parent's threat", []string{"Worker: How are things?", "Parent: If you don't leave I'll call the police."}, nil, []string{codeThreat}},
		{"unknown role", []string{"Worker: How are things?", "You must attend every meeting, or we'll go to court."}, nil, []string{codeThreat, codeDirective}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := conversation(tc.lines...)
			a, err := rt.Tag(context.Background(), tr)
			if err != nil {
				t.Fatal(err)
			}
			checkTags(t, tr, a)
			last := len(tr.Segments) - 1
			got := codesOf(a, last)
			for _, c := range tc.want {
				if _, ok := got[c]; !ok {
					t.Errorf("%q: no %s tag (got %v)", tr.Segments[last].Text, c, got)
				}
			}
			for _, c := range tc.notWant {
				if e, ok := got[c]; ok {
					t.Errorf("%q: tagged %s on %q", tr.Segments[last].Text, c, e)
				}
			}
		})
	}
}

func TestRuleTaggerAnnotations(t *testing.T) {
	rt := newTestTagger(t)
	tr := conversation("Parent: I'm so tired.", "Worker: You're exhausted. What would help?")
	tr.Segments[1].Index = 41 // tags name segments by Index, not position
	a, err := rt.Tag(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if a.Schema != hark.SchemaVersion || a.RecordingID != "rec_test" || a.Codebook != "hark-practice" ||
		a.CodebookVersion != "2026.12.4" || a.Tagger != "rules" || rt.Name() != "rules" {
		t.Errorf("annotations %+v", a)
	}
	want := map[string]string{codeReflection: "You're exhausted.", codeOpenQ: "What would help?", codePlanning: "What would help?"}
	if got := codesOf(a, 41); !reflect.DeepEqual(got, want) {
		t.Errorf("tags %v; want %v", got, want)
	}
	for _, tag := range a.Tags {
		if tag.Code == codeOpenQ && (tag.Start != 18 || tag.End != 34) {
			t.Errorf("open question at [%d, %d); want [18, 34)", tag.Start, tag.End)
		}
	}
}

func TestRuleTaggerDeterministic(t *testing.T) {
	rt := newTestTagger(t)
	tr := syntheticMeeting(200)
	a1, err := rt.Tag(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := rt.Tag(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a1, a2) {
		t.Error("two runs on the same transcript differ")
	}
	checkTags(t, tr, a1)
	if len(a1.Tags) == 0 {
		t.Error("no tags on the synthetic meeting")
	}
}

func TestRuleTaggerCustomCodebook(t *testing.T) {
	cb, err := ParseCodebook("team.yaml", []byte(`id: team
version: 3
codes:
  - id: mentions_school
    label: Mentions school
    definition: Anyone talks about school.
    role: any
    polarity: neutral
    cues: ['\bschool\b', '\bnursery\b']
    examples:
      positive: ["Parent: How is nursery? || Child: I like school."]
      negative: ["We went to the park."]
  - id: reflective_listening
    label: Reflection
    definition: Reflections, with the team's own cue.
    role: worker
    polarity: strength
    cues: ['\bso for you\b']
`))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRuleTagger(cb)
	if err != nil {
		t.Fatal(err)
	}
	if failures, err := CheckExamples(context.Background(), rt, cb); err != nil || len(failures) > 0 {
		t.Errorf("examples: %v %v", failures, err)
	}
	tr := conversation(
		"Parent: Nursery rang again.",
		"Worker: So for you, the calls never stop?", // the team's cue; a reflection said as a question
		"Worker: So for you, what would help?",      // the cue, but a question is not a reflection
		"Nursery is shut on Friday.",                // unknown role: only codes for any role
	)
	a, err := rt.Tag(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	checkTags(t, tr, a)
	for seg, want := range []map[string]bool{
		{"mentions_school": true},
		{codeReflection: true},
		{},
		{"mentions_school": true},
	} {
		got := map[string]bool{}
		for c := range codesOf(a, seg) {
			got[c] = true
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("segment %d %q: codes %v; want %v", seg, tr.Segments[seg].Text, got, want)
		}
	}
	if a.Codebook != "team" || a.CodebookVersion != "3" {
		t.Errorf("codebook %s %s", a.Codebook, a.CodebookVersion)
	}
}

func TestNewRuleTaggerErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cb   *hark.Codebook
		want string
	}{
		{"nil", nil, "no codebook"},
		{"no version", &hark.Codebook{ID: "x"}, "id and a version"},
		{"bad cue", &hark.Codebook{ID: "x", Version: "1", Codes: []hark.Code{{ID: "a", Cues: []string{"(oops"}}}}, `code "a": cue "(oops"`},
	} {
		_, err := NewRuleTagger(tc.cb)
		if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v; want EINVALID containing %q", tc.name, err, tc.want)
		}
	}
}

func TestRuleTaggerErrors(t *testing.T) {
	rt := newTestTagger(t)
	if _, err := rt.Tag(context.Background(), nil); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("nil transcript: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rt.Tag(ctx, syntheticMeeting(10)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	a, err := rt.Tag(context.Background(), &hark.Transcript{RecordingID: "empty"})
	if err != nil || len(a.Tags) != 0 {
		t.Errorf("empty transcript: %v, %v", a, err)
	}
}

// readMeeting reads one of the role-play scripts in the repository's
// testdata/meetings: one "Worker: ..." or "Parent: ..." turn a line.
func readMeeting(t *testing.T, name string) *hark.Transcript {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "meetings", name+".txt"))
	if err != nil {
		t.Fatalf("meeting script (committed in testdata/meetings): %v", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return conversation(lines...)
}

// The role-play meetings say in their README what practice they show.
func TestRuleTaggerMeetings(t *testing.T) {
	rt := newTestTagger(t)
	for _, tc := range []struct {
		name  string
		exact map[string]int // codes whose count is known exactly
		least map[string]int // codes that must appear at least this often
	}{
		{"partnership",
			map[string]int{codeThreat: 0, codeDirective: 0, codeDismissing: 0},
			map[string]int{codeReflection: 2, codeOpenQ: 3, codeAgenda: 2, codePermission: 1, codeShared: 1, codeAffirmation: 1, codePlanning: 1, codeExplaining: 1}},
		{"authoritarian",
			map[string]int{codeThreat: 2, codeReflection: 0, codeAffirmation: 0},
			map[string]int{codeDirective: 2, codeDismissing: 3}},
		{"mixed",
			map[string]int{codeThreat: 1, codeDirective: 1, codeExplaining: 1},
			map[string]int{codeReflection: 2, codeOpenQ: 2, codeAffirmation: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := readMeeting(t, tc.name)
			a, err := rt.Tag(context.Background(), tr)
			if err != nil {
				t.Fatal(err)
			}
			checkTags(t, tr, a)
			counts := a.CountByCode()
			for code, n := range tc.exact {
				if counts[code] != n {
					t.Errorf("%s: %d tags; want %d\n%s", code, counts[code], n, describe(tr, a, code))
				}
			}
			for code, n := range tc.least {
				if counts[code] < n {
					t.Errorf("%s: %d tags; want at least %d\n%s", code, counts[code], n, describe(tr, a, code))
				}
			}
		})
	}
}

// describe lists the evidence of a code's tags, for test failures.
func describe(tr *hark.Transcript, a *hark.Annotations, code string) string {
	var b strings.Builder
	for _, t := range a.Tags {
		if t.Code == code {
			fmt.Fprintf(&b, "  segment %d: %q\n", t.Segment, t.Evidence)
		}
	}
	return b.String()
}

// Turns for the synthetic meeting, written for this test.
var (
	workerTurns = []string{
		"Hello again, thanks for having me round. How have things been since the review?",
		"It sounds like the mornings have been really hard for you both.",
		"What do you think would make bedtime easier for Leo?",
		"So you're doing the school run on your own and working late shifts as well.",
		"Is it okay if I share what the nursery told me on Tuesday?",
		"You need to make sure he's at nursery by nine every day.",
		"Let me explain what happens next: the core group meets in three weeks and you'll get the notes.",
		"Did you manage to get to the health visitor appointment?",
		"I can see how hard you've worked on the routine this month.",
		"If you don't let me see the children, I'll have to involve the police.",
		"Mm-hmm.",
		"We both want Leo to be safe and settled at home.",
	}
	parentTurns = []string{
		"Honestly it's been a nightmare, he won't go to bed and I'm up at six for work.",
		"Yeah.",
		"The nursery keep ringing me about him being late and I don't know what they want.",
		"My mum helps on Saturdays but she's not well herself.",
		"I did go to the group twice but nobody spoke to me.",
		"Okay, go on then.",
		"I'm trying, I really am, it's just a lot on my own.",
		"What happens if the school complains again?",
	}
)

// syntheticMeeting builds a meeting of n turns, alternating worker and
// parent, about five seconds a turn.
func syntheticMeeting(n int) *hark.Transcript {
	tr := &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: "rec_synthetic", Engine: "test"}
	at := 0.0
	for i := 0; i < n; i++ {
		s := hark.Segment{Index: i, Start: at, Confidence: 0.9}
		if i%2 == 0 {
			s.Speaker, s.Role, s.Text = "SPEAKER_00", hark.RoleWorker, workerTurns[(i/2)%len(workerTurns)]
		} else {
			s.Speaker, s.Role, s.Text = "SPEAKER_01", hark.RoleParent, parentTurns[(i/2*3)%len(parentTurns)]
		}
		s.End = at + float64(len(s.Text))/14 // about fourteen characters a second
		at = s.End + 0.4
		tr.Segments = append(tr.Segments, s)
	}
	return tr
}

// BenchmarkRuleTagger tags a synthetic one-hour meeting of 700 turns.
func BenchmarkRuleTagger(b *testing.B) {
	rt := newTestTagger(b)
	tr := syntheticMeeting(700)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := rt.Tag(ctx, tr); err != nil {
			b.Fatal(err)
		}
	}
}

// A RuleTagger is shared by a worker's goroutines.
func TestRuleTaggerConcurrent(t *testing.T) {
	rt := newTestTagger(t)
	tr := syntheticMeeting(100)
	want, err := rt.Tag(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			a, err := rt.Tag(context.Background(), tr)
			if err == nil && !reflect.DeepEqual(a, want) {
				err = errors.New("a concurrent run differs")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A turn without punctuation cut before a question that starts midway:
// each tag's evidence is its own part, without the comma or dash the cut
// falls after.
func TestSplitAskedEvidence(t *testing.T) {
	rt := newTestTagger(t)
	tr := conversation("parent: i havent slept all week with him teething",
		"worker: so youve had a really rough week with him – what do you want to talk about today")
	a, err := rt.Tag(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	checkTags(t, tr, a)
	got := codesOf(a, 1)
	if e := got[codeOpenQ]; e != "what do you want to talk about today" {
		t.Errorf("open question evidence %q, want the question alone (tags %v)", e, got)
	}
	if e, ok := got[codeReflection]; !ok || e != "so youve had a really rough week with him" {
		t.Errorf("reflection evidence %q (tagged %v), want the lead-in without its dash", e, ok)
	}
}
