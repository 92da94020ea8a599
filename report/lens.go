package report

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
)

// The family lens across sessions: how meetings went from the parent's
// side (hark.FamilyLens, measured per session by the annotate stage), by
// team, worker, meeting type and month; and how often coaches accept each
// kind of suggested moment, so that a deployment can judge the ranking.

// FamilySession is one session of a family-lens report: its dimensions,
// its family lens and the cues of its suggested moments as the machine
// found them, and the coaches' answers to the moments.
type FamilySession struct {
	Team, Worker, MeetingType string
	// Month is YYYY-MM, or "" when the recording date is unknown.
	Month string
	// Family is nil for a session tagged before hark measured it.
	Family *hark.FamilyLens
	// Cues has the cue of each suggested moment, one per moment, and Keys
	// their keys in the same order (a moment without a key is told apart
	// by its place).
	Cues, Keys []string
	// Reviewed says a coach has reviewed the session (in progress or
	// complete): only reviewed sessions count in the answers per cue.
	Reviewed bool
	// Answers are the coaches' answers in the session's review.
	Answers []hark.SuggestionDecision
}

// FamilySource answers the family-lens report: the index.
type FamilySource interface {
	// FamilySessions returns every session in the query's scope (ready
	// recordings with a known duration, of the query's teams, dates and
	// codebook version), whether or not it has a family lens.
	FamilySessions(ctx context.Context, q Query) ([]FamilySession, error)
}

// FamilyRow is the family lens over one group of sessions. Shares are
// from 0 to 1, nil when nothing they are a share of occurred.
type FamilyRow struct {
	// Key holds the group's value of each of the query's dimensions.
	Key []string
	// Sessions are those with a family lens.
	Sessions int
	// ParentTalkShare and ParentTurnShare are the means over the sessions
	// of the parent's share of the talk time and of the turns.
	ParentTalkShare, ParentTurnShare *float64
	// ParentTurns, ParentInterrupted: the parent's turns, and those cut
	// off or talked over; InterruptedShare is the second over the first.
	ParentTurns, ParentInterrupted int
	InterruptedShare               *float64
	// ParentQuestions, QuestionsAnswered: the parent's questions, and
	// those the next worker turn took up.
	ParentQuestions, QuestionsAnswered int
	QuestionsAnsweredShare             *float64
	// RightsExplainedShare and NextStepsExplainedShare are the shares of
	// sessions in which the worker explained the parent's rights, and what
	// happens next.
	RightsExplainedShare, NextStepsExplainedShare *float64
	// DecisionSessions had a threat or a direction; ExplainedFirstShare is
	// the share of them where something was explained before the first.
	DecisionSessions    int
	ExplainedFirstShare *float64
	// AdviceSessions had a direction; PermissionFirstShare is the share of
	// them where permission was asked before the first.
	AdviceSessions       int
	PermissionFirstShare *float64
	// ParentFears, FearsMet: the fears the parent voiced, and those met
	// with a reflection, a shared concern, an affirmation or an
	// explanation.
	ParentFears, FearsMet int
	FearsMetShare         *float64
	// Suppressed withholds every figure: fewer sessions than the
	// threshold.
	Suppressed bool
}

// CueRow says how coaches answered one kind of suggested moment, over
// the reviewed sessions in scope.
type CueRow struct {
	Cue  string
	Kind hark.MomentKind
	// Sessions are the reviewed sessions with at least one moment of the
	// cue; Suggested counts the moments: those the sessions have, and
	// those coaches answered that a later annotation no longer suggests.
	Sessions, Suggested int
	// Answered moments were accepted or dismissed.
	Answered, Accepted, Dismissed int
	// AcceptedShare is Accepted over Answered; AnsweredShare Answered over
	// Suggested.
	AcceptedShare, AnsweredShare *float64
	// Suppressed withholds every figure: fewer sessions than the
	// threshold.
	Suppressed bool
}

// Family is the family-lens report.
type Family struct {
	Query Query
	Rows  []FamilyRow
	// Total is every session in scope, as one group.
	Total FamilyRow
	// Hidden counts worker rows left out: under the threshold.
	Hidden int
	// Unmeasured counts the sessions in scope without a family lens
	// (tagged before hark measured it; `hark reannotate` measures them).
	Unmeasured int
	// Reviewed counts the sessions in scope a coach has reviewed (in
	// progress or complete): Cues are over them.
	Reviewed int
	// Cues are the answers to the suggested moments, per cue, over the
	// reviewed sessions in scope.
	Cues []CueRow
}

