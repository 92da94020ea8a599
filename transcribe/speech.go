package transcribe

import (
	"context"
	"log/slog"
	"math"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/sync/errgroup"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/diarize"
)

// recognizer turns one chunk of 16 kHz mono audio into segments timed from
// the chunk's start. prompt is what was said just before the chunk, or "".
// Errors are *hark.Error values.
type recognizer interface {
	recognize(ctx context.Context, c chunkJob) (chunkResult, error)
}

// chunkJob is one chunk to recognise and where it sits.
type chunkJob struct {
	Chunk
	name   string // the recording's file name, for messages
	track  int    // index into Prepared.Tracks
	index  int    // index into the track's chunks
	prompt string
}

// describe names the chunk for messages: "chunk 3 (0:26:00–0:39:01) of
// meeting.wav" (the chunks are recognised as they are made, so how many
// there will be is not known yet).
func (j chunkJob) describe() string {
	return "chunk " + strconv.Itoa(j.index+1) + " (" + formatDuration(j.Start) + "–" + formatDuration(j.Start+j.Duration) + ") of " + j.name
}

// chunkResult is what a recognizer made of a chunk.
type chunkResult struct {
	segments []hark.Segment // times from the chunk's start; Speaker the engine's label, if any; Role unset
	words    []spokenWord   // the words' times, from the chunk's start, when the engine gives them
	language string
	prompt   string // the prompt the chunk was recognised with
	done     bool   // false for a chunk that was not recognised (silent)
}

// speechEngine is what the speech recognition engines share: it prepares
// the audio (one track per channel when the upload says which channel is
// the worker's), recognises the chunks with bounded concurrency, stitches
// the segments back with each chunk's offset, and merges the channels'
// turns by time.
type speechEngine struct {
	name, model string
	rec         recognizer
	prep        PrepareConfig
	concurrency int
	prompt      string // the configured prompt, put before the carried words
	carry       bool   // carry the previous chunk's last words as the prompt
	log         *slog.Logger
}

// promptWords is how many of the previous chunk's last words are carried
// into the next chunk's prompt.
const promptWords = 40

