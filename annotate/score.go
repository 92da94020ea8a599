package annotate

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
)

// Score is how well a tagger agrees with reference labels for one code,
// counted in segments (turns).
type Score struct {
	TruePositives  int     `json:"true_positives"`  // tagged and labelled
	FalsePositives int     `json:"false_positives"` // tagged, not labelled
	FalseNegatives int     `json:"false_negatives"` // labelled, not tagged
	Precision      float64 `json:"precision"`       // TP / (TP + FP); 0 when nothing was tagged
	Recall         float64 `json:"recall"`          // TP / (TP + FN); 0 when nothing was labelled
	F1             float64 `json:"f1"`              // the harmonic mean of precision and recall
}

// finish computes precision, recall and F1 from the counts.
func (s *Score) finish() {
	if d := s.TruePositives + s.FalsePositives; d > 0 {
		s.Precision = float64(s.TruePositives) / float64(d)
	}
	if d := s.TruePositives + s.FalseNegatives; d > 0 {
		s.Recall = float64(s.TruePositives) / float64(d)
	}
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
}

// LabelledTranscript is a transcript with reference codes for its segments,
// from expert annotators or coaches' reviews.
type LabelledTranscript struct {
	Transcript *hark.Transcript
	// Labels holds the reference codes of each segment, by position in
	// Transcript.Segments.
	Labels [][]string
}

// AnnoMICodes returns the codes ScoreAnnoMI scores: reflective_listening
// (AnnoMI's reflection_exists), open_question (question_subtype open) and
// directive (therapist_input_subtype advice).
func AnnoMICodes() []string {
	return []string{codeReflection, codeOpenQ, codeDirective}
}

// AnnoMIUtterance is one utterance of the AnnoMI corpus with what each of
// its annotators coded in it, under the mapping ReadAnnoMI describes.
type AnnoMIUtterance struct {
	Transcript string // transcript_id
	ID         int    // utterance_id
	Therapist  bool
	Text       string
	Start      float64 // seconds, from the timestamp column (0 without one)
	// Votes holds, for each annotator's row, the codes it gives (therapist
	// utterances only; a client's rows give none).
	Votes [][]string
}

// Labels returns the codes more than half of the utterance's annotators
// gave, in the order of the mapping.
func (u *AnnoMIUtterance) Labels() []string {
	var out []string
	for _, code := range annomiCodes {
		n := 0
		for _, v := range u.Votes {
			for _, c := range v {
				if c == code {
					n++
				}
			}
		}
		if 2*n > len(u.Votes) {
			out = append(out, code)
		}
	}
	return out
}

// annomiCodes are the codes AnnoMI's columns map to, in order.
var annomiCodes = []string{codeReflection, codeOpenQ, codeDirective, codePlanning}

// ReadAnnoMIUtterances reads the rows of a file in the CSV format of the
// AnnoMI corpus, grouped by transcript_id and utterance_id, each
// annotator's row kept apart, in the order the utterances first appear.
// It returns EINVALID for a file that is not in that format.
func ReadAnnoMIUtterances(r io.Reader) ([]*AnnoMIUtterance, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "AnnoMI CSV: no header row")
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	need := []string{"transcript_id", "utterance_id", "interlocutor", "utterance_text",
		"reflection_exists", "question_subtype", "therapist_input_subtype"}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return nil, hark.Errorf(hark.EINVALID, "AnnoMI CSV: no %q column", n)
		}
	}
	timestamp, hasTime := col["timestamp"]
	type key struct {
		tid string
		uid int
	}
	byKey := map[key]*AnnoMIUtterance{}
	var out []*AnnoMIUtterance
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "AnnoMI CSV: line %d", line)
		}
		field := func(name string) string { return rec[col[name]] }
		uid, err := strconv.Atoi(field("utterance_id"))
		if err != nil {
			return nil, hark.Errorf(hark.EINVALID, "AnnoMI CSV: line %d: utterance_id %q is not a number", line, field("utterance_id"))
		}
		k := key{field("transcript_id"), uid}
		u := byKey[k]
		if u == nil {
			u = &AnnoMIUtterance{Transcript: k.tid, ID: uid, Therapist: field("interlocutor") == "therapist", Text: field("utterance_text")}
			if hasTime {
				u.Start = parseClock(rec[timestamp])
			}
			byKey[k] = u
			out = append(out, u)
		}
		var codes []string
		if u.Therapist {
			if field("reflection_exists") == "True" {
				codes = append(codes, codeReflection)
			}
			if field("question_subtype") == "open" {
				codes = append(codes, codeOpenQ)
			}
			switch field("therapist_input_subtype") {
			case "advice":
				codes = append(codes, codeDirective)
			case "negotiation", "options":
				codes = append(codes, codePlanning)
			}
		}
		u.Votes = append(u.Votes, codes)
	}
	return out, nil
}

