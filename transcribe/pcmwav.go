package transcribe

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"math"
)

// PCMWAV returns the recording r as a WAV file of PCM or float samples, the
// form whose samples can be edited one by one (the redacted export silences
// stretches of it): r's own bytes when it is such a RIFF WAV already, so
// that nothing of it changes but what is silenced; else its decode as 16-bit
// PCM at its own rate and channels (µ-law, A-law and RF64 by hark's reader,
// MP3, M4A, Opus, FLAC and the rest by ffmpeg), streamed as it is read.
// program and tempDir are OpenAudio's. Errors before the first byte are
// OpenAudio's and NewWAVReader's (EINVALID saying what is wrong with the
// file, or what to install); a failure part way ends the stream with the
// reader's error.
func PCMWAV(ctx context.Context, name string, r io.Reader, program, tempDir string) (io.ReadCloser, error) {
	audio, err := OpenAudio(ctx, name, r, program, tempDir)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(audio, sniffHead)
	if audio.Format == "" {
		head, _ := br.Peek(sniffHead)
		if len(head) >= 12 && string(head[0:4]) == "RIFF" {
			switch wavTag(head) {
			case wavPCM, wavFloat:
				return readCloser{br, audio.Close}, nil
			}
		}
	}
	w, err := NewWAVReader(name, br)
	if err != nil {
		audio.Close()
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		err := writePCM16(pw, w)
		audio.Close()
		pw.CloseWithError(err)
	}()
	return readCloser{pr, func() error { return pr.Close() }}, nil
}

// writePCM16 writes what w reads as a 16-bit PCM WAV file. Its header has
// the sizes w's header promises, or leaves them open as streaming writers
// do (0xFFFFFFFF: players and hark's reader read such a file to its end).
func writePCM16(dst io.Writer, w *WAVReader) error {
	info := w.Info()
	ch := info.Channels
	riff, data := uint32(sizeUnknown), uint32(sizeUnknown)
	if w.size >= 0 {
		if frames := w.size / int64(w.f.blockAlign); frames*int64(ch)*2 < math.MaxUint32-36 {
			data = uint32(frames * int64(ch) * 2)
			riff = 36 + data
		}
	}
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], riff)
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], wavPCM)
	binary.LittleEndian.PutUint16(hdr[22:], uint16(ch))
	binary.LittleEndian.PutUint32(hdr[24:], uint32(info.SampleRate))
	binary.LittleEndian.PutUint32(hdr[28:], uint32(info.SampleRate*ch*2))
	binary.LittleEndian.PutUint16(hdr[32:], uint16(ch*2))
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], data)
	bw := bufio.NewWriterSize(dst, 64<<10)
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	buf := make([]float32, 4096*ch)
	out := make([]byte, len(buf)*2)
	for {
		n, err := w.ReadFrames(buf)
		for i, x := range buf[:n*ch] {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(pcm16(x)))
		}
		if _, werr := bw.Write(out[:2*n*ch]); werr != nil {
			return werr
		}
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
	}
}

// pcm16 is the 16-bit sample nearest x (−1 to 1), clipped.
func pcm16(x float32) int16 {
	v := math.Round(float64(x) * 32767)
	return int16(max(-32768, min(32767, v)))
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
