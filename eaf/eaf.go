// Package eaf writes a session as an ELAN annotation document (EAF 3.0),
// for linguists who work in ELAN: a tier per speaker with the transcript's
// turns and a tier per code with the tags, aligned to the turns they are
// in, and a media descriptor pointing at the audio. It streams: the XML is
// written token by token.
package eaf

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// SchemaLocation is where EAF 3.0's schema is published.
const SchemaLocation = "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"

// The linguistic types of hark's tiers.
const (
	TurnType = "hark-turn"
	TagType  = "hark-tag"
)

// Config says what a document holds.
type Config struct {
	// Author is the document's AUTHOR: the account that exports.
	Author string
	// Codebook gives the code tiers their names (the codes' labels) and
	// their order.
	Codebook *hark.Codebook
	// Keep says which tags are written; nil keeps all but the rejected.
	Keep func(hark.Tag) bool
	// MediaURL is where the audio is, as a URL relative to the document
	// (e.g. "./meeting.wav" when the audio is written next to it). Empty
	// means the recording's object key, as a relative URL.
	MediaURL string
	// Date is the document's DATE; zero means the session's latest change,
	// so that the same data gives the same file.
	Date time.Time
}

// Stats counts what a document holds.
type Stats struct {
	Turns int // turn annotations
	Tags  int // tags written (several in one turn make one annotation)
}

// MediaURL is the relative URL of an object key: each part escaped.
func MediaURL(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// MimeType is the media type ELAN expects for an audio file's extension.
func MimeType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".mp3":
		return "audio/mpeg"
	case ".m4a", ".mp4", ".aac":
		return "audio/mp4"
	case ".flac":
		return "audio/flac"
	case ".ogg", ".oga", ".opus":
		return "audio/ogg"
	}
	return "audio/x-wav"
}

type writer struct {
	enc *xml.Encoder
	err error
	ann int // annotations written, for their ids
}

func (x *writer) token(t xml.Token) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(t)
	}
}

func (x *writer) start(name string, kv ...string) {
	var as []xml.Attr
	for i := 0; i+1 < len(kv); i += 2 {
		as = append(as, xml.Attr{Name: xml.Name{Local: kv[i]}, Value: kv[i+1]})
	}
	x.token(xml.StartElement{Name: xml.Name{Local: name}, Attr: as})
}

func (x *writer) end(name string) { x.token(xml.EndElement{Name: xml.Name{Local: name}}) }

func (x *writer) empty(name string, kv ...string) {
	x.start(name, kv...)
	x.end(name)
}

func (x *writer) text(name, s string, kv ...string) {
	x.start(name, kv...)
	if s != "" {
		x.token(xml.CharData(s))
	}
	x.end(name)
}

// span is one annotation waiting to be written: annotations on one tier
// must not overlap, so one that overlaps the one before is merged into it.
type span struct {
	from, to int // time slot numbers
	fromMS   int64
	toMS     int64
	value    string
	ok       bool
}

// tier writes a tier's annotations, merging overlapping ones.
type tier struct {
	x    *writer
	slot func(n int) int64
	cur  span
}

func (t *tier) add(from, to int, value string) {
	fm, tm := t.slot(from), t.slot(to)
	if t.cur.ok && fm < t.cur.toMS {
		if tm > t.cur.toMS {
			t.cur.to, t.cur.toMS = to, tm
		}
		t.cur.value += " | " + value
		return
	}
	t.flush()
	t.cur = span{from: from, to: to, fromMS: fm, toMS: tm, value: value, ok: true}
}

func (t *tier) flush() {
	if !t.cur.ok {
		return
	}
	x := t.x
	x.ann++
	x.start("ANNOTATION")
	x.start("ALIGNABLE_ANNOTATION", "ANNOTATION_ID", "a"+strconv.Itoa(x.ann),
		"TIME_SLOT_REF1", "ts"+strconv.Itoa(t.cur.from), "TIME_SLOT_REF2", "ts"+strconv.Itoa(t.cur.to))
	x.text("ANNOTATION_VALUE", t.cur.value)
	x.end("ALIGNABLE_ANNOTATION")
	x.end("ANNOTATION")
	t.cur = span{}
}

func ms(sec float64) int64 {
	if sec < 0 {
		return 0
	}
	return int64(sec*1000 + 0.5)
}

func speakerName(sg hark.Segment) string {
	if s := strings.TrimSpace(sg.Speaker); s != "" {
		return s
	}
	return "Unknown"
}