// RunFamily asks src for the sessions in q's scope and computes the
// report. q must be normalized; grouping by code is refused.
func RunFamily(ctx context.Context, src FamilySource, q Query) (*Family, error) {
	if q.Has(Code) {
		return nil, hark.Errorf(hark.EINVALID, "the family lens is per session, not per code: group by team, worker, meeting_type or month")
	}
	ss, err := src.FamilySessions(ctx, q)
	if err != nil {
		return nil, err
	}
	return ComputeFamily(q, ss), nil
}

// lensSums adds up the family lens of a group of sessions.
type lensSums struct {
	row                        FamilyRow
	talk, turns                float64
	rights, next               int
	explainedFirst, permission int
}

func (s *lensSums) add(f *hark.FamilyLens) {
	r := &s.row
	r.Sessions++
	s.talk += f.ParentTalkShare
	s.turns += f.ParentTurnShare
	r.ParentTurns += f.ParentTurns
	r.ParentInterrupted += f.ParentInterrupted
	r.ParentQuestions += f.ParentQuestions
	r.QuestionsAnswered += f.ParentQuestionsAnswered
	if f.RightsExplained {
		s.rights++
	}
	if f.NextStepsExplained {
		s.next++
	}
	if f.ExplainedBeforeDecision != nil {
		r.DecisionSessions++
		if *f.ExplainedBeforeDecision {
			s.explainedFirst++
		}
	}
	if f.PermissionBeforeAdvice != nil {
		r.AdviceSessions++
		if *f.PermissionBeforeAdvice {
			s.permission++
		}
	}
	r.ParentFears += f.ParentFears
	r.FearsMet += f.ParentFearsMet
}

// ratio is n over of, nil when of is 0.
func ratio(n float64, of int) *float64 {
	if of == 0 {
		return nil
	}
	x := n / float64(of)
	return &x
}

func (s *lensSums) done(key []string) FamilyRow {
	r := s.row
	r.Key = key
	r.ParentTalkShare = ratio(s.talk, r.Sessions)
	r.ParentTurnShare = ratio(s.turns, r.Sessions)
	r.InterruptedShare = ratio(float64(r.ParentInterrupted), r.ParentTurns)
	r.QuestionsAnsweredShare = ratio(float64(r.QuestionsAnswered), r.ParentQuestions)
	r.RightsExplainedShare = ratio(float64(s.rights), r.Sessions)
	r.NextStepsExplainedShare = ratio(float64(s.next), r.Sessions)
	r.ExplainedFirstShare = ratio(float64(s.explainedFirst), r.DecisionSessions)
	r.PermissionFirstShare = ratio(float64(s.permission), r.AdviceSessions)
	r.FearsMetShare = ratio(float64(r.FearsMet), r.ParentFears)
	return r
}

// addCues adds a reviewed session's suggested moments and the coaches'
// answers to them to the rows per cue. A moment is one key: an answer to
// a moment the session still has counts with it; an answer to one a later
// annotation no longer suggests counts too, under the cue it was given to
// (the moment was suggested when the coach answered it), so that answered
// never exceeds suggested and a re-annotation loses no answers.
func addCues(cues map[string]*CueRow, s *FamilySession) {
	moments := map[string]string{} // key → cue
	for j, c := range s.Cues {
		k := "#" + strconv.Itoa(j) // no key: its place tells it apart
		if j < len(s.Keys) && s.Keys[j] != "" {
			k = s.Keys[j]
		}
		moments[k] = c
	}
	answers := map[string]hark.SuggestionState{}
	for _, a := range s.Answers {
		if a.State != hark.SuggestionAccepted && a.State != hark.SuggestionDismissed {
			continue
		}
		if _, ok := answers[a.Key]; ok {
			continue // one answer per moment
		}
		answers[a.Key] = a.State
		if _, ok := moments[a.Key]; !ok {
			cue := a.Cue
			if cue == "" {
				cue, _, _ = strings.Cut(a.Key, "@")
			}
			moments[a.Key] = cue
		}
	}
	seen := map[string]bool{}
	for k, c := range moments {
		cr := cues[c]
		if cr == nil {
			cr = &CueRow{Cue: c, Kind: hark.CueKind(c)}
			cues[c] = cr
		}
		cr.Suggested++
		if !seen[c] {
			seen[c] = true
			cr.Sessions++
		}
		switch answers[k] {
		case hark.SuggestionAccepted:
			cr.Accepted++
			cr.Answered++
		case hark.SuggestionDismissed:
			cr.Dismissed++
			cr.Answered++
		}
	}
}

