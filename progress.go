package hark

import (
	"fmt"
	"time"
)

// Progress is how far a recording's long work has got: the chunks of its
// audio recognised of all there are, the seconds of audio they hold, and
// when the work began, from which the time left is estimated.
type Progress struct {
	Stage        Stage     `json:"stage"`
	Done         int       `json:"done"`  // chunks recognised
	Total        int       `json:"total"` // chunks to recognise
	Seconds      float64   `json:"seconds"`
	TotalSeconds float64   `json:"total_seconds"`
	Started      time.Time `json:"started"`
}

// Fraction is the share done, 0 to 1, by seconds of audio when known.
func (p Progress) Fraction() float64 {
	switch {
	case p.TotalSeconds > 0:
		return min(1, p.Seconds/p.TotalSeconds)
	case p.Total > 0:
		return min(1, float64(p.Done)/float64(p.Total))
	}
	return 0
}

// Left estimates the time left at now from the pace so far; false until
// something is done.
func (p Progress) Left(now time.Time) (time.Duration, bool) {
	f := p.Fraction()
	elapsed := now.Sub(p.Started)
	if f <= 0 || elapsed <= 0 {
		return 0, false
	}
	return time.Duration(float64(elapsed) * (1 - f) / f), true
}

// String is the progress in words: "12 of 64 chunks (19%), about 8 min left".
func (p Progress) String() string {
	s := fmt.Sprintf("%d of %d chunks (%.0f%%)", p.Done, p.Total, 100*p.Fraction())
	if left, ok := p.Left(time.Now()); ok && p.Done < p.Total {
		s += ", about " + roughDuration(left) + " left"
	}
	return s
}

// roughDuration is d as a person says it: "40 s", "8 min", "1 h 20 min".
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()+0.5))
	}
	h := int(d.Hours())
	return fmt.Sprintf("%d h %d min", h, int(d.Minutes())-60*h)
}
