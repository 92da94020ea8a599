package transcribe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"path"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// WAV container constants.
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavMuLaw      = 0x0007
	wavExtensible = 0xFFFE
	sizeUnknown   = 0xFFFFFFFF // what streaming writers leave in a size field
	maxChannels   = 32
	minRate       = 8000
	maxRate       = 192000
)

// extensibleTail is the part of a WAVE_FORMAT_EXTENSIBLE sub-format GUID
// after its first two bytes (the format tag), for the standard
// KSDATAFORMAT_SUBTYPE_* GUIDs.
var extensibleTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// wavFormat is what a WAV file's header says about its samples.
type wavFormat struct {
	tag        uint16 // wavPCM, wavFloat, wavALaw or wavMuLaw, after resolving WAVE_FORMAT_EXTENSIBLE
	channels   int
	rate       int
	bits       int // bits per sample in the container
	blockAlign int // bytes per frame
}

// name is the sample format as recorded in hark.AudioInfo.
func (f wavFormat) name() string {
	switch f.tag {
	case wavFloat:
		return fmt.Sprintf("float%d", f.bits)
	case wavMuLaw:
		return "ulaw"
	case wavALaw:
		return "alaw"
	}
	return fmt.Sprintf("pcm%d", f.bits)
}

// WAVReader reads the samples of a WAV stream in order, as float32 in
// [-1, 1], holding no more than one block of it in memory. It reads PCM
// with 8 (unsigned), 16, 24 or 32-bit integer or 32 or 64-bit float
// samples, and G.711 µ-law and A-law (telephone systems' recordings), plain
// or WAVE_FORMAT_EXTENSIBLE, 1 to 32 channels, 8 to 192 kHz, RIFF or RF64,
// skipping any other chunks. Errors are *hark.Error values naming the file:
// EINVALID for a file hark cannot read, with what to do about it, and
// EUNAVAILABLE when the stream itself fails.
type WAVReader struct {
	name    string
	r       io.Reader
	f       wavFormat
	size    int64 // bytes of audio the header promises; -1 when it does not say
	read    int64 // bytes of audio read so far
	raw     []byte
	convert func(dst []float32, src []byte)
	meter   *bandMeter // set for an Audio stream: measures its band
	err     error
}

// NewWAVReader reads the header of the WAV stream r, up to the start of its
// audio. name is used in error messages.
func NewWAVReader(name string, r io.Reader) (*WAVReader, error) {
	w := &WAVReader{name: name, r: r, size: -1}
	if err := w.readHeader(); err != nil {
		return nil, err
	}
	if a, ok := r.(*Audio); ok {
		// Opened by OpenAudio: measure the band as the samples go by.
		w.meter = newBandMeter(w.f.rate, w.f.channels)
		a.meter = w.meter
	}
	return w, nil
}

// Info describes the audio as the header announces it. DurationSeconds is 0
// when the header leaves the length open (a streaming writer's file); Frames
// read so far tell the truth at the end.
func (w *WAVReader) Info() hark.AudioInfo {
	info := hark.AudioInfo{Format: w.f.name(), Channels: w.f.channels, SampleRate: w.f.rate}
	if w.size >= 0 {
		info.DurationSeconds = float64(w.size/int64(w.f.blockAlign)) / float64(w.f.rate)
	}
	return info
}

// Frames returns how many whole frames have been read so far.
func (w *WAVReader) Frames() int64 { return w.read / int64(w.f.blockAlign) }

