package annotate

import "regexp"

// The built-in rules of the rule tagger. They look at what keywords cannot:
// the form of a sentence (statement, open or closed question), the previous
// turn of the other speaker, conditions and negation. Codebook cues add to
// them; for the codes below the built-in exclusions also apply to cue
// matches, so that a team's cue cannot turn a question into a reflection or
// a reassurance into a threat.

// Ids of the codes with built-in rules.
const (
	codeReflection  = "reflective_listening"
	codeOpenQ       = "open_question"
	codeAgenda      = "joint_agenda_setting"
	codePlanning    = "collaborative_planning"
	codeShared      = "shared_concern"
	codeAffirmation = "affirmation"
	codePermission  = "asking_permission"
	codeExplaining  = "explaining_process"
	codeThreat      = "threat_of_escalation"
	codeDirective   = "directive"
	codeDismissing  = "dismissing_parent_view"
)

// builtinRegexps are the patterns the built-in rules use, compiled once per
// tagger.
type builtinRegexps struct {
	// Threats of escalation.
	escalation  *regexp.Regexp // what is threatened: court, police, a plan, removal
	ifCondition *regexp.Regexp // "if you don't...", "if things don't change"
	orCondition *regexp.Regexp // "... or we'll", "otherwise", "unless"
	consequence *regexp.Regexp // "we will", "will be", "I'll have to"
	reassurance *regexp.Regexp // "nobody is planning", "doesn't mean"
	noChoice    *regexp.Regexp // "we won't have any choice": negation that is still a threat

	// Directives.
	dirModal    *regexp.Regexp // "you need to", "you must"
	dirNegated  *regexp.Regexp // "you don't have to"
	dirReported *regexp.Regexp // "you feel you should": the parent's own words given back
	dirInfo     *regexp.Regexp // "you should get a letter": information, not instruction
	dirOffer    *regexp.Regexp // "ring me if you need to": an offer

	// Reflections.
	reflectStrong *regexp.Regexp // "it sounds like", "what I'm hearing"
	reflectVerb   *regexp.Regexp // "you feel", "you're worried", "you want"
}

