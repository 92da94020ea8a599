package hark

import (
	"strconv"
	"time"
)

// MomentKind says whether a suggested moment is something the worker did
// well or something to reflect on.
type MomentKind string

// The kinds of suggested moments.
const (
	MomentStrength MomentKind = "strength"
	MomentReflect  MomentKind = "reflect"
)

// The cues of suggested moments: what in the meeting made the moment worth
// discussing. Each has one kind.
const (
	CueThreat             = "threat"              // reflect: the worker warned of escalation
	CueDismissal          = "dismissal"           // reflect: the worker dismissed the parent's view
	CueFearUnmet          = "fear_unmet"          // reflect: the parent voiced a fear; the next worker turn neither reflected nor explained
	CueFearMet            = "fear_met"            // strength: the parent voiced a fear; the next worker turn reflected, reassured or explained
	CueQuestionUnanswered = "question_unanswered" // reflect: the parent asked; the next worker turn did not answer
	CueMonologue          = "monologue"           // reflect: a long worker turn
	CueExplainedFirst     = "explained_first"     // strength: rights or what happens next explained before a decision
	CueReflectionLanded   = "reflection_landed"   // strength: a reflection after which the parent went on to say more
	CuePermission         = "permission"          // strength: permission asked before advice or looking round the home
	CuePlannedTogether    = "planned_together"    // strength: an agenda or a plan made with the parent
	CueDirectiveRun       = "directives_in_a_row" // reflect: several directions in a row without asking
	CueAffirmed           = "affirmed"            // strength: the worker affirmed the parent's efforts or strengths
	CueTalkedOver         = "talked_over"         // reflect: the parent was cut off or talked over
)

// CueKind returns the kind of a cue's moments.
func CueKind(cue string) MomentKind {
	switch cue {
	case CueFearMet, CueExplainedFirst, CueReflectionLanded, CuePermission, CuePlannedTogether, CueAffirmed:
		return MomentStrength
	}
	return MomentReflect
}

// Moment is a suggested moment of a session: a window of turns a coach
// should start from, with the reason in plain words. Moments are made by
// the annotate stage from the tags, the turns, the speakers and the
// figures (annotate.SuggestMoments); they are deterministic, and the same
// transcript and tags give the same moments with the same keys.
type Moment struct {
	// Key identifies the moment across re-annotations with the same
	// result: its cue and first segment ("fear_unmet@12").
	Key string `json:"key"`
	// Rank is 1 for the moment most worth discussing.
	Rank int        `json:"rank"`
	Kind MomentKind `json:"kind"`
	Cue  string     `json:"cue"`
	// Start and End are the window's times in seconds; Segments the
	// indexes of its segments, in order.
	Start    float64 `json:"start"`
	End      float64 `json:"end"`
	Segments []int   `json:"segments"`
	// Reason says in plain words why the moment was suggested. It names
	// what was said by its kind, never by quoting it, so that it can be
	// shown where the transcript is redacted.
	Reason string `json:"reason"`
	// Score is what the ranking sorted by (higher first).
	Score float64 `json:"score"`
}

// MomentKey returns the key of a moment with cue starting at segment.
func MomentKey(cue string, segment int) string {
	return cue + "@" + strconv.Itoa(segment)
}

// FamilyLens are a session's figures seen from the parent's side: how much
// room the parent had, whether their questions were answered, whether they
// were told their rights and what happens next, asked before advice, and
// whether the fears they voiced were met. Times are seconds from the
// start; shares are 0..1 and null when there is nothing to share (no
// parent question, no fear voiced). Parent means every speaker whose role
// is parent.
type FamilyLens struct {
	// ParentTalkShare is the parents' talk time as a share of everyone's;
	// ParentTurnShare their turns as a share of all turns.
	ParentTalkShare float64 `json:"parent_talk_share"`
	ParentTurnShare float64 `json:"parent_turn_share"`
	ParentTurns     int     `json:"parent_turns"`

	// ParentInterrupted counts the parent's turns another speaker cut
	// into: started before the parent's segment ended (talked over), or
	// took the floor within half a second of a sentence the parent broke
	// off. ParentInterruptedShare is that as a share of the parent's turns.
	ParentInterrupted      int      `json:"parent_interrupted"`
	ParentInterruptedShare *float64 `json:"parent_interrupted_share"`

	// ParentQuestions counts the parent's turns that ask a question;
	// ParentQuestionsAnswered those the next worker turn answered.
	ParentQuestions              int      `json:"parent_questions"`
	ParentQuestionsAnswered      int      `json:"parent_questions_answered"`
	ParentQuestionsAnsweredShare *float64 `json:"parent_questions_answered_share"`

	// RightsExplained says whether the worker told the parent their
	// rights (to advice, a solicitor, an advocate, to complain, to see
	// what is written); RightsExplainedAt is when first.
	RightsExplained   bool     `json:"rights_explained"`
	RightsExplainedAt *float64 `json:"rights_explained_at"`
	// NextStepsExplained says whether the worker explained the process or
	// what happens next (an explaining_process tag); NextStepsExplainedAt
	// is when first.
	NextStepsExplained   bool     `json:"next_steps_explained"`
	NextStepsExplainedAt *float64 `json:"next_steps_explained_at"`
	// ExplainedBeforeDecision says whether either came before the first
	// threat of escalation or direction; null when there was neither.
	ExplainedBeforeDecision *bool `json:"explained_before_decision"`

	// PermissionAsked counts the worker's turns asking permission; Advice
	// those giving a direction; PermissionBeforeAdvice whether the first
	// permission came before the first direction (null without advice).
	PermissionAsked        int   `json:"permission_asked"`
	Advice                 int   `json:"advice"`
	PermissionBeforeAdvice *bool `json:"permission_before_advice"`

	// ParentFears counts the parent's turns voicing fear or distress;
	// ParentFearsMet those the next worker turn met with a reflection, a
	// shared concern, an affirmation or a clear explanation.
	ParentFears         int      `json:"parent_fears"`
	ParentFearsMet      int      `json:"parent_fears_met"`
	ParentFearsMetShare *float64 `json:"parent_fears_met_share"`
}

// SuggestionState is a coach's answer to a suggested moment.
type SuggestionState string

// The answers to a suggested moment.
const (
	SuggestionAccepted  SuggestionState = "accepted"
	SuggestionDismissed SuggestionState = "dismissed"
)

// SuggestionDecision is a coach's answer to one suggested moment. The cue
// is kept so that the share accepted per cue can be reported even after a
// re-annotation has changed the moments.
type SuggestionDecision struct {
	Key   string          `json:"key"`
	Cue   string          `json:"cue"`
	State SuggestionState `json:"state"`
	By    string          `json:"by"`
	At    time.Time       `json:"at"`
}

// Suggestion returns the decision on the moment with key, or nil.
func (d *ReviewDoc) Suggestion(key string) *SuggestionDecision {
	for i := range d.Suggestions {
		if d.Suggestions[i].Key == key {
			return &d.Suggestions[i]
		}
	}
	return nil
}
