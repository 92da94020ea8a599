package hark

import "encoding/json"

// CheckpointKey is the object key of the work an unfinished transcription
// has done so far (Checkpoint). It is removed once the transcript is
// stored, and with the recording's other results when it is erased.
func CheckpointKey(id string) string { return ResultsPrefix + id + "/checkpoint.json" }

// Checkpoint is what a long transcription has recognised so far, kept in
// the store while it runs so that an attempt cut short (a worker stopped
// or killed, its lease taken over) resumes from the chunks already
// recognised instead of starting over.
type Checkpoint struct {
	// Key says what the chunks were made from and how (the recording's
	// content, the engine, its model, its chunking): an engine uses a
	// checkpoint only when the key is the one it would make.
	Key string `json:"key"`
	// Chunks are the recognised chunks' results, in the engine's own
	// form, by the engine's name for each chunk.
	Chunks map[string]json.RawMessage `json:"chunks"`
}
