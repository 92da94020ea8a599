package transcribe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// Defaults of the sphinx engine: Debian's pocketsphinx and
// pocketsphinx-en-us packages.
const (
	DefaultSphinxProgram  = "pocketsphinx_continuous"
	DefaultSphinxModelDir = "/usr/share/pocketsphinx/model/en-us"
)

// SphinxConfig configures the sphinx engine: offline speech recognition
// with CMU PocketSphinx. It needs no network and no key, and its accuracy
// is low: use it to try hark out, not for research.
type SphinxConfig struct {
	// Program is the pocketsphinx_continuous program, a name looked up on
	// PATH or a path; empty means DefaultSphinxProgram.
	Program string
	// ModelDir holds the acoustic model (en-us/), the language model
	// (en-us.lm.bin) and the dictionary (cmudict-en-us.dict); empty means
	// DefaultSphinxModelDir, where pocketsphinx-en-us installs them.
	ModelDir string
	// Concurrency is how many recognisers run at once for one recording;
	// 0 means one per CPU.
	Concurrency int
	// ChunkDuration is the longest piece of audio given to one recogniser;
	// 0 means 2 minutes. Shorter pieces spread a recording over more CPUs.
	ChunkDuration time.Duration
	// TempDir is where audio chunks are written; "" means the system's.
	TempDir string
	// Logger logs progress, never transcript text; nil means slog.Default().
	Logger *slog.Logger
}

// Sphinx is the sphinx engine.
type Sphinx struct {
	cfg           SphinxConfig
	program       string
	hmm, lm, dict string
	speech        speechEngine
}

var _ hark.Engine = (*Sphinx)(nil)

// NewSphinx returns a sphinx engine after checking that the program and the
// model are installed. Errors are EUNAVAILABLE and say what to install.
func NewSphinx(cfg SphinxConfig) (*Sphinx, error) {
	if cfg.Program == "" {
		cfg.Program = DefaultSphinxProgram
	}
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultSphinxModelDir
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	if cfg.ChunkDuration == 0 {
		cfg.ChunkDuration = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Concurrency < 1 || cfg.ChunkDuration < time.Second {
		return nil, hark.Errorf(hark.EINVALID, "sphinx engine: concurrency must be positive and chunks at least a second long")
	}
	program, err := exec.LookPath(cfg.Program)
	if err != nil {
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "sphinx engine: %s is not installed: install Debian's pocketsphinx and pocketsphinx-en-us packages (apt-get install pocketsphinx pocketsphinx-en-us), set HARK_SPHINX_PROGRAM, or point hark at a Whisper server with HARK_OPENAI_BASE_URL (see docs/engines.md)", cfg.Program)
	}
	s := &Sphinx{
		cfg:     cfg,
		program: program,
		hmm:     filepath.Join(cfg.ModelDir, "en-us"),
		lm:      filepath.Join(cfg.ModelDir, "en-us.lm.bin"),
		dict:    filepath.Join(cfg.ModelDir, "cmudict-en-us.dict"),
	}
	for _, p := range []string{filepath.Join(s.hmm, "mdef"), s.lm, s.dict} {
		if _, err := os.Stat(p); err != nil {
			return nil, hark.WrapError(hark.EUNAVAILABLE, err, "sphinx engine: the PocketSphinx US English model is not in %s: install Debian's pocketsphinx-en-us package or set HARK_SPHINX_MODEL_DIR", cfg.ModelDir)
		}
	}
	s.speech = speechEngine{
		name: "sphinx", model: "pocketsphinx-en-us", rec: s, concurrency: cfg.Concurrency, log: cfg.Logger,
		prep: PrepareConfig{MaxChunkDuration: cfg.ChunkDuration, Dir: cfg.TempDir},
	}
	return s, nil
}

// Name returns "sphinx".
func (s *Sphinx) Name() string { return "sphinx" }

