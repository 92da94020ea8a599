package transcribe

import (
	"fmt"
	"log/slog"
	"math"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// minSplitSeconds is the least each side of a change of speaker must last
// for a recognised segment to be cut in two there.
const minSplitSeconds = 0.8

// speakerName is what a transcript calls diarization's speaker S<n>.
func speakerName(label string) string {
	return "Speaker " + strings.TrimPrefix(label, "S")
}

// assignSpeakers names the speaker of each recognised segment from the
// diarized turns: the one who talks most in the segment's time. A segment
// that runs across a change of speaker, with at least minSplitSeconds on
// each side, is cut there, its words shared out in proportion to the time
// on each side (the engines give segment times, not word times).
func assignSpeakers(segs []hark.Segment, turns []diarize.Turn) []hark.Segment {
	var out []hark.Segment
	for _, s := range segs {
		parts := speakerRuns(turns, s.Start, s.End)
		if len(parts) == 0 {
			s.Speaker = nearestSpeaker(turns, s.Start, s.End)
			out = append(out, s)
			continue
		}
		words := strings.Fields(s.Text)
		total := s.End - s.Start
		used := 0
		for i, p := range parts {
			piece := s
			piece.Start, piece.End, piece.Speaker = p.Start, p.End, speakerName(p.Speaker)
			n := len(words) - used
			if i < len(parts)-1 && total > 0 {
				n = int(math.Round(float64(len(words)) * (p.End - s.Start) / total))
				n = max(min(n, len(words)), used) - used
			}
			piece.Text = strings.Join(words[used:used+n], " ")
			used += n
			if piece.Text != "" {
				out = append(out, piece)
			}
		}
	}
	for i := range out {
		out[i].Index = i
	}
	return out
}

// nearestMaxGap is how far from a turn a segment the diarizer heard no
// speech in may be and still count as that turn's speaker's.
const nearestMaxGap = 2.0

// nearestSpeaker is the speaker of the turn nearest to [start, end), if
// one is within nearestMaxGap, else "".
func nearestSpeaker(turns []diarize.Turn, start, end float64) string {
	best, name := nearestMaxGap, ""
	for _, t := range turns {
		gap := max(t.Start-end, start-t.End)
		if gap <= best {
			best, name = gap, speakerName(t.Speaker)
		}
	}
	return name
}

// speakerRuns is who speaks in [start, end): the stretches of one speaker
// each, at least minSplitSeconds long (shorter ones go to the speaker
// beside them who talks most), covering start to end.
func speakerRuns(turns []diarize.Turn, start, end float64) []diarize.Turn {
	// Talk per speaker, in order of first appearance within the window.
	var runs []diarize.Turn
	for _, t := range turns {
		lo, hi := max(t.Start, start), min(t.End, end)
		if hi <= lo {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].Speaker == t.Speaker {
			runs[n-1].End = hi
			continue
		}
		runs = append(runs, diarize.Turn{Start: lo, End: hi, Speaker: t.Speaker})
	}
	if len(runs) == 0 {
		return nil
	}
	// Absorb short runs into the longer neighbour, then merge neighbours
	// of one speaker, until every run is long enough or one is left.
	for len(runs) > 1 {
		short := -1
		for i, r := range runs {
			if r.End-r.Start < minSplitSeconds && (short < 0 || r.End-r.Start < runs[short].End-runs[short].Start) {
				short = i
			}
		}
		if short < 0 {
			break
		}
		into := short - 1
		if into < 0 || (short+1 < len(runs) && runs[short+1].End-runs[short+1].Start > runs[into].End-runs[into].Start) {
			into = short + 1
		}
		if into < short {
			runs[into].End = runs[short].End
		} else {
			runs[into].Start = runs[short].Start
		}
		runs = append(runs[:short], runs[short+1:]...)
		for i := 1; i < len(runs); {
			if runs[i].Speaker == runs[i-1].Speaker {
				runs[i-1].End = runs[i].End
				runs = append(runs[:i], runs[i+1:]...)
				continue
			}
			i++
		}
	}
	runs[0].Start, runs[len(runs)-1].End = start, end
	for i := 1; i < len(runs); i++ {
		runs[i].Start = runs[i-1].End
	}
	return runs
}

// diarizeSafely returns d's result, or the reason it has none: a failure
// of diarization (even a panic) must never lose the transcript.
func diarizeSafely(d *diarize.Diarizer, log *slog.Logger) (res *diarize.Diarization, problem string) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("diarization failed", "panic", fmt.Sprint(r))
			res, problem = nil, "telling the speakers apart failed (an internal error); the speakers are unknown"
		}
	}()
	res, err := d.Result()
	if err != nil {
		log.Warn("diarization failed", "err", err)
		return nil, "telling the speakers apart failed: " + hark.ErrorMessage(err) + "; the speakers are unknown"
	}
	return res, ""
}
