package transcribe

import "testing"

func TestBestCut(t *testing.T) {
	// v: voiced frame, s: silent frame; a cut at n falls between frames
	// n-1 and n.
	frames := func(s string) []bool {
		out := make([]bool, 0, len(s))
		for _, c := range s {
			out = append(out, c == 'v')
		}
		return out
	}
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 's'
		}
		return string(b)
	}
	tests := []struct {
		name   string
		frames string
		want   int
	}{
		{"no silence: cut at the end", "vvvvvv", 6},
		{"one short silence", "vvsvvv", 2},
		{"longest short silence", "vsvvssvsv", 5},
		{"latest long pause beats a longer earlier one", "v" + long(40) + "vvv" + long(26) + "vv", 1 + 40 + 3 + 13},
		{"a long pause beats a later short one", "v" + long(30) + "vvsvv", 1 + 15},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		if got := bestCut(frames(tt.frames)); got != tt.want {
			t.Errorf("%s: bestCut(%s) = %d, want %d", tt.name, tt.frames, got, tt.want)
		}
	}
}