func compileBuiltins() *builtinRegexps {
	const escalation = `(?i)\b(child protection|protection plan|conferences?|police|courts?|care proceedings|proceedings|legal action|public law outline|plo|section 47|foster(ing)?|emergency protection|into care|in care|removal|remov(e|ed|es|ing)|taken? (him|her|them|the [a-z]+|your [a-z]+) (away|off you|from you)|taken away|(the|a|on a|onto a|on the) plan)\b`
	return &builtinRegexps{
		escalation:  regexp.MustCompile(escalation),
		ifCondition: regexp.MustCompile(`(?i)\b(if|unless|until)\b[^.?!;]*?\b(don'?t|do not|doesn'?t|does not|didn'?t|won'?t|will not|can'?t|cannot|isn'?t|aren'?t|keeps?|carry on|carries on|continues?|miss|misses|missed|fails?|refuses?|again|another|any ?more|still|stop|not)\b`),
		orCondition: regexp.MustCompile(`(?i)\b(or( else)?,? (we|i|the (court|police|local authority|children|kids|baby)|they|he|she|it|this|that|there)\b|otherwise\b|unless\b)|\b(keep|carry on|go on) [a-z]+ing\b[^.?!]*\band\b`),
		consequence: regexp.MustCompile(`(?i)\b(we|i|they|the court|the police|the local authority)('ll| will| would|'d| shall| have to| '?ve got to| are going to|'re going to| am going to|'m going to|'re gonna|'m gonna| may| might)\b|\b(will|would|'ll|'d|might|may) (be|end up|go|have to|need to|get|lose|come)\b|\bno (other )?(choice|option)\b|\bhave to\b`),
		reassurance: regexp.MustCompile(`(?i)\b(nobody|no one|no-one)\b|\bnot (going|planning|looking|thinking|talking|here|about|trying|asking)\b|\b(doesn'?t|does not|won'?t|will not|wouldn'?t|would not|isn'?t|is not|aren'?t|are not)( necessarily| automatically)? (mean|lead|about|a threat)\b|\bno (plans?|intention|question)\b|\bnever\b|\bdon'?t (worry|panic)\b`),
		noChoice:    regexp.MustCompile(`(?i)\b(no|any|much) (other )?(choice|option)\b`),

		dirModal:    regexp.MustCompile(`(?i)\byou (really |just |still |also |now |then )?(need to|needs to|have to|'ve got to|have got to|got to|gotta|must|should|ought to|'d better|had better)\b|\bi (need|want|expect) you to\b|\bmake sure (that )?you\b|\byou('re| are) (going|gonna) (to )?have to\b|\byou('ll| will) (need|have) to\b`),
		dirNegated:  regexp.MustCompile(`(?i)\b(don'?t|do not|doesn'?t|does not|didn'?t|won'?t|will not|not|never|no)( really| necessarily| actually)? (need|have|got|must) to\b|\bneedn'?t\b|\bno need\b|\bshouldn'?t have to\b`),
		dirReported: regexp.MustCompile(`(?i)\b(feel|feels|felt|feeling|think|thinks|thought|said|say|saying|believe|reckon|worr(y|ied|ies)|wonder(ing)?|wish|told me|sounds like|seems like|part of you|hearing|people say|they say)\b[^.?!]*\b(should|must|need|needs|have to|has to|got to|ought)\b`),
		dirInfo:     regexp.MustCompile(`(?i)\bshould (have )?(get|getting|receive|received|got|gotten|hear|heard|arrive|be (able|getting|hearing|receiving|invited))\b|\byou (have|'ve got) (the|a) right\b`),
		dirOffer:    regexp.MustCompile(`(?i)\bif you (need|want|'d like|would like|wish|like|can|have)\b|\b(ring|call|phone|text|tell|ask) me\b|\bget in touch\b`),

		reflectStrong: regexp.MustCompile(`(?i)\b(sounds|sounded|seems|seemed|sound|seem) (like|as (if|though)|that)\b|\bsounds (hard|tough|difficult|awful|frightening|scary|exhausting|like)\b|\bwhat i'?m hearing\b|\bi'?m hearing\b|\bi hear (that|you)\b|\byou('re| are) (saying|telling me)\b|\bon (the )?one hand\b|\bon the other hand\b|\bpart of you\b|\bi (get|'m getting|am getting|have) (the|a) (sense|feeling|impression)\b|\bif i'?ve (got|understood) (this|that|you) right\b|\bin other words\b|\bwhat you'?re (saying|describing)\b`),
		reflectVerb:   regexp.MustCompile(`(?i)\byou (really |just |still |also |don'?t |do not |didn'?t )?(feel|felt|'re feeling|are feeling|seem|'re finding|are finding|find|wish|wonder|'re wondering|worry|'re worried|are worried|'re not sure|aren'?t sure|want|wanted|'d like|would like|care|love|value|hope|'re hoping|believe|reckon|'ve been|have been|'ve had|'re trying|are trying|'re doing|'ve tried|tried|'re sick|'re tired|'re fed up|know what|like|enjoy|hate|miss|need)\b|\byour\b|\bto you\b|\bfor you\b`),
	}
}

// isThreat reports whether the sentence makes an escalation the
// consequence of a condition aimed at the parent's compliance, and is not a
// reassurance.
func (rt *RuleTagger) isThreat(text string) bool {
	re := rt.re
	if !re.escalation.MatchString(text) {
		return false
	}
	if re.reassurance.MatchString(text) && !re.noChoice.MatchString(text) {
		return false
	}
	if re.orCondition.MatchString(text) {
		return true
	}
	return re.ifCondition.MatchString(text) && re.consequence.MatchString(text)
}