// ReadFrames reads up to len(dst)/channels frames into dst, interleaved, and
// returns how many frames it read. At the end of the audio it returns 0 and
// io.EOF. NaN and infinite float samples read as 0.
func (w *WAVReader) ReadFrames(dst []float32) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	frames := len(dst) / w.f.channels
	if frames == 0 {
		return 0, nil
	}
	want := int64(frames * w.f.blockAlign)
	if w.size >= 0 {
		want = min(want, w.size-w.read)
	}
	if want == 0 {
		return 0, w.fail(w.end())
	}
	if int64(cap(w.raw)) < want {
		w.raw = make([]byte, want)
	}
	raw := w.raw[:want]
	n, err := io.ReadFull(w.r, raw)
	n -= n % w.f.blockAlign
	w.read += int64(n)
	if err != nil {
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			if w.size >= 0 {
				// Deliver what arrived; the next call reports the truncation.
				w.err = w.truncated()
			} else {
				w.err = w.end()
			}
		default:
			w.err = streamError(w.name, err)
		}
		if n == 0 {
			return 0, w.fail(w.err)
		}
	}
	out := dst[:n/w.f.blockAlign*w.f.channels]
	w.convert(out, raw[:n])
	if w.meter != nil {
		w.meter.add(out)
	}
	return n / w.f.blockAlign, nil
}

// end is the error at the end of the audio: io.EOF, or EINVALID when there
// was none.
func (w *WAVReader) end() error {
	if w.read < int64(w.f.blockAlign) {
		return hark.Errorf(hark.EINVALID, "%s contains no audio (its data chunk is empty): upload the complete recording", w.name)
	}
	return io.EOF
}

func (w *WAVReader) truncated() error {
	return hark.Errorf(hark.EINVALID, "%s is truncated: its header promises %s of audio (%d bytes) but the file ends after %s (%d bytes); upload the complete file",
		w.name, formatDuration(float64(w.size/int64(w.f.blockAlign))/float64(w.f.rate)), w.size,
		formatDuration(float64(w.read/int64(w.f.blockAlign))/float64(w.f.rate)), w.read)
}

func (w *WAVReader) fail(err error) error {
	w.err = err
	return err
}

// skip reads and discards the rest of the audio, returning io.EOF at its end
// like ReadFrames. It is InspectWAV's fast path.
func (w *WAVReader) skip() error {
	if w.err != nil {
		return w.err
	}
	if w.meter != nil {
		// The band is measured on samples: decode them.
		buf := make([]float32, blockFrames*w.f.channels)
		for {
			if _, err := w.ReadFrames(buf); err != nil {
				return err
			}
		}
	}
	var n int64
	var err error
	if w.size >= 0 {
		n, err = io.CopyN(io.Discard, w.r, w.size-w.read)
	} else {
		n, err = io.Copy(io.Discard, w.r)
	}
	w.read += n
	switch {
	case err == nil || errors.Is(err, io.EOF):
		if w.size >= 0 && w.read < w.size {
			return w.fail(w.truncated())
		}
		return w.fail(w.end())
	default:
		return w.fail(streamError(w.name, err))
	}
}

