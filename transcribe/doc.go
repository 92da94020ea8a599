// Package transcribe turns recordings into transcripts.
//
// Audio is read once, as a stream (WAVReader): PCM WAV of any common
// layout, checked as it goes, with errors that name the file and say what
// to do. Prepare downmixes or splits the channels, resamples to 16 kHz
// through polyphase anti-aliasing filters and cuts the result at silences
// into chunks under a byte and duration limit, all in one pass whose memory
// does not grow with the recording's length.
//
// Engines (hark.Engine) make transcripts from the chunks: OpenAI speaks
// OpenAI's speech-to-text API, hosted or self-hosted (Whisper servers);
// Sphinx runs CMU PocketSphinx offline. Both transcribe each channel on its
// own when the upload says which channel is the worker's, and merge the
// turns by time. In a one-microphone recording the speakers an engine gives
// (a diarizing model, a WhisperX-based server) are kept, matched across
// chunks by voice; else hark's own diarization (package diarize) tells them
// apart, and a recognised segment is cut between words where its speaker
// changes. A transcript uploaded next to the recording (WebVTT, SRT or
// hark JSON) is used instead of recognition. Service picks the engine for
// each recording; NewEngine and FromEnv build engines from configuration.
//
// hark reads WAV itself rather than through github.com/go-audio/wav, whose
// Decoder needs an io.ReadSeeker (and seeks backwards over chunks that come
// before fmt), decodes one sample at a time and has no float formats; the
// tests use go-audio/wav as an independent decoder to check hark's reader
// and the chunks it writes. See docs/benchmarks.md for the figures.
package transcribe
