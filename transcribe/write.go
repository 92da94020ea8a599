package transcribe

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/harkworks/hark"
)

// Formats WriteTranscript writes.
var Formats = []string{"text", "vtt", "srt", "json"}

// WriteTranscript writes t in the named format: text, vtt, srt or json.
func WriteTranscript(w io.Writer, format string, t *hark.Transcript) error {
	switch strings.ToLower(format) {
	case "text", "txt", "":
		return WriteText(w, t)
	case "vtt", "webvtt":
		return WriteVTT(w, t)
	case "srt":
		return WriteSRT(w, t)
	case "json":
		return WriteJSON(w, t)
	}
	return hark.Errorf(hark.EINVALID, "unknown transcript format %q: use text, vtt, srt or json", format)
}

// speakerLabel is the name a segment is shown under: its speaker, else its
// role, else nothing.
func speakerLabel(s hark.Segment) string {
	if s.Speaker != "" {
		return s.Speaker
	}
	if s.Role != "" && s.Role != hark.RoleUnknown {
		return strings.ToUpper(string(s.Role[:1])) + string(s.Role[1:])
	}
	return ""
}

// WriteVTT writes t as WebVTT, one cue per segment with its speaker as the
// cue's voice (<v Worker>). ParseVTT reads it back.
func WriteVTT(w io.Writer, t *hark.Transcript) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("WEBVTT\n")
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\n", " ", "\r", "")
	for i, s := range t.Segments {
		fmt.Fprintf(bw, "\n%d\n%s --> %s\n", i+1, FormatTimestamp(s.Start), FormatTimestamp(s.End))
		if sp := speakerLabel(s); sp != "" {
			fmt.Fprintf(bw, "<v %s>", strings.NewReplacer(">", "", "\n", " ", "\r", "").Replace(sp))
		}
		bw.WriteString(esc.Replace(s.Text))
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// WriteSRT writes t as SubRip, with "Speaker: " before each cue's text.
// ParseSRT reads it back.
func WriteSRT(w io.Writer, t *hark.Transcript) error {
	bw := bufio.NewWriter(w)
	flat := strings.NewReplacer("\n", " ", "\r", "")
	for i, s := range t.Segments {
		if i > 0 {
			bw.WriteString("\n")
		}
		fmt.Fprintf(bw, "%d\n%s --> %s\n", i+1, srtTimestamp(s.Start), srtTimestamp(s.End))
		if sp := speakerLabel(s); sp != "" {
			bw.WriteString(flat.Replace(strings.ReplaceAll(sp, ":", "")) + ": ")
		}
		bw.WriteString(flat.Replace(s.Text) + "\n")
	}
	return bw.Flush()
}

func srtTimestamp(secs float64) string { return strings.Replace(FormatTimestamp(secs), ".", ",", 1) }

// WriteText writes t for reading: one line per segment with its start time
// and speaker.
func WriteText(w io.Writer, t *hark.Transcript) error {
	bw := bufio.NewWriter(w)
	flat := strings.NewReplacer("\n", " ", "\r", "")
	for _, s := range t.Segments {
		bw.WriteString("[" + FormatTimestamp(s.Start) + "] ")
		if sp := speakerLabel(s); sp != "" {
			bw.WriteString(sp + ": ")
		}
		bw.WriteString(flat.Replace(s.Text) + "\n")
	}
	return bw.Flush()
}

// WriteJSON writes t as hark's transcript JSON, indented; ParseSidecar
// reads it back.
func WriteJSON(w io.Writer, t *hark.Transcript) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}
