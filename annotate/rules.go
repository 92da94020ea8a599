package annotate

import (
	"regexp"
	"strings"
)

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
	escalation  *guardedRE // what is threatened: court, police, a plan, removal
	ifCondition *guardedRE // "if you don't...", "if things don't change"
	orCondition *guardedRE // "... or we'll", "otherwise", "unless"
	consequence *guardedRE // "we will", "will be", "I'll have to"
	reassurance *guardedRE // "nobody is planning", "doesn't mean"
	noChoice    *guardedRE // "we won't have any choice": negation that is still a threat

	// Directives.
	dirModal    *guardedRE // "you need to", "you must"
	dirNegated  *guardedRE // "you don't have to"
	dirReported *guardedRE // "you feel you should": the parent's own words given back
	dirInfo     *guardedRE // "you should get a letter": information, not instruction
	dirOffer    *guardedRE // "ring me if you need to": an offer

	// Reflections.
	reflectStrong *guardedRE // "it sounds like", "what I'm hearing"
	reflectVerb   *guardedRE // "you feel", "you're worried", "you want"
	empathy       *guardedRE // "that must be hard": naming the feeling
	reassures     *guardedRE // "nobody's taking her", "it's your choice": a reassurance, not a reflection
}

// apostropheInClass finds an apostrophe inside a character class.
var apostropheInClass = regexp.MustCompile(`\[[^\]]*'`)

