package transcribe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/harkworks/hark"
)

// DefaultFFmpegProgram is the program that decodes the audio formats hark
// does not read natively: Debian's ffmpeg package.
const DefaultFFmpegProgram = "ffmpeg"

// sniffHead is how many of a recording's first bytes are read to tell its
// format: enough for an ID3 tag's header, an MP3 frame with its Xing/Info
// header, or FLAC's STREAMINFO.
const sniffHead = 4096

// Audio is a recording opened for the preparation path: a WAV stream, read
// natively for WAV files (PCM, float, µ-law, A-law, RF64) and decoded by
// ffmpeg, streaming, for everything else. Close stops the decoder.
type Audio struct {
	// Reader is the WAV stream.
	io.Reader
	// Format names the container as uploaded when it is not WAV ("mp3",
	// "flac", "ogg", "m4a/mp4", …), or "" for a WAV file.
	Format string
	dec    *ffmpegDecoder
	meter  *bandMeter // the WAVReader reading this stream measures its band
}

// Band returns BandTelephone when the audio read so far is telephone-band
// (8 kHz or less, or almost nothing above 4 kHz), else "".
func (a *Audio) Band() string { return a.meter.band() }

// Close stops the decoder, if one runs, and waits for it.
func (a *Audio) Close() error {
	if a == nil || a.dec == nil {
		return nil
	}
	return a.dec.close()
}

// OpenAudio sniffs the recording r by its content, not its name, and
// returns it as a WAV stream: r itself for a WAV file, ffmpeg's decode of it
// for any other format. program is the ffmpeg program ("" means
// DefaultFFmpegProgram); tempDir is where an MP4/M4A file is spooled, since
// its index may sit at its end ("" means the system's). name is used in
// messages. Errors are EINVALID for an empty file or when ffmpeg is needed
// and not installed (the message says what to install), EUNAVAILABLE when
// r fails; ffmpeg's own failures and truncated files surface from the
// reader, as EINVALID with ffmpeg's message. A WAV with a compressed format
// (ADPCM, GSM) goes to ffmpeg when it is installed.
func OpenAudio(ctx context.Context, name string, r io.Reader, program, tempDir string) (*Audio, error) {
	head := make([]byte, sniffHead)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "read %s", name)
	}
	whole := io.MultiReader(bytes.NewReader(head), r)
	if n == 0 {
		return nil, hark.Errorf(hark.EINVALID, "%s is empty: upload the recording again", name)
	}
	var kind string
	if isWAV(head) {
		tag := wavTag(head)
		if compressedTags[tag] == "" || !installed(program) {
			return &Audio{Reader: whole}, nil // WAVReader reads it, or says what to do
		}
		kind = compressedTags[tag] + " WAV" // ADPCM, GSM, MP3 in a WAV container
	}
	if kind == "" {
		kind = sniffCompressed(head)
	}
	if kind == "" {
		kind = sniffMore(head)
	}
	if program == "" {
		program = DefaultFFmpegProgram
	}
	path, lerr := exec.LookPath(program)
	if lerr != nil {
		what := "is not WAV audio"
		if kind != "" {
			what = "is " + kind + " audio"
		}
		return nil, hark.Errorf(hark.EINVALID, "%s %s, which hark decodes with ffmpeg, and ffmpeg is not installed on this worker: install it (Debian and Ubuntu: `apt-get install ffmpeg`) and transcribe it again, or upload it as WAV", name, what)
	}
	d, err := startFFmpeg(ctx, path, name, kind, head, whole, tempDir)
	if err != nil {
		return nil, err
	}
	format := strings.ToLower(kind)
	if format == "" {
		format = "ffmpeg"
	}
	return &Audio{Reader: d, Format: format, dec: d}, nil
}

// isWAV reports whether b starts like a WAV file hark reads itself.
func isWAV(b []byte) bool {
	if len(b) < 12 || string(b[8:12]) != "WAVE" {
		return false
	}
	switch string(b[0:4]) {
	case "RIFF", "RF64", "BW64":
		return true
	}
	return false
}

// wavTag returns the format tag of the WAV whose first bytes are b (the
// sub-format's for WAVE_FORMAT_EXTENSIBLE), or 0 when the fmt chunk is not
// among them.
func wavTag(b []byte) uint16 {
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:off+8]))
		if id == "fmt " {
			if off+8+2 > len(b) {
				return 0
			}
			tag := binary.LittleEndian.Uint16(b[off+8:])
			if tag == wavExtensible && off+8+26 <= len(b) {
				tag = binary.LittleEndian.Uint16(b[off+8+24:])
			}
			return tag
		}
		if size < 0 || size > len(b) {
			return 0
		}
		off += 8 + size + size%2
	}
	return 0
}

// installed reports whether program ("" for DefaultFFmpegProgram) is on
// PATH or is a path to a program.
func installed(program string) bool {
	if program == "" {
		program = DefaultFFmpegProgram
	}
	_, err := exec.LookPath(program)
	return err == nil
}

// asfGUID starts every ASF file (WMA, WMV).
var asfGUID = []byte{0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C}