// ComputeFamily computes the report over the sessions: one row per group
// of q.By, a total, and the answers per cue over the reviewed sessions. A
// row of fewer sessions than q.MinCell is suppressed; a worker's row under
// it is left out; when exactly one row is suppressed or left out, the
// smallest other is suppressed too, so that the total cannot give it
// away. A cue of fewer reviewed sessions than q.MinCell is suppressed.
func ComputeFamily(q Query, ss []FamilySession) *Family {
	out := &Family{Query: q}
	groups := map[string]*lensSums{}
	keys := map[string][]string{}
	var total lensSums
	cues := map[string]*CueRow{}
	for i := range ss {
		s := &ss[i]
		if s.Reviewed {
			out.Reviewed++
			addCues(cues, s)
		}
		if s.Family == nil {
			out.Unmeasured++
			continue
		}
		var key []string
		for _, d := range q.By {
			key = append(key, map[Dimension]string{Team: s.Team, Worker: s.Worker, MeetingType: s.MeetingType, Month: s.Month}[d])
		}
		k := strings.Join(key, "\x00")
		g := groups[k]
		if g == nil {
			g = &lensSums{}
			groups[k] = g
			keys[k] = key
		}
		g.add(s.Family)
		total.add(s.Family)
	}
	min := max(q.MinCell, 1)
	for k, g := range groups {
		row := g.done(keys[k])
		row.Suppressed = row.Sessions < min
		if row.Suppressed && q.Has(Worker) {
			out.Hidden++
			continue
		}
		out.Rows = append(out.Rows, row)
	}
	slices.SortFunc(out.Rows, func(a, b FamilyRow) int { return slices.Compare(a.Key, b.Key) })
	var shown []int
	suppressed := 0
	for i, r := range out.Rows {
		if r.Suppressed {
			suppressed++
		} else {
			shown = append(shown, i)
		}
	}
	// A worker left out counts as suppressed: the total less the rows
	// shown would give their figures away just the same.
	if suppressed+out.Hidden == 1 && len(shown) > 0 {
		smallest := slices.MinFunc(shown, func(a, b int) int { return cmp.Compare(out.Rows[a].Sessions, out.Rows[b].Sessions) })
		out.Rows[smallest].Suppressed = true
	}
	for i := range out.Rows {
		if out.Rows[i].Suppressed {
			out.Rows[i] = FamilyRow{Key: out.Rows[i].Key, Suppressed: true}
		}
	}
	out.Total = total.done(nil)
	if out.Total.Sessions < min {
		out.Total = FamilyRow{Suppressed: true}
	}
	for _, cr := range cues {
		cr.AcceptedShare = ratio(float64(cr.Accepted), cr.Answered)
		cr.AnsweredShare = ratio(float64(cr.Answered), cr.Suggested)
		if cr.Sessions < min {
			*cr = CueRow{Cue: cr.Cue, Kind: cr.Kind, Suppressed: true}
		}
		out.Cues = append(out.Cues, *cr)
	}
	slices.SortFunc(out.Cues, func(a, b CueRow) int { return strings.Compare(a.Cue, b.Cue) })
	return out
}

// familyRowJSON is a row's figures in JSON: null when suppressed.
type familyRowJSON struct {
	Sessions               *int     `json:"sessions"`
	ParentTalkShare        *float64 `json:"parent_talk_share"`
	ParentTurnShare        *float64 `json:"parent_turn_share"`
	ParentTurns            *int     `json:"parent_turns"`
	ParentInterrupted      *int     `json:"parent_interrupted"`
	InterruptedShare       *float64 `json:"parent_interrupted_share"`
	ParentQuestions        *int     `json:"parent_questions"`
	QuestionsAnswered      *int     `json:"parent_questions_answered"`
	QuestionsAnsweredShare *float64 `json:"parent_questions_answered_share"`
	RightsExplainedShare   *float64 `json:"rights_explained_share"`
	NextStepsShare         *float64 `json:"next_steps_explained_share"`
	DecisionSessions       *int     `json:"decision_sessions"`
	ExplainedFirstShare    *float64 `json:"explained_before_decision_share"`
	AdviceSessions         *int     `json:"advice_sessions"`
	PermissionFirstShare   *float64 `json:"permission_before_advice_share"`
	ParentFears            *int     `json:"parent_fears"`
	FearsMet               *int     `json:"parent_fears_met"`
	FearsMetShare          *float64 `json:"parent_fears_met_share"`
	Suppressed             bool     `json:"suppressed"`
}