// Write writes sess to w as an EAF 3.0 document.
func Write(w io.Writer, sess *hark.Session, cfg Config) (Stats, error) {
	var st Stats
	r := sess.Recording
	cb := cfg.Codebook
	if cb == nil {
		cb = &hark.Codebook{}
	}
	keep := cfg.Keep
	if keep == nil {
		keep = func(t hark.Tag) bool { return t.Review != hark.ReviewRejected }
	}
	date := cfg.Date
	if date.IsZero() {
		date = r.UpdatedAt
		if sess.Review != nil && sess.Review.UpdatedAt.After(date) {
			date = sess.Review.UpdatedAt
		}
	}
	media := cfg.MediaURL
	if media == "" {
		media = MediaURL(r.Key)
	}
	author := cfg.Author
	if author == "" {
		author = "hark"
	}
	var segs []hark.Segment
	if sess.Transcript != nil {
		segs = sess.Transcript.Segments
	}
	// Each turn has two time slots: ts(2i+1) at its start, ts(2i+2) at its end.
	slot := func(n int) int64 {
		sg := segs[(n-1)/2]
		if n%2 == 1 {
			return ms(sg.Start)
		}
		return max(ms(sg.Start), ms(sg.End))
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return st, fmt.Errorf("write eaf: %w", err)
	}
	x := &writer{enc: xml.NewEncoder(w)}
	x.enc.Indent("", "    ")
	x.start("ANNOTATION_DOCUMENT", "AUTHOR", author, "DATE", date.UTC().Format(time.RFC3339), "FORMAT", "3.0", "VERSION", "3.0",
		"xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance", "xsi:noNamespaceSchemaLocation", SchemaLocation)
	x.start("HEADER", "MEDIA_FILE", "", "TIME_UNITS", "milliseconds")
	x.empty("MEDIA_DESCRIPTOR", "MEDIA_URL", media, "MIME_TYPE", MimeType(r.Key), "RELATIVE_MEDIA_URL", media)
	x.text("PROPERTY", r.ID, "NAME", "hark-recording")
	x.end("HEADER")

	x.start("TIME_ORDER")
	for i, sg := range segs {
		x.empty("TIME_SLOT", "TIME_SLOT_ID", "ts"+strconv.Itoa(2*i+1), "TIME_VALUE", strconv.FormatInt(ms(sg.Start), 10))
		x.empty("TIME_SLOT", "TIME_SLOT_ID", "ts"+strconv.Itoa(2*i+2), "TIME_VALUE", strconv.FormatInt(slot(2*i+2), 10))
	}
	x.end("TIME_ORDER")

	// A tier per speaker, in the order they first speak.
	var names []string
	seen := map[string]bool{}
	for _, sg := range segs {
		if n := speakerName(sg); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	annotator := "hark"
	if sess.Transcript != nil && sess.Transcript.Engine != "" {
		annotator = "hark (" + sess.Transcript.Engine + ")"
	}
	for _, n := range names {
		x.start("TIER", "LINGUISTIC_TYPE_REF", TurnType, "TIER_ID", n, "PARTICIPANT", n, "ANNOTATOR", annotator)
		tr := &tier{x: x, slot: slot}
		for i, sg := range segs {
			if speakerName(sg) == n {
				tr.add(2*i+1, 2*i+2, sg.Text)
				st.Turns++
			}
		}
		tr.flush()
		x.end("TIER")
	}

	// A tier per code the kept tags use: the codebook's in its order, then
	// any others.
	byIndex := make(map[int]int, len(segs))
	for i, sg := range segs {
		byIndex[sg.Index] = i
	}
	var tags []hark.Tag
	if sess.Annotations != nil {
		for _, t := range sess.Annotations.Tags {
			if _, ok := byIndex[t.Segment]; ok && keep(t) {
				tags = append(tags, t)
			}
		}
	}
	sort.SliceStable(tags, func(i, j int) bool { return byIndex[tags[i].Segment] < byIndex[tags[j].Segment] })
	used := map[string]bool{}
	for _, t := range tags {
		used[t.Code] = true
	}
	var codes []string
	for _, c := range cb.Codes {
		if used[c.ID] {
			codes = append(codes, c.ID)
			delete(used, c.ID)
		}
	}
	var rest []string
	for c := range used {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	codes = append(codes, rest...)
	tierIDs := map[string]bool{}
	for _, n := range names {
		tierIDs[n] = true
	}
	for _, code := range codes {
		id := code
		if c := cb.Code(code); c != nil && c.Label != "" {
			id = c.Label
		}
		if tierIDs[id] {
			id = code
		}
		for tierIDs[id] {
			id += "_"
		}
		tierIDs[id] = true
		x.start("TIER", "LINGUISTIC_TYPE_REF", TagType, "TIER_ID", id, "ANNOTATOR", "hark")
		tr := &tier{x: x, slot: slot}
		for _, t := range tags {
			if t.Code != code {
				continue
			}
			i := byIndex[t.Segment]
			tr.add(2*i+1, 2*i+2, tagValue(t))
			st.Tags++
		}
		tr.flush()
		x.end("TIER")
	}

	x.empty("LINGUISTIC_TYPE", "GRAPHIC_REFERENCES", "false", "LINGUISTIC_TYPE_ID", TurnType, "TIME_ALIGNABLE", "true")
	x.empty("LINGUISTIC_TYPE", "GRAPHIC_REFERENCES", "false", "LINGUISTIC_TYPE_ID", TagType, "TIME_ALIGNABLE", "true")
	for _, c := range []struct{ stereo, about string }{
		{"Time_Subdivision", "Time subdivision of parent annotation's time interval, no time gaps allowed within this interval"},
		{"Symbolic_Subdivision", "Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered"},
		{"Symbolic_Association", "1-1 association with a parent annotation"},
		{"Included_In", "Time alignable annotations within the parent annotation's time interval, gaps are allowed"},
	} {
		x.empty("CONSTRAINT", "DESCRIPTION", c.about, "STEREOTYPE", c.stereo)
	}
	x.end("ANNOTATION_DOCUMENT")
	if x.err == nil {
		x.err = x.enc.Close()
	}
	if x.err != nil {
		return st, fmt.Errorf("write eaf: %w", x.err)
	}
	_, err := io.WriteString(w, "\n")
	return st, err
}

// tagValue is a tag's annotation: its evidence and what coaches made of it.
func tagValue(t hark.Tag) string {
	status := string(t.Review)
	if t.Source == hark.SourceCoach {
		status = "added by " + t.ReviewedBy
	} else if status == "" {
		status = string(hark.ReviewPending)
	} else if t.ReviewedBy != "" && t.Review != hark.ReviewPending {
		status += " by " + t.ReviewedBy
	}
	if t.OrigCode != "" {
		status += ", was " + t.OrigCode
	}
	ev := strings.TrimSpace(t.Evidence)
	if ev == "" {
		return "[" + status + "]"
	}
	return ev + " [" + status + "]"
}
