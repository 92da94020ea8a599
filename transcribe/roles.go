package transcribe

import (
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
