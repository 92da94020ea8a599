package annotate

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
)

// GoldColumns are the columns of a gold CSV file, in the order hark writes
// them. transcript_id, index, role, text and codes are required; speaker,
// start and end may be left out.
var GoldColumns = []string{"transcript_id", "index", "speaker", "role", "start", "end", "text", "codes"}

// ReadGold reads a human-coded set of transcripts from a gold CSV file:
// one row per turn, with a header row naming the columns (GoldColumns, in
// any order; unknown columns are ignored). The rows of a transcript share
// its transcript_id and come in the order of their index, a whole number
// unique within the transcript. role is worker, parent, child, other or
// unknown (empty means unknown); codes is the codebook codes the human
// coders gave the turn, separated by semicolons, empty for none; start and
// end are seconds (empty: the turn is timed five seconds after the one
// before). name is the file name used in messages.
//
// Every code must be in the codebook, so a misspelt code is an error rather
// than a silent false negative. Problems are reported together with their
// line, as EINVALID errors.
func ReadGold(name string, r io.Reader, cb *hark.Codebook) ([]LabelledTranscript, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, hark.Errorf(hark.EINVALID, "%s: the file is empty; it needs a header row (%s) and one row per turn", name, strings.Join(GoldColumns, ","))
		}
		return nil, hark.WrapError(hark.EINVALID, err, "%s: not a CSV file", name)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	var missing []string
	for _, c := range []string{"transcript_id", "index", "role", "text", "codes"} {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, hark.Errorf(hark.EINVALID, "%s:1: the header has no %s column; a gold file's columns are %s", name, strings.Join(missing, ", "), strings.Join(GoldColumns, ","))
	}
	known := make(map[string]bool, len(cb.Codes))
	ids := make([]string, len(cb.Codes))
	for i, c := range cb.Codes {
		known[c.ID] = true
		ids[i] = c.ID
	}

	p := &cbParser{name: name}
	type conv struct {
		lt   LabelledTranscript
		last int
	}
	convs := make(map[string]*conv)
	var order []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				p.addf(pe.Line, "%v", pe.Err)
			} else {
				p.addf(0, "%v", err)
			}
			break
		}
		line, _ := cr.FieldPos(0)
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		tid := field("transcript_id")
		if tid == "" {
			p.addf(line, "no transcript_id")
			continue
		}
		idx, err := strconv.Atoi(field("index"))
		if err != nil || idx < 0 {
			p.addf(line, "index %q is not a whole number", field("index"))
			continue
		}
		role, ok := hark.Role(strings.ToLower(field("role"))), true
		if role == "" {
			role = hark.RoleUnknown
		}
		if role, ok = hark.ParseRole(string(role)); !ok {
			p.addf(line, "role %q is not one of worker, parent, child, other, unknown", field("role"))
			continue
		}
		c := convs[tid]
		if c == nil {
			c = &conv{last: -1, lt: LabelledTranscript{Transcript: &hark.Transcript{
				Schema: hark.SchemaVersion, RecordingID: tid, Engine: "gold", Language: "en",
			}}}
			convs[tid] = c
			order = append(order, tid)
		}
		if idx <= c.last {
			p.addf(line, "transcript %s: index %d comes after %d; rows must be in the order of their index", tid, idx, c.last)
			continue
		}
		c.last = idx
		segs := c.lt.Transcript.Segments
		seg := hark.Segment{Index: idx, Speaker: field("speaker"), Role: role, Text: field("text"), Confidence: 1}
		if seg.Speaker == "" {
			seg.Speaker = string(role)
		}
		if seg.Text == "" {
			p.addf(line, "transcript %s, index %d: the turn has no text", tid, idx)
		}
		seg.Start = 0
		if len(segs) > 0 {
			seg.Start = segs[len(segs)-1].End + 1
		}
		if s := field("start"); s != "" {
			if seg.Start, err = strconv.ParseFloat(s, 64); err != nil || seg.Start < 0 {
				p.addf(line, "start %q is not a number of seconds", s)
			}
		}
		seg.End = seg.Start + 4
		if s := field("end"); s != "" {
			if seg.End, err = strconv.ParseFloat(s, 64); err != nil || seg.End < seg.Start {
				p.addf(line, "end %q is not a number of seconds after start", s)
			}
		}
		var labels []string
		for _, code := range strings.Split(field("codes"), ";") {
			code = strings.TrimSpace(code)
			switch {
			case code == "":
			case !known[code]:
				p.addf(line, "code %q is not in codebook %s %s (its codes: %s)", code, cb.ID, cb.Version, strings.Join(ids, ", "))
			default:
				dup := false
				for _, l := range labels {
					dup = dup || l == code
				}
				if !dup {
					labels = append(labels, code)
				}
			}
		}
		c.lt.Transcript.Segments = append(segs, seg)
		c.lt.Labels = append(c.lt.Labels, labels)
	}
	if len(p.problems) > 0 {
		msg := strings.Join(p.problems, "\n")
		if p.dropped > 0 {
			msg += fmt.Sprintf("\n%s: and %d more problems", name, p.dropped)
		}
		return nil, hark.Errorf(hark.EINVALID, "%s", msg)
	}
	if len(order) == 0 {
		return nil, hark.Errorf(hark.EINVALID, "%s: no turns; a gold file has one row per turn after its header", name)
	}
	out := make([]LabelledTranscript, 0, len(order))
	for _, tid := range order {
		out = append(out, convs[tid].lt)
	}
	return out, nil
}