// Transcribe prepares the recording's audio and recognises its chunks with
// pocketsphinx_continuous, in parallel. With a worker channel in the
// recording's metadata each channel is transcribed on its own and the
// turns are merged by time. Errors: EINVALID for audio hark cannot read,
// EINTERNAL when the recogniser fails, EUNAVAILABLE when stopped.
func (s *Sphinx) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	t, err := s.speech.transcribe(ctx, in)
	if err != nil {
		return nil, err
	}
	t.Language = "en"
	return t, nil
}

// recognize runs the recogniser on one chunk and reads its word times.
func (s *Sphinx) recognize(ctx context.Context, j chunkJob) (chunkResult, error) {
	cmd := exec.CommandContext(ctx, s.program,
		"-infile", j.Path, "-time", "yes",
		"-hmm", s.hmm, "-lm", s.lm, "-dict", s.dict)
	var stdout bytes.Buffer
	stderr := &errorLines{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	ownGroup(cmd)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return chunkResult{}, hark.WrapError(hark.EUNAVAILABLE, ctx.Err(), "transcribe %s: stopped", j.name)
		}
		// stderr holds the recogniser's log, never the transcript, which
		// goes to stdout; only its ERROR and FATAL lines are kept.
		return chunkResult{}, hark.WrapError(hark.EINTERNAL, errors.New(stderr.String()), "%s failed on %s (%v)", filepath.Base(s.program), j.describe(), err)
	}
	segs, words := parseSphinx(stdout.Bytes())
	return chunkResult{segments: segs, words: words}, nil
}

// parseSphinx reads pocketsphinx_continuous -time yes output: for each
// utterance a line with its text, then one line per word with its start,
// end and posterior probability. Each utterance becomes a segment, and each
// word keeps its times; silences, noises and sentence markers are left out.
func parseSphinx(out []byte) ([]hark.Segment, []spokenWord) {
	var (
		segs  []hark.Segment
		words []spokenWord
		cur   *hark.Segment
		conf  float64
		n     int
	)
	end := func() {
		if cur != nil && n > 0 {
			cur.Confidence = clamp(conf/float64(n), 0, 1)
			segs = append(segs, *cur)
		}
		cur, conf, n = nil, 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			continue // an utterance's text line
		}
		start, err1 := strconv.ParseFloat(f[1], 64)
		stop, err2 := strconv.ParseFloat(f[2], 64)
		p, err3 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue // a four-word text line
		}
		w := f[0]
		switch {
		case w == "<s>":
			end()
			continue
		case w == "</s>":
			end()
			continue
		case w == "<sil>" || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "++") || strings.HasPrefix(w, "<"):
			continue
		}
		if i := strings.IndexByte(w, '('); i > 0 { // an alternative pronunciation: "the(2)"
			w = w[:i]
		}
		if cur == nil {
			cur = &hark.Segment{Start: start}
		} else {
			cur.Text += " "
		}
		cur.Text += w
		cur.End = stop
		conf += p
		n++
		words = append(words, spokenWord{Start: start, End: stop, Text: w})
	}
	end()
	return segs, words
}

// errorLines keeps the ERROR and FATAL lines of a PocketSphinx log, up to
// a few.
type errorLines struct {
	partial []byte
	lines   []string
}

// Write takes more of the log.
func (e *errorLines) Write(p []byte) (int, error) {
	e.partial = append(e.partial, p...)
	for {
		i := bytes.IndexByte(e.partial, '\n')
		if i < 0 {
			break
		}
		line := string(e.partial[:i])
		if (strings.HasPrefix(line, "ERROR") || strings.HasPrefix(line, "FATAL")) && len(e.lines) < 5 {
			e.lines = append(e.lines, line)
		}
		e.partial = e.partial[i+1:]
	}
	if len(e.partial) > 4096 { // an overlong line: not worth keeping
		e.partial = e.partial[:0]
	}
	return len(p), nil
}

// String returns the error lines kept, joined.
func (e *errorLines) String() string {
	if len(e.lines) == 0 {
		return "no error message"
	}
	return strings.Join(e.lines, "; ")
}