func (e *speechEngine) transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	if in.Recording == nil || in.Audio == nil {
		return nil, hark.Errorf(hark.EINTERNAL, "%s engine: no recording or no audio given", e.name)
	}
	name := path.Base(in.Recording.Key)
	worker, err := parseWorkerChannel(name, in.Recording.WorkerChannel)
	if err != nil {
		return nil, err
	}
	prep := e.prep
	prep.Split = worker > 0
	// The downmix (or a mono recording) is also heard by the diarizer, in
	// the same pass, to tell its speakers apart.
	dz := diarize.New(diarize.Config{Speakers: in.Recording.Speakers, Dir: prep.Dir})
	defer dz.Close() // its features' file, if the transcription stops before Result
	prep.Listen = dz.Write
	log := e.log.With("recording", in.Recording.ID, "engine", e.name)

	// The chunks are recognised as they are made, a few ahead of the
	// recognisers, and each file goes as soon as it is recognised: a
	// recording's scratch space is a few files however long it is.
	// Lanes take runs of runLength consecutive chunks in order, so a
	// chunk's prompt can carry the one before's last words; lanes go in
	// parallel.
	cp := newCheckpointer(e.checkpointKey(in.Recording, prep), in.Resume, in.Checkpoint)
	lanes := max(1, e.concurrency)
	gate := NewChunkGate(lanes*runLength + 2)
	prep.Gate = gate
	progress := newProgressCounter(in.Progress)
	prep.OnAudio = func(info hark.AudioInfo) {
		tracks := 1
		if prep.Split && info.Channels > 1 {
			tracks = info.Channels // each channel is chunked and recognised on its own
		}
		progress.start(info.DurationSeconds * float64(tracks))
	}
	g, gctx := errgroup.WithContext(ctx)
	laneIn := make([]chan chunkJob, lanes)
	for l := range laneIn {
		laneIn[l] = make(chan chunkJob, lanes*runLength+2)
	}
	var (
		mu      sync.Mutex
		results = map[[2]int]chunkResult{}
	)
	done := func(j chunkJob, r chunkResult) {
		mu.Lock()
		results[[2]int{j.track, j.index}] = r
		mu.Unlock()
		os.Remove(j.Path)
		gate.Release()
		progress.add(j.Duration)
	}
	prep.OnChunk = func(track, index int, c Chunk) {
		j := chunkJob{Chunk: c, name: name, track: track, index: index}
		if c.Voiced == 0 {
			done(j, chunkResult{}) // silent: nothing to recognise
			return
		}
		select {
		case laneIn[(track+index/runLength)%lanes] <- j:
		case <-gctx.Done():
			done(j, chunkResult{})
		}
	}
	for _, lane := range laneIn {
		g.Go(func() error {
			prevTrack, prevIndex := -1, -1
			var prev []string
			for j := range lane {
				if gctx.Err() != nil {
					done(j, chunkResult{})
					continue // drain, so that the preparation is never stuck
				}
				j.prompt = e.prompt
				if e.carry && j.track == prevTrack && j.index == prevIndex+1 {
					j.prompt = joinPrompt(e.prompt, prev)
				}
				r, ok := cp.take(j) // recognised by an attempt cut short
				if !ok {
					var err error
					if r, err = e.rec.recognize(gctx, j); err != nil {
						done(j, chunkResult{})
						return err
					}
					r.done, r.prompt = true, j.prompt
					cp.keep(j, r)
				}
				prevTrack, prevIndex, prev = j.track, j.index, lastWords(r.segments, promptWords)
				done(j, r)
			}
			return nil
		})
	}
	var p *Prepared
	g.Go(func() error {
		defer func() {
			for _, lane := range laneIn {
				close(lane)
			}
		}()
		var err error
		p, err = Prepare(gctx, name, in.Audio, prep)
		return err
	})
	if err := g.Wait(); err != nil {
		if p != nil {
			p.Remove()
		}
		if ctx.Err() != nil {
			return nil, hark.WrapError(hark.EUNAVAILABLE, ctx.Err(), "transcribe %s: stopped", name)
		}
		return nil, err
	}
	defer p.Remove()
	progress.finish()
	if worker > p.Audio.Channels && p.Audio.Channels > 1 {
		return nil, hark.Errorf(hark.EINVALID, "%s: the upload says the worker is on channel %d, but the recording has %d channels; upload it again with the right --worker-channel", name, worker, p.Audio.Channels)
	}
	if worker > 0 && p.Audio.Channels == 1 {
		log.Warn("the upload names a worker channel but the recording is mono; roles are left unknown", "worker_channel", in.Recording.WorkerChannel)
	}
	voiced := 0
	all := make([][]chunkResult, len(p.Tracks))
	for t, tr := range p.Tracks {
		all[t] = make([]chunkResult, len(tr.Chunks))
		for i, c := range tr.Chunks {
			all[t][i] = results[[2]int{t, i}]
			if c.Voiced > 0 {
				voiced++
			}
		}
	}
	results2 := all
	log.Info("recognised speech in chunks", "tracks", len(p.Tracks), "chunks", voiced, "resumed", cp.resumedChunks(), "seconds", p.Audio.DurationSeconds)

	t := &hark.Transcript{
		Schema:      hark.SchemaVersion,
		RecordingID: in.Recording.ID,
		Engine:      e.name,
		Model:       e.model,
		Audio:       p.Audio,
		Segments:    []hark.Segment{},
	}
	bleed := 0
	var words []spokenWord // the downmix's, to cut its segments between words
	for i, tr := range p.Tracks {
		speaker, role := trackSpeaker(tr.Channel, worker, p.Audio.Channels)
		segs, ws := stitch(tr.Chunks, results2[i])
		if tr.Channel == 0 {
			words = ws
		}
		for _, s := range segs {
			if isBleed(p.Tracks, i, s) {
				bleed++
				continue
			}
			if tr.Channel != 0 { // a channel's speaker is the channel's, whatever the engine said
				s.Speaker = speaker
			}
			s.Role = role
			t.Segments = append(t.Segments, s)
		}
		for _, r := range results2[i] {
			if t.Language == "" && r.language != "" {
				t.Language = r.language
			}
		}
	}
	// Merge the channels' turns by time; cross-talk stays two turns.
	sort.SliceStable(t.Segments, func(a, b int) bool { return t.Segments[a].Start < t.Segments[b].Start })
	for i := range t.Segments {
		t.Segments[i].Index = i
	}
	if len(p.Tracks) == 1 && p.Tracks[0].Channel == 0 {
		t.Segments, t.Speakers = nameSpeakers(t.Segments, words, dz, in.Recording.Speakers, in.WorkerVoice, log)
	} else {
		t.Speakers = &hark.SpeakerInfo{Source: hark.SpeakersChannels, Count: len(p.Tracks), Confidence: 1}
	}
	log.Info("recognised speech", "segments", len(t.Segments), "dropped_as_bleed", bleed)
	return t, nil
}

