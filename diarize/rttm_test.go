package diarize

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/harkworks/hark"
)

func TestReadRTTM(t *testing.T) {
	in := "\uFEFF;; a comment\r\n" +
		"SPKR-INFO rec1 1 <NA> <NA> <NA> unknown MÉO069 <NA> <NA>\r\n" +
		"SPEAKER rec1 1 3.168 0.800 <NA> <NA> MÉO069 <NA> <NA>\r\n" +
		"\r\n" +
		"SPEAKER  rec2\t1 0 1.5 <NA> <NA> A <NA> <NA>\n" +
		"   ;; an indented comment\n" +
		"SPEAKER rec1 1 1.000 0 <NA> <NA> MEE068 <NA>\n" // nine fields, zero duration
	got, err := ReadRTTM(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Turn{
		"rec1": {tr("MÉO069", 3.168, 3.168+0.800), tr("MEE068", 1, 1)},
		"rec2": {tr("A", 0, 1.5)},
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ReadRTTM = %v, want %v", got, want)
	}
}

func TestReadRTTMErrors(t *testing.T) {
	ok := "SPEAKER f 1 0.5 1.0 <NA> <NA> A <NA> <NA>\n"
	for _, c := range []struct {
		name, in, want string
	}{
		{"too few fields", ok + "SPEAKER f 1 0.5 1.0 <NA> <NA>\n", "RTTM line 2: a SPEAKER line has 10 fields"},
		{"too many fields", "SPEAKER f 1 0.5 1.0 <NA> <NA> A <NA> <NA> extra\n", "RTTM line 1: a SPEAKER line has 10 fields (SPEAKER file channel start duration <NA> <NA> speaker <NA> <NA>), this one has 11"},
		{"start not a number", ok + ok + "SPEAKER f 1 abc 1.0 <NA> <NA> A <NA> <NA>\n", `RTTM line 3: start "abc" is not a number of seconds`},
		{"duration NA", "SPEAKER f 1 0.5 <NA> <NA> <NA> A <NA> <NA>\n", `RTTM line 1: duration "<NA>" is not a number of seconds`},
		{"negative start", "SPEAKER f 1 -0.5 1 <NA> <NA> A <NA> <NA>\n", `RTTM line 1: start "-0.5" is negative`},
		{"negative duration", "SPEAKER f 1 0.5 -1 <NA> <NA> A <NA> <NA>\n", `RTTM line 1: duration "-1" is negative`},
		{"NaN", "SPEAKER f 1 NaN 1 <NA> <NA> A <NA> <NA>\n", `RTTM line 1: start "NaN" is not a number of seconds`},
		{"infinite", "SPEAKER f 1 0 +Inf <NA> <NA> A <NA> <NA>\n", `RTTM line 1: duration "+Inf" is not a number of seconds`},
		{"too late", "SPEAKER f 1 1e10 1 <NA> <NA> A <NA> <NA>\n", `RTTM line 1: start "1e10" is later than the 1e+09 s accepted`},
		{"ends too late", "SPEAKER f 1 9e8 2e8 <NA> <NA> A <NA> <NA>\n", "RTTM line 1: the turn ends at 1.1e+09 s, later than the 1e+09 s accepted"},
		{"not UTF-8", ok + "SPEAKER f 1 0 1 <NA> <NA> M\xc9O069 <NA> <NA>\n", "RTTM line 2 is not UTF-8 text"},
		{"line too long", ok + strings.Repeat("x", 70000) + "\n", "RTTM line 2 is longer than 65536 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadRTTM(strings.NewReader(c.in))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("ReadRTTM error = %v, want %q…", err, c.want)
			}
			if code := hark.ErrorCode(err); code != hark.EINVALID {
				t.Errorf("error code %s, want %s", code, hark.EINVALID)
			}
		})
	}
}

