package report

import (
	"slices"

	"github.com/harkworks/hark"
)

// CoderView is one coder's independent review of a session, as the units
// of agreement are made from it: its state and the tags as the coder left
// them (the machine's with the coder's decisions applied, and the coder's
// own), as index.CoderSession gives them.
type CoderView struct {
	State hark.ReviewState
	Tags  []hark.Tag
}

// CodedSession makes the units of agreement of a double-coded session:
// each turn of its transcript with the codes each coder applied to it —
// the machine's tags the coder accepted, under the code the coder gave
// them, and the coder's own tags. A tag left pending or rejected is not
// applied. Only coders whose review is complete count: a review in hand
// is not yet a coding.
func CodedSession(id string, t *hark.Transcript, coders map[string]CoderView) CoderSession {
	s := CoderSession{Session: id}
	if t == nil {
		return s
	}
	applied := map[string]map[int][]string{}
	for coder, v := range coders {
		if v.State != hark.ReviewComplete {
			continue
		}
		bySeg := map[int][]string{}
		for _, tg := range v.Tags {
			if tg.Review == hark.ReviewAccepted || tg.Source == hark.SourceCoach && tg.Review != hark.ReviewRejected {
				if !slices.Contains(bySeg[tg.Segment], tg.Code) {
					bySeg[tg.Segment] = append(bySeg[tg.Segment], tg.Code)
				}
			}
		}
		applied[coder] = bySeg
	}
	for _, sg := range t.Segments {
		u := CodedUnit{Start: sg.Start, End: sg.End, Codes: map[string][]string{}}
		for coder, bySeg := range applied {
			codes := append([]string{}, bySeg[sg.Index]...)
			slices.Sort(codes)
			u.Codes[coder] = codes
		}
		s.Segments = append(s.Segments, u)
	}
	return s
}
