package annotate

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the text analysis the rule tagger and the session metrics
// share: a small lexicon of word classes, a tokeniser that keeps byte offsets,
// a sentence splitter and a classifier of sentence form (statement, open or
// closed question, backchannel). Everything works on byte offsets into the
// segment text, so evidence spans can be cut from the original text.

// Word classes, as bit flags on a token.
const (
	wFiller uint32 = 1 << iota // discourse markers and backchannels: okay, so, mm, yeah
	wWh                        // what, how, why, ...
	wAux                       // auxiliaries that start a yes/no question
	wSubj                      // words that can follow an inverted auxiliary
	wYou                       // second person
	wSelf                      // first person: I, we, let's
	wGreet                     // greetings and thanks
	wStop                      // function words, never content
	wFeel                      // feelings and evaluations, typical of complex reflections
	wImper                     // verbs that give an instruction at the start of a sentence
	wModal                     // can, could, would, will (for "can you tell me")
	wElicit                    // tell, describe, explain, say, talk, walk, help
	wTagQ                      // words that end a tag question: isn't, right, don't
)

// lexicon maps a lower-case word to its classes. It is built once per
// tagger and never changed afterwards.
type lexicon map[string]uint32

func newLexicon() lexicon {
	lx := make(lexicon, 512)
	add := func(flags uint32, words string) {
		for _, w := range strings.Fields(words) {
			lx[w] |= flags
		}
	}
	add(wFiller|wStop, `um umm uh uhh er erm mm mmm mmh hmm hm mhm mhmm huh ah oh ooh okay ok alright
		yeah yes yep yup ya sure great good cool wow fine gotcha absolutely exactly anyway
		so and but well now right then no nope also plus`)
	add(wWh|wStop, `what what's whats how how's why when when's where where's who who's whom whose
		which what're how're what'd how'd why'd where'd whatever`)
	add(wAux|wStop, `do does did is are was were am can could will would should shall may might must
		have has had don't doesn't didn't isn't aren't wasn't weren't can't couldn't won't
		wouldn't shouldn't haven't hasn't hadn't d'you is't`)
	add(wModal, `can could would will`)
	add(wSubj|wStop, `i you he she it we they there that this these those your his her their our my
		the a an anyone anybody anything someone somebody something everyone everything
		any people things he's she's it's that's there's they're`)
	add(wYou|wStop, `you you're youre you've you'd you'll your yours yourself yourselves y'all`)
	add(wSelf|wStop, `i i'm im i'll i've i'd we we're we'll we've we'd let let's lets me my our us myself`)
	add(wGreet|wStop, `hi hello hey thanks thank bye goodbye welcome cheers morning afternoon evening`)
	add(wStop, `a an the of in on at for with about from by as to into onto over under than
		if or nor not just like really very quite pretty bit lot lots little kind sort
		it its it's itself this that that's these those there there's here he him his she her
		they them their theirs they're they've they'd he's she's
		be been being am get got gets getting gonna wanna gotta go goes going went come
		some any all more most much many also too even still again ever never always
		maybe perhaps probably actually basically literally though although because cause
		'cause cos one two thing things stuff way something anything nothing everything
		know think mean guess say said says see means
		let put would could should will can may might must
		do does did done have has had having other another same such own only each both
		before after then than while up down out off back away through around`)
	add(wFeel, `hard tough difficult frustrating frustrated frustration worried worrying worry worries
		scared scary frightened frightening afraid upset upsetting angry cross annoyed
		exhausted exhausting tired knackered shattered overwhelmed overwhelming stressed
		stressful stress lonely alone isolated proud important relieved relief hurt
		hurting sad guilty stuck unfair embarrassed ashamed confused anxious nervous torn
		desperate hopeless happy pleased excited struggling struggle matters care cares
		love loves concerned concern fed hate hates afraid unsure uncertain ready
		determined helpless powerless judged blamed listened heard comfortable feel feels
		feeling feelings felt regret regretful discouraged disappointed lost trapped`)
	add(wImper, `stop take get make keep go call ring phone put stay start try cut avoid
		remember attend bring turn clean sort tidy leave quit give pick come don't
		sit`)
	add(wElicit, `tell describe explain say talk walk help share elaborate expand`)
	add(wTagQ, `isn't aren't don't doesn't didn't wasn't weren't won't can't haven't hasn't
		right yeah okay ok correct innit eh`)
	return lx
}

// token is one word of a segment. Start and end are byte offsets into the
// tagger's lower-case copy of the transcript; stem is the end of the word's
// stem for content words and 0 for function words.
type token struct {
	start, end int32
	stem       int32
	flags      uint32
}

// sentence forms.
type form uint8

