package diarize

import (
	"os"
	"testing"
)

func TestFeatureStoreFile(t *testing.T) {
	dir := t.TempDir()
	s, err := newFeatureStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5*pageFrames + 123 // more pages than it keeps in memory
	v := make([]float32, Dims)
	for f := range n {
		for d := range v {
			v[d] = float32(f*Dims + d)
		}
		s.add(v)
	}
	held := 0
	for _, p := range s.pages {
		if p != nil {
			held++
		}
	}
	if held > cachedPages {
		t.Errorf("%d pages in memory, want at most %d", held, cachedPages)
	}
	// Change every frame, in order, as standardising does; then read them
	// back out of order.
	for f := range n {
		s.frame(f)[0] = -float32(f)
		s.set(f)
	}
	for _, f := range []int{n - 1, 0, 3*pageFrames + 7, pageFrames - 1, pageFrames, 2 * pageFrames, n - 124} {
		x := s.frame(f)
		if x[0] != -float32(f) || x[Dims-1] != float32(f*Dims+Dims-1) {
			t.Fatalf("frame %d reads %v…%v", f, x[0], x[Dims-1])
		}
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	s.close()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the features file stays after close: %v", entries)
	}
}

// A diarizer that keeps its features in a file finds what one that keeps
// them in memory does, and leaves no file behind.
func TestDiarizeWithFile(t *testing.T) {
	two := [][2]float64{{0, 30}, {1, 25}, {0, 35}, {1, 40}, {0, 20}} // 2.5 minutes: several pages
	x, _ := meeting([]voice{low, high}, two, 0.6, 9)
	run := func(dir string) *Diarization {
		d := New(Config{Dir: dir})
		for i := 0; i < len(x); i += 4096 {
			d.Write(x[i:min(len(x), i+4096)])
		}
		res, err := d.Result()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	dir := t.TempDir()
	mem, file := run(""), run(dir)
	if len(mem.Turns) != len(file.Turns) || mem.Speakers != file.Speakers || mem.Speakers != 2 {
		t.Fatalf("in memory %d speakers %d turns; with a file %d speakers %d turns", mem.Speakers, len(mem.Turns), file.Speakers, len(file.Turns))
	}
	for i := range mem.Turns {
		if mem.Turns[i] != file.Turns[i] {
			t.Fatalf("turn %d: %+v in memory, %+v with a file", i, mem.Turns[i], file.Turns[i])
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left in the work dir: %v", entries)
	}
}