func TestReadersWrapReadErrors(t *testing.T) {
	broken := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("SPEAKER f 1 0.5 1.0 <NA> <NA> A <NA> <NA>\n"), iotest.ErrReader(broken))
	if _, err := ReadRTTM(r); !errors.Is(err, broken) || hark.ErrorCode(err) == hark.EINVALID || !strings.Contains(err.Error(), "read RTTM line 2") {
		t.Errorf("ReadRTTM error = %v (%s), want the reader's error on line 2", err, hark.ErrorCode(err))
	}
	if _, err := ReadUEM(iotest.ErrReader(broken)); !errors.Is(err, broken) || !strings.Contains(err.Error(), "read UEM line 1") {
		t.Errorf("ReadUEM error = %v, want the reader's error on line 1", err)
	}
}

func TestWriteRTTM(t *testing.T) {
	turns := []Turn{
		tr("B", 12.3456, 14),
		tr("A", 0.0004, 1.0016), // rounded to 0.000–1.002: duration 1.002, not round(1.0012)
		tr("MÉO069", 1.0016, 2.5),
		tr("A", 12.3456, 13),
	}
	orig := slices.Clone(turns)
	var b bytes.Buffer
	if err := WriteRTTM(&b, "rec1", turns); err != nil {
		t.Fatal(err)
	}
	want := "SPEAKER rec1 1 0.000 1.002 <NA> <NA> A <NA> <NA>\n" +
		"SPEAKER rec1 1 1.002 1.498 <NA> <NA> MÉO069 <NA> <NA>\n" +
		"SPEAKER rec1 1 12.346 0.654 <NA> <NA> A <NA> <NA>\n" +
		"SPEAKER rec1 1 12.346 1.654 <NA> <NA> B <NA> <NA>\n"
	if b.String() != want {
		t.Errorf("WriteRTTM wrote\n%s\nwant\n%s", b.String(), want)
	}
	if !slices.Equal(turns, orig) {
		t.Errorf("WriteRTTM changed its input: %v", turns)
	}

	// Read back: the same turns to the millisecond, and A's end still
	// touching MÉO069's start.
	got, err := ReadRTTM(&b)
	if err != nil {
		t.Fatal(err)
	}
	back := got["rec1"]
	if len(got) != 1 || len(back) != len(turns) {
		t.Fatalf("read back %v", got)
	}
	if back[0].End != back[1].Start {
		t.Errorf("A ends at %v, MÉO069 starts at %v", back[0].End, back[1].Start)
	}
	for i, w := range []Turn{orig[1], orig[2], orig[3], orig[0]} {
		if back[i].Speaker != w.Speaker || math.Abs(back[i].Start-w.Start) > 5e-4+1e-12 || math.Abs(back[i].End-w.End) > 5e-4+1e-12 {
			t.Errorf("turn %d read back as %v, written from %v", i, back[i], w)
		}
	}
}

func TestWriteRTTMErrors(t *testing.T) {
	for _, c := range []struct {
		name, file string
		turns      []Turn
		want       string
	}{
		{"empty file id", "", nil, `RTTM file id "" is empty or holds white space`},
		{"file id with a space", "my rec", nil, `RTTM file id "my rec" is empty or holds white space`},
		{"speaker with a space", "f", []Turn{tr("A", 0, 1), tr("Ann Smith", 1, 2)}, `turn 1: speaker "Ann Smith" is empty or holds white space`},
		{"empty speaker", "f", []Turn{tr("", 0, 1)}, `turn 0: speaker "" is empty or holds white space`},
		{"reversed", "f", []Turn{tr("A", 2, 1)}, "turn 0 (A): times 2–1 s are not 0 ≤ start ≤ end ≤ 1e+09"},
		{"negative", "f", []Turn{tr("A", -1, 1)}, "turn 0 (A): times -1–1 s are not"},
		{"NaN", "f", []Turn{tr("A", math.NaN(), 1)}, "turn 0 (A): times NaN–1 s are not"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteRTTM(&b, c.file, c.turns)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("WriteRTTM error = %v, want %q…", err, c.want)
			}
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Errorf("error code %s", hark.ErrorCode(err))
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q", b.String())
			}
		})
	}
	broken := errors.New("disk full")
	if err := WriteRTTM(failWriter{broken}, "f", []Turn{tr("A", 0, 1)}); !errors.Is(err, broken) {
		t.Errorf("WriteRTTM to a failing writer: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestReadUEM(t *testing.T) {
	in := ";; scored regions\n" +
		"dev00 NA 0.000 30.000\n" +
		"\n" +
		"dev00 1 40 45.5\r\n" +
		"dev01 NA 2 2\n"
	got, err := ReadUEM(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]Span{
		"dev00": {{0, 30}, {40, 45.5}},
		"dev01": {{2, 2}},
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ReadUEM = %v, want %v", got, want)
	}
}

func TestReadUEMErrors(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"too few fields", "dev00 NA 0\n", "UEM line 1: a UEM line has 4 fields (file channel start end), this one has 3"},
		{"too many fields", "dev00 NA 0 30\ndev00 NA 0 30 x\n", "UEM line 2: a UEM line has 4 fields"},
		{"start not a number", "dev00 NA zero 30\n", `UEM line 1: start "zero" is not a number of seconds`},
		{"end negative", "dev00 NA 0 -30\n", `UEM line 1: end "-30" is negative`},
		{"reversed", "dev00 NA 30 0.5\n", "UEM line 1: the span ends (0.5) before it starts (30)"},
		{"not UTF-8", "dev\xff NA 0 30\n", "UEM line 1 is not UTF-8 text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadUEM(strings.NewReader(c.in))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("ReadUEM error = %v, want %q…", err, c.want)
			}
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Errorf("error code %s", hark.ErrorCode(err))
			}
		})
	}
}