// bleedDB is how much quieter than another channel a segment's own channel
// must be for the segment to count as that other speaker's voice picked up
// by this microphone. A speaker's own close microphone is usually 15–30 dB
// louder for them than the other's; talking at once keeps both channels
// loud, so cross-talk stays two turns.
const bleedDB = 15

// isBleed reports whether segment s of track i is really another channel's
// speaker heard faintly on this one.
func isBleed(tracks []Track, i int, s hark.Segment) bool {
	if len(tracks) < 2 {
		return false
	}
	own := tracks[i].Level(s.Start, s.End)
	for j, o := range tracks {
		if j != i && own < o.Level(s.Start, s.End)*math.Pow(10, -bleedDB/10.0) {
			return true
		}
	}
	return false
}

// runLength is how many consecutive chunks of a track one lane takes, so
// that each but the first carries its predecessor's words as its prompt.
const runLength = 4

// stitch puts a track's chunk results back on the recording's time line:
// it adds each chunk's offset to its segments and words, keeps them inside
// their chunk, makes the speakers the engine labelled the chunk's
// (engineKey), and drops the words a chunk's first segment repeats from the
// end of its prompt (a recogniser given the previous chunk's last words
// sometimes says them again).
func stitch(chunks []Chunk, results []chunkResult) ([]hark.Segment, []spokenWord) {
	var (
		out   []hark.Segment
		words []spokenWord
	)
	for i, r := range results {
		if !r.done {
			continue
		}
		c := chunks[i]
		at := func(t float64) float64 { return c.Start + clamp(t, 0, c.Duration) }
		echo, echoEnd := 0, 0.0 // words of the first segment dropped as an echo of the prompt
		for j, s := range r.segments {
			if j == 0 && s.Start < 2 && r.prompt != "" {
				text := dropRepeated(normWords(strings.Fields(r.prompt)), s.Text)
				echo, echoEnd = len(strings.Fields(s.Text))-len(strings.Fields(text)), s.End
				s.Text = text
			}
			s.Text = strings.TrimSpace(s.Text)
			if s.Text == "" {
				continue
			}
			s.Start, s.End = at(s.Start), at(s.End)
			if s.End < s.Start {
				s.End = s.Start
			}
			s.Speaker = engineKey(i, s.Speaker)
			out = append(out, s)
		}
		for _, w := range r.words {
			if echo > 0 && w.mid() <= echoEnd+wordSlack {
				echo--
				continue
			}
			if w.Text = strings.TrimSpace(w.Text); w.Text == "" {
				continue
			}
			w.Start, w.End = at(w.Start), at(max(w.End, w.Start))
			w.Speaker = engineKey(i, w.Speaker)
			words = append(words, w)
		}
	}
	return out, words
}

// dropRepeated removes from the start of text the longest run of two to
// ten words that ends prev, comparing words without case or punctuation.
// A single repeated word is kept: across a pause that is as likely to be
// speech ("…see you. You know…") as an echo.
func dropRepeated(prev []string, text string) string {
	words := strings.Fields(text)
	norm := normWords(words)
	for k := min(len(prev), len(norm), 10); k > 1; k-- {
		if equalWords(prev[len(prev)-k:], norm[:k]) {
			return strings.Join(words[k:], " ")
		}
	}
	return text
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] || a[i] == "" {
			return false
		}
	}
	return true
}

