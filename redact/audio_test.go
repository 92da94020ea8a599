package redact

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/harkworks/hark"
)

// wav16 is a mono 16-bit WAV at 1000 Hz whose every sample is 1000.
func wav16(seconds int) []byte {
	var b bytes.Buffer
	n := 1000 * seconds
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(1000), uint32(2000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(2*n))
	for range n {
		binary.Write(&b, binary.LittleEndian, int16(1000))
	}
	return b.Bytes()
}

func TestSilenceWAV(t *testing.T) {
	in := wav16(4)
	var out bytes.Buffer
	if err := SilenceWAV(&out, bytes.NewReader(in), []TimeSpan{{1, 1.5}, {3, 9}}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != len(in) || !bytes.Equal(out.Bytes()[:44], in[:44]) {
		t.Fatalf("%d bytes, header changed: the copy must be the file with only samples changed", out.Len())
	}
	sample := func(sec float64) int16 {
		i := 44 + 2*int(sec*1000)
		return int16(binary.LittleEndian.Uint16(out.Bytes()[i:]))
	}
	for sec, want := range map[float64]int16{0.5: 1000, 1.0: 0, 1.499: 0, 1.5: 1000, 2.9: 1000, 3.2: 0, 3.999: 0} {
		if got := sample(sec); got != want {
			t.Errorf("at %.3f s: %d, want %d", sec, got, want)
		}
	}
	if err := SilenceWAV(&bytes.Buffer{}, bytes.NewReader([]byte("ID3 not a wav")), nil); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("not a WAV: %v", err)
	}
}

func TestTimeSpans(t *testing.T) {
	tr := &hark.Transcript{Segments: []hark.Segment{{Start: 10, End: 20, Text: "My son Tobias is ten."}}}
	spans := TimeSpans(New(Config{}), tr, 0.25)
	if len(spans) != 1 {
		t.Fatalf("%+v", spans)
	}
	// "Tobias" is bytes 7–13 of 21: 13.33–16.19 s, padded.
	if s := spans[0]; s.Start < 12.9 || s.Start > 13.2 || s.End < 16.3 || s.End > 16.5 {
		t.Errorf("span %+v", s)
	}
	// Masked already (a team that redacts before storing): the same time.
	masked := &hark.Transcript{Segments: []hark.Segment{{Start: 10, End: 20, Text: "My son ****** is ten."}}}
	if again := TimeSpans(New(Config{}), masked, 0.25); len(again) != 1 || again[0] != spans[0] {
		t.Errorf("masked text: %+v, want %+v", again, spans)
	}
}
