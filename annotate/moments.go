package annotate

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/harkworks/hark"
)

// Moment suggestion: where a coach should start. Each cue is a rule over
// the turns and their tags with a fixed weight; the moments are the
// highest-scoring windows, at most MaxMoments, with both kinds kept when a
// session has both. Everything here is deterministic: the same transcript
// and tags give the same moments.

// MaxMoments is the most moments suggested for one session.
const MaxMoments = 10

// monologueSeconds is how long a worker turn must run to be a monologue
// worth discussing; landedWords how many words a parent's next turn must
// have for a reflection to have landed.
const (
	monologueSeconds = 45.0
	landedWords      = 12
	directiveRun     = 3
	minKind          = 3 // strengths and things to reflect on kept, when there are so many
)

// The base weights of the cues: what coaches most need to hear first.
var cueWeight = map[string]float64{
	hark.CueThreat:             10,
	hark.CueFearUnmet:          9,
	hark.CueDismissal:          8,
	hark.CueQuestionUnanswered: 7,
	hark.CueFearMet:            7,
	hark.CueReflectionLanded:   6,
	hark.CueExplainedFirst:     6,
	hark.CueDirectiveRun:       5.5,
	hark.CueTalkedOver:         5.5,
	hark.CuePermission:         5,
	hark.CueMonologue:          5,
	hark.CuePlannedTogether:    4,
	hark.CueAffirmed:           4.5,
}

// momentCandidate is a moment before ranking: its cue, the turns of its window
// and the turn that set it off.
type momentCandidate struct {
	cue         string
	first, last int // turns of the window, inclusive
	trigger     int
	score       float64
	reason      string
}

// SuggestMoments returns the moments of a session most worth discussing,
// ranked: threats and dismissals; a parent's fear and what the worker did
// next; a parent's question and whether it was answered; long worker
// monologues and runs of directions; rights or what happens next
// explained before a decision; permission asked; plans made together;
// reflections after which the parent said more; a parent cut off. Tags a coach rejected are
// left out. A session without a worker turn has none.
func SuggestMoments(t *hark.Transcript, a *hark.Annotations) []hark.Moment {
	return suggest(t, readTurns(t, a))
}

func suggest(t *hark.Transcript, turns []talkTurn) []hark.Moment {
	var cands []momentCandidate
	add := func(cue string, first, last, trigger int, bonus float64, reason string) {
		first, last = max(first, 0), min(last, len(turns)-1)
		cands = append(cands, momentCandidate{cue: cue, first: first, last: last, trigger: trigger, score: cueWeight[cue] + bonus, reason: reason})
	}
	decided := false // a threat or a direction has come
	explained := false
	directives := 0
	for i := range turns {
		tt := &turns[i]
		switch tt.role {
		case hark.RoleParent:
			w := nextWorker(turns, i)
			if tt.fear {
				if w < 0 {
					break
				}
				if meetsFear(&turns[w]) {
					add(hark.CueFearMet, i, w, i, 0, "The parent voiced a fear or distress; the next worker turn "+meetWords(&turns[w])+".")
				} else {
					add(hark.CueFearUnmet, i, w, i, 0, "The parent voiced a fear or distress; the next worker turn "+didWords(&turns[w])+", without reflecting it or explaining.")
				}
			}
			if interrupted(t, turns, i) && i+1 < len(turns) {
				add(hark.CueTalkedOver, i, i+1, i, 0, "The parent was cut off or talked over before finishing.")
			}
			if tt.asks && w >= 0 && !answers(tt, &turns[w]) {
				add(hark.CueQuestionUnanswered, i, w, i, 0, "The parent asked a question; the next worker turn "+didWords(&turns[w])+" and did not answer it.")
			}
		case hark.RoleWorker:
			next := i + 1 // the turn after, when it is not the worker's
			if next >= len(turns) || turns[next].role == hark.RoleWorker {
				next = -1
			}
			if tt.has(codeThreat) {
				bonus := 0.0
				if !explained {
					bonus = 0.5 // nothing had been explained first
				}
				add(hark.CueThreat, i-1, i+1, i, bonus, "The worker warned the parent of escalation"+unexplained(explained)+"; the turns either side show what led to it and how the parent took it.")
			}
			if tt.has(codeDismissing) {
				add(hark.CueDismissal, i-1, i+1, i, 0, "The worker set aside what the parent had just said; the parent's next turn shows how it landed.")
			}
			if tt.has(codeReflection) && next > 0 && turns[next].role == hark.RoleParent && turns[next].words >= landedWords &&
				(i == 0 || turns[i-1].role != hark.RoleParent || turns[next].words >= turns[i-1].words/2) {
				add(hark.CueReflectionLanded, i-1, next, i, min(float64(turns[next].words)/40, 1),
					fmt.Sprintf("The worker reflected what the parent said, and the parent went on to say more (%d words).", turns[next].words))
			}
			if (tt.rights || tt.has(codeExplaining)) && !explained {
				what := "explained what happens next"
				if tt.rights {
					what = "told the parent their rights"
				}
				if !decided {
					add(hark.CueExplainedFirst, i, i+1, i, 0.5, "The worker "+what+" before any decision or direction was put.")
				}
				explained = true
			}
			if tt.has(codePermission) {
				add(hark.CuePermission, i, i+1, i, 0, "The worker asked the parent's permission before going on.")
			}
			if tt.has(codeAgenda) || tt.has(codePlanning) {
				what := "made a plan with the parent"
				if tt.has(codeAgenda) {
					what = "set the agenda with the parent"
				}
				add(hark.CuePlannedTogether, i-1, i+1, i, 0, "The worker "+what+".")
			}
			if tt.has(codeAffirmation) {
				add(hark.CueAffirmed, i-1, i+1, i, 0, "The worker affirmed the parent's efforts or strengths.")
			}
			if d := tt.end - tt.start; d >= monologueSeconds {
				add(hark.CueMonologue, i, i+1, i, min((d-monologueSeconds)/60, 2),
					fmt.Sprintf("The worker spoke for %.0f seconds without the parent taking a turn.", d))
			}
			if tt.has(codeDirective) {
				directives++
				if directives == directiveRun {
					first := i
					for k, n := i-1, 1; k >= 0 && n < directiveRun; k-- {
						if turns[k].role == hark.RoleWorker {
							first, n = k, n+1
						}
					}
					add(hark.CueDirectiveRun, first, i+1, first, 0,
						fmt.Sprintf("The worker gave %d directions in a row without asking the parent's view or reflecting it.", directiveRun))
				}
			} else if tt.has(codeOpenQ) || tt.has(codeReflection) || tt.has(codePermission) {
				directives = 0
			}
			if tt.has(codeThreat) || tt.has(codeDirective) {
				decided = true
			}
		}
	}
	return rank(t, turns, cands)
}

