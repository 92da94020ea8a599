package diarize

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/harkworks/hark"
)

// Turn is one stretch of one speaker's speech, in seconds from the start of the recording.
type Turn struct {
	Start, End float64
	Speaker    string
}

// Span is a stretch of time, e.g. a UEM's scored region.
type Span struct{ Start, End float64 }

// maxSeconds is the latest time the readers and WriteRTTM accept. No
// recording is 31 years long, so a larger number is a malformed field; the
// bound also keeps every accepted time exact to the millisecond that RTTM
// files are written in.
const maxSeconds = 1e9

// ReadRTTM reads an RTTM file (NIST Rich Transcription Time Marked) and
// returns its speaker turns by file id, each file's turns in the order the
// file gives them. Only SPEAKER lines are read:
//
//	SPEAKER <file> <channel> <start> <duration> <NA> <NA> <speaker> <NA> [<NA>]
//
// Other line types (SPKR-INFO, LEXEME, NOSCORE …), blank lines and ";;"
// comments are skipped; the channel and the <NA> fields are not checked. A
// turn of zero duration is kept. A malformed SPEAKER line is an EINVALID
// error naming the line and what is wrong with it; a failing reader is
// returned wrapped.
func ReadRTTM(r io.Reader) (map[string][]Turn, error) {
	out := make(map[string][]Turn)
	err := scanLines(r, "RTTM", func(n int, f []string) error {
		if f[0] != "SPEAKER" {
			return nil
		}
		if len(f) != 9 && len(f) != 10 {
			return hark.Errorf(hark.EINVALID, "RTTM line %d: a SPEAKER line has 10 fields (SPEAKER file channel start duration <NA> <NA> speaker <NA> <NA>), this one has %d", n, len(f))
		}
		start, err := parseTime(f[3])
		if err != nil {
			return hark.Errorf(hark.EINVALID, "RTTM line %d: start %s", n, err)
		}
		dur, err := parseTime(f[4])
		if err != nil {
			return hark.Errorf(hark.EINVALID, "RTTM line %d: duration %s", n, err)
		}
		end := start + dur
		if end > maxSeconds {
			return hark.Errorf(hark.EINVALID, "RTTM line %d: the turn ends at %g s, later than the %g s accepted", n, end, float64(maxSeconds))
		}
		out[f[1]] = append(out[f[1]], Turn{Start: start, End: end, Speaker: f[7]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReadUEM reads a UEM file (the scored regions of each recording) and
// returns its spans by file id, in the order the file gives them. Each line
// is
//
//	<file> <channel> <start> <end>
//
// with times in seconds; blank lines and ";;" comments are skipped and the
// channel is not checked. A malformed line is an EINVALID error naming the
// line and what is wrong with it; a failing reader is returned wrapped.
func ReadUEM(r io.Reader) (map[string][]Span, error) {
	out := make(map[string][]Span)
	err := scanLines(r, "UEM", func(n int, f []string) error {
		if len(f) != 4 {
			return hark.Errorf(hark.EINVALID, "UEM line %d: a UEM line has 4 fields (file channel start end), this one has %d", n, len(f))
		}
		start, err := parseTime(f[2])
		if err != nil {
			return hark.Errorf(hark.EINVALID, "UEM line %d: start %s", n, err)
		}
		end, err := parseTime(f[3])
		if err != nil {
			return hark.Errorf(hark.EINVALID, "UEM line %d: end %s", n, err)
		}
		if end < start {
			return hark.Errorf(hark.EINVALID, "UEM line %d: the span ends (%s) before it starts (%s)", n, f[3], f[2])
		}
		out[f[0]] = append(out[f[0]], Span{Start: start, End: end})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanLines calls line with the 1-based number and the whitespace-separated
// fields of every line of r that is neither blank nor a ";;" comment. format
// names the file format in errors.
func scanLines(r io.Reader, format string, line func(n int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\uFEFF"))
		}
		if !utf8.Valid(b) {
			return hark.Errorf(hark.EINVALID, "%s line %d is not UTF-8 text", format, n)
		}
		f := strings.Fields(string(b))
		if len(f) == 0 || strings.HasPrefix(f[0], ";;") {
			continue
		}
		if err := line(n, f); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return hark.Errorf(hark.EINVALID, "%s line %d is longer than %d bytes", format, n+1, bufio.MaxScanTokenSize)
		}
		return fmt.Errorf("read %s line %d: %w", format, n+1, err)
	}
	return nil
}

// parseTime parses a time or duration field: a number of seconds from 0 to
// maxSeconds. The error completes a sentence that begins with the field's
// name.
func parseTime(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%q is not a number of seconds", s)
	case v < 0:
		return 0, fmt.Errorf("%q is negative", s)
	case v > maxSeconds:
		return 0, fmt.Errorf("%q is later than the %g s accepted", s, float64(maxSeconds))
	}
	return v, nil
}

// WriteRTTM writes turns as the SPEAKER lines of an RTTM file for the
// recording file: channel 1, start and duration in seconds to the
// millisecond, sorted by start (then end, then speaker). Start and end are
// each rounded to the millisecond, so that turns which touch still touch
// when read back. The caller's slice is not changed. A file id or speaker
// name that is empty or holds white space, or a turn whose times are not
// 0 ≤ start ≤ end ≤ 1e9 s, is an EINVALID error and nothing is written.
func WriteRTTM(w io.Writer, file string, turns []Turn) error {
	if !isField(file) {
		return hark.Errorf(hark.EINVALID, "RTTM file id %q is empty or holds white space", file)
	}
	type line struct {
		start, end int64 // milliseconds
		speaker    string
	}
	lines := make([]line, 0, len(turns))
	for i, t := range turns {
		if !isField(t.Speaker) {
			return hark.Errorf(hark.EINVALID, "turn %d: speaker %q is empty or holds white space", i, t.Speaker)
		}
		if !(0 <= t.Start && t.Start <= t.End && t.End <= maxSeconds) {
			return hark.Errorf(hark.EINVALID, "turn %d (%s): times %g–%g s are not 0 ≤ start ≤ end ≤ %g", i, t.Speaker, t.Start, t.End, float64(maxSeconds))
		}
		lines = append(lines, line{int64(math.Round(t.Start * 1000)), int64(math.Round(t.End * 1000)), t.Speaker})
	}
	slices.SortFunc(lines, func(a, b line) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end), strings.Compare(a.speaker, b.speaker))
	})
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		fmt.Fprintf(bw, "SPEAKER %s 1 %d.%03d %d.%03d <NA> <NA> %s <NA> <NA>\n",
			file, l.start/1000, l.start%1000, (l.end-l.start)/1000, (l.end-l.start)%1000, l.speaker)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write RTTM for %s: %w", file, err)
	}
	return nil
}

// isField reports whether s can be one field of an RTTM line: not empty,
// valid UTF-8 and without white space.
func isField(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsSpace)
}

// ReadRTTMFile reads the RTTM file at path (ReadRTTM); a file that cannot
// be opened is EINVALID, naming it.
func ReadRTTMFile(path string) (map[string][]Turn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hark.Errorf(hark.EINVALID, "%s: cannot open it", path)
	}
	defer f.Close()
	return ReadRTTM(f)
}