// Agreement is how far a tagger agrees with human coders on one code,
// counted in turns: each turn is tagged or not, by each side.
type Agreement struct {
	Code string `json:"code"`
	// Gold and Tagged count the turns the coders and the tagger gave the
	// code.
	Gold   int `json:"gold"`
	Tagged int `json:"tagged"`
	// The turns both gave the code, only the tagger, only the coders, and
	// neither.
	TruePositives  int `json:"true_positives"`
	FalsePositives int `json:"false_positives"`
	FalseNegatives int `json:"false_negatives"`
	TrueNegatives  int `json:"true_negatives"`
	// Precision, Recall and F1 are as in Score: 0 when undefined.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Kappa is Cohen's kappa over all turns, (po - pe) / (1 - pe), where po
	// is the share of turns on which tagger and coders agree and pe the
	// share they would agree on by chance given how often each gives the
	// code. It is nil when pe is 1, which happens when both sides give
	// every turn the same answer and kappa is undefined.
	Kappa *float64 `json:"kappa"`
}

// AgreementByCode runs the tagger on each labelled transcript and measures
// its agreement with the labels for each code in codes: precision, recall
// and F1 of the tagger against the labels, and Cohen's kappa between the
// two over every turn. A turn is tagged with a code when the tagger gave it
// at least one tag of that code.
func AgreementByCode(ctx context.Context, tg hark.Tagger, data []LabelledTranscript, codes []string) ([]Agreement, error) {
	scores, tn, err := scoreTurns(ctx, tg, data, codes)
	if err != nil {
		return nil, err
	}
	out := make([]Agreement, 0, len(codes))
	for _, code := range codes {
		s := scores[code]
		s.finish()
		a := Agreement{
			Code:           code,
			Gold:           s.TruePositives + s.FalseNegatives,
			Tagged:         s.TruePositives + s.FalsePositives,
			TruePositives:  s.TruePositives,
			FalsePositives: s.FalsePositives,
			FalseNegatives: s.FalseNegatives,
			TrueNegatives:  tn[code],
			Precision:      s.Precision,
			Recall:         s.Recall,
			F1:             s.F1,
		}
		a.Kappa = kappa(s.TruePositives, s.FalsePositives, s.FalseNegatives, tn[code])
		out = append(out, a)
	}
	return out, nil
}

// kappa is Cohen's kappa of a two-by-two table, or nil when undefined.
func kappa(tp, fp, fn, tn int) *float64 {
	n := float64(tp + fp + fn + tn)
	if n == 0 {
		return nil
	}
	po := float64(tp+tn) / n
	pe := (float64(tp+fp)*float64(tp+fn) + float64(fn+tn)*float64(fp+tn)) / (n * n)
	if pe >= 1 {
		return nil
	}
	k := (po - pe) / (1 - pe)
	return &k
}