// sniffMore names formats that sniffCompressed leaves out because hark only
// reads them through ffmpeg.
func sniffMore(b []byte) string {
	switch {
	case bytes.HasPrefix(b, asfGUID):
		return "WMA"
	case len(b) >= 2 && b[0] == 0xFF && b[1]&0xF6 == 0xF0:
		return "AAC"
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "AVI ":
		return "AVI"
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0x01, 0xBA}):
		return "MPEG"
	}
	return ""
}

// ffmpegDecoder runs ffmpeg on one recording and reads its WAV output. At
// the end of the output it waits for ffmpeg and returns its failure, or an
// EINVALID error when the audio is shorter than the file's header promises
// (a truncated upload), instead of io.EOF.
type ffmpegDecoder struct {
	name     string
	kind     string          // the format sniffed, for messages, or ""
	ctx      context.Context // the caller's, to tell a stop from a failure
	cmd      *exec.Cmd
	out      io.ReadCloser
	stderr   *boundedBuffer
	cancel   context.CancelFunc
	spool    string  // the temporary copy of an MP4/M4A file, or ""
	expected float64 // seconds the file's header promises, or 0
	read     int64
	head     [44]byte // the WAV header ffmpeg writes, for the rate and channels
	err      error
	once     sync.Once
	waitErr  error
}

func startFFmpeg(ctx context.Context, program, name, kind string, head []byte, r io.Reader, tempDir string) (*ffmpegDecoder, error) {
	d := &ffmpegDecoder{name: name, kind: kind, ctx: ctx, stderr: &boundedBuffer{max: 4096}, expected: promisedSeconds(head)}
	input := "pipe:0"
	if kind == "M4A/MP4" {
		// An MP4 file's index (moov) is often at its end, which ffmpeg
		// cannot reach in a pipe: spool it to disk (not memory) first.
		f, err := os.CreateTemp(tempDir, "hark-ffmpeg-*")
		if err != nil {
			return nil, hark.WrapError(hark.EUNAVAILABLE, err, "spool %s for ffmpeg", name)
		}
		d.spool = f.Name()
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(d.spool)
			return nil, hark.WrapError(hark.EUNAVAILABLE, err, "spool %s for ffmpeg", name)
		}
		input, r = d.spool, nil
	}
	cctx, cancel := context.WithCancel(ctx)
	d.cancel = cancel
	cmd := exec.CommandContext(cctx, program, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-i", input, "-map", "0:a:0", "-vn", "-map_metadata", "-1", "-fflags", "+bitexact",
		"-f", "wav", "-acodec", "pcm_s16le", "pipe:1")
	ownGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = d.stderr
	out, err := cmd.StdoutPipe()
	var stdin io.WriteCloser
	if err == nil && r != nil {
		stdin, err = cmd.StdinPipe()
	}
	if err != nil {
		d.cleanup()
		return nil, hark.WrapError(hark.EINTERNAL, err, "start ffmpeg for %s", name)
	}
	if err := cmd.Start(); err != nil {
		d.cleanup()
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "start ffmpeg for %s", name)
	}
	d.cmd, d.out = cmd, out
	if stdin != nil {
		// Feed ffmpeg as the upload streams in. Wait does not wait for
		// this: a read blocked on a stalled store ends when the caller
		// closes its stream, and the write fails once ffmpeg is gone.
		go func() {
			_, _ = io.Copy(stdin, r)
			stdin.Close()
		}()
	}
	return d, nil
}

// Read reads ffmpeg's WAV output.
func (d *ffmpegDecoder) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.out.Read(p)
	if d.read < int64(len(d.head)) {
		copy(d.head[d.read:], p[:n])
	}
	d.read += int64(n)
	if err == nil {
		return n, nil
	}
	if errors.Is(err, io.EOF) {
		d.err = d.finish()
	} else {
		d.err = hark.WrapError(hark.EUNAVAILABLE, err, "read ffmpeg's decode of %s", d.name)
	}
	if n > 0 {
		return n, nil
	}
	return 0, d.err
}

// finish waits for ffmpeg at the end of its output and returns io.EOF when
// it decoded the whole file.
func (d *ffmpegDecoder) finish() error {
	err := d.wait()
	got, ok := d.decodedSeconds()
	if err == nil && (!ok || got == 0) && strings.TrimSpace(d.stderr.String()) != "" {
		err = errors.New("no audio decoded") // ffmpeg complained and gave nothing: say what it said
	}
	if err != nil {
		if ctxErr := d.ctx.Err(); ctxErr != nil {
			return hark.WrapError(hark.EUNAVAILABLE, ctxErr, "decode %s: stopped", d.name)
		}
		msg := strings.TrimSpace(d.stderr.String())
		msg = ffmpegContext.ReplaceAllString(msg, "")
		if d.spool != "" {
			msg = strings.ReplaceAll(msg, d.spool, "input")
		}
		msg = strings.ReplaceAll(msg, "pipe:0", "input")
		if msg == "" {
			msg = err.Error()
		}
		what := d.name
		if d.kind != "" {
			what += " (" + d.kind + " audio)"
		}
		return hark.Errorf(hark.EINVALID, "%s could not be decoded (ffmpeg: %s): is it a complete audio or video file? upload it again, or as WAV", what, oneLine(msg))
	}
	if ok && d.expected > 0 && got < d.expected-max(1, d.expected*0.01) {
		return hark.Errorf(hark.EINVALID, "%s is truncated: its header promises %s of audio but the file ends after %s; upload the complete file",
			d.name, formatDuration(d.expected), formatDuration(got))
	}
	return io.EOF
}

