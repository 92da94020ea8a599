package transcribe

import (
	"cmp"
	"slices"
	"strings"

	"github.com/harkworks/hark"
)

// AssignRoles sets each segment's role from its speaker's name. A speaker
// named in workerSpeakers is the worker and, when any are named, every other
// speaker is a parent; otherwise well-known labels ("Worker", "Social
// worker", "Parent", "Mum", "Dad", "Child" …) decide, and anything else stays
// unknown.
func AssignRoles(segs []hark.Segment, workerSpeakers ...string) {
	named := map[string]bool{}
	for _, w := range workerSpeakers {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			named[w] = true
		}
	}
	for i := range segs {
		sp := strings.ToLower(strings.TrimSpace(segs[i].Speaker))
		switch {
		case named[sp]:
			segs[i].Role = hark.RoleWorker
		case len(named) > 0 && sp != "":
			segs[i].Role = hark.RoleParent
		default:
			segs[i].Role = roleFromLabel(sp)
		}
	}
}

func roleFromLabel(sp string) hark.Role {
	switch sp {
	case "worker", "social worker", "sw", "practitioner":
		return hark.RoleWorker
	case "parent", "mother", "father", "mum", "mom", "dad", "carer", "caregiver", "guardian":
		return hark.RoleParent
	case "child", "young person", "yp":
		return hark.RoleChild
	}
	return hark.RoleUnknown
}

// TalkTime is how long each speaker and each role talks, in seconds. A
// speaker's overlapping segments count once; two speakers talking at once
// both count, so the parts can add up to more than Total.
type TalkTime struct {
	Total     float64               `json:"total"` // seconds in which anyone talks
	BySpeaker map[string]float64    `json:"by_speaker"`
	ByRole    map[hark.Role]float64 `json:"by_role"`
}

// TalkTimes computes talk time from a transcript's segments. Segments
// without a speaker count towards their role and the total only.
func TalkTimes(segs []hark.Segment) TalkTime {
	bySpeaker := map[string][]span{}
	byRole := map[hark.Role][]span{}
	var all []span
	for _, s := range segs {
		if s.End <= s.Start {
			continue
		}
		sp := span{s.Start, s.End}
		all = append(all, sp)
		if s.Speaker != "" {
			bySpeaker[s.Speaker] = append(bySpeaker[s.Speaker], sp)
		}
		role := s.Role
		if role == "" {
			role = hark.RoleUnknown
		}
		byRole[role] = append(byRole[role], sp)
	}
	tt := TalkTime{Total: unionLength(all), BySpeaker: map[string]float64{}, ByRole: map[hark.Role]float64{}}
	for k, v := range bySpeaker {
		tt.BySpeaker[k] = unionLength(v)
	}
	for k, v := range byRole {
		tt.ByRole[k] = unionLength(v)
	}
	return tt
}

type span struct{ start, end float64 }

// unionLength returns the length of the union of spans.
func unionLength(spans []span) float64 {
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	var total, end float64
	first := true
	for _, s := range spans {
		switch {
		case first || s.start >= end:
			total += s.end - s.start
			end = s.end
			first = false
		case s.end > end:
			total += s.end - end
			end = s.end
		}
	}
	return total
}
