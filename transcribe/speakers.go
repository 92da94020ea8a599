package transcribe

import (
	"cmp"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// minSplitSeconds is the least each side of a change of speaker must last
// for a recognised segment to be cut in two there.
const minSplitSeconds = 0.8

// minSplitWords is the fewest words each side of a change of speaker must
// have for a segment to be cut there between words.
const minSplitWords = 2

// wordSlack is how far outside a segment's times a word's midpoint may be
// and still count as one of the segment's words: engines time words and
// segments apart, and not always to the same frame.
const wordSlack = 0.3

// spokenWord is one recognised word and its times: from the chunk's start
// in a chunkResult, from the recording's start once stitched. Speaker is
// the speaker the engine gave it, if any: its label in a chunkResult, an
// engineKey once stitched.
type spokenWord struct {
	Start, End float64
	Text       string
	Speaker    string
}

func (w spokenWord) mid() float64 { return (w.Start + w.End) / 2 }

// speakerName is what a transcript calls diarization's speaker S<n>.
func speakerName(label string) string {
	return "Speaker " + strings.TrimPrefix(label, "S")
}

// run is one speaker's stretch of a segment: of its time, or of its words
// (words[lo:hi]).
type run struct {
	start, end float64
	speaker    string
	lo, hi     int
}

func (r run) seconds() float64 { return r.end - r.start }

// join is r grown over o, which it takes in: r's speaker, both's time and
// words.
func (r run) join(o run) run {
	r.start, r.end = min(r.start, o.start), max(r.end, o.end)
	if o.hi > o.lo {
		r.lo, r.hi = min(r.lo, o.lo), max(r.hi, o.hi)
	}
	return r
}

// assignSpeakers names the speaker of each recognised segment. Where the
// engine labelled a segment or its words (engineKeys), names says whose
// they are, and a segment whose words the engine gave to more than one
// speaker is cut between them. Elsewhere the diarized turns decide: with
// the engine's word times (words, stitched) each word is the speaker's who
// talks at its midpoint, and a segment whose words change speaker is cut
// between them; without words a segment is the speaker's who talks most in
// its time, cut where the speaker changes, its words shared out in
// proportion to the time on each side. Either way a stretch of one speaker
// shorter than minSplitSeconds (or, of words, fewer than minSplitWords)
// goes to the speaker beside it.
func assignSpeakers(segs []hark.Segment, words []spokenWord, turns []diarize.Turn, names map[string]string) []hark.Segment {
	byTurn := func(w spokenWord) string {
		if sp := speakerAt(turns, w.mid()); sp != "" {
			return speakerName(sp)
		}
		return ""
	}
	owned := wordsOf(segs, words)
	var out []hark.Segment
	for i, s := range segs {
		if s.Speaker != "" || slices.ContainsFunc(owned[i], func(w spokenWord) bool { return w.Speaker != "" }) {
			s.Speaker = names[s.Speaker]
			byEngine := func(w spokenWord) string {
				if w.Speaker != "" {
					return names[w.Speaker]
				}
				return s.Speaker
			}
			if runs := wordRuns(owned[i], byEngine); runs != nil {
				out = append(out, cutAtWords(s, owned[i], runs)...)
			} else {
				out = append(out, s)
			}
			continue
		}
		if runs := wordRuns(owned[i], byTurn); runs != nil {
			out = append(out, cutAtWords(s, owned[i], runs)...)
			continue
		}
		out = append(out, cutInProportion(s, turns)...)
	}
	for i := range out {
		out[i].Index = i
	}
	return out
}

// engineSpeakers names the speakers the engine gave (the engineKeys of
// segs and words); it returns nil when the engine gave none. A label of
// the one chunk an engine labelled names its speaker as it is. Labels are
// the server's per request, so with more chunks each chunk's label becomes
// the speaker of hark's diarization (turns) it overlaps most, matched by
// voice (byVoice); when diarization found no one (problem says why) each
// chunk's labels are named apart. The info's Confidence is the share of the
// labelled talk in which hark's diarization hears the speaker the label was
// matched to; Count and Estimated are left to the caller.
func engineSpeakers(segs []hark.Segment, words []spokenWord, turns []diarize.Turn, problem string) (names map[string]string, byVoice bool, info *hark.SpeakerInfo) {
	// The labelled talk: the words', when the engine labelled words.
	var talk []run
	for _, w := range words {
		if w.Speaker != "" {
			talk = append(talk, run{start: w.Start, end: w.End, speaker: w.Speaker})
		}
	}
	if len(talk) == 0 {
		for _, s := range segs {
			if s.Speaker != "" {
				talk = append(talk, run{start: s.Start, end: s.End, speaker: s.Speaker})
			}
		}
	}
	if len(talk) == 0 {
		return nil, false, nil
	}
	heard := map[string]map[string]float64{} // key → hark's speaker → seconds together
	chunks := map[int]bool{}
	for _, r := range talk {
		c, _ := splitEngineKey(r.speaker)
		chunks[c] = true
		if heard[r.speaker] == nil {
			heard[r.speaker] = map[string]float64{}
		}
		for i := sort.Search(len(turns), func(i int) bool { return turns[i].End > r.start }); i < len(turns) && turns[i].Start < r.end; i++ {
			heard[r.speaker][turns[i].Speaker] += min(turns[i].End, r.end) - max(turns[i].Start, r.start)
		}
	}
	byVoice = len(chunks) > 1 && len(turns) > 0
	names = map[string]string{}
	info = &hark.SpeakerInfo{Source: hark.SpeakersEngine, Confidence: 1}
	var total, agreed float64
	apart := 0 // labels named by their chunk
	for key, by := range heard {
		c, label := splitEngineKey(key)
		best, most := "", 0.0
		for sp, d := range by {
			total += d
			if d > most || d == most && sp < best {
				best, most = sp, d
			}
		}
		agreed += most
		switch {
		case len(chunks) == 1:
			names[key] = engineName(label)
		case byVoice && best != "":
			names[key] = speakerName(best)
		default:
			names[key] = fmt.Sprintf("%s (part %d)", engineName(label), c+1)
			apart++
		}
	}
	if total > 0 {
		info.Confidence = agreed / total
	}
	switch {
	case len(chunks) > 1 && !byVoice:
		info.Confidence = 0
		info.Problem = fmt.Sprintf("the speech engine told the speakers apart in each of the recording's %d parts, but hark could not match them from one part to the next (%s): each part's speakers are named apart", len(chunks), problem)
	case apart > 0:
		info.Problem = fmt.Sprintf("%d of the speakers the engine found in parts of the recording could not be matched to the others by voice (hark heard no one where they speak): they are named by part", apart)
	}
	return names, byVoice, info
}

// countSpeakers is how many speakers the segments name.
func countSpeakers(segs []hark.Segment) int {
	seen := map[string]bool{}
	for _, s := range segs {
		if s.Speaker != "" {
			seen[s.Speaker] = true
		}
	}
	return len(seen)
}

// cutInProportion names the speaker of a segment without word times: the
// one who talks most in it, or one piece per speaker where it runs across
// a change of speaker, its words shared out in proportion to time.
func cutInProportion(s hark.Segment, turns []diarize.Turn) []hark.Segment {
	parts := speakerRuns(turns, s.Start, s.End)
	if len(parts) == 0 {
		s.Speaker = nearestSpeaker(turns, s.Start, s.End)
		return []hark.Segment{s}
	}
	var out []hark.Segment
	words := strings.Fields(s.Text)
	total := s.End - s.Start
	used := 0
	for i, p := range parts {
		piece := s
		piece.Start, piece.End, piece.Speaker = p.start, p.end, p.speaker
		n := len(words) - used
		if i < len(parts)-1 && total > 0 {
			n = int(math.Round(float64(len(words)) * (p.end - s.Start) / total))
			n = max(min(n, len(words)), used) - used
		}
		piece.Text = strings.Join(words[used:used+n], " ")
		used += n
		if piece.Text != "" {
			out = append(out, piece)
		}
	}
	return out
}

// cutAtWords cuts segment s, whose words are ws, into one piece per run of
// ws. Its text is cut between the same words, matched to the engine's by
// their letters and digits; where a word matches none (the engine spells
// it otherwise), the text is cut in proportion.
func cutAtWords(s hark.Segment, ws []spokenWord, runs []run) []hark.Segment {
	tokens := strings.Fields(s.Text)
	at := alignWords(tokens, ws)
	var out []hark.Segment
	used := 0
	for i, r := range runs {
		piece := s
		piece.Speaker = r.speaker
		n := len(tokens)
		if i > 0 {
			piece.Start = clamp(ws[r.lo].Start, s.Start, s.End)
		}
		if i < len(runs)-1 {
			piece.End = clamp(ws[r.hi-1].End, piece.Start, s.End)
			n = max(min(at[r.hi], len(tokens)), used)
		}
		piece.Text = strings.Join(tokens[used:n], " ")
		used = n
		if piece.Text != "" {
			out = append(out, piece)
		}
	}
	return out
}

// alignWords says where in the text's tokens each of the engine's words
// starts: at[i] is the index of the token word i is, found in order by
// their letters and digits within a few tokens, or for a word found
// nowhere an index in proportion, between the words found either side.
func alignWords(tokens []string, ws []spokenWord) []int {
	norm := normWords(tokens)
	at := make([]int, len(ws))
	found := make([]bool, len(ws))
	next := 0
	for i, w := range ws {
		nw := normWords([]string{w.Text})[0]
		for j := next; j < min(len(tokens), next+4); j++ {
			if nw != "" && norm[j] == nw {
				at[i], found[i], next = j, true, j+1
				break
			}
		}
	}
	lo := 0 // the least a word not found may take: after the last found
	for i := range ws {
		if found[i] {
			lo = at[i] + 1
			continue
		}
		hi := len(tokens) // the most: the next found word's token
		for j := i + 1; j < len(ws); j++ {
			if found[j] {
				hi = at[j]
				break
			}
		}
		at[i] = min(max(int(math.Round(float64(len(tokens)*i)/float64(len(ws)))), lo), hi)
	}
	return at
}

// wordsOf shares the words out among the segments, both in time order: a
// word is the segment's its midpoint falls in, else the nearest one's within
// wordSlack. Words near no segment (those of a segment the engine dropped)
// are no one's.
func wordsOf(segs []hark.Segment, words []spokenWord) [][]spokenWord {
	out := make([][]spokenWord, len(segs))
	if len(segs) == 0 {
		return out
	}
	words = slices.Clone(words)
	slices.SortStableFunc(words, func(a, b spokenWord) int { return cmp.Compare(a.mid(), b.mid()) })
	j := 0 // the last segment that starts by the word's midpoint
	for _, w := range words {
		m := w.mid()
		for j+1 < len(segs) && segs[j+1].Start <= m {
			j++
		}
		best, gap := -1, wordSlack
		for k := max(0, j-1); k <= min(j+1, len(segs)-1); k++ {
			if d := max(segs[k].Start-m, m-segs[k].End, 0); d < gap || (d == gap && best < 0) {
				best, gap = k, d
			}
		}
		if best >= 0 {
			out[best] = append(out[best], w)
		}
	}
	return out
}

// wordRuns is who says a segment's words: runs of consecutive words of one
// speaker, as label names them ("" for no one), those of no one given to
// the speaker beside them, then those shorter than minSplitSeconds or
// minSplitWords to the neighbour who talks longer. It is nil when label
// names no one for any word.
func wordRuns(ws []spokenWord, label func(spokenWord) string) []run {
	var runs []run
	named := false
	for i, w := range ws {
		sp := label(w)
		named = named || sp != ""
		if n := len(runs); n > 0 && runs[n-1].speaker == sp {
			runs[n-1].end, runs[n-1].hi = max(runs[n-1].end, w.End), i+1
			continue
		}
		runs = append(runs, run{start: w.Start, end: w.End, speaker: sp, lo: i, hi: i + 1})
	}
	if !named {
		return nil
	}
	runs = absorb(runs, func(r run) bool { return r.speaker == "" })
	return absorb(runs, func(r run) bool { return r.seconds() < minSplitSeconds || r.hi-r.lo < minSplitWords })
}

// absorb gives each short run, shortest first, to the neighbour who talks
// longer, and joins neighbours of one speaker, until no run is short or one
// is left.
func absorb(runs []run, short func(run) bool) []run {
	for len(runs) > 1 {
		s := -1
		for i, r := range runs {
			if short(r) && (s < 0 || r.seconds() < runs[s].seconds()) {
				s = i
			}
		}
		if s < 0 {
			break
		}
		into := s - 1
		if into < 0 || (s+1 < len(runs) && runs[s+1].seconds() > runs[into].seconds()) {
			into = s + 1
		}
		runs[into] = runs[into].join(runs[s])
		runs = slices.Delete(runs, s, s+1)
		for i := 1; i < len(runs); {
			if runs[i].speaker == runs[i-1].speaker {
				runs[i-1] = runs[i-1].join(runs[i])
				runs = slices.Delete(runs, i, i+1)
				continue
			}
			i++
		}
	}
	return runs
}

// speakerAt is the diarized speaker talking at time t, or "".
func speakerAt(turns []diarize.Turn, t float64) string {
	i := sort.Search(len(turns), func(i int) bool { return turns[i].End > t })
	if i < len(turns) && turns[i].Start <= t {
		return turns[i].Speaker
	}
	return ""
}

// nearestMaxGap is how far from a turn a segment the diarizer heard no
// speech in may be and still count as that turn's speaker's.
const nearestMaxGap = 2.0

// nearestSpeaker is the speaker of the turn nearest to [start, end), if
// one is within nearestMaxGap, else "".
func nearestSpeaker(turns []diarize.Turn, start, end float64) string {
	best, name := nearestMaxGap, ""
	for _, t := range turns {
		gap := max(t.Start-end, start-t.End)
		if gap <= best {
			best, name = gap, speakerName(t.Speaker)
		}
	}
	return name
}

// speakerRuns is who speaks in [start, end): the stretches of one speaker
// each, named, at least minSplitSeconds long (shorter ones go to the
// speaker beside them who talks most), covering start to end.
func speakerRuns(turns []diarize.Turn, start, end float64) []run {
	// Talk per speaker, in order of first appearance within the window.
	var runs []run
	for _, t := range turns {
		lo, hi := max(t.Start, start), min(t.End, end)
		if hi <= lo {
			continue
		}
		name := speakerName(t.Speaker)
		if n := len(runs); n > 0 && runs[n-1].speaker == name {
			runs[n-1].end = hi
			continue
		}
		runs = append(runs, run{start: lo, end: hi, speaker: name})
	}
	if len(runs) == 0 {
		return nil
	}
	runs = absorb(runs, func(r run) bool { return r.seconds() < minSplitSeconds })
	runs[0].start, runs[len(runs)-1].end = start, end
	for i := 1; i < len(runs); i++ {
		runs[i].start = runs[i-1].end
	}
	return runs
}

// nameSpeakers names the speakers of a downmix's segments: those the
// engine gave, matched across chunks by voice through hark's diarization,
// or else those hark's diarization found (given is how many people speak,
// when the upload says), the worker among them told by voice when the team
// has learned it (workerVoice, as stored). Whatever fails, even with a
// panic, the segments are kept, with speakers unknown and the reason in
// the SpeakerInfo.
func nameSpeakers(segs []hark.Segment, words []spokenWord, dz *diarize.Diarizer, given int, workerVoice []byte, log *slog.Logger) (out []hark.Segment, info *hark.SpeakerInfo) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("naming the speakers failed", "panic", fmt.Sprint(r))
			for i := range segs {
				segs[i].Speaker = "" // an engine's label, not a name
			}
			out, info = segs, &hark.SpeakerInfo{Source: hark.SpeakersNone, Problem: "naming the speakers failed (an internal error); the speakers are unknown"}
		}
	}()
	res, problem := diarizeSafely(dz, log)
	if res != nil && res.Speakers == 0 {
		res, problem = nil, "no speech was found to tell speakers apart in"
	}
	var turns []diarize.Turn
	if res != nil {
		turns = res.Turns
	}
	if names, byVoice, info := engineSpeakers(segs, words, turns, problem); names != nil {
		if !byVoice {
			turns = nil // what the engine did not label stays unknown rather than named another way
		}
		out = assignSpeakers(segs, words, turns, names)
		info.Count, info.Estimated = countSpeakers(out), given == 0
		log.Info("kept the engine's speakers", "speakers", info.Count, "confidence", info.Confidence, "problem", info.Problem)
		return out, info
	}
	if res == nil {
		return segs, &hark.SpeakerInfo{Source: hark.SpeakersNone, Problem: problem + "; the speakers are unknown"}
	}
	log.Info("told speakers apart", "speakers", res.Speakers, "estimated", res.Estimated, "confidence", res.Confidence)
	out = assignSpeakers(segs, words, turns, nil)
	info = &hark.SpeakerInfo{Source: hark.SpeakersDiarization, Count: res.Speakers, Estimated: res.Estimated, Confidence: res.Confidence}
	if role, ok := workerByVoice(out, res, workerVoice, log); ok {
		info.Roles = []hark.SpeakerRole{role}
	}
	return out, info
}

// diarizeSafely returns d's result, or the reason it has none: a failure
// of diarization (even a panic) must never lose the transcript.
func diarizeSafely(d *diarize.Diarizer, log *slog.Logger) (res *diarize.Diarization, problem string) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("diarization failed", "panic", fmt.Sprint(r))
			res, problem = nil, "telling the speakers apart failed (an internal error)"
		}
	}()
	res, err := d.Result()
	if err != nil {
		log.Warn("diarization failed", "err", err)
		return nil, "telling the speakers apart failed: " + hark.ErrorMessage(err)
	}
	return res, ""
}