// readHeader reads chunks up to the data chunk.
func (w *WAVReader) readHeader() error {
	var head [12]byte
	n, err := io.ReadFull(w.r, head[:])
	if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return hark.Errorf(hark.EINVALID, "%s is empty: upload the recording again", w.name)
	}
	if kind := sniffCompressed(head[:n]); kind != "" {
		return compressedError(w.name, kind)
	}
	if err != nil {
		return readError(w.name, "header", err)
	}
	rf64 := string(head[0:4]) == "RF64" || string(head[0:4]) == "BW64"
	if !(string(head[0:4]) == "RIFF" || rf64) || string(head[8:12]) != "WAVE" {
		if string(head[0:4]) == "FORM" {
			return compressedError(w.name, "AIFF")
		}
		return hark.Errorf(hark.EINVALID, "%s is not a WAV file (no RIFF/WAVE header): %s", w.name, convertHint(w.name))
	}
	var (
		haveFmt bool
		ds64    = int64(-1) // the data size from an RF64 ds64 chunk
		chunk   [8]byte
	)
	for {
		if _, err := io.ReadFull(w.r, chunk[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return hark.Errorf(hark.EINVALID, "%s has no audio (no data chunk): the file is truncated or not a recording; upload the complete file", w.name)
			}
			return readError(w.name, "chunk header", err)
		}
		id, size := string(chunk[0:4]), int64(binary.LittleEndian.Uint32(chunk[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return hark.Errorf(hark.EINVALID, "%s has a malformed fmt chunk (%d bytes): the header is corrupt", w.name, size)
			}
			buf := make([]byte, size+size%2)
			if _, err := io.ReadFull(w.r, buf); err != nil {
				return readError(w.name, "fmt chunk", err)
			}
			f, err := parseFmt(w.name, buf[:size])
			if err != nil {
				return err
			}
			w.f, haveFmt = f, true
		case "ds64":
			if !rf64 || size < 24 || size > 1<<16 {
				return hark.Errorf(hark.EINVALID, "%s has a malformed ds64 chunk: the header is corrupt", w.name)
			}
			buf := make([]byte, size+size%2)
			if _, err := io.ReadFull(w.r, buf); err != nil {
				return readError(w.name, "ds64 chunk", err)
			}
			ds64 = int64(binary.LittleEndian.Uint64(buf[8:16]))
		case "data":
			if !haveFmt {
				return hark.Errorf(hark.EINVALID, "%s has its data before its fmt chunk: the header is corrupt", w.name)
			}
			switch {
			case rf64 && size == sizeUnknown && ds64 >= 0:
				w.size = ds64
			case size == sizeUnknown || size == 0:
				w.size = -1 // a streaming writer left it open: read to the end
			default:
				w.size = size
			}
			if w.size >= 0 {
				w.size -= w.size % int64(w.f.blockAlign)
			}
			w.convert = converter(w.f)
			return nil
		default:
			if _, err := io.CopyN(io.Discard, w.r, size+size%2); err != nil {
				return readError(w.name, fmt.Sprintf("%q chunk", id), err)
			}
		}
	}
}

