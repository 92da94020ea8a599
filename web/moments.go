package web

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// The suggested moments of a session (hark.Moment, made by the annotate
// stage) on the review page's "Start here" panel, the coaches' answers to
// them (ReviewDoc.Suggestions, through the review's "suggestion" action),
// the accepted ones on the reflection sheet, and both in the session's
// JSON API.

// suggested is one suggested moment as the pages show it: the moment and
// the coaches' answer to it ("" when nobody has answered).
type suggested struct {
	hark.Moment
	State hark.SuggestionState
	By    string
	// Turns are the turns of the moment's window, as the page shows them
	// (masked where the team's redaction is "display"); set for the
	// reflection sheet only.
	Turns []turn
}

// Window says the moment's time window, "0:40–0:52".
func (m suggested) Window() string { return clock(m.Start) + "–" + clock(m.End) }

// SegmentList is the moment's segments for the page's data attribute,
// "9 10 11".
func (m suggested) SegmentList() string {
	parts := make([]string, len(m.Segments))
	for i, sg := range m.Segments {
		parts[i] = strconv.Itoa(sg)
	}
	return strings.Join(parts, " ")
}

// StateText says the answer in words, as review.js says it.
func (m suggested) StateText() string { return suggestionStateText(m.State) }

func suggestionStateText(st hark.SuggestionState) string {
	switch st {
	case hark.SuggestionAccepted:
		return "Accepted: on the reflection sheet"
	case hark.SuggestionDismissed:
		return "Dismissed"
	}
	return ""
}

// startHere is the "Start here" panel: the session's suggested moments in
// rank order, grouped by kind, and its family lens in words.
type startHere struct {
	// Tagged says the session has annotations, so that the panel can say
	// why there are no moments rather than show nothing.
	Tagged    bool
	Strengths []suggested
	Reflect   []suggested
	Family    []figure
}

// Any says whether the session has suggested moments.
func (h *startHere) Any() bool { return h != nil && len(h.Strengths)+len(h.Reflect) > 0 }

// momentGroup is one group of the panel: the strengths, or the things to
// reflect on.
type momentGroup struct {
	Title   string
	Kind    hark.MomentKind
	Moments []suggested
}

// Groups returns the panel's two groups, strengths first.
func (h *startHere) Groups() []momentGroup {
	return []momentGroup{
		{"Strengths", hark.MomentStrength, h.Strengths},
		{"To reflect on", hark.MomentReflect, h.Reflect},
	}
}

// Accepted returns the accepted moments in rank order.
func (h *startHere) Accepted() []suggested {
	if h == nil {
		return nil
	}
	var out []suggested
	for _, m := range h.all() {
		if m.State == hark.SuggestionAccepted {
			out = append(out, m)
		}
	}
	return out
}

// all returns every moment in rank order.
func (h *startHere) all() []suggested {
	out := make([]suggested, 0, len(h.Strengths)+len(h.Reflect))
	out = append(out, h.Strengths...)
	out = append(out, h.Reflect...)
	sortByRank(out)
	return out
}

func sortByRank(ms []suggested) {
	slices.SortStableFunc(ms, func(a, b suggested) int { return cmp.Compare(a.Rank, b.Rank) })
}

// startHereOf prepares the panel of sess, its moments with the answers of
// the review sess carries (for a coder of a blind double coding, their
// own).
func startHereOf(sess *hark.Session) *startHere {
	if sess.Annotations == nil {
		return nil
	}
	h := &startHere{Tagged: true, Family: familyFigures(sess.Annotations.Family)}
	for _, m := range sess.Annotations.Moments {
		sm := suggested{Moment: m}
		if sess.Review != nil {
			if d := sess.Review.Suggestion(m.Key); d != nil {
				sm.State, sm.By = d.State, d.By
			}
		}
		if m.Kind == hark.MomentStrength {
			h.Strengths = append(h.Strengths, sm)
		} else {
			h.Reflect = append(h.Reflect, sm)
		}
	}
	sortByRank(h.Strengths)
	sortByRank(h.Reflect)
	return h
}

// figure is one figure of the family lens in words.
type figure struct {
	Label string
	Value string
}

