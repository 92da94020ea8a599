package annotate

import (
	"regexp"
	"strings"

	"github.com/harkworks/hark"
)

// A session read turn by turn, for the suggested moments and the family
// lens: who spoke, what the turn was tagged with, and what in it matters
// from the parent's side.

// talkTurn is a run of consecutive segments by one speaker (one role when
// the speakers are not named).
type talkTurn struct {
	role       hark.Role
	speaker    string
	seg0, seg1 int // positions in the transcript's segments, [seg0, seg1)
	start, end float64
	words      int
	codes      map[string]bool
	asks       bool // a sentence asks a question (not a statement with a rising tone)
	allAsk     bool // every sentence of the turn asks
	fear       bool // a parent voices fear or distress
	rights     bool // a worker tells the parent their rights
	// When first, in the turn: the start of the segment telling the
	// parent their rights, tagged explaining_process, with a threat or a
	// direction, with a direction, asking permission.
	rightsAt, explainAt, decideAt, adviceAt, askAt float64
	answerOpen                                     bool     // the turn opens as an answer does ("yes", "because", …)
	stems                                          []string // stems of content words, for whether one turn takes up another's
	cutOff                                         bool     // the turn's last sentence is broken off ("I just—")
}

func (t *talkTurn) has(code string) bool { return t.codes[code] }

// The words of fear and distress in a parent's turn, of rights in a
// worker's, and of an answer's opening.
var (
	fearRE   = regexp.MustCompile(`\b(?:frighten(?:ed|s|ing)?|scared|afraid|terrified|petrified|panick?(?:ed|ing)?|anxious|anxiety|nervous|dread(?:ing)?|worried|worry|worrying|overwhelmed|can'?t cope|not coping|at the end of my tether|don'?t know what (?:to do|i'?ll do)|(?:take|taking|took) (?:him|her|them|my (?:kids|children|son|daughter|baby|boy|girl)|the (?:kids|children|baby)) (?:away|off me|into care)|lose (?:him|her|them|my (?:kids|children|son|daughter|baby))|(?:put|go|going|taken) into care|in tears|crying|can'?t stop crying|not sleeping|can'?t sleep|upset|struggling|exhausted|shattered|on my own|(?:need|want) (?:some )?help|how hard (?:it is|this is|it'?s been)|(?:so|too|really) hard|can'?t do (?:this|it) any ?more|(?:at )?breaking point|falling apart|at my wits'? end)\b`)
	rightsRE = regexp.MustCompile(`\b(?:your rights?|(?:you have|you've got|you've|you do have) (?:the |a )?right|entitled to|(?:a |your own |free )?(?:solicitor|advocate|legal advice|legal aid|lawyer)|make a complaint|complain(?:ts? procedure)?|you don'?t have to (?:agree|answer|sign)|you can say no|it'?s (?:your|up to you)(?: choice| decision)|(?:a |get a )?copy of (?:the|my|our|your) (?:report|plan|assessment|minutes|notes)|you can (?:read|see) (?:what|the|my|our) (?:report|notes|assessment|records?)|bring (?:someone|a friend|a supporter|somebody) (?:with you|along))\b`)
	answerRE = regexp.MustCompile(`^(?:yes|yeah|yep|no|nope|sure|of course|because|it'?s|it is|it will|it'?ll|they'?ll|they will|you'?ll|you will|we'?ll|we will|that'?s|that is|that will|the answer|good question|right now|at the moment|what happens (?:is|next)|first|well,? (?:it|that|we|you|they|the))\b`)
)

// Words that say fear or rights on their own, and the words at least one
// of which the rest of fearRE's and rightsRE's matches hold: a segment
// with none of them is not tried against the expressions, which are slow.
var (
	fearWords = wordSet("frighten frightened frightens frightening scared afraid terrified petrified panic panicked panicking panicing " +
		"anxious anxiety nervous dread dreading worried worry worrying overwhelmed crying upset struggling exhausted shattered")
	fearPhrases   = wordSet("cope coping tether know away off care lose tears sleeping sleep own help hard more anymore breaking apart end wits")
	rightsWords   = wordSet("rights entitled solicitor advocate lawyer complaint complain complaints")
	rightsPhrases = wordSet("right legal say choice decision copy report notes assessment records bring agree answer sign")
)