func compileBuiltins(pb *prefilterBuilder) *builtinRegexps {
	// Every apostrophe in these patterns also matches a curly one.
	re := func(expr string) *guardedRE {
		if strings.Contains(expr, "’") || apostropheInClass.MatchString(expr) {
			// An apostrophe becomes ['’]: inside a class, [a-z'] would
			// become [a-z['’]], which is not the class meant.
			panic("annotate: built-in pattern with a curly apostrophe or one inside a class: write a plain one outside")
		}
		expr = strings.TrimPrefix(expr, "(?i)")
		g, err := pb.add(strings.ReplaceAll(expr, "'", "['’]"))
		if err != nil {
			panic("annotate: built-in pattern: " + err.Error())
		}
		return g
	}
	// What a threat escalates to. Each is its own top-level alternative, so
	// that the prefilter runs only those whose words a sentence holds.
	escalation := `\b(` + strings.Join([]string{
		`child protection`, `protection plan`, `conferences?`, `police`, `courts?`, `care proceedings`,
		`proceedings`, `legal action`, `public law outline`, `plo`, `section 47`, `foster(ing)?`,
		`emergency protection`, `into care`, `in care`, `removal`, `remov(e|ed|es|ing)`,
		`taken? (him|her|them|the [a-z]+|your [a-z]+) (away|off you|from you)`, `taken away`,
		`(the|a|on a|onto a|on the) plan`, `legal planning`, `letter before proceedings`, `pre-?proceedings`,
		`strategy (discussion|meeting)`, `judge`, `my manager`, `the manager`, `section forty[ -]seven`,
		`safeguarding (concern|referral|issue)`, `accommodated`, `(the |attendance )panel`,
		`(my|the|next|your) report`, `ask to issue`, `apply to issue`, `we issue`, `go(es)? further`,
		`changes? (things|everything|how)`, `(a )?(very )?different (conversation|kind of visit|story|situation)`,
		`hear about (it|this|that)`, `(will|would|'ll) hear`, `take (this|it|things) further`,
		`legal (team|department|gateway)`, `solicitors?`, `evidence`, `prosecut(e|ed|ion)`,
		`be looked after (somewhere|elsewhere|by)`, `security`, `pre[- ]proceedings?`,
		`(can'?t|cannot|couldn'?t) (recommend|support|agree)`,
		`(won'?t|wouldn'?t|will not|would not) be (staying|living|coming|going) (here|home|back)`,
		`(doesn'?t|does not|won'?t|will not|can'?t) (go|come) home`, `(sessions?|contact|visits?) (will )?stops?`,
		`out of my hands`, `off the table`, `decide without you`, `(have|get) no say`,
		`keep (this|it|that) between us`,
	}, `)\b|\b(`) + `)\b`
	return &builtinRegexps{
		escalation:  re(escalation),
		ifCondition: re(`(?i)\b(if|unless|until)\b[^.?!;]*?\b(don'?t|do not|doesn'?t|does not|didn'?t|won'?t|will not|can'?t|cannot|isn'?t|aren'?t|keeps?|carry on|carries on|continues?|miss|misses|missed|fails?|refuses?|again|another|any ?more|still|stop|not|find out|finds? out|drops?|falls?|slips?( back)?|starts?|happens?|gets? (worse|poorly|ill)|(is|'s|are|'re|was|were) (found|here|there|around|back|drunk|using|late|off)|moves? (back|in)|comes? back|turns? up|walks? out|takes? (him|her|them|[a-z]+) off|go(es)? round|gone round|shows? up|(a )?(second|third|fourth|next) (one|time|test|call)|nothing('s| has)? (changed|shifted|changes)|like this|positive|broken)\b`),
		orCondition: re(`(?i)\b(or( else)?,? (we|i|the (court|police|local authority|children|kids|baby)|they|he|she|it|this|that|there)\b|otherwise\b|unless\b)|\b(keep|carry on|go on) [a-z]+ing\b[^.?!]*\band\b|\b(any|one) more\b[^.?!]*\band\b|\b(miss|skip) (it|them|that|this|one|another [a-z]+)\b[^.?!]*\band\b|\b(the )?next time\b|\b(refuse|break (any|one|either) of (them|those|these)|bin (this|that|it)|walk out|switch (it|that|them) off|do (it|that|this) (again|once more)|keep on)\b[^.?!]*\band\b|\bone slip\b`),
		consequence: re(`(?i)\b(we|i|they|the court|the police|the local authority)('ll| will| would|'d| shall| have to| '?ve got to| are going to|'re going to| am going to|'m going to|'re gonna|'m gonna| may| might)\b|\b(will|would|'ll|'d|might|may) (be|end up|go|have to|need to|get|lose|come)\b|\bno (other )?(choice|option)\b|\bhave to\b|\b(court|judge|conference|manager|panel|police)s? (will|would|might|may|could)\b|\b(it|this|that)('s| is)? (goes|going|will go|gets?|turns) (to|in|on|into|further)\b|\bthat'?s (where|the end)\b|\b(won'?t|wouldn'?t|will not|would not) (stay|just|be)\b|\bwe'?d\b|\bthat'?s (another|a) thing\b|\b(will|'ll|would|'d) (want|mean|start|turn|change|decide|sort|see|look|hear)\b|\bthe next (step|letter|conversation)\b|\bgo(es)? straight\b|\bends? up\b|\bbe (looking at|recommending|asking|ringing|calling|telling)\b|\bout of my hands\b|\boff the table\b|\bcould (look|be|end|go)\b|\bi'?m (taking|putting|writing|ringing|calling|referring|reporting|recording)\b|\b(i|we) (ring|call|phone|refer|report|record|apply)\b|\bthat'?s when\b`),
		reassurance: re(`(?i)\b(nobody|no one|no-one)\b|\bnot (going|planning|looking|thinking|talking|here|about|trying|asking)\b|\b(doesn'?t|does not|won'?t|will not|wouldn'?t|would not|isn'?t|is not|aren'?t|are not)( necessarily| automatically)? (mean|lead|about|a threat)\b|\bno (plans?|intention|question)\b|\bnever\b|\bdon'?t (worry|panic)\b|\b(comes?|came|come) back (clear|negative|clean)\b|\b(end|ending|close|closing) (the|your) (plan|case)\b|\bstep(ping|ped)? (it )?down\b|\bcome off the plan\b|\b(wouldn'?t|won'?t|will not|would not) (go|end up) (to|in) (court|a conference|care|proceedings) unless\b|\b(that'?s|it'?s|this is) (there )?to (protect|support|help) you\b|\bunless (there'?s|there is) (something|anything) (else )?you\b|\bunless you('?d| would)? (want|rather|prefer|like)\b|\b(record|records|notes?|file|report|school|police|evidence) (says?|said|shows?|showed|suggests?) otherwise\b`),
		noChoice:    re(`(?i)\b(no|any|much) (other )?(choice|option)\b`),

		dirModal:    re(`(?i)\byou (really |just |still |also |now |then )?(need to|needs to|have to|'ve got to|have got to|got to|gotta|must|should|ought to|'d better|had better)\b|\bi (need|want|expect) you to\b|\bmake sure (that )?you\b|\byou('re| are) (going|gonna) (to )?have to\b|\byou('ll| will) (need|have) to\b`),
		dirNegated:  re(`(?i)\b(don'?t|do not|doesn'?t|does not|didn'?t|won'?t|will not|not|never|no)( really| necessarily| actually)? (need|have|got|must) to\b|\bneedn'?t\b|\bno need\b|\bshouldn'?t have to\b|\b(doesn'?t|does not|don'?t|do not|won'?t) mean (that )?you (have|need|must|should)\b`),
		dirReported: re(`(?i)\b(you|you'?re|you are|you'?ve|they|people|everyone)( really| just| still| kind of| sort of)? (feel|feels|felt|feeling|think|thinking|thought|said|say|saying|believe|reckon|worr(y|ied|ies)|wonder(ing)?|wish|told me|telling me|keep being told)\b[^.?!]*\b(should|must|need|needs|have to|has to|got to|ought)\b|\b(sounds like|seems like|part of you|hearing|told|telling you|being told)\b[^.?!]*\b(should|must|need|needs|have to|has to|got to|ought)\b|\bwhat you (need|have|should|must|ought)\b|\bI (want|need) you to (know|understand|feel|be aware)\b`),
		dirInfo:     re(`(?i)\bshould (have )?(get|getting|receive|received|got|gotten|hear|heard|arrive|be (able|getting|hearing|receiving|invited))\b|\byou (have|'ve got) (the|a) right\b`),
		dirOffer:    re(`(?i)\bif you (need|want|'d like|would like|wish|like|can|have)\b|\b(ring|call|phone|text|tell|ask) me\b|\bget in touch\b`),

		reflectStrong: re(`(?i)\b(sounds|sounded|seems|seemed|sound|seem) (like|as (if|though)|that)\b|\bsounds (hard|tough|difficult|awful|frightening|scary|exhausting|like)\b|\b(it|that|this|kind of|sort of) (feels|felt)\b|\blooks like you\b|\bwhat i'?m hearing\b|\bi'?m hearing\b|\bi hear (that|you|your)\b|\bmy sense is\b|\byou('re| are) (saying|telling me)\b|\bon (the )?one hand\b|\bon the other hand\b|\bpart of you\b|\bi (get|'m getting|am getting|have) (the|a) (sense|feeling|impression)\b|\bif i'?ve (got|understood) (this|that|you) right\b|\bin other words\b|\bwhat you'?re (saying|describing)\b`),
		reflectVerb:   re(`(?i)\byou('re| are| were|'ve| have|'d)? (really |just |still |also |probably |kind of |sort of |don'?t |do not |didn'?t |not )?(feel|felt|feeling|seem|finding|find|wish|wonder|wondering|worry|worried|sure|want|wanna|wanted|like|love|care|value|hope|hoping|believe|reckon|think|thought|been|had|trying|tried|doing|sick|tired|fed up|enjoy|hate|miss|know what|realise|realize|noticed|concerned|scared|afraid|frightened|proud|angry|upset|stuck|struggling)\b`),
		reassures:     re(`(?i)^\W*(no one|no-one|nobody)('s| is| are|'re)? (going to |gonna )?(taking|take|blaming|blame|judging|judge|planning|saying|watching|removing|remove|here to|coming to take)\b|\byou('re| are) not in (any )?trouble\b|^\W*(no, )?(it'?s|that'?s) (your|entirely your|completely your) (choice|right|call|decision)\b|^\W*you('re| are) (allowed|entitled) to\b`),
		empathy:       re(`(?i)\b(that|it|this)( must|'s| is| was| has been| must have been| can be| could be| would be| sounds)?( really| so| very| quite| pretty| a bit| a little| such)? (hard|difficult|tough|frustrating|scary|frightening|upsetting|worrying|awful|painful|lonely|exhausting|overwhelming|stressful|a lot|a worry|a relief|important|a struggle|a big (deal|step|change))\b`),
	}
}