const (
	formStatement   form = iota
	formBackchannel      // only fillers: "Mm-hmm.", "Okay."
	formOpen             // an open question or an invitation to tell
	formClosedWh         // a wh-question after a fact: how many, when
	formYesNo            // an inverted auxiliary: "Did you...?"
	formDeclQ            // a statement said as a question: "So you're worn out?"
	formTagQ             // a statement with a tag: "It's hard, isn't it?"
	formWhyNot           // "Why don't you...?", advice as a question
)

// sentence is one sentence of a segment, with byte offsets into the
// segment's text and token indexes into the analysis's token slice.
type sentence struct {
	start, end int   // evidence span in the segment text
	t0, t1     int32 // tokens [t0, t1)
	core       int32 // first token after leading discourse markers
	q          bool  // ends with a question mark
	cut        bool  // ends without punctuation, as interrupted speech does
	so         bool  // led by "so" or "and so"
	form       form
	memo       uint8 // results of the built-in rules, worked out once
	idx        int32 // the sentence's index in analysis.sents
}

// Bits of sentence.memo: whether the threat and directive rules have run,
// their results, and the kind of directive in the top bits.
const (
	memoThreatDone uint8 = 1 << iota
	memoThreat
	memoDirDone
	memoDirShift = 4
)

// isQuestion reports whether the sentence asks a question, open or closed,
// and is not a statement said with a rising tone.
func (s *sentence) isQuestion() bool {
	switch s.form {
	case formOpen, formClosedWh, formYesNo, formWhyNot:
		return true
	}
	return false
}

// lowerASCII writes s into dst lower-cased, byte for byte, so that offsets
// into dst are offsets into s.
func lowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// isWordByte reports whether ASCII byte c belongs inside a word.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '\''
}

// abbreviations after which a full stop does not end a sentence.
func isAbbrev(w []byte) bool {
	switch string(w) {
	case "mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e":
		return true
	}
	return false
}

// analysis is the scratch state of one Tag call: the lower-case text of the
// transcript, its tokens and sentences, reused from segment to segment.
type analysis struct {
	lx      lexicon
	low     []byte // lower-case copy of all segment texts, concatenated
	toks    []token
	sents   []sentence
	scratch []byte   // a normalised word, for words with curly apostrophes
	bits    []uint64 // the prefilter's result for the current segment
	sbits   []uint64 // the prefilter's result for each sentence, words apart
	words   int      // length of one prefilter result
}

// sentBits returns the prefilter's result for text: the sentence's own,
// or the segment's when text runs past the sentence.
func (a *analysis) sentBits(s *sentence, text string) []uint64 {
	if len(text) == s.end-s.start && a.words > 0 && int(s.idx+1)*a.words <= len(a.sbits) {
		return a.sbits[int(s.idx)*a.words : int(s.idx+1)*a.words]
	}
	return a.bits
}

// segInfo is where one segment's analysis lives in the analysis slices.
type segInfo struct {
	base        int   // offset of the segment's text in low
	s0, s1      int32 // sentences [s0, s1)
	t0, t1      int32 // tokens [t0, t1)
	content     int32 // number of content tokens
	unpunct     bool  // the segment has no sentence punctuation at all
	backchannel bool  // every sentence is a backchannel
	asks        bool  // a sentence of the segment asks a question
}

// key returns the lexicon key of token t: its lower-case bytes, with curly
// apostrophes made straight.
func (a *analysis) key(t token) []byte {
	w := a.low[t.start:t.end]
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			a.scratch = a.scratch[:0]
			for _, r := range string(w) {
				if r == '’' || r == '‘' {
					r = '\''
				}
				a.scratch = utf8.AppendRune(a.scratch, r)
			}
			return a.scratch
		}
	}
	return w
}

// flags returns the word classes of token i, or 0 outside the tokens.
func (a *analysis) flags(i int32) uint32 {
	if i < 0 || int(i) >= len(a.toks) {
		return 0
	}
	return a.toks[i].flags
}

// hasFlag reports whether any word of the sentence after its leading
// markers has one of the classes in f, leaving out the filler "you know".
func (a *analysis) hasFlag(s *sentence, f uint32) bool {
	for i := s.core; i < s.t1; i++ {
		if a.toks[i].flags&f != 0 && !(a.is(i, "you") && a.is(i+1, "know")) {
			return true
		}
	}
	return false
}

// is reports whether token i is the word w.
func (a *analysis) is(i int32, w string) bool {
	if i < 0 || int(i) >= len(a.toks) {
		return false
	}
	return string(a.key(a.toks[i])) == w
}