// parseFmt checks a fmt chunk and returns the format it describes.
func parseFmt(name string, b []byte) (wavFormat, error) {
	tag := binary.LittleEndian.Uint16(b[0:2])
	f := wavFormat{
		channels:   int(binary.LittleEndian.Uint16(b[2:4])),
		rate:       int(binary.LittleEndian.Uint32(b[4:8])),
		blockAlign: int(binary.LittleEndian.Uint16(b[12:14])),
		bits:       int(binary.LittleEndian.Uint16(b[14:16])),
	}
	if tag == wavExtensible {
		if len(b) < 40 || !bytes.Equal(b[26:40], extensibleTail) {
			return f, hark.Errorf(hark.EINVALID, "%s uses WAVE_FORMAT_EXTENSIBLE with a sub-format hark does not read: %s", name, convertHint(name))
		}
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	if f.channels < 1 || f.channels > maxChannels {
		return f, hark.Errorf(hark.EINVALID, "%s says it has %d channels: the header is corrupt", name, f.channels)
	}
	if f.rate < minRate || f.rate > maxRate {
		return f, hark.Errorf(hark.EINVALID, "%s has a sample rate of %d Hz; hark reads 8–192 kHz: resample it, e.g. `ffmpeg -i %s -ar 16000 OUT.wav`", name, f.rate, shellQuote(name))
	}
	if tag == wavMuLaw || tag == wavALaw {
		if f.bits != 8 || f.blockAlign != f.channels {
			return f, hark.Errorf(hark.EINVALID, "%s has an inconsistent G.711 header (%d bits, block align %d for %d channels): the file is corrupt", name, f.bits, f.blockAlign, f.channels)
		}
		f.tag = tag
		return f, nil
	}
	if tag != wavPCM && tag != wavFloat {
		if kind := compressedTags[tag]; kind != "" {
			return f, hark.Errorf(hark.EINVALID, "%s holds %s audio in a WAV container, which hark does not read: %s", name, kind, convertHint(name))
		}
		return f, hark.Errorf(hark.EINVALID, "%s uses WAV format %#x, which hark does not read: %s", name, tag, convertHint(name))
	}
	if f.bits == 0 || f.blockAlign != f.channels*((f.bits+7)/8) {
		return f, hark.Errorf(hark.EINVALID, "%s has an inconsistent header (block align %d for %d channels of %d bits): the file is corrupt", name, f.blockAlign, f.channels, f.bits)
	}
	f.bits = f.blockAlign / f.channels * 8 // samples are left-justified in their container
	f.tag = tag
	switch {
	case tag == wavPCM && f.bits <= 32, tag == wavFloat && (f.bits == 32 || f.bits == 64):
		return f, nil
	}
	return f, hark.Errorf(hark.EINVALID, "%s uses %d-bit %s samples, which hark does not read: %s", name, f.bits, map[uint16]string{wavPCM: "integer", wavFloat: "float"}[tag], convertHint(name))
}

// compressedTags names the compressed formats a WAV container can carry.
var compressedTags = map[uint16]string{
	0x0002: "MS ADPCM", 0x0011: "IMA ADPCM", 0x0031: "GSM 6.10",
	0x0050: "MPEG", 0x0055: "MP3", 0x00FF: "AAC", 0x1610: "AAC", 0x2000: "AC-3", 0xF1AC: "FLAC",
}

// converter returns the function that turns f's bytes into float32 samples.
func converter(f wavFormat) func(dst []float32, src []byte) {
	switch {
	case f.tag == wavMuLaw:
		return convertMuLaw
	case f.tag == wavALaw:
		return convertALaw
	case f.tag == wavFloat && f.bits == 32:
		return convertFloat32
	case f.tag == wavFloat:
		return convertFloat64
	case f.bits == 8:
		return convertPCM8
	case f.bits == 16:
		return convertPCM16
	case f.bits == 24:
		return convertPCM24
	default:
		return convertPCM32
	}
}

func convertPCM8(dst []float32, src []byte) {
	src = src[:len(dst)]
	for i, b := range src {
		dst[i] = float32(int(b)-128) * (1.0 / 128)
	}
}

func convertPCM16(dst []float32, src []byte) {
	src = src[:2*len(dst)]
	for i := range dst {
		dst[i] = float32(int16(binary.LittleEndian.Uint16(src[2*i:]))) * (1.0 / 32768)
	}
}

func convertPCM24(dst []float32, src []byte) {
	n := len(dst)
	if n == 0 {
		return
	}
	src = src[:3*n]
	// Load four bytes at a time and drop the fourth; the last sample has
	// no fourth byte to load.
	for i := 0; i < n-1; i++ {
		v := int32(binary.LittleEndian.Uint32(src[3*i:3*i+4])<<8) >> 8
		dst[i] = float32(v) * (1.0 / (1 << 23))
	}
	s := src[3*n-3:]
	v := int32(uint32(s[0])<<8|uint32(s[1])<<16|uint32(s[2])<<24) >> 8
	dst[n-1] = float32(v) * (1.0 / (1 << 23))
}

func convertPCM32(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:]))) * (1.0 / (1 << 31))
	}
}

func convertFloat32(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		dst[i] = finite(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
	}
}

func convertFloat64(dst []float32, src []byte) {
	src = src[:8*len(dst)]
	for i := range dst {
		dst[i] = finite(float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))))
	}
}

// muLaw and aLaw are the G.711 decode tables: each byte's linear value as a
// float32 in [-1, 1].
var muLaw, aLaw = g711Tables()

func g711Tables() (mu, a [256]float32) {
	for i := range 256 {
		// µ-law: the byte is stored inverted; 4-bit mantissa, 3-bit
		// exponent, bias 0x84 (ITU-T G.711).
		u := ^byte(i)
		t := (int(u&0x0F)<<3 + 0x84) << ((u & 0x70) >> 4)
		if u&0x80 != 0 {
			mu[i] = float32(0x84-t) / 32768
		} else {
			mu[i] = float32(t-0x84) / 32768
		}
		// A-law: even bits inverted; segment 0 is linear.
		v := byte(i) ^ 0x55
		m := int(v&0x0F)<<4 + 8
		if seg := (v & 0x70) >> 4; seg > 0 {
			m = (m + 0x100) << (seg - 1)
		}
		if v&0x80 != 0 {
			a[i] = float32(m) / 32768
		} else {
			a[i] = float32(-m) / 32768
		}
	}
	return mu, a
}

