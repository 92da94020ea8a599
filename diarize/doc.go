// Package diarize finds who speaks when in a one-microphone recording
// (speaker diarization) and scores the result.
//
// The speaker turns of a recording are Turns, in seconds from its start. The
// reference and hypothesis files of an evaluation are read and written as
// NIST RTTM (ReadRTTM, WriteRTTM), the scored regions as UEM (ReadUEM), and
// Score computes the diarization error rate as NIST md-eval does: overlapped
// speech scored, an optional no-score collar around reference boundaries,
// and a one-to-one speaker mapping that is optimal for each recording
// (MapSpeakers).
package diarize
