package qda

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/harkworks/hark"
)

// The namespaces of QDA-XML 1.0's two documents.
const (
	ProjectNS  = "urn:QDA-XML:project:1.0"
	CodebookNS = "urn:QDA-XML:codebook:1.0"
)

// group is a parent code that holds the codes of one polarity.
type group struct {
	polarity hark.Polarity
	name     string
	color    string
	about    string
}

// groups are the parent codes hark writes, in order.
var groups = []group{
	{hark.PolarityStrength, "Strengths", "#2E7D32", "Practice markers of good practice."},
	{hark.PolarityConcern, "Concerns", "#C62828", "Practice markers of concern."},
	{hark.PolarityNeutral, "Other", "#546E7A", "Practice markers that are neither strengths nor concerns."},
}

// palettes are the colours of a group's codes, in codebook order.
var palettes = map[hark.Polarity][]string{
	hark.PolarityStrength: {"#43A047", "#1E88E5", "#00897B", "#7CB342", "#3949AB", "#00ACC1", "#5E35B1", "#689F38"},
	hark.PolarityConcern:  {"#E53935", "#FB8C00", "#D81B60", "#F4511E", "#8E24AA", "#FFB300"},
	hark.PolarityNeutral:  {"#757575", "#6D4C41", "#546E7A", "#9E9D24"},
}

// GroupGUID is the GUID of the parent code of polarity p.
func GroupGUID(p hark.Polarity) string { return GUID("group", string(p)) }

// colours gives every code of cb its colour: the same code keeps its colour
// from one export to the next while the codebook keeps its order.
func colours(cb *hark.Codebook) map[string]string {
	out := map[string]string{}
	n := map[hark.Polarity]int{}
	for _, c := range cb.Codes {
		p := polarityOf(c.Polarity)
		pal := palettes[p]
		out[c.ID] = pal[n[p]%len(pal)]
		n[p]++
	}
	return out
}

func polarityOf(p hark.Polarity) hark.Polarity {
	if p == hark.PolarityStrength || p == hark.PolarityConcern {
		return p
	}
	return hark.PolarityNeutral
}

// trailerRE finds the line hark adds to a code's description, with the
// code's id and role, which REFI-QDA has no place for.
var trailerRE = regexp.MustCompile(`(?m)\n*^\[hark id=([a-z][a-z0-9_]*)(?: role=([a-z]+))?\]\s*$`)

// describe is a code's Description: its definition, its boundaries, and
// its hark id and role.
func describe(c hark.Code) string {
	var b strings.Builder
	b.WriteString(c.Definition)
	if c.Boundaries != "" {
		b.WriteString("\n\nBoundaries: " + c.Boundaries)
	}
	fmt.Fprintf(&b, "\n\n[hark id=%s role=%s]", c.ID, c.Role)
	return b.String()
}

// writeCodes writes the codebook's Codes element: one parent code per
// polarity that has codes, holding them. extra are codes the data uses
// that the codebook lacks (from an older version), written under Other.
func writeCodes(x *xw, cb *hark.Codebook, extra []string) {
	col := colours(cb)
	x.start("Codes")
	for _, g := range groups {
		var codes []hark.Code
		for _, c := range cb.Codes {
			if polarityOf(c.Polarity) == g.polarity {
				codes = append(codes, c)
			}
		}
		if g.polarity == hark.PolarityNeutral {
			for _, id := range extra {
				codes = append(codes, hark.Code{ID: id, Label: id, Definition: "A code of an earlier codebook version.", Role: "any", Polarity: hark.PolarityNeutral})
			}
		}
		if len(codes) == 0 {
			continue
		}
		x.start("Code", "guid", GroupGUID(g.polarity), "name", g.name, "isCodable", "false", "color", g.color)
		x.text("Description", g.about)
		for _, c := range codes {
			color := col[c.ID]
			if color == "" {
				color = "#9E9E9E"
			}
			x.start("Code", "guid", CodeGUID(c.ID), "name", c.Label, "isCodable", "true", "color", color)
			x.text("Description", describe(c))
			x.end("Code")
		}
		x.end("Code")
	}
	x.end("Codes")
}

