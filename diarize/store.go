package diarize

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// pageFrames is how many frames one page of features holds: a minute.
const pageFrames = 6000

// cachedPages is how many pages a store with a file keeps in memory: the
// passes over the features read them in order, so a few suffice.
const cachedPages = 4

// featureStore holds Dims values a frame in pages of a minute each. In
// memory it grows by a page at a time instead of by copying itself into
// ever larger arrays. With a file, full pages are written out and only a
// few are kept in memory, so that memory stays flat however long the
// recording (80 bytes a frame, 29 MB an hour, go to the file instead).
type featureStore struct {
	pages [][]float32 // nil for a page that is only in the file
	dirty []bool
	used  []int64 // when each page was last touched, for eviction
	clock int64
	n     int // frames
	file  *os.File
	buf   []byte
	err   error // the first failure to read or write the file
}

// newFeatureStore returns a store that keeps its pages in a file in dir,
// or in memory when dir is "".
func newFeatureStore(dir string) (*featureStore, error) {
	s := &featureStore{}
	if dir == "" {
		return s, nil
	}
	f, err := os.CreateTemp(dir, "diarize-*.features")
	if err != nil {
		return nil, fmt.Errorf("create a features file in %s: %w", dir, err)
	}
	s.file = f
	s.buf = make([]byte, pageFrames*Dims*4)
	return s, nil
}

// close removes the file, if there is one.
func (s *featureStore) close() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
		s.file = nil
	}
}

// add appends one frame's values.
func (s *featureStore) add(v []float32) {
	p := s.n / pageFrames
	if p == len(s.pages) {
		s.pages = append(s.pages, make([]float32, 0, pageFrames*Dims))
		s.dirty = append(s.dirty, true)
		s.used = append(s.used, 0)
		s.evict(p)
	}
	s.pages[p] = append(s.pages[p], v...)
	s.n++
}

// frame returns frame f's values, to read; change them only through
// set, so that a page in a file is written back.
func (s *featureStore) frame(f int) []float32 {
	p := s.page(f / pageFrames)
	i := (f % pageFrames) * Dims
	return p[i : i+Dims]
}

// set marks frame f's page as changed, for a store with a file.
func (s *featureStore) set(f int) { s.dirty[f/pageFrames] = true }

// frames is how many frames the store holds.
func (s *featureStore) frames() int { return s.n }

// page returns page p, reading it from the file if it was evicted.
func (s *featureStore) page(p int) []float32 {
	s.clock++
	s.used[p] = s.clock
	if s.pages[p] != nil {
		return s.pages[p]
	}
	s.evict(p)
	frames := pageFrames
	if p == s.n/pageFrames {
		frames = s.n % pageFrames
	}
	page := make([]float32, frames*Dims)
	b := s.buf[:len(page)*4]
	if _, err := s.file.ReadAt(b, int64(p)*int64(len(s.buf))); err != nil && err != io.EOF && s.err == nil {
		s.err = fmt.Errorf("read the features file: %w", err)
	}
	for i := range page {
		page[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	s.pages[p] = page
	s.dirty[p] = false
	return page
}

// evict writes out and drops the least recently used pages, other than
// keep, until at most cachedPages-1 others are in memory.
func (s *featureStore) evict(keep int) {
	if s.file == nil {
		return
	}
	for {
		held, old := 0, -1
		for i, pg := range s.pages {
			if pg == nil || i == keep {
				continue
			}
			held++
			if old < 0 || s.used[i] < s.used[old] {
				old = i
			}
		}
		if held < cachedPages {
			return
		}
		if s.dirty[old] {
			pg := s.pages[old]
			b := s.buf[:len(pg)*4]
			for i, v := range pg {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
			}
			if _, err := s.file.WriteAt(b, int64(old)*int64(len(s.buf))); err != nil && s.err == nil {
				s.err = fmt.Errorf("write the features file: %w", err)
			}
		}
		s.pages[old] = nil
	}
}