// normWords lower-cases words and strips what is not a letter or digit.
func normWords(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, w)
	}
	return out
}

// lastWords returns up to n of the last words of segs.
func lastWords(segs []hark.Segment, n int) []string {
	var words []string
	for i := len(segs) - 1; i >= 0 && len(words) < n; i-- {
		w := strings.Fields(segs[i].Text)
		words = append(w[max(0, len(w)-(n-len(words))):], words...)
	}
	return words
}

// joinPrompt is the configured prompt followed by the carried words.
func joinPrompt(prompt string, words []string) string {
	carried := strings.Join(words, " ")
	switch {
	case prompt == "":
		return carried
	case carried == "":
		return prompt
	}
	return prompt + " " + carried
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

// parseWorkerChannel reads Recording.WorkerChannel: "left" (1), "right"
// (2), a 1-based channel number, or "" (0: no channel is the worker's).
func parseWorkerChannel(name, s string) (int, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "":
		return 0, nil
	case "left", "l":
		return 1, nil
	case "right", "r":
		return 2, nil
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxChannels {
			return 0, hark.Errorf(hark.EINVALID, "%s: the worker channel %q is not left, right or a channel number from 1 to %d; upload it again with the right --worker-channel", name, s, maxChannels)
		}
		return n, nil
	}
}

// trackSpeaker names the speaker of a track and their role. A downmix has
// no speaker. With two channels the one that is not the worker's is the
// parent's; with more, the others are named by channel and their role is
// left unknown.
func trackSpeaker(channel, worker, channels int) (string, hark.Role) {
	switch {
	case channel == 0 || worker == 0:
		return "", hark.RoleUnknown
	case channel == worker:
		return "Worker", hark.RoleWorker
	case channels == 2:
		return "Parent", hark.RoleParent
	}
	return "Channel " + strconv.Itoa(channel), hark.RoleUnknown
}

// progressCounter adds up the audio recognised and tells report.
type progressCounter struct {
	mu     sync.Mutex
	p      hark.Progress
	report func(hark.Progress)
}

func newProgressCounter(report func(hark.Progress)) *progressCounter {
	return &progressCounter{report: report, p: hark.Progress{Stage: hark.StageTranscribe, Started: time.Now()}}
}

// start takes the seconds of audio to recognise (the recording's duration
// times its tracks) and reports nothing done yet.
func (c *progressCounter) start(seconds float64) {
	if c.report == nil {
		return
	}
	c.mu.Lock()
	c.p.TotalSeconds = seconds
	p := c.p
	c.mu.Unlock()
	c.report(p)
}

// add counts a chunk done (recognised, or silent and passed over).
func (c *progressCounter) add(seconds float64) {
	if c.report == nil {
		return
	}
	c.mu.Lock()
	c.p.Done++
	c.p.Seconds += seconds
	// The chunks still to come are not known yet: as many, for the audio
	// left, as there were for the audio done.
	c.p.Total = c.p.Done
	// The chunks' durations add up to the total give or take rounding.
	if c.p.Seconds > 0 && c.p.TotalSeconds-c.p.Seconds > 0.01 {
		c.p.Total = max(c.p.Done+1, int(math.Round(float64(c.p.Done)*c.p.TotalSeconds/c.p.Seconds)))
	}
	p := c.p
	c.mu.Unlock()
	c.report(p)
}

// finish reports every chunk done: the audio's seconds are all counted,
// whatever rounding their sum carries.
func (c *progressCounter) finish() {
	if c.report == nil {
		return
	}
	c.mu.Lock()
	c.p.Total = c.p.Done
	c.p.TotalSeconds = max(c.p.TotalSeconds, c.p.Seconds)
	c.p.Seconds = c.p.TotalSeconds
	p := c.p
	c.mu.Unlock()
	c.report(p)
}
