package hark

import (
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	p := Progress{Done: 12, Total: 64, Seconds: 1800, TotalSeconds: 7200, Started: start}
	if f := p.Fraction(); f != 0.25 {
		t.Errorf("fraction %v, want 0.25 (by seconds of audio)", f)
	}
	left, ok := p.Left(start.Add(10 * time.Minute)) // a quarter in ten minutes: thirty to go
	if !ok || left != 30*time.Minute {
		t.Errorf("left %v %v, want 30m", left, ok)
	}
	if _, ok := (Progress{Total: 64, Started: start}).Left(start.Add(time.Minute)); ok {
		t.Error("a time left before anything is done")
	}
	if f := (Progress{Done: 3, Total: 4}).Fraction(); f != 0.75 {
		t.Errorf("fraction by chunks %v", f)
	}
	for d, want := range map[time.Duration]string{40 * time.Second: "40 s", 8 * time.Minute: "8 min", 80 * time.Minute: "1 h 20 min"} {
		if got := roughDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
	p.Started = time.Now().Add(-10 * time.Minute)
	if s := p.String(); s != "12 of 64 chunks (25%), about 30 min left" {
		t.Errorf("%q", s)
	}
}