// familyFigures puts the family lens in words for the page.
func familyFigures(f *hark.FamilyLens) []figure {
	if f == nil {
		return nil
	}
	of := func(n, total int, what string) string { return fmt.Sprintf("%d of %d %s", n, total, what) }
	when := func(done bool, at *float64) string {
		switch {
		case !done:
			return "no"
		case at != nil:
			return "yes, first at " + clock(*at)
		}
		return "yes"
	}
	yesNo := func(b *bool, none string) string {
		switch {
		case b == nil:
			return none
		case *b:
			return "yes"
		}
		return "no"
	}
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + "%" }
	figs := []figure{
		{"The parent's share", fmt.Sprintf("%s of the talk time, %s of the turns (%d turns)", pct(f.ParentTalkShare), pct(f.ParentTurnShare), f.ParentTurns)},
		{"Cut off or talked over", of(f.ParentInterrupted, f.ParentTurns, "of the parent's turns")},
	}
	if f.ParentQuestions == 0 {
		figs = append(figs, figure{"The parent's questions", "the parent asked none"})
	} else {
		figs = append(figs, figure{"The parent's questions", of(f.ParentQuestionsAnswered, f.ParentQuestions, "answered in the next worker turn")})
	}
	figs = append(figs,
		figure{"Rights explained", when(f.RightsExplained, f.RightsExplainedAt)},
		figure{"What happens next explained", when(f.NextStepsExplained, f.NextStepsExplainedAt)},
		figure{"Explained before a decision", yesNo(f.ExplainedBeforeDecision, "no threat or direction was given")},
		figure{"Permission asked before advice", yesNo(f.PermissionBeforeAdvice, "no direction was given") + fmt.Sprintf(" (%d asked, %d directions)", f.PermissionAsked, f.Advice)},
	)
	if f.ParentFears == 0 {
		figs = append(figs, figure{"Fears the parent voiced", "none"})
	} else {
		figs = append(figs, figure{"Fears the parent voiced", of(f.ParentFearsMet, f.ParentFears, "met with a reflection, a shared concern, an affirmation or an explanation")})
	}
	return figs
}

// answerSuggestion records u's answer to a suggested moment in doc:
// req.Key names the moment (one of the session's), req.State is accepted,
// dismissed, or "" to take the answer back.
func (s *Server) answerSuggestion(sess *hark.Session, doc *hark.ReviewDoc, req *ReviewRequest, u *hark.User) error {
	if req.Key == "" {
		return hark.Errorf(hark.EINVALID, "say which suggested moment: its key, e.g. \"threat@10\"")
	}
	var m *hark.Moment
	if sess.Annotations != nil {
		for i := range sess.Annotations.Moments {
			if sess.Annotations.Moments[i].Key == req.Key {
				m = &sess.Annotations.Moments[i]
			}
		}
	}
	if m == nil {
		return hark.Errorf(hark.ENOTFOUND, "there is no suggested moment %q in this session (it may have been tagged again since the page was loaded): reload the page", req.Key)
	}
	state := hark.SuggestionState(req.State)
	switch state {
	case "":
		out := doc.Suggestions[:0]
		for _, d := range doc.Suggestions {
			if d.Key != req.Key {
				out = append(out, d)
			}
		}
		doc.Suggestions = out
		return nil
	case hark.SuggestionAccepted, hark.SuggestionDismissed:
	default:
		return hark.Errorf(hark.EINVALID, "answer %q to a suggested moment: use accepted, dismissed, or \"\" to take the answer back", req.State)
	}
	now := s.cfg.Now()
	if d := doc.Suggestion(req.Key); d != nil {
		d.Cue, d.State, d.By, d.At = m.Cue, state, u.Name, now
		return nil
	}
	doc.Suggestions = append(doc.Suggestions, hark.SuggestionDecision{Key: m.Key, Cue: m.Cue, State: state, By: u.Name, At: now})
	return nil
}

// sessionAPI is the session as GET /api/recordings/{id} answers it: the
// session (recording, transcript, annotations, review) and, at the top,
// its suggested moments with the coaches' answers and its family lens.
type sessionAPI struct {
	*hark.Session
	Moments []apiMoment      `json:"moments"`
	Family  *hark.FamilyLens `json:"family"`
}

// apiMoment is a suggested moment with the coaches' answer, when there is
// one.
type apiMoment struct {
	hark.Moment
	State hark.SuggestionState `json:"state,omitempty"`
	By    string               `json:"by,omitempty"`
	At    *time.Time           `json:"at,omitempty"`
}

// apiSession wraps sess for the JSON API.
func apiSession(sess *hark.Session) sessionAPI {
	out := sessionAPI{Session: sess, Moments: []apiMoment{}}
	if sess.Annotations == nil {
		return out
	}
	out.Family = sess.Annotations.Family
	for _, m := range sess.Annotations.Moments {
		am := apiMoment{Moment: m}
		if sess.Review != nil {
			if d := sess.Review.Suggestion(m.Key); d != nil {
				at := d.At
				am.State, am.By, am.At = d.State, d.By, &at
			}
		}
		out.Moments = append(out.Moments, am)
	}
	return out
}