// decodedSeconds is how much audio ffmpeg wrote, from its header's rate and
// channels and the bytes after the 44-byte header it writes with bitexact.
func (d *ffmpegDecoder) decodedSeconds() (float64, bool) {
	if d.read < int64(len(d.head)) || string(d.head[36:40]) != "data" {
		return 0, false
	}
	ch := int64(binary.LittleEndian.Uint16(d.head[22:24]))
	rate := int64(binary.LittleEndian.Uint32(d.head[24:28]))
	if ch == 0 || rate == 0 {
		return 0, false
	}
	return float64((d.read-44)/(2*ch)) / float64(rate), true
}

func (d *ffmpegDecoder) wait() error {
	d.once.Do(func() {
		d.waitErr = d.cmd.Wait()
		d.cleanup()
	})
	return d.waitErr
}

// close kills ffmpeg with its process group unless it has finished, and
// waits for it.
func (d *ffmpegDecoder) close() error {
	d.cancel()
	_ = d.wait()
	return nil
}

func (d *ffmpegDecoder) cleanup() {
	if d.cancel != nil {
		d.cancel()
	}
	if d.spool != "" {
		os.Remove(d.spool)
	}
}

// promisedSeconds returns the length a file's own header states, where it
// states one hark can read cheaply: an MP3's Xing/Info frame count or
// FLAC's STREAMINFO sample count; 0 otherwise.
func promisedSeconds(b []byte) float64 {
	if bytes.HasPrefix(b, []byte("fLaC")) && len(b) >= 4+4+18 && b[4]&0x7F == 0 {
		si := b[8:]
		rate := int(si[10])<<12 | int(si[11])<<4 | int(si[12])>>4
		total := int64(si[13]&0x0F)<<32 | int64(binary.BigEndian.Uint32(si[14:18]))
		if rate > 0 && total > 0 {
			return float64(total) / float64(rate)
		}
		return 0
	}
	if bytes.HasPrefix(b, []byte("ID3")) && len(b) >= 10 {
		size := int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F)
		if b[5]&0x10 != 0 {
			size += 10 // a footer
		}
		if 10+size >= len(b) {
			return 0
		}
		b = b[10+size:]
	}
	return xingSeconds(b)
}

// xingSeconds reads the Xing or Info header in the first MPEG audio frame
// of b and returns the length its frame count gives, or 0.
func xingSeconds(b []byte) float64 {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return 0
	}
	version := (b[1] >> 3) & 3 // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
	layer := (b[1] >> 1) & 3   // 1: layer III
	rateIdx := (b[2] >> 2) & 3
	if version == 1 || layer != 1 || rateIdx == 3 {
		return 0
	}
	rate := [3]int{44100, 48000, 32000}[rateIdx]
	perFrame := 1152
	side := 32
	if version != 3 {
		rate /= 2
		if version == 0 {
			rate /= 2
		}
		perFrame, side = 576, 17
	}
	if b[3]>>6 == 3 { // mono
		if version == 3 {
			side = 17
		} else {
			side = 9
		}
	}
	off := 4 + side
	if len(b) < off+12 {
		return 0
	}
	tag := string(b[off : off+4])
	if tag != "Xing" && tag != "Info" {
		return 0
	}
	if binary.BigEndian.Uint32(b[off+4:])&1 == 0 {
		return 0 // no frame count
	}
	frames := binary.BigEndian.Uint32(b[off+8:])
	return float64(frames) * float64(perFrame) / float64(rate)
}

// ffmpegContext matches the "[mp3 @ 0x55a1b8fcb980] " before ffmpeg's
// messages: a component and an address, of no use to a reader.
var ffmpegContext = regexp.MustCompile(`\[[^\]\n]* @ 0x[0-9a-f]+\] *`)

// oneLine joins ffmpeg's lines for a message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// boundedBuffer keeps the first max bytes written to it: ffmpeg's error
// messages, which hold no audio and no transcript text.
type boundedBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.b.Len(); room > 0 {
		w.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (w *boundedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// AudioExtensions are the file name endings `hark upload` picks out of a
// directory as recordings: WAV, read natively, and the formats ffmpeg
// decodes. The format itself is told by the content, not by the name.
var AudioExtensions = []string{
	".wav", ".wave", ".rf64", ".bw64", ".mp3", ".m4a", ".mp4", ".aac", ".3gp", ".ogg", ".oga", ".opus",
	".flac", ".wma", ".amr", ".webm", ".mkv", ".mka", ".mov", ".avi", ".aiff", ".aif",
}

// IsAudioName reports whether name ends in one of AudioExtensions, in any
// case.
func IsAudioName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range AudioExtensions {
		if ext == e {
			return true
		}
	}
	return false
}
