package transcribe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
)

// SidecarExtensions are the file extensions of transcripts hark accepts next
// to a recording, in the order they are looked for.
var SidecarExtensions = []string{".vtt", ".srt", ".json"}

// ParseSidecar parses a transcript file by its extension: WebVTT (with
// <v Speaker> voices), SRT, or a hark transcript JSON. Errors are EINVALID
// and name the line.
func ParseSidecar(name string, data []byte) ([]hark.Segment, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".vtt":
		return ParseVTT(name, data)
	case ".srt":
		return ParseSRT(name, data)
	case ".json":
		var t hark.Transcript
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "%s is not a hark transcript JSON", name)
		}
		if len(t.Segments) == 0 {
			return nil, hark.Errorf(hark.EINVALID, "%s has no segments", name)
		}
		for i, s := range t.Segments {
			if s.End < s.Start || s.Start < 0 {
				return nil, hark.Errorf(hark.EINVALID, "%s: segment %d ends (%.3f) before it starts (%.3f)", name, i, s.End, s.Start)
			}
		}
		return t.Segments, nil
	}
	return nil, hark.Errorf(hark.EINVALID, "%s: unknown transcript format; use WebVTT (.vtt), SRT (.srt) or hark JSON (.json)", name)
}

var (
	cueTiming = regexp.MustCompile(`^((?:\d+:)?\d{1,2}:\d{2}[.,]\d{3})\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}[.,]\d{3})(\s.*)?$`)
	voiceTag  = regexp.MustCompile(`^<v(?:\.[^\s>]*)?\s+([^>]+)>`)
	anyTag    = regexp.MustCompile(`</?[^>]*>`)
)

// ParseVTT parses a WebVTT file. A cue's voice (<v Name>) is its speaker.
func ParseVTT(name string, data []byte) ([]hark.Segment, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return strings.TrimRight(sc.Text(), "\r"), true
	}
	first, ok := next()
	first = strings.TrimPrefix(first, "\ufeff")
	if !ok || !(first == "WEBVTT" || strings.HasPrefix(first, "WEBVTT ") || strings.HasPrefix(first, "WEBVTT\t")) {
		return nil, hark.Errorf(hark.EINVALID, "%s:1: not a WebVTT file: the first line must be WEBVTT", name)
	}
	var segs []hark.Segment
	for {
		l, ok := next()
		if !ok {
			break
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		if strings.HasPrefix(l, "NOTE") || strings.HasPrefix(l, "STYLE") || strings.HasPrefix(l, "REGION") {
			for { // skip the block
				l, ok = next()
				if !ok || strings.TrimSpace(l) == "" {
					break
				}
			}
			continue
		}
		if !strings.Contains(l, "-->") { // a cue identifier, or a broken timing line
			id, idLine := l, line
			if l, ok = next(); !ok || !strings.Contains(l, "-->") {
				return nil, hark.Errorf(hark.EINVALID, "%s:%d: expected a cue timing like 00:00:01.000 --> 00:00:04.000, got %q", name, idLine, id)
			}
		}
		seg, err := parseTiming(name, line, l)
		if err != nil {
			return nil, err
		}
		var text []string
		for {
			l, ok = next()
			if !ok || strings.TrimSpace(l) == "" {
				break
			}
			if m := voiceTag.FindStringSubmatch(l); m != nil && seg.Speaker == "" {
				seg.Speaker = strings.TrimSpace(m[1])
			}
			text = append(text, strings.TrimSpace(anyTag.ReplaceAllString(l, "")))
		}
		seg.Text = unescapeVTT(strings.Join(text, " "))
		if seg.Text == "" {
			return nil, hark.Errorf(hark.EINVALID, "%s:%d: cue has no text", name, line)
		}
		seg.Index = len(segs)
		segs = append(segs, seg)
	}
	if len(segs) == 0 {
		return nil, hark.Errorf(hark.EINVALID, "%s: no cues", name)
	}
	return segs, nil
}

// ParseSRT parses a SubRip file. A "Name:" at the start of a cue's text is
// its speaker.
func ParseSRT(name string, data []byte) ([]hark.Segment, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var segs []hark.Segment
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(strings.TrimPrefix(lines[i], "\ufeff"))
		if l == "" {
			continue
		}
		if _, err := strconv.Atoi(l); err != nil {
			return nil, hark.Errorf(hark.EINVALID, "%s:%d: expected a cue number, got %q", name, i+1, l)
		}
		i++
		if i >= len(lines) {
			return nil, hark.Errorf(hark.EINVALID, "%s:%d: cue number without timing", name, i)
		}
		seg, err := parseTiming(name, i+1, strings.TrimSpace(lines[i]))
		if err != nil {
			return nil, err
		}
		var text []string
		for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			i++
			text = append(text, strings.TrimSpace(anyTag.ReplaceAllString(lines[i], "")))
		}
		t := strings.Join(text, " ")
		if sp, rest, ok := strings.Cut(t, ":"); ok && len(sp) <= 40 && !strings.ContainsAny(sp, ".?!") {
			seg.Speaker, t = strings.TrimSpace(sp), strings.TrimSpace(rest)
		}
		if t == "" {
			return nil, hark.Errorf(hark.EINVALID, "%s:%d: cue has no text", name, i+1)
		}
		seg.Text = t
		seg.Index = len(segs)
		segs = append(segs, seg)
	}
	if len(segs) == 0 {
		return nil, hark.Errorf(hark.EINVALID, "%s: no cues", name)
	}
	return segs, nil
}

func parseTiming(name string, line int, l string) (hark.Segment, error) {
	m := cueTiming.FindStringSubmatch(strings.TrimSpace(l))
	if m == nil {
		return hark.Segment{}, hark.Errorf(hark.EINVALID, "%s:%d: expected a cue timing like 00:00:01.000 --> 00:00:04.000, got %q", name, line, l)
	}
	start, end := parseTimestamp(m[1]), parseTimestamp(m[2])
	if end < start {
		return hark.Segment{}, hark.Errorf(hark.EINVALID, "%s:%d: cue ends (%s) before it starts (%s)", name, line, m[2], m[1])
	}
	return hark.Segment{Start: start, End: end, Confidence: 1, Role: hark.RoleUnknown}, nil
}

func parseTimestamp(s string) float64 {
	s = strings.Replace(s, ",", ".", 1)
	parts := strings.Split(s, ":")
	var secs float64
	for _, p := range parts {
		v, _ := strconv.ParseFloat(p, 64) // the regexp admits digits only
		secs = secs*60 + v
	}
	return secs
}

func unescapeVTT(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&nbsp;", " ", "&lrm;", "", "&rlm;", "").Replace(s)
}

// FormatTimestamp formats seconds as a WebVTT timestamp (hh:mm:ss.mmm).
func FormatTimestamp(secs float64) string {
	ms := int64(secs*1000 + 0.5)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