// isThreat reports whether the sentence makes an escalation the
// consequence of a condition aimed at the parent's compliance, and is not a
// reassurance. text is the sentence's text, or more when a cue's match
// runs on into the next sentence.
func (rt *RuleTagger) isThreat(a *analysis, s *sentence, text string) bool {
	whole := len(text) == s.end-s.start
	if whole && s.memo&memoThreatDone != 0 {
		return s.memo&memoThreat != 0
	}
	threat := rt.threat(a.sentBits(s, text), text)
	if whole {
		s.memo |= memoThreatDone
		if threat {
			s.memo |= memoThreat
		}
	}
	return threat
}

func (rt *RuleTagger) threat(bits []uint64, text string) bool {
	re := rt.re
	if !re.escalation.match(bits, text) {
		return false
	}
	if re.reassurance.match(bits, text) && !re.noChoice.match(bits, text) {
		return false
	}
	if re.orCondition.match(bits, text) {
		return true
	}
	return re.ifCondition.match(bits, text) && (re.consequence.match(bits, text) || re.noChoice.match(bits, text))
}

// The kinds of directive, with the confidence each gives a tag.
type directiveKind uint8

const (
	notDirective  directiveKind = iota
	dirModalKind                // "you need to", "you must"
	dirImperative               // "Take him to the dentist."
	dirWhyNot                   // "Why don't you just...?"
)

