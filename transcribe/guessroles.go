package transcribe

import (
	"math"
	"sort"
	"strings"

	"github.com/harkworks/hark"
)

// What a social worker and what a parent tend to say in these meetings,
// as phrases of lower-case words. A worker explains the process, asks and
// reflects, and names services and meetings; a parent speaks of their
// children, their home and their history.
var (
	workerPhrases = []string{
		"child protection", "conference", "core group", "the plan", "a plan", "child in need", "assessment",
		"social care", "children's services", "my manager", "referral", "section 47", "section 17",
		"pre-proceedings", "public law outline", "legal", "the court", "care proceedings", "safeguarding",
		"health visitor", "the school", "your rights", "advocate", "solicitor", "explain", "next steps",
		"what happens next", "your children", "your son", "your daughter", "your kids", "your partner",
		"it sounds like", "sounds like", "what i'm hearing", "i'm hearing", "if i understand", "can you tell me",
		"tell me about", "how do you feel", "how are you", "what would you", "what do you think",
		"is it okay if", "would it be okay", "would you like", "shall we", "we're worried", "we are worried",
		"our concern", "i'm worried about", "we need to", "i need to", "you need to", "we will", "we'll",
		"i'm going to", "i'd like to", "agenda", "let's", "thank you for", "well done", "you've done",
	}
	parentPhrases = []string{
		"my kids", "my children", "my son", "my daughter", "my baby", "my boy", "my girl", "my partner",
		"my boyfriend", "my girlfriend", "my husband", "my wife", "my ex", "my mum", "my mother", "my dad",
		"at home", "my house", "my flat", "i'm trying", "i try", "i've tried", "i can't", "i don't know",
		"i'm not", "i didn't", "i was", "i've been", "i love", "they're my", "you lot", "you people",
		"social services", "take them", "take my", "take the kids", "not fair", "it's not", "i'm doing",
		"i do", "i just", "sorry",
	}
)

// speakerWords is what one speaker said, for guessing their role.
type speakerWords struct {
	name      string
	text      string // lower case, words separated by single spaces, padded
	words     int
	questions int
	turns     int
	seconds   float64 // of talk
}

// workerScore is how much more a speaker sounds like the worker than like
// a parent: phrase hits per hundred words, questions per turn, talk about
// "you" against talk about "I", and their share of the talk against an
// even share (share − 1/speakers): workers lead these meetings, and in the
// practice research they talk most. The share weighs most when the words
// are a poor recogniser's.
func (s *speakerWords) workerScore(share, even float64) float64 {
	count := func(phrases []string) int {
		n := 0
		for _, p := range phrases {
			n += strings.Count(s.text, " "+p+" ")
		}
		return n
	}
	// Rates per hundred words, shrunk towards none for a speaker who said
	// little: three hits in a recogniser's forty words are mostly chance.
	per100 := 100 / float64(s.words+100)
	you := strings.Count(s.text, " you ") + strings.Count(s.text, " your ")
	me := strings.Count(s.text, " i ") + strings.Count(s.text, " my ") + strings.Count(s.text, " me ")
	return float64(count(workerPhrases)-count(parentPhrases))*per100 +
		3*float64(s.questions)/float64(max(s.turns, 1)) +
		float64(you-me)*per100*0.5 +
		10*(share-even)
}

