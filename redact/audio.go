package redact

import (
	"encoding/binary"
	"io"
	"math"
	"sort"

	"github.com/harkworks/hark"
)

// TimeSpan is a stretch of a recording, in seconds.
type TimeSpan struct{ Start, End float64 }

// TimeSpans are the stretches of audio in which the transcript's masked
// identifiers were said, each widened by pad seconds on either side.
// Turns hold no word times, so a span's time is as far into its turn's time
// as its words are into the turn's text; the padding covers the guess.
func TimeSpans(r *Redactor, t *hark.Transcript, pad float64) []TimeSpan {
	texts := make([]string, len(t.Segments))
	for i, s := range t.Segments {
		texts[i] = s.Text
	}
	r = r.Learn(texts...)
	var out []TimeSpan
	for _, s := range t.Segments {
		n := float64(len(s.Text))
		if n == 0 {
			continue
		}
		for _, sp := range r.Find(s.Text) {
			a := s.Start + (s.End-s.Start)*float64(sp.Start)/n
			b := s.Start + (s.End-s.Start)*float64(sp.End)/n
			out = append(out, TimeSpan{math.Max(0, a-pad), b + pad})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// SilenceWAV copies a PCM or float WAV file from src to dst with the
// samples within spans set to silence; everything else, header and chunks
// included, is copied as it is. It reads and writes as it goes, so a long
// recording takes little memory. A file that is not such a WAV is EINVALID.
func SilenceWAV(dst io.Writer, src io.Reader, spans []TimeSpan) error {
	var riff [12]byte
	if _, err := io.ReadFull(src, riff[:]); err != nil || string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return hark.Errorf(hark.EINVALID, "the audio is not a WAV file: it cannot be silenced")
	}
	if _, err := dst.Write(riff[:]); err != nil {
		return err
	}
	var (
		rate, align int
		float       bool
		bits        int
	)
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(src, hdr[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return hark.WrapError(hark.EINVALID, err, "the WAV file ends in the middle of a chunk")
		}
		id, size := string(hdr[0:4]), int64(binary.LittleEndian.Uint32(hdr[4:8]))
		if _, err := dst.Write(hdr[:]); err != nil {
			return err
		}
		if id == "data" {
			if rate == 0 || align == 0 {
				return hark.Errorf(hark.EINVALID, "the WAV file has its samples before its format")
			}
			return silenceData(dst, io.LimitReader(src, size), spans, rate, align, bits, float, size)
		}
		body := make([]byte, size+size%2)
		if _, err := io.ReadFull(src, body); err != nil {
			return hark.WrapError(hark.EINVALID, err, "the WAV file ends in the middle of its %q chunk", id)
		}
		if id == "fmt " && len(body) >= 16 {
			format := binary.LittleEndian.Uint16(body[0:2])
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			align = int(binary.LittleEndian.Uint16(body[12:14]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
			if format == 0xFFFE && len(body) >= 26 {
				format = binary.LittleEndian.Uint16(body[24:26])
			}
			if format != 1 && format != 3 {
				return hark.Errorf(hark.EINVALID, "the WAV file's samples are compressed (format %d): only PCM and float WAV can be silenced", format)
			}
			float = format == 3
		}
		if _, err := dst.Write(body); err != nil {
			return err
		}
	}
}

// silenceData copies the data chunk, frame by frame, silencing the spans.
func silenceData(dst io.Writer, src io.Reader, spans []TimeSpan, rate, align, bits int, float bool, size int64) error {
	buf := make([]byte, align*4096)
	var frame int64
	k := 0
	for {
		n, err := io.ReadFull(src, buf)
		if n > 0 {
			frames := n / align
			for f := 0; f < frames; f++ {
				t := float64(frame+int64(f)) / float64(rate)
				for k < len(spans) && spans[k].End <= t {
					k++
				}
				if k < len(spans) && spans[k].Start <= t {
					silent := buf[f*align : (f+1)*align]
					for i := range silent {
						silent[i] = 0
					}
					if bits == 8 && !float { // unsigned: silence is the middle
						for i := range silent {
							silent[i] = 0x80
						}
					}
				}
			}
			frame += int64(frames)
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if size%2 == 1 {
				_, werr := dst.Write([]byte{0})
				return werr
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}
