package transcribe

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// countingRec recognises a chunk as its own number, and counts the chunk
// files on disk each time it is asked.
type countingRec struct {
	dir   string
	mu    sync.Mutex
	most  int
	calls int
}

func (c *countingRec) recognize(ctx context.Context, j chunkJob) (chunkResult, error) {
	files, _ := filepath.Glob(filepath.Join(c.dir, "hark-audio-*", "*.wav"))
	c.mu.Lock()
	c.most = max(c.most, len(files))
	c.calls++
	c.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // slower than preparing: the gate has to hold it back
	return chunkResult{segments: []hark.Segment{{Start: 0, End: j.Duration, Text: fmt.Sprintf("chunk %d.", j.index)}}}, nil
}

// A recording's scratch space is a few chunks however long it is: the
// chunks are recognised as they are made and each file goes when it is
// done; the transcript has every chunk, in order, and nothing is left.
func TestScratchSpaceBounded(t *testing.T) {
	dir := t.TempDir()
	rec := &countingRec{dir: dir}
	e := &speechEngine{name: "counting", rec: rec, concurrency: 2, log: slog.New(slog.DiscardHandler),
		prep: PrepareConfig{MaxChunkDuration: time.Second, Dir: dir}}
	in := input("m.wav", "", wordsAudio(monologue(60), 1, 70)) // 70 s: about 70 one-second chunks
	tr, err := e.transcribe(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if rec.calls < 50 {
		t.Fatalf("%d chunks recognised: the test wants many", rec.calls)
	}
	if limit := 2*runLength + 2; rec.most > limit {
		t.Errorf("%d chunk files on disk at once, want at most %d", rec.most, limit)
	}
	prev := -1.0
	for _, s := range tr.Segments {
		if s.Start < prev {
			t.Errorf("segments out of order at %.2f", s.Start)
		}
		prev = s.Start
	}
	if len(tr.Segments) != rec.calls {
		t.Errorf("%d segments for %d chunks", len(tr.Segments), rec.calls)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*", "*")); len(files) != 0 {
		t.Errorf("left behind: %v", files)
	}
	t.Logf("%d chunks, at most %d on disk at once", rec.calls, rec.most)
}

// scratchRec is a recogniser slower than the preparation, as real ones are
// (it takes a minute per hour of audio; PocketSphinx takes ten on two
// cores), so that the preparation waits at the gate, the worst case for
// scratch space. It measures the chunk files on disk each time it is asked.
type scratchRec struct {
	dir         string
	mu          sync.Mutex
	files       int
	bytes, seen int64
}

func (s *scratchRec) recognize(ctx context.Context, j chunkJob) (chunkResult, error) {
	files, _ := filepath.Glob(filepath.Join(s.dir, "hark-audio-*", "*.wav"))
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	s.mu.Lock()
	s.files, s.bytes = max(s.files, len(files)), max(s.bytes, n)
	if fi, err := os.Stat(j.Path); err == nil {
		s.seen += fi.Size()
	}
	s.mu.Unlock()
	select {
	case <-time.After(time.Duration(j.Duration * float64(time.Second) / 60)):
	case <-ctx.Done():
		return chunkResult{}, ctx.Err()
	}
	return chunkResult{segments: []hark.Segment{{Start: 0, End: j.Duration, Text: "."}}}, nil
}

// BenchmarkScratchSpace is the scratch space a long recording takes while
// it is transcribed: the most chunk files, and bytes, on disk at once,
// against all the chunks recognised (all of which were written at the start before chunks were
// made as needed), with each engine's chunking and concurrency.
//
//	HARK_BENCH_WAV=/tmp/hark-meeting-2h.wav go test -run '^$' -bench ScratchSpace -benchtime 1x ./transcribe/
func BenchmarkScratchSpace(b *testing.B) {
	file := os.Getenv("HARK_BENCH_WAV")
	if file == "" {
		b.Skip("set HARK_BENCH_WAV to a WAV file; bench/audio/run.sh makes a two-hour one")
	}
	for _, eng := range []struct {
		name        string
		concurrency int
		prep        PrepareConfig
	}{
		{"sphinx", 2, PrepareConfig{MaxChunkDuration: 2 * time.Minute}}, // its defaults on two cores
		{"openai", 4, PrepareConfig{}},                                  // 25 MB chunks, four requests at once
	} {
		b.Run(eng.name, func(b *testing.B) {
			for b.Loop() {
				dir := b.TempDir()
				rec := &scratchRec{dir: dir}
				eng.prep.Dir = dir
				e := &speechEngine{name: eng.name, rec: rec, concurrency: eng.concurrency, log: slog.New(slog.DiscardHandler), prep: eng.prep}
				f, err := os.Open(file)
				if err != nil {
					b.Fatal(err)
				}
				in := hark.EngineInput{Recording: &hark.Recording{ID: "rec_bench", Key: "bench/" + filepath.Base(file)}, Audio: f}
				_, err = e.transcribe(context.Background(), in)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(rec.files), "peak-chunk-files")
				b.ReportMetric(float64(rec.bytes)/1e6, "peak-scratch-MB")
				b.ReportMetric(float64(rec.seen)/1e6, "recognised-chunks-MB")
			}
		})
	}
}