// WriteCodebook writes cb as a REFI-QDA codebook exchange file (.qdc,
// namespace urn:QDA-XML:codebook:1.0): the codes with their labels,
// definitions and colours under one parent code per polarity. Cues and
// examples are hark's own and are not written.
func WriteCodebook(w io.Writer, cb *hark.Codebook) error {
	x := newXW(w)
	x.start("CodeBook", "xmlns", CodebookNS, "origin", "hark codebook "+cb.ID+" "+cb.Version)
	writeCodes(x, cb, nil)
	x.end("CodeBook")
	if err := x.close(); err != nil {
		return fmt.Errorf("write codebook: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// xmlCode is a Code as read, in either namespace.
type xmlCode struct {
	GUID        string    `xml:"guid,attr"`
	Name        string    `xml:"name,attr"`
	IsCodable   string    `xml:"isCodable,attr"`
	Color       string    `xml:"color,attr"`
	Description string    `xml:"Description"`
	Codes       []xmlCode `xml:"Code"`
}

type xmlCodebook struct {
	XMLName xml.Name
	Origin  string    `xml:"origin,attr"`
	Name    string    `xml:"name,attr"`
	Codes   []xmlCode `xml:"Codes>Code"`
	// A project holds its codes one level down.
	ProjectCodes []xmlCode `xml:"CodeBook>Codes>Code"`
}

// ImportedCode is a code read from a REFI-QDA file, with what the file
// says of it beyond hark's fields.
type ImportedCode struct {
	hark.Code
	GUID  string
	Color string
}

// Imported is a codebook read from a REFI-QDA file.
type Imported struct {
	Origin string // the tool that wrote it, as the file says
	Codes  []ImportedCode
}

// ReadCodebook reads the codes of a REFI-QDA codebook (.qdc), a project
// document (.qde), or a project (.qdpx, a zip holding project.qde). Codes
// are flattened in document order; parent codes that cannot be coded
// (groups) are left out, and a group named for strengths or concerns gives
// its codes their polarity. Each code's id comes from hark's line in its
// description when there is one; else from known (GUID → id: the codes of
// the codebook being updated, whose GUIDs hark derives from their ids);
// else from its name. A code without a description gets its name as its
// definition.
func ReadCodebook(r io.ReaderAt, size int64, known map[string]string) (*Imported, error) {
	head := make([]byte, 4)
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, hark.WrapError(hark.EINVALID, err, "read codebook")
	}
	var src io.Reader = io.NewSectionReader(r, 0, size)
	if bytes.Equal(head, []byte("PK\x03\x04")) {
		zr, err := zip.NewReader(r, size)
		if err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "read project zip")
		}
		f, err := zr.Open("project.qde")
		if err != nil {
			return nil, hark.Errorf(hark.EINVALID, "the zip has no project.qde: it is not a REFI-QDA project")
		}
		defer f.Close()
		src = f
	}
	var doc xmlCodebook
	if err := xml.NewDecoder(src).Decode(&doc); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "read REFI-QDA XML")
	}
	codes := doc.Codes
	switch doc.XMLName.Local {
	case "CodeBook":
	case "Project":
		codes = doc.ProjectCodes
	default:
		return nil, hark.Errorf(hark.EINVALID, "the document is a <%s>, not a REFI-QDA CodeBook or Project", doc.XMLName.Local)
	}
	out := &Imported{Origin: doc.Origin}
	used := map[string]bool{}
	var walk func(cs []xmlCode, pol hark.Polarity)
	walk = func(cs []xmlCode, pol hark.Polarity) {
		for _, xc := range cs {
			p := pol
			if gp, ok := groupPolarity(xc.Name); ok && !codable(xc) {
				p = gp
			}
			if codable(xc) {
				out.Codes = append(out.Codes, importCode(xc, p, known, used))
			}
			walk(xc.Codes, p)
		}
	}
	walk(codes, hark.PolarityNeutral)
	if len(out.Codes) == 0 {
		return nil, hark.Errorf(hark.EINVALID, "the file has no codes that can be coded")
	}
	return out, nil
}

func codable(c xmlCode) bool { return c.IsCodable != "false" && c.IsCodable != "0" }

// groupPolarity reads a group's polarity from its name.
func groupPolarity(name string) (hark.Polarity, bool) {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "strength"):
		return hark.PolarityStrength, true
	case strings.Contains(n, "concern"):
		return hark.PolarityConcern, true
	case n == "other" || n == "neutral":
		return hark.PolarityNeutral, true
	}
	return "", false
}

func importCode(xc xmlCode, pol hark.Polarity, known map[string]string, used map[string]bool) ImportedCode {
	c := ImportedCode{GUID: strings.ToUpper(strings.Trim(xc.GUID, "{}")), Color: xc.Color}
	c.Label = strings.TrimSpace(xc.Name)
	c.Polarity = pol
	c.Role = "any"
	desc := strings.TrimSpace(xc.Description)
	if m := trailerRE.FindStringSubmatchIndex(desc); m != nil {
		c.ID = desc[m[2]:m[3]]
		if m[4] >= 0 {
			c.Role = desc[m[4]:m[5]]
		}
		desc = strings.TrimSpace(desc[:m[0]] + desc[m[1]:])
	} else if id, ok := known[c.GUID]; ok {
		c.ID = id
	}
	if i := strings.Index(desc, "\n\nBoundaries: "); i >= 0 {
		c.Boundaries = strings.TrimSpace(desc[i+len("\n\nBoundaries: "):])
		desc = strings.TrimSpace(desc[:i])
	}
	c.Definition = desc
	if c.Definition == "" {
		c.Definition = c.Label
	}
	if c.ID == "" || used[c.ID] {
		c.ID = uniqueID(Slug(c.Label), used)
	}
	used[c.ID] = true
	return c
}

// Slug makes a code id (lower-case letters, digits, underscores, starting
// with a letter) from a name.
func Slug(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		default:
			under = true
		}
	}
	s := b.String()
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "code_" + s
	}
	return strings.TrimRight(s, "_")
}

func uniqueID(id string, used map[string]bool) string {
	if !used[id] {
		return id
	}
	for n := 2; ; n++ {
		if c := fmt.Sprintf("%s_%d", id, n); !used[c] {
			return c
		}
	}
}
