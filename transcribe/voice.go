package transcribe

import (
	"encoding/json"
	"log/slog"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// minVoiceConfidence is the least confidence of a voice match that makes a
// speaker the worker; below it the words decide.
const minVoiceConfidence = 0.3

// workerByVoice finds, among the speakers a diarization found, the one with
// the worker's learned voice (stored, as EngineInput.WorkerVoice), and
// makes their segments the worker's. It returns that speaker's role, or
// false when no speaker has the voice or the voice cannot be read (then
// the roles are left to the words).
func workerByVoice(segs []hark.Segment, res *diarize.Diarization, stored []byte, log *slog.Logger) (hark.SpeakerRole, bool) {
	if len(stored) == 0 || res == nil || len(res.Voices) == 0 {
		return hark.SpeakerRole{}, false
	}
	var voice diarize.Voice
	if err := json.Unmarshal(stored, &voice); err != nil {
		log.Warn("the worker's learned voice cannot be read; roles are guessed from the words", "err", err)
		return hark.SpeakerRole{}, false
	}
	label, conf := diarize.MatchVoice(voice, res.Voices)
	if label == "" || conf < minVoiceConfidence {
		log.Info("no speaker has the worker's learned voice; roles are guessed from the words")
		return hark.SpeakerRole{}, false
	}
	name := speakerName(label)
	for i := range segs {
		if segs[i].Speaker == name {
			segs[i].Role = hark.RoleWorker
		}
	}
	log.Info("the worker told by voice", "speaker", name, "confidence", conf)
	return hark.SpeakerRole{Speaker: name, Role: hark.RoleWorker, Confidence: conf, Source: hark.RoleFromVoice}, true
}