// addSegment analyses one segment's text and returns where it lives.
func (a *analysis) addSegment(text string) segInfo {
	base := len(a.low)
	a.low = lowerASCII(a.low, text)
	info := segInfo{base: base, s0: int32(len(a.sents)), t0: int32(len(a.toks)), unpunct: true}
	for i := 0; i < len(text); i++ {
		if c := text[i]; c == '.' || c == '?' || c == '!' {
			info.unpunct = false
			break
		}
	}
	low := a.low[base:]
	i := 0
	for i < len(text) {
		// Skip space and leading punctuation to the start of a sentence.
		for i < len(text) && !startsSentence(text, i) {
			i++
		}
		if i >= len(text) {
			break
		}
		start := i
		end, next := sentenceEnd(text, low, i)
		a.addSentence(text, base, start, end)
		i = next
	}
	if info.unpunct && len(a.sents) == int(info.s0)+1 {
		a.splitAsked(text, base, info.s0)
	}
	info.s1 = int32(len(a.sents))
	info.t1 = int32(len(a.toks))
	info.backchannel = true
	for j := info.s0; j < info.s1; j++ {
		if a.sents[j].form != formBackchannel {
			info.backchannel = false
		}
	}
	for j := info.t0; j < info.t1; j++ {
		if a.toks[j].stem > 0 {
			info.content++
		}
	}
	if info.unpunct {
		// Without punctuation a question can only be told by its form.
		for j := info.s0; j < info.s1; j++ {
			a.sents[j].form = a.classify(&a.sents[j], true)
		}
	}
	for j := info.s0; j < info.s1; j++ {
		if a.sents[j].q || a.sents[j].isQuestion() {
			info.asks = true
		}
	}
	return info
}

// startsSentence reports whether a sentence may start at text[i]: a letter,
// digit or opening quote, not space, dashes or stray punctuation.
func startsSentence(text string, i int) bool {
	c := text[i]
	if c < utf8.RuneSelf {
		return isWordByte(c) && c != '\'' || c == '"' || c == '['
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '“'
}

// sentenceEnd finds the end of the sentence starting at start: the end of
// its evidence span (after its final punctuation, without trailing space or
// dashes) and where the next sentence may begin.
func sentenceEnd(text string, low []byte, start int) (end, next int) {
	i := start
	for i < len(text) {
		c := text[i]
		if c == '.' || c == '?' || c == '!' {
			j := i
			for j < len(text) && (text[j] == '.' || text[j] == '?' || text[j] == '!') {
				j++
			}
			// Closing quotes and brackets belong to the sentence.
			for j < len(text) {
				if text[j] == '"' || text[j] == '\'' || text[j] == ')' || text[j] == ']' {
					j++
					continue
				}
				if strings.HasPrefix(text[j:], "”") || strings.HasPrefix(text[j:], "’") {
					j += len("”")
					continue
				}
				break
			}
			if j == len(text) || spaceAt(text, j) {
				if c == '.' && j == i+1 {
					// "Mr. Smith", "e.g. this": not an end.
					w := i
					for w > start && (isWordByte(low[w-1]) || low[w-1] == '.') {
						w--
					}
					if isAbbrev(low[w:i]) && j < len(text) {
						i = j
						continue
					}
				}
				return j, j
			}
			i = j
			continue
		}
		i++
	}
	// No final punctuation: trim trailing space and dashes.
	end = len(text)
	for end > start {
		r, size := utf8.DecodeLastRuneInString(text[start:end])
		if unicode.IsSpace(r) || r == '-' || r == '—' || r == '–' || r == ',' {
			end -= size
			continue
		}
		break
	}
	return end, len(text)
}

// spaceAt reports whether text has white space at byte i.
func spaceAt(text string, i int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsSpace(r)
}

// addSentence tokenises text[start:end] and classifies it.
func (a *analysis) addSentence(text string, base, start, end int) {
	s := sentence{start: start, end: end, t0: int32(len(a.toks))}
	i := start
	for i < end {
		c := text[i]
		if c == '[' {
			// "[inaudible 00:06:01]", "[laughs]": transcriber's notes, not speech.
			if j := strings.IndexByte(text[i:end], ']'); j > 0 {
				i += j + 1
				continue
			}
		}
		if c < utf8.RuneSelf {
			if !isWordByte(c) {
				i++
				continue
			}
		} else {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				i += size
				continue
			}
		}
		j := i
		for j < end {
			c := text[j]
			if c < utf8.RuneSelf {
				if !isWordByte(c) {
					break
				}
				j++
				continue
			}
			r, size := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '’' {
				break
			}
			j += size
		}
		ws, we := i, j
		// Trim apostrophes at the edges: 'cause, kids'.
		for ws < we && text[ws] == '\'' {
			ws++
		}
		for we > ws && text[we-1] == '\'' {
			we--
		}
		if strings.HasSuffix(text[ws:we], "’") {
			we -= len("’")
		}
		if we > ws {
			t := token{start: int32(base + ws), end: int32(base + we)}
			k := a.key(t)
			t.flags = a.lx[string(k)]
			if t.flags&wStop == 0 {
				t.stem = int32(base+ws) + int32(stemLen(k))
				if len(k) < 3 || isDigits(k) {
					t.stem = 0
				}
			}
			a.toks = append(a.toks, t)
		}
		i = j
	}
	s.t1 = int32(len(a.toks))
	last := end - 1
	for last > start && (text[last] == '"' || text[last] == '\'' || text[last] == ')' || text[last] == ']' || text[last] >= utf8.RuneSelf) {
		last--
	}
	s.q = last >= start && text[last] == '?'
	s.cut = last >= start && text[last] != '?' && text[last] != '.' && text[last] != '!'
	// Leading discourse markers: "Okay, so", "Mm-hmm. And", "All right".
	s.core = s.t0
	for s.core < s.t1 {
		f := a.toks[s.core].flags
		if f&wFiller != 0 {
			if a.is(s.core, "so") {
				s.so = true
			}
			s.core++
			continue
		}
		if a.is(s.core, "all") && a.is(s.core+1, "right") {
			s.core += 2
			continue
		}
		if a.stutter(s.core, s.t1) {
			s.core++
			continue
		}
		break
	}
	s.form = a.classify(&s, false)
	s.idx = int32(len(a.sents))
	a.sents = append(a.sents, s)
}

