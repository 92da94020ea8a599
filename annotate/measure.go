package annotate

import (
	"github.com/harkworks/hark"
)

// MeasureSession computes a session's figures (hark.SessionMetrics) from
// its transcript and annotations.
// The annotations may come from any tagger and may include coaches' tags;
// tags a coach rejected are left out, and tags for segments the transcript
// does not have are ignored.
func MeasureSession(t *hark.Transcript, a *hark.Annotations) hark.SessionMetrics {
	m := hark.SessionMetrics{
		Codes: make(map[string]hark.CodeMetrics),
		Roles: make(map[hark.Role]hark.RoleMetrics),
	}
	if t == nil {
		return m
	}
	m.RecordingID = t.RecordingID
	m.DurationSeconds = t.Duration()
	perHour := func(n int) float64 {
		if m.DurationSeconds <= 0 {
			return 0
		}
		return float64(n) * 3600 / m.DurationSeconds
	}

	// Which codes each segment carries, by position in the transcript.
	pos := make(map[int]int, len(t.Segments))
	for i := range t.Segments {
		pos[t.Segments[i].Index] = i
	}
	has := make([]uint8, len(t.Segments)) // bit 0: reflection, bit 1: open question
	if a != nil {
		m.Codebook, m.CodebookVersion = a.Codebook, a.CodebookVersion
		counts := make(map[string]int)
		for _, tag := range a.Tags {
			if tag.Review == hark.ReviewRejected {
				continue
			}
			i, ok := pos[tag.Segment]
			if !ok {
				continue
			}
			counts[tag.Code]++
			switch tag.Code {
			case codeReflection:
				has[i] |= 1
			case codeOpenQ:
				has[i] |= 2
			}
		}
		for code, n := range counts {
			m.Codes[code] = hark.CodeMetrics{Count: n, PerHour: perHour(n)}
		}
	}

	// Talk per role, turns and questions.
	an := &analysis{lx: newLexicon()}
	var total float64
	runStart := -1
	for i := range t.Segments {
		s := &t.Segments[i]
		r := m.Roles[s.Role]
		if d := s.End - s.Start; d > 0 {
			r.TalkSeconds += d
			total += d
		}
		if i == 0 || t.Segments[i-1].Role != s.Role {
			r.Turns++
			runStart = i
		}
		if d := s.End - t.Segments[runStart].Start; d > r.LongestMonologueSeconds {
			r.LongestMonologueSeconds = d
		}
		m.Roles[s.Role] = r

		if s.Role != hark.RoleWorker {
			continue
		}
		if has[i]&1 != 0 {
			m.Reflections++
		}
		if has[i]&2 != 0 {
			m.OpenQuestions++
			continue
		}
		an.low, an.toks, an.sents = an.low[:0], an.toks[:0], an.sents[:0]
		info := an.addSegment(s.Text)
		for k := info.s0; k < info.s1; k++ {
			sent := &an.sents[k]
			closed := sent.form == formClosedWh || sent.form == formYesNo || sent.form == formWhyNot
			// A statement said as a question is a reflection when tagged
			// as one, and a closed question otherwise.
			if (sent.form == formDeclQ || sent.form == formTagQ) && has[i]&1 == 0 {
				closed = true
			}
			if closed {
				m.ClosedQuestions++
				break
			}
		}
	}
	m.WorkerTurns = m.Roles[hark.RoleWorker].Turns
	for role, r := range m.Roles {
		if total > 0 {
			r.TalkShare = r.TalkSeconds / total
		}
		m.Roles[role] = r
	}
	if q := m.OpenQuestions + m.ClosedQuestions; q > 0 {
		ratio := float64(m.Reflections) / float64(q)
		m.ReflectionToQuestion = &ratio
	}
	return m
}