// confidence is the confidence a tag of this kind of directive gets.
func (k directiveKind) confidence() float64 {
	switch k {
	case dirModalKind:
		return 0.75
	case dirImperative:
		return 0.7
	case dirWhyNot:
		return 0.6
	}
	return 0
}

// isDirective reports whether the sentence tells the parent what they must
// or should do, and the tag's confidence. cue is set when a codebook cue
// matched, so only the exclusions are checked.
func (rt *RuleTagger) isDirective(a *analysis, s *sentence, text string, cue bool) (bool, float64) {
	whole := len(text) == s.end-s.start
	var kind directiveKind
	if !cue && whole && s.memo&memoDirDone != 0 {
		kind = directiveKind(s.memo >> memoDirShift)
	} else {
		kind = rt.directive(a, s, text, cue)
		if !cue && whole {
			s.memo |= memoDirDone | uint8(kind)<<memoDirShift
		}
	}
	return kind != notDirective, kind.confidence()
}

// directive works out isDirective.
func (rt *RuleTagger) directive(a *analysis, s *sentence, text string, cue bool) directiveKind {
	re := rt.re
	bits := a.sentBits(s, text)
	switch s.form {
	case formWhyNot:
		return dirWhyNot // "Why don't you just...?" is advice in a question's clothes.
	case formOpen, formClosedWh, formYesNo, formBackchannel:
		return notDirective
	}
	modal := cue || re.dirModal.match(bits, text)
	if modal {
		if re.dirNegated.match(bits, text) || re.dirReported.match(bits, text) || re.dirInfo.match(bits, text) {
			return notDirective
		}
		return dirModalKind
	}
	if s.form != formStatement {
		return notDirective
	}
	// The imperative mood: "Take him to the dentist this week." Only at the
	// start of a sentence: "...and get you into trouble" carries on another
	// sentence.
	c := s.core
	if c >= s.t1 || a.toks[c].flags&wImper == 0 || s.t1-c < 2 {
		return notDirective
	}
	for i := s.t0; i < c; i++ {
		if a.is(i, "and") || a.is(i, "or") || a.is(i, "but") || a.is(i, "then") {
			return notDirective
		}
	}
	switch {
	case a.is(c, "don't") && (a.is(c+1, "worry") || a.is(c+1, "be") || a.is(c+1, "panic") || a.is(c+1, "apologise") || a.is(c+1, "apologize") || a.is(c+1, "mind") || a.is(c+1, "know")),
		a.is(c, "take") && (a.is(c+1, "care") || a.is(c+1, "your") && a.is(c+2, "time") || a.is(c+1, "a") && (a.is(c+2, "seat") || a.is(c+2, "moment") || a.is(c+2, "look"))),
		a.is(c, "go") && (a.is(c+1, "on") || a.is(c+1, "ahead")),
		a.is(c, "come") && (a.is(c+1, "in") || a.is(c+1, "on")),
		a.is(c, "keep") && (a.is(c+1, "going") || a.is(c+1, "it") || a.is(c+1, "up")),
		a.is(c, "stop") && a.is(c+1, "me"),
		a.is(c, "remember") && (a.flags(c+1)&(wYou|wSubj) != 0 || a.is(c+1, "when")),
		a.is(c, "sit") && (a.is(c+1, "down") || a.is(c+1, "yourself")),
		(a.is(c, "sort") || a.is(c, "kind")) && a.is(c+1, "of"),
		a.is(c, "get") && (a.is(c+1, "well") || a.is(c+1, "in")):
		return notDirective
	}
	if re.dirOffer.match(bits, text) || re.dirNegated.match(bits, text) {
		return notDirective
	}
	return dirImperative
}