func unexplained(explained bool) string {
	if explained {
		return ""
	}
	return ", before anything had been explained"
}

// meetWords says how a worker turn met a parent's fear.
func meetWords(w *talkTurn) string {
	switch {
	case w.has(codeReflection):
		return "reflected it"
	case w.has(codeShared):
		return "shared the concern"
	case w.has(codeAffirmation):
		return "reassured and affirmed the parent"
	}
	return "explained what happens"
}

// didWords says what a worker turn did, by its tags.
func didWords(w *talkTurn) string {
	switch {
	case w.has(codeThreat):
		return "warned of escalation"
	case w.has(codeDismissing):
		return "set the parent's view aside"
	case w.has(codeDirective):
		return "gave a direction"
	case w.allAsk:
		return "asked a question of its own"
	}
	return "moved on"
}

// rank drops candidates whose windows another, higher-scoring one already
// covers or overlaps trigger for trigger, keeps at most MaxMoments (leaving room for the kind with fewer
// when the session has both), and numbers them.
func rank(t *hark.Transcript, turns []talkTurn, cands []momentCandidate) []hark.Moment {
	slices.SortStableFunc(cands, func(a, b momentCandidate) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.trigger, b.trigger)
	})
	var kept []momentCandidate
	for _, c := range cands {
		dup := false
		for i := range kept {
			k := &kept[i]
			if hark.CueKind(c.cue) != hark.CueKind(k.cue) {
				continue
			}
			// The same turn set both off: one moment, with both reasons.
			if c.trigger == k.trigger {
				k.reason += " " + c.reason
				k.last = max(k.last, c.last)
				dup = true
				break
			}
			// One window holds the other.
			if c.first >= k.first && c.last <= k.last {
				dup = true
				break
			}
			// Each window holds the turn that set the other off (a
			// parent's fear, and the worker's turn after it that set it
			// aside): one moment over both windows, with the better
			// reason.
			if c.trigger >= k.first && c.trigger <= k.last && k.trigger >= c.first && k.trigger <= c.last {
				k.first, k.last = min(k.first, c.first), max(k.last, c.last)
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, c)
		}
	}
	if len(kept) > MaxMoments {
		// The best MaxMoments, with room kept for up to minKind of the
		// kind they would otherwise leave out.
		chosen := make([]bool, len(kept))
		n := [2]int{}
		kind := func(c momentCandidate) int {
			if hark.CueKind(c.cue) == hark.MomentStrength {
				return 1
			}
			return 0
		}
		for i := range MaxMoments {
			chosen[i] = true
			n[kind(kept[i])]++
		}
		for short := range 2 {
			for i := MaxMoments; i < len(kept) && n[short] < minKind; i++ {
				if kind(kept[i]) != short {
					continue
				}
				// Give up the lowest-ranked chosen moment of the other kind.
				for j := len(kept) - 1; j >= 0; j-- {
					if chosen[j] && kind(kept[j]) != short {
						chosen[j], chosen[i] = false, true
						n[1-short]--
						n[short]++
						break
					}
				}
			}
		}
		out := make([]momentCandidate, 0, MaxMoments)
		for i, c := range kept {
			if chosen[i] {
				out = append(out, c)
			}
		}
		kept = out
	}
	moments := make([]hark.Moment, len(kept))
	for r, c := range kept {
		first, last := &turns[c.first], &turns[c.last]
		m := hark.Moment{
			Key: hark.MomentKey(c.cue, t.Segments[turns[c.trigger].seg0].Index), Rank: r + 1,
			Kind: hark.CueKind(c.cue), Cue: c.cue, Start: first.start, End: max(last.end, first.end),
			Reason: c.reason, Score: c.score,
		}
		for k := first.seg0; k < last.seg1; k++ {
			m.Segments = append(m.Segments, t.Segments[k].Index)
			m.End = max(m.End, t.Segments[k].End)
		}
		moments[r] = m
	}
	return moments
}