// isDirective reports whether the sentence tells the parent what they must
// or should do. cue is set when a codebook cue matched, so only the
// exclusions are checked.
func (rt *RuleTagger) isDirective(a *analysis, s *sentence, text string, cue bool) (bool, float64) {
	re := rt.re
	switch s.form {
	case formWhyNot:
		return true, 0.6 // "Why don't you just...?" is advice in a question's clothes.
	case formOpen, formClosedWh, formYesNo, formBackchannel:
		return false, 0
	}
	modal := cue || re.dirModal.MatchString(text)
	if modal {
		if re.dirNegated.MatchString(text) || re.dirReported.MatchString(text) || re.dirInfo.MatchString(text) {
			return false, 0
		}
		return true, 0.75
	}
	if s.form != formStatement {
		return false, 0
	}
	// The imperative mood: "Take him to the dentist this week."
	c := s.core
	if c >= s.t1 || a.toks[c].flags&wImper == 0 || s.t1-c < 2 {
		return false, 0
	}
	switch {
	case a.is(c, "don't") && (a.is(c+1, "worry") || a.is(c+1, "be") || a.is(c+1, "panic") || a.is(c+1, "apologise") || a.is(c+1, "apologize") || a.is(c+1, "mind") || a.is(c+1, "know")),
		a.is(c, "take") && (a.is(c+1, "care") || a.is(c+1, "your") && a.is(c+2, "time") || a.is(c+1, "a") && (a.is(c+2, "seat") || a.is(c+2, "moment") || a.is(c+2, "look"))),
		a.is(c, "go") && (a.is(c+1, "on") || a.is(c+1, "ahead")),
		a.is(c, "come") && (a.is(c+1, "in") || a.is(c+1, "on")),
		a.is(c, "keep") && (a.is(c+1, "going") || a.is(c+1, "it") || a.is(c+1, "up")),
		a.is(c, "stop") && a.is(c+1, "me"),
		a.is(c, "remember") && (a.flags(c+1)&(wYou|wSubj) != 0 || a.is(c+1, "when")),
		a.is(c, "sit") && a.is(c+1, "down"),
		a.is(c, "get") && (a.is(c+1, "well") || a.is(c+1, "in")):
		return false, 0
	}
	if re.dirOffer.MatchString(text) || re.dirNegated.MatchString(text) {
		return false, 0
	}
	return true, 0.7
}

// reflectionScore scores how much a worker's sentence reads as a reflection
// of what the other speaker said; 3 or more is a reflection. ctx are the
// content tokens of the other speaker's previous turn.
func (rt *RuleTagger) reflectionScore(a *analysis, s *sentence, text string, ctx []int32) int {
	switch s.form {
	case formStatement, formDeclQ, formTagQ:
	default:
		return 0
	}
	c := s.core
	n := s.t1 - c
	if n <= 0 {
		return 0
	}
	for i := c; i < s.t1 && i < c+3; i++ {
		if a.toks[i].flags&wGreet != 0 {
			return 0
		}
	}
	if d, _ := rt.isDirective(a, s, text, false); d {
		return 0
	}
	if rt.isThreat(text) {
		return 0
	}
	score := 0
	if rt.re.reflectStrong.MatchString(text) {
		score += 3
	}
	// A second-person subject near the start: "So you've been...",
	// "Sometimes you forget...". "You know" is a filler, not a subject.
	youSubj := false
	for i := c; i < s.t1 && i < c+3; i++ {
		if a.toks[i].flags&wYou != 0 && !(a.is(i, "you") && a.is(i+1, "know")) {
			youSubj = true
			switch {
			case a.is(i, "you'll"), a.is(i, "you") && (a.is(i+1, "will") || a.is(i+1, "can") || a.is(i+1, "could") || a.is(i+1, "might") || a.is(i+1, "may")):
				score -= 2 // information or advice about the future
			}
			break
		}
	}
	if youSubj {
		score += 2
	} else if rt.re.reflectVerb.MatchString(text) {
		score++
	}
	f := a.toks[c].flags
	if f&wSelf != 0 && score < 3 {
		score -= 2
	}
	if a.is(c, "if") {
		score -= 2
	}
	if s.so {
		score++
	}
	if s.form == formDeclQ || s.form == formTagQ {
		score++
	}
	feel := false
	content, overlap := 0, 0
	for i := c; i < s.t1; i++ {
		t := a.toks[i]
		if t.flags&wFeel != 0 {
			feel = true
		}
		if t.stem == 0 {
			continue
		}
		content++
		w := a.low[t.start:t.stem]
		for _, j := range ctx {
			u := a.toks[j]
			if string(a.low[u.start:u.stem]) == string(w) {
				overlap++
				break
			}
		}
	}
	if feel {
		score++
	}
	switch {
	case overlap >= 2:
		score += 2
	case overlap == 1:
		score++
	}
	// A short echo of the parent's words: "Your mum.", "Money, then."
	if n <= 6 && overlap >= 1 && overlap >= content-1 {
		score++
	}
	return score
}