// Features of a sentence that tell a reflection from other statements.
const (
	rfStrong   = iota // a reflective stem: "it sounds like", "what I'm hearing"
	rfYouSubj         // the parent is the subject: "You're...", "So you've..."
	rfYouAny          // the parent is mentioned: "...for you"
	rfVerb            // a feeling or thinking verb of the parent's: "you feel", "you want"
	rfEmpathy         // the feeling named: "that must be hard"
	rfSelf            // the worker is the subject: "I'll...", "We need..."
	rfIf              // a condition: "If you..."
	rfSo              // led by "so", the usual opening of a summary
	rfRising          // a statement said as a question: "So you're worn out?"
	rfFeel            // a feeling word
	rfOverlap1        // one content word of the parent's previous turn
	rfOverlap2        // two or more
	rfEchoFull        // a short echo made only of the parent's words
	rfEchoPart        // a short echo mostly of the parent's words
	rfFuture          // the parent's future: "you'll", "you can", "you could"
	rfLong            // more than thirty words
	rfThird           // a third-person subject: "she's", "that's", "it's"
	rfAnswer          // the parent's previous turn asked a question, so this may answer it
	rfFirst           // the first sentence of the turn
	rfManySent        // the turn has four sentences or more
	rfNumber          // a number in digits: facts and figures
	rfReported        // someone else's words reported: "They said...", "The school told me..."
	rfWill            // what will happen: "it'll be", "the notes will say"
	rfPlan            // the worker's own next step inside it: "…and I'll ring you Monday"
	rfCount
)