// stutter reports whether token i is a false start of token i+1 joined to
// it by a hyphen, as transcripts write "whe-when" or "you-you're".
func (a *analysis) stutter(i, end int32) bool {
	if i+1 >= end {
		return false
	}
	t, u := a.toks[i], a.toks[i+1]
	if t.end >= u.start || a.low[t.end] != '-' {
		return false
	}
	w, v := a.low[t.start:t.end], a.low[u.start:u.end]
	return len(w) <= len(v) && string(v[:len(w)]) == string(w)
}

// stemLen returns the length of w's stem: w without one common suffix, so
// that "worried", "worry" and "worries" share the stem "worr".
func stemLen(w []byte) int {
	n := len(w)
	if n > 2 && w[n-2] == '\'' && w[n-1] == 's' {
		n -= 2
	}
	for _, suf := range [...]string{"ies", "ied", "ing", "ed", "es", "er", "ly", "s", "y", "e"} {
		if n-len(suf) >= 3 && string(w[n-len(suf):n]) == suf {
			return n - len(suf)
		}
	}
	return n
}

func isDigits(w []byte) bool {
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// classify tells the form of a sentence. unpunct is set for segments with no
// punctuation at all (some speech recognisers give none), where a question
// can only be told by its first words.
func (a *analysis) classify(s *sentence, unpunct bool) form {
	f := a.form(s, unpunct)
	switch {
	case f == formOpen && a.scaleQuestion(s):
		// "On a scale of one to ten, how ready are you?" asks for a
		// number: a single fact, which the codebook (after MITI) counts as
		// closed.
		return formClosedWh
	case f == formOpen && a.proposal(s):
		// "What would you think about trying a diary?", "How about if we
		// meet on Friday?": a suggestion to accept or turn down, which is
		// collaborative planning rather than an open question.
		return formYesNo
	case f == formYesNo && s.q && a.asksThoughtsOn(s):
		// "Have you thought about how you might do that?", "Do you have a
		// sense of what worried the doctor?": an invitation to think
		// aloud, as "Could you tell me what happened?" is.
		return formOpen
	case (f == formYesNo || f == formDeclQ || f == formStatement && unpunct) && (s.q || unpunct) && a.asksWhat(s):
		// "Can I ask what you make of that?", "Could you ask her what
		// she'd like to talk about?": leave to ask, or a request to ask,
		// for the parent's own account.
		return formOpen
	case (f == formYesNo || f == formDeclQ) && (s.q || unpunct) && a.invitesMore(s):
		// "Is there anything else you'd like to talk about?", "Do you
		// have any questions for me?": a yes/no in form, an invitation to
		// say more in use, as "Anything else?" is.
		return formOpen
	}
	return f
}

// scaleQuestion reports whether the sentence asks for a number on a
// scale: it mentions a scale, asks what number, or gives the range ("from
// one to ten").
func (a *analysis) scaleQuestion(s *sentence) bool {
	for i := s.t0; i < s.t1; i++ {
		switch {
		case a.is(i, "scale"):
			return true
		case a.is(i, "number") && (a.is(i-1, "what") || a.is(i-1, "which")):
			return true
		case a.is(i, "to") && i > s.t0 && (a.is(i+1, "ten") || a.is(i+1, "10") || a.is(i+1, "100") || a.is(i+1, "five") || a.is(i+1, "5")) &&
			(a.is(i-1, "zero") || a.is(i-1, "nought") || a.is(i-1, "one") || a.is(i-1, "0") || a.is(i-1, "1")):
			return true
		}
	}
	return false
}

// proposal reports whether an open-looking question puts a suggestion to
// the parent: "what do you think about trying...", "what would you say to
// us meeting...", "how about if I...".
func (a *analysis) proposal(s *sentence) bool {
	for i := s.core; i < s.t1; i++ {
		switch {
		case a.is(i, "what") && (a.is(i+1, "do") || a.is(i+1, "would")) && a.is(i+2, "you") && (a.is(i+3, "think") || a.is(i+3, "say")) &&
			(a.is(i+4, "about") || a.is(i+4, "of") || a.is(i+4, "to")):
			n := i + 5
			if a.is(n, "maybe") || a.is(n, "perhaps") {
				n++
			}
			w := a.key(a.toks[min(n, s.t1-1)])
			gerund := n < s.t1 && len(w) > 4 && strings.HasSuffix(string(w), "ing") && !strings.HasSuffix(string(w), "thing") && a.toks[n].flags&wStop == 0
			if gerund || a.is(n, "us") || a.is(n, "the") && a.is(n+1, "idea") || a.is(n, "a") && a.is(n+1, "plan") {
				return true
			}
		case a.is(i, "how") && a.is(i+1, "about") && (a.is(i+2, "if") || a.is(i+2, "we") || a.is(i+2, "i")):
			return true
		}
	}
	return false
}

// asksThoughtsOn reports whether a yes/no question asks for the parent's
// thoughts on a wh-clause: "thought about how", "any idea why", "a sense
// of what", "think of what".
func (a *analysis) asksThoughtsOn(s *sentence) bool {
	for i := s.core; i < s.t1; i++ {
		if !(a.is(i, "thought") || a.is(i, "thoughts") || a.is(i, "think") || a.is(i, "idea") || a.is(i, "ideas") || a.is(i, "sense")) {
			continue
		}
		for j := i + 1; j < s.t1 && j <= i+3; j++ {
			if (a.is(j, "about") || a.is(j, "of") || a.is(j, "on")) && (a.is(j+1, "what") || a.is(j+1, "how") || a.is(j+1, "why") || a.is(j+1, "which")) {
				return true
			}
		}
	}
	return false
}

// asksWhat reports whether the sentence asks leave to ask, or asks someone
// to ask, a wh-question that is not after a single fact: "ask" and, within
// two words, what, how or why.
func (a *analysis) asksWhat(s *sentence) bool {
	for i := s.core; i < s.t1; i++ {
		if !a.is(i, "ask") {
			continue
		}
		// Leave for the worker to ask ("can I ask", "mind if I ask", "is
		// it alright to ask"), or a request to someone to ask ("could you
		// ask her"): not "did they ask you why", "I'll ask her teacher how".
		asker := (a.is(i-1, "i") || a.is(i-1, "we")) && (a.flags(i-2)&wModal != 0 || a.is(i-2, "may") || a.is(i-2, "might") || a.is(i-2, "if")) ||
			a.is(i-1, "to") && (a.is(i-2, "alright") || a.is(i-2, "okay") || a.is(i-2, "ok") || a.is(i-2, "all")) ||
			a.is(i-1, "you") && a.flags(i-2)&wModal != 0
		if !asker {
			continue
		}
		for j := i + 1; j < s.t1 && j <= i+3; j++ {
			if (a.is(j, "what") || a.is(j, "how") || a.is(j, "why")) && !a.factWh(j) {
				return true
			}
		}
	}
	return false
}

// invitesMore reports whether the sentence asks for anything more: "anything
// else", "any other", "any questions", "anything more", "any more".
func (a *analysis) invitesMore(s *sentence) bool {
	for i := s.core; i < s.t1; i++ {
		switch {
		case a.is(i, "anything") && (a.is(i+1, "else") || a.is(i+1, "more")):
			return true
		case a.is(i, "anything") && (i == s.core || a.is(i-1, "there") || a.is(i-1, "got")) && a.wantsToSay(i+1):
			// "Is there anything you'd like to add?", "anything she wants
			// on the list": whatever they want to say — not "does he get
			// anything he wants".
			return true
		case a.is(i, "any") && (a.is(i+1, "other") || a.is(i+1, "questions") || a.is(i+1, "more") || a.is(i+1, "thoughts") || a.is(i+1, "ideas")):
			return true
		}
	}
	return false
}

// wantsToSay reports whether the words from i are someone wanting or
// liking to have something said or done: "you'd like", "she wants",
// "you really want", "you need to say".
func (a *analysis) wantsToSay(i int32) bool {
	if a.is(i, "you'd") || a.is(i, "youd") || a.is(i, "she'd") || a.is(i, "he'd") || a.is(i, "they'd") {
		return a.is(i+1, "like") || a.is(i+1, "want") || a.is(i+1, "love")
	}
	if a.flags(i)&(wYou|wSubj) == 0 || a.is(i, "it") || a.is(i, "that") {
		return false
	}
	n := i + 1
	if a.is(n, "really") || a.is(n, "else") {
		n++
	}
	return a.is(n, "want") || a.is(n, "wants") || a.is(n, "wanted") || a.is(n, "like") ||
		a.is(n, "need") && a.is(n+1, "to") && (a.is(n+2, "say") || a.is(n+2, "ask") || a.is(n+2, "tell"))
}

// form tells the form of a sentence from its words; classify refines it.
func (a *analysis) form(s *sentence, unpunct bool) form {
	if s.core >= s.t1 {
		return formBackchannel
	}
	asked := s.q || unpunct || s.cut
	f := a.clauseForm(s, s.core, asked, unpunct)
	if f == formOpen || f == formWhyNot {
		return f
	}
	// A question often follows a lead-in: "Sarah, what do you think?",
	// "On a scale of nought to ten, how ready are you?", "Before you go,
	// do you mind...?". A short inverted clause at the end is a tag:
	// "It's hard, isn't it?".
	later := formStatement
	for i := s.core + 1; i < s.t1; i++ {
		if !a.clauseBreak(i) {
			continue
		}
		j := i
		for j < s.t1 && (a.toks[j].flags&wFiller != 0 || a.stutter(j, s.t1)) {
			j++
		}
		if j >= s.t1 {
			continue
		}
		switch g := a.clauseForm(s, j, asked, unpunct); g {
		case formOpen:
			return formOpen
		case formYesNo:
			if s.t1-j <= 3 && a.flags(j+1)&(wSubj|wYou) != 0 {
				if later == formStatement {
					later = formTagQ
				}
			} else {
				later = formYesNo
			}
		}
	}
	if f != formStatement {
		return f
	}
	if later != formStatement {
		return later
	}
	if s.q {
		// A tag question: "It's hard, isn't it?", "..., right?".
		if s.t1-s.core >= 3 {
			l := s.t1 - 1
			if a.flags(l)&wTagQ != 0 && !a.is(l, "don't") || a.flags(l-1)&wTagQ != 0 && a.flags(l)&(wSubj|wYou) != 0 {
				return formTagQ
			}
		}
		return formDeclQ
	}
	return formStatement
}

// whIsAsks reports whether the wh-word at c carries its own "is" or "has"
// ("what's", "how's", written "whats" and "hows" by speech engines) and
// asks with it: "whats it been like", "hows he been", "whats on your
// mind" — not "whats happened is he left", where an "is" follows.
func (a *analysis) whIsAsks(c, end int32) bool {
	if !a.whIs(c) {
		return false
	}
	for k := c + 2; k < end; k++ {
		if a.is(k, "is") || a.is(k, "was") {
			return false
		}
	}
	return c+1 < end
}

// whIs reports whether token i is a wh-word with its own "is" or "has"
// that can ask ("what's", "whats", "how's", "hows"), and not "whats her
// name", a name not recalled.
func (a *analysis) whIs(i int32) bool {
	return (a.is(i, "what's") || a.is(i, "whats") || a.is(i, "how's") || a.is(i, "hows")) &&
		!(a.is(i+2, "name") && (a.is(i+1, "her") || a.is(i+1, "his")))
}

// askedMidway reports whether a question starts at token i of a
// sentence a speech engine wrote without punctuation, where nothing marks
// where the lead-in ends ("thanks for having me what do you want to get out
// of today"): a wh-word, then an inverted auxiliary and its subject.
func (a *analysis) askedMidway(i int32) bool {
	// Not a relative clause ("her nan who is a big support", "which is a
	// worry"), a question reported ("and said what are you going to do"),
	// a clause after "that's", "know" or "is" ("thats whats been worrying
	// the school", "i dont know whats got into him"), nor "what do you
	// call it".
	if a.is(i, "who") || a.is(i, "which") || a.is(i, "whose") || a.is(i, "whom") || a.is(i, "whatever") ||
		a.is(i-1, "said") || a.is(i-1, "says") || a.is(i-1, "asked") || a.is(i-1, "asks") || a.is(i-1, "goes") ||
		a.is(i-1, "that's") || a.is(i-1, "thats") || a.is(i-1, "know") || a.is(i-1, "is") || a.is(i-1, "what") || a.is(i-1, "to") ||
		a.is(i, "what") && a.is(i+1, "do") && a.is(i+2, "you") && a.is(i+3, "call") {
		return false
	}
	if a.flags(i)&wWh != 0 && a.flags(i+1)&wAux != 0 && a.flags(i+2)&(wYou|wSelf|wSubj) != 0 {
		return true
	}
	// "so tia whats on your mind for today", "hows he been since"
	return a.whIs(i) && (a.flags(i+1)&(wYou|wSubj) != 0 || a.is(i+1, "on") || a.is(i+1, "been") || a.is(i+1, "helped") || a.is(i+1, "got"))
}

// splitAsked cuts sentence k, the only one of a segment without
// punctuation, before each question that starts midway (askedMidway), so
// that the lead-in is read as the statement it is and the question as a
// question.
func (a *analysis) splitAsked(text string, base int, k int32) {
	s := a.sents[k]
	var cuts []int // byte offsets in text
	for i := s.core + 1; i < s.t1; i++ {
		if a.askedMidway(i) {
			cuts = append(cuts, int(a.toks[i].start)-base)
		}
	}
	if len(cuts) == 0 {
		return
	}
	a.sents, a.toks = a.sents[:k], a.toks[:s.t0]
	start := s.start
	for _, c := range append(cuts, s.end) {
		end := c
		for end > start {
			if b := text[end-1]; b == ' ' || b == ',' || b == '-' || b == '\n' || b == '\t' {
				end--
			} else if strings.HasSuffix(text[start:end], "–") || strings.HasSuffix(text[start:end], "—") {
				end -= len("–") // both dashes are three bytes
			} else {
				break
			}
		}
		a.addSentence(text, base, start, end)
		start = c
	}
}

// clauseBreak reports whether token i starts a new clause: a comma, dash,
// colon or semicolon stands between it and the token before.
func (a *analysis) clauseBreak(i int32) bool {
	if i <= 0 {
		return false
	}
	for _, c := range a.low[a.toks[i-1].end:a.toks[i].start] {
		switch c {
		case ',', ';', ':', '-', 0xE2: // 0xE2 starts the dashes and ellipsis
			return true
		}
	}
	return false
}

// clauseForm tells whether the clause starting at token c asks a question
// and of what kind; formStatement means it does not. asked is set when the
// sentence ends as a question (a question mark, no punctuation at all, or
// cut off); unpunct when the segment has no punctuation.
func (a *analysis) clauseForm(s *sentence, c int32, asked, unpunct bool) form {
	w0 := a.toks[c].flags
	// "I'm wondering what...", "I'm curious about...": an open question.
	if a.is(c, "i'm") || a.is(c, "i") {
		n := c + 1
		for a.is(n, "am") || a.is(n, "just") || a.is(n, "also") || a.is(n, "kind") || a.is(n, "of") {
			n++
		}
		if a.is(n, "wondering") || a.is(n, "wonder") || a.is(n, "curious") {
			if a.flags(n+1)&wWh != 0 || a.is(n+1, "about") {
				return formOpen
			}
			if a.is(n+1, "if") || a.is(n+1, "whether") || a.flags(n+1)&wAux != 0 {
				return formYesNo
			}
		}
	}
	// "I'd love to hear how bath time goes", "I'd really like to know what
	// she wants": an invitation put as a statement.
	if a.is(c, "i'd") || a.is(c, "id") || a.is(c, "i") && a.is(c+1, "would") {
		n := c + 1
		if a.is(n, "would") {
			n++
		}
		for a.is(n, "really") || a.is(n, "just") || a.is(n, "also") {
			n++
		}
		if (a.is(n, "like") || a.is(n, "love")) && a.is(n+1, "to") && (a.is(n+2, "hear") || a.is(n+2, "know")) {
			n += 3
			if a.is(n, "from") {
				// "from him", "from the school", "from your mum"
				n++
				for k := 0; k < 2 && n+1 < s.t1 && !(a.is(n, "what") || a.is(n, "how") || a.is(n, "why") || a.is(n, "about")); k++ {
					n++
				}
			}
			if (a.is(n, "what") || a.is(n, "how") || a.is(n, "why") || a.is(n, "about")) && !a.factWh(n) {
				return formOpen
			}
		}
	}
	// "Tell me if…", "Tell me whether…": yes or no is all it asks for, and
	// without a question mark it is no question at all ("tell me if you
	// need anything").
	if a.is(c, "tell") && (a.is(c+1, "me") || a.is(c+1, "us")) && (a.is(c+2, "if") || a.is(c+2, "whether")) {
		if asked && s.q {
			return formYesNo
		}
		return formStatement
	}
	// "Tell me about...", "Describe...", "Help me understand...".
	if w0&wElicit != 0 && (a.is(c+1, "me") || a.is(c+1, "us") || a.is(c, "describe") || a.is(c, "explain")) {
		if a.is(c, "tell") || a.is(c, "describe") || a.is(c, "explain") || a.is(c, "talk") || a.is(c, "walk") || a.is(c, "help") {
			return formOpen
		}
	}
	if a.is(c, "say") && (a.is(c+1, "more") || a.is(c+2, "more") || a.is(c+3, "more")) {
		return formOpen
	}
	// "In what ways...?", "To what extent...?": a wh-question led by its
	// preposition.
	if a.is(c, "in") || a.is(c, "to") || a.is(c, "for") || a.is(c, "from") || a.is(c, "with") || a.is(c, "at") || a.is(c, "by") {
		if a.flags(c+1)&wWh != 0 && (a.is(c+1, "what") || a.is(c+1, "which") || a.is(c+1, "whom")) && s.q {
			if a.factWh(c + 1) {
				return formClosedWh
			}
			return formOpen
		}
	}
	if w0&wWh != 0 {
		// "What I'm hearing is...", "what you're saying": a statement.
		if a.is(c, "what") && (a.flags(c+1)&(wSelf|wYou) != 0) && (a.is(c+2, "hearing") || a.is(c+2, "hear") || a.is(c+2, "saying") || a.is(c+2, "said") || a.is(c+2, "mean") || a.is(c+2, "noticed") || a.is(c+3, "hearing") || a.is(c+3, "saying")) {
			return formStatement
		}
		// Without a question mark, only an inverted order says it is a
		// question: "what do you", "how confident are you", not "what you
		// said".
		inverted := a.flags(c+1)&wAux != 0 || a.is(c, "how") && a.flags(c+1)&(wYou|wSelf|wSubj) == 0 || a.whNounAsks(c, s.t1) || a.whIsAsks(c, s.t1)
		if asked && (s.q || inverted) {
			if a.is(c, "why") && a.is(c+1, "don't") && a.is(c+2, "we") {
				return formYesNo // "Why don't we meet next week?": a suggestion to agree to
			}
			if a.is(c, "why") && (a.is(c+1, "don't") && a.is(c+2, "you") || a.is(c+1, "not")) {
				for i := c + 2; i < s.t1; i++ {
					if a.is(i, "tell") || a.is(i, "telling") || a.is(i, "talk") || a.is(i, "fill") {
						return formOpen // "Why don't you tell me about...?"
					}
				}
				return formWhyNot
			}
			if a.factWh(c) {
				return formClosedWh
			}
			return formOpen
		}
		if (a.is(c, "what") || a.is(c, "how")) && a.is(c+1, "about") && unpunct {
			return formOpen // "What about school", said as a question.
		}
	}
	if w0&wModal != 0 && a.is(c+1, "you") && a.flags(c+2)&wElicit != 0 && asked {
		if a.is(c+3, "me") || a.is(c+3, "us") {
			if a.is(c+4, "if") || a.is(c+4, "whether") {
				return formYesNo // "Can you tell me if he was in school?"
			}
			if a.flags(c+4)&wWh != 0 && a.factWh(c+4) {
				return formClosedWh // "Can you tell me what time he got in?"
			}
		}
		return formOpen // "Could you tell me what happened on Friday?"
	}
	if s.q && (a.is(c, "anything") && a.is(c+1, "else") || a.is(c, "any") && (a.is(c+1, "other") || a.is(c+1, "thoughts") || a.is(c+1, "ideas") || a.is(c+1, "more"))) {
		return formOpen // "Anything else?" invites more talk.
	}
	// An inverted auxiliary asks, with or without a question mark:
	// "Would you mind if...", "Do you think...".
	if w0&wAux != 0 && (s.q || a.flags(c+1)&(wYou|wSelf) != 0 || (unpunct || s.cut) && a.flags(c+1)&wSubj != 0) {
		return formYesNo
	}
	return formStatement
}

// whNounAsks reports whether the wh-word at c asks for a fact with its
// noun and then an inverted auxiliary: "what time does the bus get in",
// "which day is the review", "what age was he" — a question even without
// its question mark ("what happened was he left" is none: its wh-word has
// no noun of a fact; nor is "what school was like for you": after the
// auxiliary comes its subject, a pronoun, a determiner or a noun). t1 ends
// the sentence.
func (a *analysis) whNounAsks(c, t1 int32) bool {
	if !a.is(c, "what") && !a.is(c, "which") || c+3 >= t1 || !factNouns[string(a.key(a.toks[c+1]))] {
		return false
	}
	next := a.flags(c + 3)
	return a.flags(c+2)&wAux != 0 && next&wAux == 0 && (next&(wSubj|wYou|wSelf) != 0 || next&wStop == 0)
}

// factNouns are the nouns with which "what" and "which" ask for one fact
// (factWh, whNounAsks).
var factNouns = map[string]bool{"time": true, "day": true, "age": true, "year": true, "date": true, "number": true,
	"week": true, "month": true, "night": true, "percentage": true, "size": true, "school": true, "bus": true, "train": true, "class": true, "room": true}

// factWh reports whether the wh-question starting at token c asks for a
// single fact (how many, how often, when), which MITI codes as closed.
func (a *analysis) factWh(c int32) bool {
	if a.is(c, "how") {
		n := c + 1
		return a.is(n, "many") || a.is(n, "much") || a.is(n, "often") || a.is(n, "long") || a.is(n, "old") || a.is(n, "far") || a.is(n, "soon")
	}
	if a.is(c, "what") || a.is(c, "which") {
		n := c + 1
		return int(n) < len(a.toks) && factNouns[string(a.key(a.toks[n]))] || a.is(n, "time's") || a.is(n, "day's")
	}
	return a.is(c, "when") || a.is(c, "when's")
}