// guessRoles gives roles, from what they say, to the speakers whose role
// no one stated: the one who sounds most like a worker is the worker
// (unless a worker is known already), the others parents. It sets the
// segments' roles and returns each guessed speaker's role with a
// confidence from how clearly the worker stood out.
func guessRoles(segs []hark.Segment) []hark.SpeakerRole {
	byName := map[string]*speakerWords{}
	var order []string
	workerKnown := false
	for _, s := range segs {
		if s.Role == hark.RoleWorker {
			workerKnown = true
		}
		if s.Speaker == "" || (s.Role != "" && s.Role != hark.RoleUnknown) {
			continue
		}
		sw := byName[s.Speaker]
		if sw == nil {
			sw = &speakerWords{name: s.Speaker, text: " "}
			byName[s.Speaker] = sw
			order = append(order, s.Speaker)
		}
		text := strings.ToLower(s.Text)
		if strings.Contains(text, "?") {
			sw.questions++
		}
		words := strings.FieldsFunc(text, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r == '\'' || r == '-' || r >= '0' && r <= '9')
		})
		sw.text += strings.Join(words, " ") + " "
		sw.words += len(words)
		sw.turns++
		sw.seconds += max(0, s.End-s.Start)
	}
	if len(order) == 0 {
		return nil
	}
	var talk float64
	for _, n := range order {
		talk += byName[n].seconds
	}
	scores := make(map[string]float64, len(order))
	for _, n := range order {
		share, even := 0.0, 0.0
		if talk > 0 {
			share, even = byName[n].seconds/talk, 1/float64(len(order))
		}
		scores[n] = byName[n].workerScore(share, even)
	}
	sorted := append([]string(nil), order...)
	sort.SliceStable(sorted, func(a, b int) bool { return scores[sorted[a]] > scores[sorted[b]] })
	roles := map[string]hark.SpeakerRole{}
	if workerKnown {
		for _, n := range order {
			roles[n] = hark.SpeakerRole{Speaker: n, Role: hark.RoleParent, Confidence: 0.5, Source: hark.RoleFromWords}
		}
	} else {
		margin := scores[sorted[0]]
		if len(sorted) > 1 {
			margin -= scores[sorted[1]]
		}
		// A margin of 5 (phrase hits per hundred words, or so) is clear.
		conf := 0.5 + 0.5*(1-math.Exp(-math.Max(margin, 0)/5))
		if len(sorted) == 1 {
			conf = 0.5 // one voice: nothing to compare with
		}
		for i, n := range sorted {
			r := hark.SpeakerRole{Speaker: n, Role: hark.RoleParent, Confidence: conf, Source: hark.RoleFromWords}
			if i == 0 {
				r.Role = hark.RoleWorker
			}
			roles[n] = r
		}
	}
	for i := range segs {
		if r, ok := roles[segs[i].Speaker]; ok && (segs[i].Role == "" || segs[i].Role == hark.RoleUnknown) {
			segs[i].Role = r.Role
		}
	}
	out := make([]hark.SpeakerRole, 0, len(order))
	for _, n := range order {
		out = append(out, roles[n])
	}
	return out
}

// settleRoles gives every named speaker of t a role and records them in
// t.Speakers: roles an engine set from channels stay (metadata); a speaker
// the upload named as the worker, or one labelled "Worker", "Mum" …, gets
// that role (metadata, label); the rest are guessed from their words.
func settleRoles(t *hark.Transcript, workerSpeaker string) {
	if t.Speakers == nil {
		t.Speakers = &hark.SpeakerInfo{Source: hark.SpeakersNone}
	}
	set := map[string]hark.SpeakerRole{}
	var order []string
	for _, r := range t.Speakers.Roles { // found before: by voice
		set[r.Speaker] = r
		order = append(order, r.Speaker)
	}
	note := func(speaker string, role hark.Role, source string, conf float64) {
		if speaker == "" || role == "" || role == hark.RoleUnknown {
			return
		}
		if _, ok := set[speaker]; !ok {
			order = append(order, speaker)
		}
		set[speaker] = hark.SpeakerRole{Speaker: speaker, Role: role, Confidence: conf, Source: source}
	}
	for _, s := range t.Segments {
		if _, ok := set[s.Speaker]; !ok {
			note(s.Speaker, s.Role, hark.RoleFromMetadata, 1) // from channels
		}
	}
	assignMissingRoles(t.Segments, workerSpeaker)
	named := strings.ToLower(strings.TrimSpace(workerSpeaker))
	for _, s := range t.Segments {
		if _, ok := set[s.Speaker]; ok {
			continue
		}
		src := hark.RoleFromLabel
		if named != "" {
			src = hark.RoleFromMetadata
		}
		note(s.Speaker, s.Role, src, 1)
	}
	for _, r := range guessRoles(t.Segments) {
		note(r.Speaker, r.Role, r.Source, r.Confidence)
	}
	t.Speakers.Roles = nil
	for _, n := range order {
		t.Speakers.Roles = append(t.Speakers.Roles, set[n])
	}
	if t.Speakers.Count == 0 {
		t.Speakers.Count = len(order)
	}
}