func convertMuLaw(dst []float32, src []byte) {
	src = src[:len(dst)]
	for i, b := range src {
		dst[i] = muLaw[b]
	}
}

func convertALaw(dst []float32, src []byte) {
	src = src[:len(dst)]
	for i, b := range src {
		dst[i] = aLaw[b]
	}
}

// finite returns v, or 0 for NaN and infinities, which would poison the
// filters downstream.
func finite(v float32) float32 {
	if v-v != 0 {
		return 0
	}
	return v
}

// sniffCompressed names a compressed audio format from a file's first bytes.
func sniffCompressed(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("ID3")), len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0:
		return "MP3"
	case bytes.HasPrefix(b, []byte("OggS")):
		return "Ogg"
	case bytes.HasPrefix(b, []byte("fLaC")):
		return "FLAC"
	case len(b) >= 8 && string(b[4:8]) == "ftyp":
		return "M4A/MP4"
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return "WebM/Matroska"
	case bytes.HasPrefix(b, []byte("#!AMR")):
		return "AMR"
	case bytes.HasPrefix(b, []byte("wvpk")):
		return "WavPack"
	case bytes.HasPrefix(b, []byte("MAC ")):
		return "Monkey's Audio"
	case len(b) >= 12 && string(b[0:4]) == "FORM" && (string(b[8:12]) == "AIFF" || string(b[8:12]) == "AIFC"):
		return "AIFF"
	}
	return ""
}

// compressedError says that name holds compressed audio and how to convert it.
func compressedError(name, kind string) error {
	return hark.Errorf(hark.EINVALID, "%s is %s audio, not PCM WAV: %s", name, kind, convertHint(name))
}

// convertHint says how to turn a file into a WAV hark reads: with ffmpeg
// when it is installed here, and where to get it when it is not.
func convertHint(name string) string {
	out := strings.TrimSuffix(name, path.Ext(name)) + ".wav"
	if out == name {
		out = strings.TrimSuffix(name, path.Ext(name)) + "-pcm.wav"
	}
	cmd := fmt.Sprintf("ffmpeg -i %s -ar 16000 -c:a pcm_s16le %s", shellQuote(path.Base(name)), shellQuote(path.Base(out)))
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		return "convert it with ffmpeg, which is installed here: `" + cmd + "`, and upload the WAV"
	}
	return "convert it to 16-bit PCM WAV and upload that: install ffmpeg (https://ffmpeg.org; Debian and Ubuntu: `apt-get install ffmpeg`) and run `" + cmd + "`, or export it as \"WAV (16-bit PCM)\" from Audacity"
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+,:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func readError(name, what string, err error) error {
	var he *hark.Error
	if errors.As(err, &he) {
		return err // the decoder in front of the reader already said what failed
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return hark.Errorf(hark.EINVALID, "%s is truncated in its %s: upload the complete file", name, what)
	}
	return hark.WrapError(hark.EUNAVAILABLE, err, "read %s (%s)", name, what)
}

// streamError is the error for a stream that failed mid-way: the
// stream's own *hark.Error when it gives one (ffmpeg's decoder does), else
// EUNAVAILABLE.
func streamError(name string, err error) error {
	var he *hark.Error
	if errors.As(err, &he) {
		return err
	}
	return hark.WrapError(hark.EUNAVAILABLE, err, "read %s", name)
}

// formatDuration formats seconds as h:mm:ss or m:ss for messages.
func formatDuration(secs float64) string {
	d := time.Duration(secs * float64(time.Second)).Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