// scoreTurns counts, per code, true and false positives and negatives over
// every turn of the labelled transcripts.
func scoreTurns(ctx context.Context, tg hark.Tagger, data []LabelledTranscript, codes []string) (map[string]Score, map[string]int, error) {
	scores := make(map[string]Score, len(codes))
	tn := make(map[string]int, len(codes))
	for _, lt := range data {
		a, err := tg.Tag(ctx, lt.Transcript)
		if err != nil {
			return nil, nil, fmt.Errorf("tag %s: %w", lt.Transcript.RecordingID, err)
		}
		pos := make(map[int]int, len(lt.Transcript.Segments))
		for i, s := range lt.Transcript.Segments {
			pos[s.Index] = i
		}
		tagged := make([]map[string]bool, len(lt.Transcript.Segments))
		for _, tag := range a.Tags {
			i, ok := pos[tag.Segment]
			if !ok {
				continue
			}
			if tagged[i] == nil {
				tagged[i] = make(map[string]bool)
			}
			tagged[i][tag.Code] = true
		}
		for _, code := range codes {
			s := scores[code]
			for i := range lt.Transcript.Segments {
				got := tagged[i][code]
				want := false
				if i < len(lt.Labels) {
					for _, l := range lt.Labels[i] {
						want = want || l == code
					}
				}
				switch {
				case got && want:
					s.TruePositives++
				case got:
					s.FalsePositives++
				case want:
					s.FalseNegatives++
				default:
					tn[code]++
				}
			}
			scores[code] = s
		}
	}
	return scores, tn, nil
}

// CoderAgreement measures how two coders who coded the same turns agree,
// per code in codes: the first coder's codes stand where a tagger's
// reference would (Gold, FalseNegatives: the first only), the second's
// where the tagger's would (Tagged, FalsePositives: the second only), and
// Cohen's kappa between them. The two sets must hold the same transcripts
// with the same turns; a difference is an EINVALID error naming it.
func CoderAgreement(first, second []LabelledTranscript, codes []string) ([]Agreement, error) {
	byID := make(map[string]LabelledTranscript, len(second))
	for _, lt := range second {
		byID[lt.Transcript.RecordingID] = lt
	}
	if len(first) != len(second) {
		return nil, hark.Errorf(hark.EINVALID, "the first coding has %d transcripts and the second %d: both coders must code the same transcripts", len(first), len(second))
	}
	counts := make([]Agreement, len(codes))
	for k, c := range codes {
		counts[k].Code = c
	}
	has := func(labels [][]string, i int, code string) bool {
		return i < len(labels) && slices.Contains(labels[i], code)
	}
	for _, a := range first {
		id := a.Transcript.RecordingID
		b, ok := byID[id]
		if !ok {
			return nil, hark.Errorf(hark.EINVALID, "transcript %s is in the first coding and not in the second", id)
		}
		if len(a.Transcript.Segments) != len(b.Transcript.Segments) {
			return nil, hark.Errorf(hark.EINVALID, "transcript %s has %d turns in the first coding and %d in the second", id, len(a.Transcript.Segments), len(b.Transcript.Segments))
		}
		for i := range a.Transcript.Segments {
			if a.Transcript.Segments[i].Index != b.Transcript.Segments[i].Index {
				return nil, hark.Errorf(hark.EINVALID, "transcript %s: turn %d of the first coding is turn %d of the second", id, a.Transcript.Segments[i].Index, b.Transcript.Segments[i].Index)
			}
			for k, code := range codes {
				x, y := has(a.Labels, i, code), has(b.Labels, i, code)
				switch {
				case x && y:
					counts[k].TruePositives++
				case y:
					counts[k].FalsePositives++
				case x:
					counts[k].FalseNegatives++
				default:
					counts[k].TrueNegatives++
				}
			}
		}
	}
	return SumAgreements([][]Agreement{counts}), nil
}
