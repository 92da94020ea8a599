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

	type utterance struct {
		id        int
		therapist bool
		text      string
		start     float64
		votes     int
		reflect   int
		open      int
		advice    int
		negotiate int
	}
	convs := make(map[string]map[int]*utterance)
	var order []string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "AnnoMI CSV: line %d", line)
		}
		field := func(name string) string { return rec[col[name]] }
		tid := field("transcript_id")
		uid, err := strconv.Atoi(field("utterance_id"))
		if err != nil {
			return nil, hark.Errorf(hark.EINVALID, "AnnoMI CSV: line %d: utterance_id %q is not a number", line, field("utterance_id"))
		}
		conv := convs[tid]
		if conv == nil {
			conv = make(map[int]*utterance)
			convs[tid] = conv
			order = append(order, tid)
		}
		u := conv[uid]
		if u == nil {
			u = &utterance{id: uid, therapist: field("interlocutor") == "therapist", text: field("utterance_text")}
			if hasTime {
				u.start = parseClock(rec[timestamp])
			}
			conv[uid] = u
		}
		u.votes++
		if field("reflection_exists") == "True" {
			u.reflect++
		}
		if field("question_subtype") == "open" {
			u.open++
		}
		switch field("therapist_input_subtype") {
		case "advice":
			u.advice++
		case "negotiation", "options":
			u.negotiate++
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return idLess(order[i], order[j]) })
	out := make([]LabelledTranscript, 0, len(order))
	for _, tid := range order {
		conv := convs[tid]
		utts := make([]*utterance, 0, len(conv))
		for _, u := range conv {
			utts = append(utts, u)
		}
		sort.Slice(utts, func(i, j int) bool { return utts[i].id < utts[j].id })
		lt := LabelledTranscript{
			Transcript: &hark.Transcript{Schema: hark.SchemaVersion, RecordingID: "annomi-" + tid, Engine: "annomi", Language: "en"},
			Labels:     make([][]string, len(utts)),
		}
		for i, u := range utts {
			seg := hark.Segment{Index: i, Start: u.start, Text: u.text, Confidence: 1, Speaker: "client", Role: hark.RoleParent}
			if u.therapist {
				seg.Speaker, seg.Role = "therapist", hark.RoleWorker
				major := func(n int) bool { return 2*n > u.votes }
				if major(u.reflect) {
					lt.Labels[i] = append(lt.Labels[i], codeReflection)
				}
				if major(u.open) {
					lt.Labels[i] = append(lt.Labels[i], codeOpenQ)
				}
				if major(u.advice) {
					lt.Labels[i] = append(lt.Labels[i], codeDirective)
				}
				if major(u.negotiate) {
					lt.Labels[i] = append(lt.Labels[i], codePlanning)
				}
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