func FuzzReadRTTM(f *testing.F) {
	f.Add([]byte("SPEAKER dev00 1 1.440 11.872 <NA> <NA> MEE009 <NA> <NA>\nSPEAKER dev00 1 13.152 3.770 <NA> <NA> MEE012 <NA> <NA>\n"))
	f.Add([]byte(";; c\nSPKR-INFO f 1 <NA> <NA> <NA> unknown A <NA> <NA>\nSPEAKER f 1 0 0 <NA> <NA> MÉO069 <NA>\r\n"))
	f.Add([]byte("SPEAKER f 1 1e9 0 <NA> <NA> A <NA> <NA>\nSPEAKER f 1 0.0004 0.0012 <NA> <NA> B <NA> <NA>\n"))
	f.Add([]byte("SPEAKER f 1 -0 NaN <NA> <NA> A <NA> <NA>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := ReadRTTM(bytes.NewReader(data))
		if err != nil {
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error of kind %s: %v", hark.ErrorCode(err), err)
			}
			return
		}
		for file, turns := range files {
			for _, tu := range turns {
				if !(0 <= tu.Start && tu.Start <= tu.End && tu.End <= maxSeconds) || !isField(tu.Speaker) {
					t.Fatalf("%s: bad turn %+v", file, tu)
				}
			}
			// What was read can be written, and what is written reads back
			// to the same file.
			var first bytes.Buffer
			if err := WriteRTTM(&first, file, turns); err != nil {
				t.Fatalf("WriteRTTM(%q): %v", file, err)
			}
			again, err := ReadRTTM(bytes.NewReader(first.Bytes()))
			if err != nil {
				t.Fatalf("reading back %q: %v", first.String(), err)
			}
			var second bytes.Buffer
			if err := WriteRTTM(&second, file, again[file]); err != nil {
				t.Fatal(err)
			}
			if len(again) != 1 || len(again[file]) != len(turns) || second.String() != first.String() {
				t.Fatalf("wrote\n%s\nread back and wrote\n%s", first.String(), second.String())
			}
			Score(turns, turns, nil, 0.25) // must not panic
		}
	})
}

func FuzzReadUEM(f *testing.F) {
	f.Add([]byte("dev00 NA 0.000 30.000\ndev01 NA 0.000 30.000\n"))
	f.Add([]byte(";; c\n\ndev00 1 5 5\r\n"))
	f.Add([]byte("dev00 NA 30 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := ReadUEM(bytes.NewReader(data))
		if err != nil {
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error of kind %s: %v", hark.ErrorCode(err), err)
			}
			return
		}
		for file, spans := range files {
			if !isField(file) || len(spans) == 0 {
				t.Fatalf("file %q with spans %v", file, spans)
			}
			for _, s := range spans {
				if !(0 <= s.Start && s.Start <= s.End && s.End <= maxSeconds) {
					t.Fatalf("%s: bad span %+v", file, s)
				}
			}
		}
	})
}
