package hark

import "testing"

func TestAudioContentType(t *testing.T) {
	for name, want := range map[string]string{
		"team/a.wav":     "audio/wav",
		"team/B.MP3":     "audio/mpeg",
		"x/call.m4a":     "audio/mp4",
		"x/visit.opus":   "audio/ogg",
		"x/visit.flac":   "audio/flac",
		"x/notes.txt":    "application/octet-stream",
		"x/no-extension": "application/octet-stream",
	} {
		if got := AudioContentType(name); got != want {
			t.Errorf("AudioContentType(%q) = %q, want %q", name, got, want)
		}
	}
}