func wordSet(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// says reports whether the segment analysed as info has a word of words,
// or a word of phrases and a match of re.
func says(an *analysis, info segInfo, words, phrases map[string]bool, re *regexp.Regexp, low string) bool {
	phrase := false
	for k := info.t0; k < info.t1; k++ {
		w := string(an.key(an.toks[k]))
		if words[w] {
			return true
		}
		phrase = phrase || phrases[w]
	}
	return phrase && re.MatchString(low)
}

// readTurns reads the transcript as turns, with the tags of a (rejected
// tags left out).
func readTurns(t *hark.Transcript, a *hark.Annotations) []talkTurn {
	if t == nil || len(t.Segments) == 0 {
		return nil
	}
	codes := make(map[int]map[string]bool, len(t.Segments))
	if a != nil {
		for _, tag := range a.Tags {
			if tag.Review == hark.ReviewRejected {
				continue
			}
			m := codes[tag.Segment]
			if m == nil {
				m = make(map[string]bool)
				codes[tag.Segment] = m
			}
			m[tag.Code] = true
		}
	}
	an := &analysis{lx: newLexicon()}
	var turns []talkTurn
	for i := range t.Segments {
		s := &t.Segments[i]
		if n := len(turns); n == 0 || turns[n-1].role != s.Role || turns[n-1].speaker != s.Speaker {
			turns = append(turns, talkTurn{role: s.Role, speaker: s.Speaker, seg0: i, start: s.Start, codes: make(map[string]bool), allAsk: true})
		}
		tt := &turns[len(turns)-1]
		tt.seg1, tt.end = i+1, max(tt.end, s.End)
		for c := range codes[s.Index] {
			if !tt.codes[c] {
				switch c {
				case codeExplaining:
					tt.explainAt = s.Start
				case codeDirective:
					tt.adviceAt = s.Start
				case codePermission:
					tt.askAt = s.Start
				}
			}
			if (c == codeThreat || c == codeDirective) && !tt.codes[codeThreat] && !tt.codes[codeDirective] {
				tt.decideAt = s.Start
			}
			tt.codes[c] = true
		}
		an.low, an.toks, an.sents = an.low[:0], an.toks[:0], an.sents[:0]
		info := an.addSegment(s.Text)
		tt.words += int(info.t1 - info.t0)
		for k := info.s0; k < info.s1; k++ {
			sent := &an.sents[k]
			if sent.form == formBackchannel {
				continue
			}
			if sent.isQuestion() || sent.q && sent.form != formDeclQ && sent.form != formTagQ {
				tt.asks = true
			} else {
				tt.allAsk = false
			}
		}
		for k := info.t0; k < info.t1; k++ {
			if tk := an.toks[k]; tk.stem > tk.start {
				tt.stems = append(tt.stems, string(an.low[tk.start:tk.stem]))
			}
		}
		low := string(an.low[info.base:])
		switch s.Role {
		case hark.RoleParent:
			tt.fear = tt.fear || says(an, info, fearWords, fearPhrases, fearRE, low)
		case hark.RoleWorker:
			if i == tt.seg0 && answerRE.MatchString(strings.TrimLeft(low, " \"'“‘-")) {
				tt.answerOpen = true
			}
			if !tt.rights && says(an, info, rightsWords, rightsPhrases, rightsRE, low) {
				tt.rights, tt.rightsAt = true, s.Start
			}
		}
		// Broken off: the text ends in a dash or dots, or (where the
		// engine punctuates) without punctuation after a sentence that had
		// it.
		trimmed := strings.TrimRight(s.Text, " ")
		tt.cutOff = strings.HasSuffix(trimmed, "-") || strings.HasSuffix(trimmed, "—") || strings.HasSuffix(trimmed, "–") ||
			strings.HasSuffix(trimmed, "...") || strings.HasSuffix(trimmed, "…") ||
			!info.unpunct && info.s1 > info.s0 && an.sents[info.s1-1].cut
	}
	for i := range turns {
		if !turns[i].asks {
			turns[i].allAsk = false
		}
	}
	return turns
}

// nextWorker returns the first worker turn after turn i, before the parent
// who spoke in turn i speaks again, or -1.
func nextWorker(turns []talkTurn, i int) int {
	for j := i + 1; j < len(turns); j++ {
		switch {
		case turns[j].role == hark.RoleWorker:
			return j
		case turns[j].speaker == turns[i].speaker && turns[j].role == turns[i].role:
			return -1
		}
	}
	return -1
}

// answers reports whether worker turn w answers parent question turn q:
// it explains, or takes up the question's words in a statement, or opens
// as an answer does; a dismissal or a turn of only questions does not.
func answers(q, w *talkTurn) bool {
	switch {
	case w.has(codeDismissing):
		return false
	case w.has(codeExplaining), w.has(codeThreat):
		// A threat answers "what happens if I can't?", badly.
		return true
	case w.allAsk:
		return false
	case w.answerOpen:
		return true
	}
	for _, a := range q.stems {
		for _, b := range w.stems {
			if a == b {
				return true
			}
		}
	}
	return false
}

// meetsFear reports whether worker turn w meets a fear the parent voiced:
// it reflects, shares the concern, affirms, or explains.
func meetsFear(w *talkTurn) bool {
	return w.has(codeReflection) || w.has(codeShared) || w.has(codeAffirmation) || w.has(codeExplaining)
}

// MeasureFamily computes a session's figures from the parent's side
// (hark.FamilyLens) from its transcript and tags. Tags a coach rejected
// are left out.
func MeasureFamily(t *hark.Transcript, a *hark.Annotations) *hark.FamilyLens {
	return measureFamily(t, readTurns(t, a))
}

func share(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := float64(n) / float64(of)
	return &v
}

func measureFamily(t *hark.Transcript, turns []talkTurn) *hark.FamilyLens {
	f := &hark.FamilyLens{}
	if t == nil {
		return f
	}
	var talk, parentTalk float64
	for i := range t.Segments {
		s := &t.Segments[i]
		if d := s.End - s.Start; d > 0 {
			talk += d
			if s.Role == hark.RoleParent {
				parentTalk += d
			}
		}
	}
	if talk > 0 {
		f.ParentTalkShare = parentTalk / talk
	}
	var firstDecision, firstAdvice, firstPermission *float64
	at := func(p **float64, v float64) {
		if *p == nil {
			*p = &v
		}
	}
	for i := range turns {
		tt := &turns[i]
		switch tt.role {
		case hark.RoleParent:
			f.ParentTurns++
			if interrupted(t, turns, i) {
				f.ParentInterrupted++
			}
			w := nextWorker(turns, i)
			if tt.asks {
				f.ParentQuestions++
				if w >= 0 && answers(tt, &turns[w]) {
					f.ParentQuestionsAnswered++
				}
			}
			if tt.fear {
				f.ParentFears++
				if w >= 0 && meetsFear(&turns[w]) {
					f.ParentFearsMet++
				}
			}
		case hark.RoleWorker:
			if tt.rights {
				f.RightsExplained = true
				at(&f.RightsExplainedAt, tt.rightsAt)
			}
			if tt.has(codeExplaining) {
				f.NextStepsExplained = true
				at(&f.NextStepsExplainedAt, tt.explainAt)
			}
			if tt.has(codeThreat) || tt.has(codeDirective) {
				at(&firstDecision, tt.decideAt)
			}
			if tt.has(codeDirective) {
				f.Advice++
				at(&firstAdvice, tt.adviceAt)
			}
			if tt.has(codePermission) {
				f.PermissionAsked++
				at(&firstPermission, tt.askAt)
			}
		}
	}
	if len(turns) > 0 {
		f.ParentTurnShare = float64(f.ParentTurns) / float64(len(turns))
	}
	f.ParentInterruptedShare = share(f.ParentInterrupted, f.ParentTurns)
	f.ParentQuestionsAnsweredShare = share(f.ParentQuestionsAnswered, f.ParentQuestions)
	f.ParentFearsMetShare = share(f.ParentFearsMet, f.ParentFears)
	if firstDecision != nil {
		before := f.RightsExplainedAt != nil && *f.RightsExplainedAt < *firstDecision ||
			f.NextStepsExplainedAt != nil && *f.NextStepsExplainedAt < *firstDecision
		f.ExplainedBeforeDecision = &before
	}
	if firstAdvice != nil {
		before := firstPermission != nil && *firstPermission <= *firstAdvice
		f.PermissionBeforeAdvice = &before
	}
	return f
}

// interrupted reports whether parent turn i was cut into: another
// speaker's segment started more than 0.2 s before one of the turn's
// segments ended (talked over), or the next turn followed within half a
// second of a sentence the parent broke off.
func interrupted(t *hark.Transcript, turns []talkTurn, i int) bool {
	tt := &turns[i]
	for k := tt.seg0; k < tt.seg1; k++ {
		p := &t.Segments[k]
		// Segments are in order of start; another speaker's segment that
		// starts inside this one is talk over it.
		for j := k + 1; j < len(t.Segments) && t.Segments[j].Start < p.End-0.2; j++ {
			o := &t.Segments[j]
			if o.Speaker != p.Speaker || o.Role != p.Role {
				if o.Start > p.Start+0.2 {
					return true
				}
			}
		}
	}
	if tt.cutOff && i+1 < len(turns) && turns[i+1].start-tt.end < 0.5 {
		return true
	}
	return false
}