// ReadAnnoMI reads conversations in the CSV format of the AnnoMI corpus of
// motivational-interviewing sessions (Wu et al., 2022). Rows are grouped by
// transcript_id and utterance_id; where several annotators labelled an
// utterance, a label holds when more than half of them gave it. Therapist
// turns become worker segments and client turns parent segments, in
// utterance order, timed from the timestamp column. Labels are given to
// therapist turns only: reflective_listening, open_question and directive
// as AnnoMICodes describes, and collaborative_planning for negotiation or
// options. It returns EINVALID for a file that is not in that format.
func ReadAnnoMI(r io.Reader) ([]LabelledTranscript, error) {
	utts, err := ReadAnnoMIUtterances(r)
	if err != nil {
		return nil, err
	}
	convs := map[string][]*AnnoMIUtterance{}
	var order []string
	for _, u := range utts {
		if convs[u.Transcript] == nil {
			order = append(order, u.Transcript)
		}
		convs[u.Transcript] = append(convs[u.Transcript], u)
	}
	sort.SliceStable(order, func(i, j int) bool { return idLess(order[i], order[j]) })
	out := make([]LabelledTranscript, 0, len(order))
	for _, tid := range order {
		conv := convs[tid]
		sort.Slice(conv, func(i, j int) bool { return conv[i].ID < conv[j].ID })
		lt := LabelledTranscript{
			Transcript: &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: "annomi-" + tid, Engine: "annomi", Language: "en"},
			Labels:     make([][]string, len(conv)),
		}
		for i, u := range conv {
			seg := hark.Segment{Index: i, Start: u.Start, Text: u.Text, Confidence: 1, Speaker: "client", Role: hark.RoleParent}
			if u.Therapist {
				seg.Speaker, seg.Role = "therapist", hark.RoleWorker
				lt.Labels[i] = u.Labels()
			}
			lt.Transcript.Segments = append(lt.Transcript.Segments, seg)
		}
		// A turn ends when the next begins; the last gets a few seconds.
		segs := lt.Transcript.Segments
		for i := range segs {
			if i+1 < len(segs) && segs[i+1].Start > segs[i].Start {
				segs[i].End = segs[i+1].Start
			} else {
				segs[i].End = segs[i].Start + 3
			}
		}
		out = append(out, lt)
	}
	return out, nil
}

// idLess orders transcript ids numerically when they are numbers.
func idLess(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

// parseClock reads "hh:mm:ss" or "mm:ss" as seconds; anything else is 0.
func parseClock(s string) float64 {
	var secs float64
	for _, part := range strings.Split(strings.TrimSpace(s), ":") {
		v, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return 0
		}
		secs = secs*60 + v
	}
	return secs
}

// ScoreTagger runs the tagger on each labelled transcript and scores it
// against the labels, per code in codes, counting segments: a segment is
// tagged with a code when the tagger gave it at least one tag of that code.
func ScoreTagger(ctx context.Context, tg hark.Tagger, data []LabelledTranscript, codes []string) (map[string]Score, error) {
	scores, _, err := scoreTurns(ctx, tg, data, codes)
	if err != nil {
		return nil, err
	}
	for code, s := range scores {
		s.finish()
		scores[code] = s
	}
	return scores, nil
}

// ScoreAnnoMI reads an AnnoMI CSV (see ReadAnnoMI), runs the tagger on every
// conversation and returns precision, recall and F1 for each of AnnoMICodes.
func ScoreAnnoMI(ctx context.Context, r io.Reader, tg hark.Tagger) (map[string]Score, error) {
	data, err := ReadAnnoMI(r)
	if err != nil {
		return nil, err
	}
	return ScoreTagger(ctx, tg, data, AnnoMICodes())
}
