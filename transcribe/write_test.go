package transcribe

import (
	"bytes"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

func sampleTranscript() *hark.Transcript {
	return &hark.Transcript{Schema: 1, RecordingID: "rec_1", Engine: "openai", Segments: []hark.Segment{
		{Index: 0, Start: 0.4, End: 3.25, Speaker: "Worker", Role: hark.RoleWorker, Text: "What would you like to talk about?", Confidence: 0.9},
		{Index: 1, Start: 62, End: 3603.5, Speaker: "", Role: hark.RoleParent, Text: "Fish & chips <now>.", Confidence: 0.8},
		{Index: 2, Start: 3604, End: 3605, Text: "Who's there?"},
	}}
}

func TestWriteFormats(t *testing.T) {
	tr := sampleTranscript()
	tests := []struct{ format, want string }{
		{"vtt", "WEBVTT\n\n1\n00:00:00.400 --> 00:00:03.250\n<v Worker>What would you like to talk about?\n\n2\n00:01:02.000 --> 01:00:03.500\n<v Parent>Fish &amp; chips &lt;now&gt;.\n\n3\n01:00:04.000 --> 01:00:05.000\nWho's there?\n"},
		{"srt", "1\n00:00:00,400 --> 00:00:03,250\nWorker: What would you like to talk about?\n\n2\n00:01:02,000 --> 01:00:03,500\nParent: Fish & chips <now>.\n\n3\n01:00:04,000 --> 01:00:05,000\nWho's there?\n"},
		{"text", "[00:00:00.400] Worker: What would you like to talk about?\n[00:01:02.000] Parent: Fish & chips <now>.\n[01:00:04.000] Who's there?\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := WriteTranscript(&b, tt.format, tr); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.format, b.String(), tt.want)
		}
	}
	if err := WriteTranscript(&bytes.Buffer{}, "docx", tr); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("unknown format: %v", err)
	}
}

// TestWriteRoundTrip checks that what the writers write, the sidecar
// parsers read back.
func TestWriteRoundTrip(t *testing.T) {
	tr := sampleTranscript()
	tr.Segments[1].Text = "Fish & chips."
	for _, format := range []string{"vtt", "srt", "json"} {
		var b bytes.Buffer
		if err := WriteTranscript(&b, format, tr); err != nil {
			t.Fatal(err)
		}
		segs, err := ParseSidecar("m."+format, b.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for i, s := range segs {
			want := tr.Segments[i]
			speaker := speakerLabel(want)
			if format == "json" {
				speaker = want.Speaker
			}
			if s.Start != want.Start || s.End != want.End || s.Text != want.Text || s.Speaker != speaker {
				t.Errorf("%s segment %d: %+v, want %+v", format, i, s, want)
			}
		}
	}
}

func TestTalkTimes(t *testing.T) {
	segs := []hark.Segment{
		{Start: 0, End: 10, Speaker: "Worker", Role: hark.RoleWorker},
		{Start: 5, End: 12, Speaker: "Worker", Role: hark.RoleWorker},  // overlaps the worker's own segment
		{Start: 11, End: 20, Speaker: "Parent", Role: hark.RoleParent}, // cross-talk with the worker
		{Start: 30, End: 31, Role: hark.RoleUnknown},
		{Start: 40, End: 39, Speaker: "Parent"}, // malformed: ignored
	}
	tt := TalkTimes(segs)
	want := TalkTime{Total: 21, BySpeaker: map[string]float64{"Worker": 12, "Parent": 9}, ByRole: map[hark.Role]float64{hark.RoleWorker: 12, hark.RoleParent: 9, hark.RoleUnknown: 1}}
	if tt.Total != want.Total || len(tt.BySpeaker) != 2 || tt.BySpeaker["Worker"] != 12 || tt.BySpeaker["Parent"] != 9 ||
		tt.ByRole[hark.RoleWorker] != 12 || tt.ByRole[hark.RoleParent] != 9 || tt.ByRole[hark.RoleUnknown] != 1 {
		t.Errorf("got %+v, want %+v", tt, want)
	}
	if z := TalkTimes(nil); z.Total != 0 || len(z.ByRole) != 0 {
		t.Errorf("empty: %+v", z)
	}
}

func TestWorkerChannel(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  string
	}{
		{"", 0, ""}, {"left", 1, ""}, {"Right", 2, ""}, {" 3 ", 3, ""}, {"L", 1, ""},
		{"middle", 0, `"middle" is not left, right or a channel number`}, {"0", 0, "not left"}, {"33", 0, "not left"},
	}
	for _, tt := range tests {
		got, err := parseWorkerChannel("m.wav", tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("parseWorkerChannel(%q) = %d, %v", tt.in, got, err)
		}
	}
	for _, tt := range []struct {
		channel, worker, channels int
		speaker                   string
		role                      hark.Role
	}{
		{0, 1, 2, "", hark.RoleUnknown}, {1, 1, 2, "Worker", hark.RoleWorker}, {2, 1, 2, "Parent", hark.RoleParent},
		{1, 2, 2, "Parent", hark.RoleParent}, {3, 1, 4, "Channel 3", hark.RoleUnknown}, {1, 0, 2, "", hark.RoleUnknown},
	} {
		if sp, role := trackSpeaker(tt.channel, tt.worker, tt.channels); sp != tt.speaker || role != tt.role {
			t.Errorf("trackSpeaker(%d, %d, %d) = %q %s", tt.channel, tt.worker, tt.channels, sp, role)
		}
	}
}