// defaultReflectionWeights returns the weights of the features above; a
// sentence whose weighted sum reaches reflectionThreshold is a reflection.
//
// The weights were chosen on the development half of the AnnoMI corpus of
// motivational-interviewing sessions and checked by fitting on one half of
// its conversations and measuring on the other: a statement about the
// parent, their feelings or their words is a reflection; the worker's own
// plans, facts and figures, conditions and answers to the parent's question
// are not. rfPlan (-4) was added later, from the practice corpus's train
// and dev splits and checked on AnnoMI's development half: a summary that
// carries the worker's own next step ("so you'll ring the school and I'll
// write to housing") is a plan summed up, not a reflection.
func defaultReflectionWeights() [rfCount]int {
	return [rfCount]int{
		rfStrong: 3, rfYouSubj: 3, rfYouAny: 1, rfVerb: 1, rfEmpathy: 2, rfSelf: -3, rfIf: -3,
		rfSo: 2, rfRising: -1, rfFeel: 2, rfOverlap1: 1, rfOverlap2: 2, rfEchoFull: 1, rfEchoPart: 1,
		rfFuture: -2, rfLong: -2, rfThird: 1, rfAnswer: -1, rfFirst: 2, rfManySent: -2, rfNumber: -2,
		rfReported: -3, rfWill: -1, rfPlan: -4,
	}
}

// reflectionThreshold is the score from which a sentence is a reflection.
const reflectionThreshold = 4

// reflectionScore scores how much a worker's sentence reads as a reflection
// of what the other speaker said; reflectionThreshold or more is a
// reflection. It reads the words first and runs the patterns only when they
// could still lift the sentence over the threshold, and checks last that
// the sentence is not something else: a directive, a threat, an
// affirmation or a dismissal.
func (rt *RuleTagger) reflectionScore(a *analysis, s *sentence, text string, sc *segContext, info segInfo) int {
	f, ok := rt.reflectionFeatures(a, s, sc, info)
	if !ok {
		return 0
	}
	w := &rt.weights
	bound := rt.weigh(&f) + w[rfStrong] + w[rfVerb] + w[rfEmpathy]
	if f[rfSelf] {
		bound -= w[rfSelf] // a reflective stem lifts the first-person penalty
	}
	if bound < reflectionThreshold {
		return 0
	}
	bits := a.sentBits(s, text)
	if rt.re.reflectStrong.match(bits, text) {
		f[rfStrong], f[rfSelf] = true, false
	}
	f[rfVerb] = rt.re.reflectVerb.match(bits, text)
	f[rfEmpathy] = rt.re.empathy.match(bits, text)
	score := rt.weigh(&f)
	if score < reflectionThreshold {
		return score
	}
	if d, _ := rt.isDirective(a, s, text, false); d {
		return 0
	}
	if rt.isThreat(a, s, text) || rt.re.reassures.match(bits, text) || rt.notReflection != nil && rt.notReflection.match(bits, text) {
		return 0
	}
	return score
}

// weigh sums the weights of the features a sentence has.
func (rt *RuleTagger) weigh(f *[rfCount]bool) int {
	score := 0
	for i, v := range f {
		if v {
			score += rt.weights[i]
		}
	}
	return score
}

