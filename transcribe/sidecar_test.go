package transcribe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

func TestParseVTT(t *testing.T) {
	vtt := "WEBVTT - meeting\n\nNOTE a note\nspanning lines\n\n1\n00:00:00.400 --> 00:00:03.250\n<v Worker>What would you like\nto talk about?</v>\n\n00:01:02.000 --> 01:00:03.500 align:start\n<v.loud Parent>Fish &amp; chips.\n"
	segs, err := ParseVTT("m.vtt", []byte(vtt))
	if err != nil {
		t.Fatal(err)
	}
	want := []hark.Segment{
		{Index: 0, Start: 0.4, End: 3.25, Speaker: "Worker", Text: "What would you like to talk about?", Confidence: 1, Role: hark.RoleUnknown},
		{Index: 1, Start: 62, End: 3603.5, Speaker: "Parent", Text: "Fish & chips.", Confidence: 1, Role: hark.RoleUnknown},
	}
	if len(segs) != len(want) {
		t.Fatalf("got %d segments", len(segs))
	}
	for i := range want {
		if segs[i] != want[i] {
			t.Errorf("segment %d: got %+v, want %+v", i, segs[i], want[i])
		}
	}
}

func TestParseSidecarErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"m.vtt", "NOT VTT\n", "m.vtt:1: not a WebVTT file"},
		{"m.vtt", "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nhi\n", "m.vtt:3: expected a cue timing"},
		{"m.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nhi\n", "m.vtt:3: cue ends"},
		{"m.vtt", "WEBVTT\n\n", "no cues"},
		{"m.srt", "1\n00:00:01,000 --> 00:00:02,000\nWorker: hi\n\nx\n", "m.srt:5: expected a cue number"},
		{"m.txt", "hello", "unknown transcript format"},
		{"m.json", "{", "not a hark transcript JSON"},
	}
	for _, tt := range tests {
		_, err := ParseSidecar(tt.name, []byte(tt.data))
		if err == nil || hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSidecar(%s, %q) = %v, want EINVALID containing %q", tt.name, tt.data, err, tt.want)
		}
	}
}

func TestParseSRT(t *testing.T) {
	srt := "1\r\n00:00:01,000 --> 00:00:02,500\r\nWorker: How are you?\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nFine, thanks.\r\n"
	segs, err := ParseSRT("m.srt", []byte(srt))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || segs[0].Speaker != "Worker" || segs[0].Text != "How are you?" || segs[0].End != 2.5 || segs[1].Speaker != "" || segs[1].Text != "Fine, thanks." {
		t.Errorf("got %+v", segs)
	}
}

func TestAssignRoles(t *testing.T) {
	segs := []hark.Segment{{Speaker: "Worker"}, {Speaker: "Parent"}, {Speaker: "Sam"}, {Speaker: "Jo"}}
	AssignRoles(segs)
	got := []hark.Role{segs[0].Role, segs[1].Role, segs[2].Role, segs[3].Role}
	want := []hark.Role{hark.RoleWorker, hark.RoleParent, hark.RoleUnknown, hark.RoleUnknown}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("by label: segment %d role %s, want %s", i, got[i], want[i])
		}
	}
	AssignRoles(segs, "sam")
	if segs[2].Role != hark.RoleWorker || segs[3].Role != hark.RoleParent || segs[0].Role != hark.RoleParent {
		t.Errorf("by name: got %+v", segs)
	}
}

func TestTestdataSidecars(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "meetings", "*.vtt"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		segs, err := ParseVTT(filepath.Base(p), data)
		if err != nil {
			t.Fatal(err)
		}
		AssignRoles(segs)
		for _, s := range segs {
			if s.Role != hark.RoleWorker && s.Role != hark.RoleParent {
				t.Errorf("%s: segment %d has role %s", p, s.Index, s.Role)
			}
		}
	}
}

func FuzzParseVTT(f *testing.F) {
	f.Add([]byte("WEBVTT\n\n00:00:00.400 --> 00:00:03.250\n<v Worker>Hello</v>\n"))
	f.Add([]byte("WEBVTT\n\nNOTE x\n\nid\n00:01.000 --> 00:02.000\ntext\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		segs, err := ParseVTT("f.vtt", data)
		if err != nil {
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error of kind %s", hark.ErrorCode(err))
			}
			return
		}
		for _, s := range segs {
			if s.End < s.Start || s.Text == "" {
				t.Fatalf("bad segment %+v", s)
			}
		}
	})
}

func FuzzParseSRT(f *testing.F) {
	f.Add([]byte("1\r\n00:00:01,000 --> 00:00:02,500\r\nWorker: How are you?\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nFine.\r\n"))
	f.Add([]byte("1\n00:00:01,000 --> 00:00:00,500\nx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		segs, err := ParseSRT("f.srt", data)
		if err != nil {
			if hark.ErrorCode(err) != hark.EINVALID {
				t.Fatalf("error of kind %s", hark.ErrorCode(err))
			}
			return
		}
		for _, s := range segs {
			if s.End < s.Start || s.Text == "" {
				t.Fatalf("bad segment %+v", s)
			}
		}
	})
}
