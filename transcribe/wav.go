package transcribe

import (
	"errors"
	"io"

	"github.com/harkworks/hark"
)

// InspectWAV reads a WAV stream to its end without holding it in memory,
// checks that it is well formed, and returns its format and duration. name is
// used in error messages. Errors are EINVALID with a message that says what
// is wrong and what to do, or EUNAVAILABLE when the stream fails.
func InspectWAV(name string, r io.Reader) (hark.AudioInfo, error) {
	w, err := NewWAVReader(name, r)
	if err != nil {
		return hark.AudioInfo{}, err
	}
	if err := w.skip(); !errors.Is(err, io.EOF) {
		return hark.AudioInfo{}, err
	}
	info := w.Info()
	info.DurationSeconds = float64(w.Frames()) / float64(info.SampleRate)
	_, _ = io.Copy(io.Discard, r) // trailing chunks (LIST, id3) are allowed
	return info, nil
}