func (r *FamilyRow) json() familyRowJSON {
	j := familyRowJSON{Suppressed: r.Suppressed}
	if r.Suppressed {
		return j
	}
	j.Sessions, j.ParentTalkShare, j.ParentTurnShare = &r.Sessions, r.ParentTalkShare, r.ParentTurnShare
	j.ParentTurns, j.ParentInterrupted, j.InterruptedShare = &r.ParentTurns, &r.ParentInterrupted, r.InterruptedShare
	j.ParentQuestions, j.QuestionsAnswered, j.QuestionsAnsweredShare = &r.ParentQuestions, &r.QuestionsAnswered, r.QuestionsAnsweredShare
	j.RightsExplainedShare, j.NextStepsShare = r.RightsExplainedShare, r.NextStepsExplainedShare
	j.DecisionSessions, j.ExplainedFirstShare = &r.DecisionSessions, r.ExplainedFirstShare
	j.AdviceSessions, j.PermissionFirstShare = &r.AdviceSessions, r.PermissionFirstShare
	j.ParentFears, j.FearsMet, j.FearsMetShare = &r.ParentFears, &r.FearsMet, r.FearsMetShare
	return j
}

type cueRowJSON struct {
	Cue           string          `json:"cue"`
	Kind          hark.MomentKind `json:"kind"`
	Sessions      *int            `json:"sessions"`
	Suggested     *int            `json:"suggested"`
	Answered      *int            `json:"answered"`
	Accepted      *int            `json:"accepted"`
	Dismissed     *int            `json:"dismissed"`
	AcceptedShare *float64        `json:"accepted_share"`
	AnsweredShare *float64        `json:"answered_share"`
	Suppressed    bool            `json:"suppressed"`
}

// MarshalJSON writes the report with each row as a flat object: the
// dimensions by name, then the figures, null where suppressed.
//
//	{"query": {…}, "hidden_rows": 0, "unmeasured_sessions": 0, "reviewed_sessions": 9,
//	 "rows": [{"team": "north", "sessions": 12, "parent_talk_share": 0.41, …}],
//	 "total": {"sessions": 30, …},
//	 "cues": [{"cue": "threat", "kind": "reflect", "suggested": 14, "accepted": 9, …}]}
func (f Family) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	q, err := json.Marshal(f.Query)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, `{"query":%s,"hidden_rows":%d,"unmeasured_sessions":%d,"reviewed_sessions":%d,"rows":[`, q, f.Hidden, f.Unmeasured, f.Reviewed)
	for i := range f.Rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, d := range f.Query.By {
			k, _ := json.Marshal(string(d))
			v, _ := json.Marshal(f.Rows[i].Key[j])
			fmt.Fprintf(&b, "%s:%s,", k, v)
		}
		nums, err := json.Marshal(f.Rows[i].json())
		if err != nil {
			return nil, err
		}
		b.Write(nums[1:])
	}
	total, err := json.Marshal(f.Total.json())
	if err != nil {
		return nil, err
	}
	cues, err := json.Marshal(f.CuesJSON())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, `],"total":%s,"cues":%s}`, total, cues)
	return b.Bytes(), nil
}

// CuesJSON returns the answers per cue as JSON writes them: figures null
// where suppressed.
func (f *Family) CuesJSON() []any {
	out := make([]any, 0, len(f.Cues))
	for _, c := range f.Cues {
		j := cueRowJSON{Cue: c.Cue, Kind: c.Kind, Suppressed: c.Suppressed}
		if !c.Suppressed {
			j.Sessions, j.Suggested, j.Answered, j.Accepted, j.Dismissed = &c.Sessions, &c.Suggested, &c.Answered, &c.Accepted, &c.Dismissed
			j.AcceptedShare, j.AnsweredShare = c.AcceptedShare, c.AnsweredShare
		}
		out = append(out, j)
	}
	return out
}

func optNum(n int, ok bool) tcell {
	if !ok {
		return withheld
	}
	return num(n)
}

