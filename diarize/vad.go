package diarize

import (
	"slices"
)

// VAD settings, in frames (10 ms).
const (
	vadSmooth     = 15 // a majority over ±15 frames (0.3 s)
	vadMinSpeech  = 20 // speech runs shorter than 0.2 s are dropped
	vadMinSilence = 30 // pauses shorter than 0.3 s are bridged
)

// speechFrames marks each frame as speech or not from its log energy: a
// frame is speech when it is louder than a threshold between the
// recording's noise floor (its quiet tenth) and its speech level (its loud
// twentieth), set by share (0: the floor, 1: the speech level). Single loud
// or quiet frames are smoothed away, short pauses bridged, and blips
// dropped.
func speechFrames(energy []float32, share float64) []bool {
	n := len(energy)
	out := make([]bool, n)
	if n == 0 {
		return out
	}
	sorted := slices.Clone(energy)
	slices.Sort(sorted)
	floor := float64(sorted[n/10])
	level := float64(sorted[min(n-1, n*95/100)])
	if level-floor < 2 { // under 9 dB of range: silence, or a constant hum
		return out
	}
	thr := float32(floor + share*(level-floor))
	raw := make([]int32, n+1) // prefix sums of loud frames
	for i, e := range energy {
		raw[i+1] = raw[i]
		if e > thr {
			raw[i+1]++
		}
	}
	for i := range out {
		lo, hi := max(0, i-vadSmooth), min(n, i+vadSmooth+1)
		out[i] = 2*int(raw[hi]-raw[lo]) > hi-lo
	}
	fillRuns(out, false, vadMinSilence, true)
	fillRuns(out, true, vadMinSpeech, false)
	return out
}

// fillRuns sets to `to` every run of `of` shorter than minLen frames that
// lies between two runs of the other value (or, for speech blips, anywhere).
func fillRuns(x []bool, of bool, minLen int, inner bool) {
	for i := 0; i < len(x); {
		if x[i] != of {
			i++
			continue
		}
		j := i
		for j < len(x) && x[j] == of {
			j++
		}
		if j-i < minLen && (!inner || (i > 0 && j < len(x))) {
			for k := i; k < j; k++ {
				x[k] = !of
			}
		}
		i = j
	}
}

// runs returns the [start, end) frame ranges where x is true.
func runs(x []bool) [][2]int {
	var out [][2]int
	for i := 0; i < len(x); {
		if !x[i] {
			i++
			continue
		}
		j := i
		for j < len(x) && x[j] {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}