// reflectionFeatures finds the features of a sentence that its words give,
// or reports that it cannot be a reflection at all: a question or a
// greeting. The features that need patterns are left to reflectionScore.
func (rt *RuleTagger) reflectionFeatures(a *analysis, s *sentence, sc *segContext, info segInfo) (f [rfCount]bool, ok bool) {
	ctx := sc.prev
	switch s.form {
	case formStatement, formDeclQ, formTagQ:
	default:
		return f, false
	}
	c := s.core
	n := s.t1 - c
	if n <= 0 {
		return f, false
	}
	for i := c; i < s.t1 && i < c+3; i++ {
		if a.toks[i].flags&wGreet != 0 {
			return f, false
		}
	}
	// A second-person subject at the start: "So you've been...",
	// "Sometimes you forget...", "Your mum's a big help". "You know" is a
	// filler, not a subject.
	y := int32(-1)
	switch {
	case a.toks[c].flags&wYou != 0 && !(a.is(c, "you") && a.is(c+1, "know")):
		y = c
	case a.toks[c].flags&(wSelf|wSubj|wYou) == 0 && c+1 < s.t1 && a.toks[c+1].flags&wYou != 0 && !a.is(c+1, "your") && !(a.is(c+1, "you") && a.is(c+2, "know")):
		y = c + 1
	}
	f[rfYouSubj] = y >= 0
	f[rfYouAny] = y < 0 && a.hasFlag(s, wYou)
	f[rfFuture] = y >= 0 && (a.is(y, "you'll") || a.is(y, "you") && (a.is(y+1, "will") || a.is(y+1, "can") || a.is(y+1, "could") || a.is(y+1, "might") || a.is(y+1, "may")))
	f[rfSelf] = a.toks[c].flags&wSelf != 0
	f[rfIf] = a.is(c, "if")
	f[rfSo] = s.so
	f[rfRising] = s.form == formDeclQ || s.form == formTagQ
	f[rfThird] = a.toks[c].flags&wSubj != 0 && a.toks[c].flags&(wYou|wSelf) == 0
	f[rfLong] = n > 30
	content, overlap := 0, 0
	for i := c; i < s.t1; i++ {
		t := a.toks[i]
		if t.flags&wFeel != 0 {
			f[rfFeel] = true
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
	f[rfAnswer] = sc.prevAsked
	f[rfManySent] = info.s1-info.s0 >= 4
	f[rfFirst] = true
	for k := info.s0; k < info.s1; k++ {
		if p := &a.sents[k]; p.form != formBackchannel {
			f[rfFirst] = p == s
			break
		}
	}
	for i := c; i < s.t1; i++ {
		if t := a.toks[i]; a.low[t.start] >= '0' && a.low[t.start] <= '9' {
			f[rfNumber] = true
			break
		}
	}
	if a.toks[c].flags&(wYou|wSelf) == 0 {
		for i := c + 1; i < s.t1 && i <= c+3; i++ {
			if a.is(i, "said") || a.is(i, "says") || a.is(i, "told") || a.is(i, "tells") || a.is(i, "mentioned") || a.is(i, "reported") || a.is(i, "asked") || a.is(i, "recommend") || a.is(i, "recommends") {
				f[rfReported] = true
				break
			}
		}
	}
	for i := c; i < s.t1; i++ {
		w := a.key(a.toks[i])
		if string(w) == "will" || string(w) == "won't" || len(w) > 3 && string(w[len(w)-3:]) == "'ll" {
			f[rfWill] = true
			break
		}
	}
	for i := c + 1; i < s.t1 && !f[rfPlan]; i++ {
		f[rfPlan] = a.workerStep(i)
	}
	if sc.prevAsked {
		// Words shared with the parent's question are those of an answer.
		overlap = 0
	}
	f[rfOverlap1] = overlap == 1
	f[rfOverlap2] = overlap >= 2
	// An echo of the parent's words: "Security.", "Your mum, then."
	switch {
	case n <= 4 && overlap >= 1 && overlap == content:
		f[rfEchoFull] = true
	case n <= 6 && overlap >= 1 && overlap >= content-1:
		f[rfEchoPart] = true
	}
	return f, true
}

// workerStep reports whether token i starts the worker's own next step:
// "I'll", "we'll", "I will", "we can" (not "I can see", "I can hear"), and
// "ill" after "and" and before a verb, as a speech engine writes "I'll".
func (a *analysis) workerStep(i int32) bool {
	switch {
	case a.is(i, "i'll") || a.is(i, "we'll"):
		return true
	case a.is(i, "ill"):
		// "and ill ring you", not "and then ill yourself".
		return a.is(i-1, "and") && a.flags(i+1)&wStop == 0 && !a.is(i+1, "yourself") && !a.is(i+1, "myself") && !a.is(i+1, "again")
	case a.is(i, "i") || a.is(i, "we"):
		return a.is(i+1, "will") || a.is(i+1, "can") && !a.is(i+2, "see") && !a.is(i+2, "hear") && !a.is(i+2, "tell")
	}
	return false
}
