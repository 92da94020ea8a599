package transcribe

import (
	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// SpeakersFromAudio gives segments without speakers the speakers a
// diarization found and guesses their roles, as the speech engines do for
// a one-microphone recording: for the external tests.
func SpeakersFromAudio(segs []hark.Segment, res *diarize.Diarization) ([]hark.Segment, []hark.SpeakerRole) {
	out := assignSpeakers(segs, nil, res.Turns, nil)
	for i := range out {
		out[i].Role = hark.RoleUnknown
	}
	return out, guessRoles(out)
}
