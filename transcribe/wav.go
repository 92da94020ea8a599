package transcribe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/harkworks/hark"
)

// MaxWAVBytes is the largest WAV data chunk RIFF can describe.
const maxRIFFSize = 1<<32 - 1

// InspectWAV reads a WAV stream to its end without holding it in memory,
// checks that it is well formed, and returns its format and duration. name is
// used in error messages. Errors are EINVALID with a message that says what
// is wrong and what to do.
func InspectWAV(name string, r io.Reader) (hark.AudioInfo, error) {
	var info hark.AudioInfo
	var head [12]byte
	n, err := io.ReadFull(r, head[:])
	if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return info, hark.Errorf(hark.EINVALID, "%s is empty: upload the recording again", name)
	}
	if err != nil {
		if kind := sniffCompressed(head[:n]); kind != "" {
			return info, compressedError(name, kind)
		}
		return info, readError(name, "header", err)
	}
	if kind := sniffCompressed(head[:]); kind != "" {
		return info, compressedError(name, kind)
	}
	if string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		if string(head[0:4]) == "RF64" {
			return info, hark.Errorf(hark.EINVALID, "%s is an RF64 file, which hark does not read yet: split or convert it to a standard WAV under 4 GB", name)
		}
		return info, hark.Errorf(hark.EINVALID, "%s is not a WAV file (no RIFF/WAVE header): convert it to WAV, e.g. `ffmpeg -i INPUT -ar 16000 OUTPUT.wav`", name)
	}
	var (
		haveFmt    bool
		formatTag  uint16
		blockAlign int
		bits       int
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return info, hark.Errorf(hark.EINVALID, "%s has no audio data (no data chunk): the file is truncated or not a recording", name)
			}
			return info, readError(name, "chunk header", err)
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return info, hark.Errorf(hark.EINVALID, "%s has a malformed fmt chunk (%d bytes): the header is corrupt", name, size)
			}
			buf := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return info, readError(name, "fmt chunk", err)
			}
			formatTag = binary.LittleEndian.Uint16(buf[0:2])
			info.Channels = int(binary.LittleEndian.Uint16(buf[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(buf[4:8]))
			blockAlign = int(binary.LittleEndian.Uint16(buf[12:14]))
			bits = int(binary.LittleEndian.Uint16(buf[14:16]))
			if formatTag == 0xFFFE && size >= 40 { // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag
				formatTag = binary.LittleEndian.Uint16(buf[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return info, hark.Errorf(hark.EINVALID, "%s has its data before its fmt chunk: the header is corrupt", name)
			}
			format, err := sampleFormat(name, formatTag, bits, info.Channels, info.SampleRate, blockAlign)
			if err != nil {
				return info, err
			}
			info.Format = format
			got, err := io.Copy(io.Discard, io.LimitReader(r, size))
			if err != nil {
				return info, readError(name, "audio data", err)
			}
			if got < size && size != maxRIFFSize && size != 0 {
				return info, hark.Errorf(hark.EINVALID, "%s is truncated: its header promises %d bytes of audio but only %d arrived; upload the complete file", name, size, got)
			}
			if size == maxRIFFSize || size == 0 { // streaming writers leave the size open: count what is there
				more, _ := io.Copy(io.Discard, r)
				got += more
			}
			frames := got / int64(blockAlign)
			if frames == 0 {
				return info, hark.Errorf(hark.EINVALID, "%s contains no audio (zero-length data chunk)", name)
			}
			info.DurationSeconds = float64(frames) / float64(info.SampleRate)
			_, _ = io.Copy(io.Discard, r) // trailing chunks (LIST, id3) are allowed
			return info, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return info, readError(name, fmt.Sprintf("%q chunk", id), err)
			}
		}
	}
}

func sampleFormat(name string, tag uint16, bits, channels, rate, blockAlign int) (string, error) {
	if channels < 1 || channels > 32 {
		return "", hark.Errorf(hark.EINVALID, "%s says it has %d channels: the header is corrupt", name, channels)
	}
	if rate < 8000 || rate > 192000 {
		return "", hark.Errorf(hark.EINVALID, "%s has a sample rate of %d Hz; hark reads 8–192 kHz", name, rate)
	}
	if blockAlign != channels*((bits+7)/8) || blockAlign == 0 {
		return "", hark.Errorf(hark.EINVALID, "%s has an inconsistent header (block align %d for %d channels of %d bits): the file is corrupt", name, blockAlign, channels, bits)
	}
	switch {
	case tag == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32):
		return fmt.Sprintf("pcm%d", bits), nil
	case tag == 3 && (bits == 32 || bits == 64):
		return fmt.Sprintf("float%d", bits), nil
	}
	return "", hark.Errorf(hark.EINVALID, "%s uses WAV format %#x with %d bits, which hark does not read: convert it to 16-bit PCM, e.g. `ffmpeg -i INPUT -c:a pcm_s16le OUTPUT.wav`", name, tag, bits)
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
	}
	return ""
}

func compressedError(name, kind string) error {
	return hark.Errorf(hark.EINVALID, "%s is %s audio, not WAV: convert it first, e.g. `ffmpeg -i INPUT -ar 16000 OUTPUT.wav`, and upload the WAV", name, kind)
}

func readError(name, what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return hark.Errorf(hark.EINVALID, "%s is truncated in its %s: upload the complete file", name, what)
	}
	return hark.WrapError(hark.EUNAVAILABLE, err, "read %s (%s)", name, what)
}