// grid lays the family lens out in long format: one row per group, then
// the total (empty dimensions, total = 1).
func (f *Family) grid() *grid {
	g := &grid{}
	for _, d := range f.Query.By {
		g.header = append(g.header, string(d))
	}
	g.header = append(g.header, "sessions", "parent_talk_share", "parent_turn_share", "parent_turns",
		"parent_interrupted", "parent_interrupted_share", "parent_questions", "parent_questions_answered",
		"parent_questions_answered_share", "rights_explained_share", "next_steps_explained_share", "decision_sessions",
		"explained_before_decision_share", "advice_sessions", "permission_before_advice_share", "parent_fears",
		"parent_fears_met", "parent_fears_met_share", "suppressed", "total")
	n := len(g.header)
	g.csvOnly = map[int]bool{n - 2: true, n - 1: true}
	add := func(r *FamilyRow, total bool) {
		var cells []tcell
		for i := range f.Query.By {
			if total {
				cells = append(cells, tcell{all: true})
			} else {
				cells = append(cells, text(r.Key[i]))
			}
		}
		ok := !r.Suppressed
		share := func(x *float64) tcell {
			if !ok {
				return withheld
			}
			return optDec(x, 3)
		}
		cells = append(cells, optNum(r.Sessions, ok), share(r.ParentTalkShare), share(r.ParentTurnShare), optNum(r.ParentTurns, ok),
			optNum(r.ParentInterrupted, ok), share(r.InterruptedShare), optNum(r.ParentQuestions, ok), optNum(r.QuestionsAnswered, ok),
			share(r.QuestionsAnsweredShare), share(r.RightsExplainedShare), share(r.NextStepsExplainedShare), optNum(r.DecisionSessions, ok),
			share(r.ExplainedFirstShare), optNum(r.AdviceSessions, ok), share(r.PermissionFirstShare), optNum(r.ParentFears, ok),
			optNum(r.FearsMet, ok), share(r.FearsMetShare), flag(r.Suppressed), flag(total))
		g.rows = append(g.rows, cells)
	}
	for i := range f.Rows {
		add(&f.Rows[i], false)
	}
	add(&f.Total, true)
	return g
}

// cueGrid lays out the answers per cue.
func (f *Family) cueGrid() *grid {
	g := &grid{header: []string{"cue", "kind", "sessions", "suggested", "answered", "accepted", "dismissed",
		"accepted_share", "answered_share", "suppressed"}, csvOnly: map[int]bool{9: true}}
	for _, c := range f.Cues {
		ok := !c.Suppressed
		share := func(x *float64) tcell {
			if !ok {
				return withheld
			}
			return optDec(x, 3)
		}
		g.rows = append(g.rows, []tcell{text(c.Cue), text(string(c.Kind)), optNum(c.Sessions, ok), optNum(c.Suggested, ok),
			optNum(c.Answered, ok), optNum(c.Accepted, ok), optNum(c.Dismissed, ok), share(c.AcceptedShare), share(c.AnsweredShare),
			flag(c.Suppressed)})
	}
	return g
}

// WriteCSV writes the family lens per group as CSV, as Result.WriteCSV
// does; WriteCuesCSV writes the answers per cue.
func (f *Family) WriteCSV(w io.Writer, opt CSVOptions) error { return f.grid().writeCSV(w, opt) }

// WriteCuesCSV writes the answers to the suggested moments per cue as CSV.
func (f *Family) WriteCuesCSV(w io.Writer, opt CSVOptions) error { return f.cueGrid().writeCSV(w, opt) }

// WriteCuesTable writes the answers per cue for a terminal.
func (f *Family) WriteCuesTable(w io.Writer) error {
	if err := f.cueGrid().writeText(w); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n"+f.cueNote()+"\n")
	return err
}

// cueNote says what the answers per cue are over.
func (f *Family) cueNote() string {
	return fmt.Sprintf("Over the %d reviewed session(s) in scope. Accepted share: of the moments coaches answered; answered share: of those suggested. Rows of fewer than %d reviewed sessions are suppressed.",
		f.Reviewed, f.Query.MinCell)
}

// WriteTable writes both tables for a terminal, with notes.
func (f *Family) WriteTable(w io.Writer) error {
	if err := f.grid().writeText(w); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w, "\nSuggested moments, as coaches answered them:"); err != nil {
		return err
	}
	if err := f.cueGrid().writeText(w); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w, "\n"+f.cueNote()); err != nil {
		return err
	}
	notes := fmt.Sprintf("\nShares are 0 to 1: talk and turn shares are means over sessions; interruptions, answered questions and fears met are over all the parent's turns, questions and fears; the others over sessions (before a decision: of those with a threat or a direction; permission: of those with a direction).\n"+
		"Rows of fewer than %d sessions are suppressed", f.Query.MinCell)
	if f.Hidden > 0 {
		notes += fmt.Sprintf("; %d worker row(s) under it left out", f.Hidden)
	}
	notes += ".\n"
	if f.Unmeasured > 0 {
		notes += fmt.Sprintf("%d session(s) were tagged before hark measured the family lens: `hark reannotate` measures them.\n", f.Unmeasured)
	}
	_, err := io.WriteString(w, notes)
	return err
}
