// Package qdatest checks exports in tests: REFI-QDA projects and codebooks
// against the QDA-XML 1.0 schema with xmllint (Debian's libxml2-utils), and
// ELAN documents against what EAF 3.0's schema requires, in Go (that schema
// cannot be fetched here). A missing xmllint or schema fails the test when
// CI is set and skips it otherwise.
package qdatest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SchemaFile is the QDA-XML 1.0 project schema's name in the shared folder.
const SchemaFile = "Project-mrt2019.xsd"

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// Schema returns the path of the project schema in dir (../shared/qda from
// the repository root, e.g. "../../shared/qda" from a package).
func Schema(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, SchemaFile)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		missing(t, "the REFI-QDA schema is missing: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	return p
}

// Xmllint returns xmllint's path.
func Xmllint(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		missing(t, "xmllint is missing (Debian: apt-get install libxml2-utils): %v", err)
	}
	return p
}

func lint(t testing.TB, schema, name string, doc []byte) {
	t.Helper()
	xl := Xmllint(t)
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xl, "--noout", "--schema", schema, f).CombinedOutput()
	if err != nil {
		t.Fatalf("%s does not validate against %s: %v\n%s", name, filepath.Base(schema), err, out)
	}
}

// ProjectQDE returns project.qde of a .qdpx.
func ProjectQDE(t testing.TB, qdpx []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(qdpx), int64(len(qdpx)))
	if err != nil {
		t.Fatalf("the project is not a zip: %v", err)
	}
	f, err := zr.Open("project.qde")
	if err != nil {
		t.Fatalf("the project has no project.qde: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// ValidateProject checks a .qdpx's project.qde against the schema in dir,
// and that every internal:// path it names is in the zip.
func ValidateProject(t testing.TB, dir string, qdpx []byte) {
	t.Helper()
	schema := Schema(t, dir)
	qde := ProjectQDE(t, qdpx)
	lint(t, schema, "project.qde", qde)
	zr, _ := zip.NewReader(bytes.NewReader(qdpx), int64(len(qdpx)))
	in := map[string]bool{}
	for _, f := range zr.File {
		in[f.Name] = true
	}
	for _, m := range regexp.MustCompile(`"internal://([^"]+)"`).FindAllSubmatch(qde, -1) {
		if !in["Sources/"+string(m[1])] {
			t.Errorf("project.qde names internal://%s, which is not in Sources/", m[1])
		}
	}
}

// ValidateCodebook checks a .qdc against a codebook schema derived from the
// project schema in dir: the same Codes and Code types, in the codebook
// namespace, with CodeBook (Codes, Sets, origin) as the root, as REFI's
// Codebook.xsd has it.
func ValidateCodebook(t testing.TB, dir string, qdc []byte) {
	t.Helper()
	src, err := os.ReadFile(Schema(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, r := range []struct{ old, new string }{
		{`xmlns="urn:QDA-XML:project:1.0"`, `xmlns="urn:QDA-XML:codebook:1.0"`},
		{`targetNamespace="urn:QDA-XML:project:1.0"`, `targetNamespace="urn:QDA-XML:codebook:1.0"`},
		{`<xsd:element name="Project" type="ProjectType">`, `<xsd:element name="CodeBook" type="CodeBookType">`},
	} {
		if !strings.Contains(s, r.old) {
			t.Fatalf("the project schema has changed: no %s", r.old)
		}
		s = strings.Replace(s, r.old, r.new, 1)
	}
	cbType := regexp.MustCompile(`(<xsd:complexType name="CodeBookType">\s*<xsd:sequence>\s*<xsd:element name="Codes" type="CodesType"/>)(\s*</xsd:sequence>)(\s*</xsd:complexType>)`)
	if !cbType.MatchString(s) {
		t.Fatal("the project schema has changed: CodeBookType is not Codes alone")
	}
	s = cbType.ReplaceAllString(s, `$1<xsd:element name="Sets" type="SetsType" minOccurs="0"/>$2<xsd:attribute name="origin" type="xsd:string"/>$3`)
	schema := filepath.Join(t.TempDir(), "Codebook.xsd")
	if err := os.WriteFile(schema, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	lint(t, schema, "codebook.qdc", qdc)
}

// EAF 3.0's top-level elements, in the order its schema requires.
var eafOrder = []string{"HEADER", "TIME_ORDER", "TIER", "LINGUISTIC_TYPE", "LOCALE", "LANGUAGE", "CONSTRAINT",
	"CONTROLLED_VOCABULARY", "LEXICON_REF", "EXTERNAL_REF"}

var ncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]*$`)

type eafDoc struct {
	XMLName  xml.Name
	Author   *string `xml:"AUTHOR,attr"`
	Date     string  `xml:"DATE,attr"`
	Version  string  `xml:"VERSION,attr"`
	Format   string  `xml:"FORMAT,attr"`
	Location string  `xml:"http://www.w3.org/2001/XMLSchema-instance noNamespaceSchemaLocation,attr"`
	Header   struct {
		TimeUnits string `xml:"TIME_UNITS,attr"`
		Media     []struct {
			URL  string `xml:"MEDIA_URL,attr"`
			Mime string `xml:"MIME_TYPE,attr"`
		} `xml:"MEDIA_DESCRIPTOR"`
	} `xml:"HEADER"`
	Slots []struct {
		ID    string `xml:"TIME_SLOT_ID,attr"`
		Value string `xml:"TIME_VALUE,attr"`
	} `xml:"TIME_ORDER>TIME_SLOT"`
	Tiers []struct {
		ID     string `xml:"TIER_ID,attr"`
		Type   string `xml:"LINGUISTIC_TYPE_REF,attr"`
		Parent string `xml:"PARENT_REF,attr"`
		Anns   []struct {
			Align *struct {
				ID    string  `xml:"ANNOTATION_ID,attr"`
				Ref1  string  `xml:"TIME_SLOT_REF1,attr"`
				Ref2  string  `xml:"TIME_SLOT_REF2,attr"`
				Value *string `xml:"ANNOTATION_VALUE"`
			} `xml:"ALIGNABLE_ANNOTATION"`
		} `xml:"ANNOTATION"`
	} `xml:"TIER"`
	Types []struct {
		ID        string `xml:"LINGUISTIC_TYPE_ID,attr"`
		Alignable string `xml:"TIME_ALIGNABLE,attr"`
	} `xml:"LINGUISTIC_TYPE"`
}

// EAF is what an ELAN document holds, for tests to look at.
type EAF struct {
	MediaURL string
	// Tiers maps each tier's id to its annotations' values, in order.
	Tiers map[string][]string
	// Times maps each tier's id to its annotations' [start, end] in ms.
	Times map[string][][2]int64
}

// ValidateEAF checks an ELAN document against what EAF 3.0's schema
// (EAFv3.0.xsd) and ELAN require: the root's attributes, the elements'
// order, the required attributes, unique ids that are XML names, time
// slots with values in milliseconds, annotations that refer to existing
// slots in order and do not overlap on a tier, tiers whose linguistic type
// is defined and time-alignable. It returns what the document holds.
func ValidateEAF(t testing.TB, doc []byte) *EAF {
	t.Helper()
	// The order of the top-level elements.
	dec := xml.NewDecoder(bytes.NewReader(doc))
	depth, last := 0, -1
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the EAF is not well-formed XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				i := indexOf(eafOrder, e.Name.Local)
				if i < 0 {
					t.Fatalf("EAF: unknown top-level element %s", e.Name.Local)
				}
				if i < last {
					t.Fatalf("EAF: %s comes after %s; the schema's order is %v", e.Name.Local, eafOrder[last], eafOrder)
				}
				if (i == 0 || i == 1) && i == last {
					t.Fatalf("EAF: more than one %s", e.Name.Local)
				}
				last = i
			}
		case xml.EndElement:
			depth--
		}
	}
	if last < 1 {
		t.Fatal("EAF: HEADER and TIME_ORDER are required")
	}
	var d eafDoc
	if err := xml.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if d.XMLName.Local != "ANNOTATION_DOCUMENT" || d.XMLName.Space != "" {
		t.Fatalf("EAF: the root is %v, not ANNOTATION_DOCUMENT in no namespace", d.XMLName)
	}
	if d.Author == nil {
		t.Error("EAF: AUTHOR is required")
	}
	if _, err := time.Parse(time.RFC3339, d.Date); err != nil {
		t.Errorf("EAF: DATE %q is not an xsd:dateTime: %v", d.Date, err)
	}
	if d.Version != "3.0" || (d.Format != "" && d.Format != "3.0") {
		t.Errorf("EAF: VERSION %q FORMAT %q, want 3.0", d.Version, d.Format)
	}
	if d.Location != "http://www.mpi.nl/tools/elan/EAFv3.0.xsd" {
		t.Errorf("EAF: xsi:noNamespaceSchemaLocation is %q", d.Location)
	}
	if d.Header.TimeUnits != "" && d.Header.TimeUnits != "milliseconds" {
		t.Errorf("EAF: TIME_UNITS %q", d.Header.TimeUnits)
	}
	out := &EAF{Tiers: map[string][]string{}, Times: map[string][][2]int64{}}
	for _, m := range d.Header.Media {
		if m.URL == "" || m.Mime == "" {
			t.Errorf("EAF: MEDIA_DESCRIPTOR needs MEDIA_URL and MIME_TYPE: %+v", m)
		}
		out.MediaURL = m.URL
	}
	ids := map[string]bool{}
	id := func(what, v string) {
		if !ncName.MatchString(v) {
			t.Errorf("EAF: %s %q is not an XML name (xsd:ID)", what, v)
		}
		if ids[v] {
			t.Errorf("EAF: id %q is used twice", v)
		}
		ids[v] = true
	}
	slots := map[string]int64{}
	for _, s := range d.Slots {
		id("TIME_SLOT_ID", s.ID)
		v, err := strconv.ParseInt(s.Value, 10, 64)
		if err != nil || v < 0 {
			t.Errorf("EAF: time slot %s has TIME_VALUE %q, not milliseconds", s.ID, s.Value)
		}
		slots[s.ID] = v
	}
	types := map[string]string{}
	for _, lt := range d.Types {
		if lt.ID == "" {
			t.Error("EAF: LINGUISTIC_TYPE_ID is required")
		}
		if _, dup := types[lt.ID]; dup {
			t.Errorf("EAF: linguistic type %q twice", lt.ID)
		}
		types[lt.ID] = lt.Alignable
	}
	tierIDs := map[string]bool{}
	for _, tr := range d.Tiers {
		if tr.ID == "" || tierIDs[tr.ID] {
			t.Errorf("EAF: tier id %q is empty or used twice", tr.ID)
		}
		tierIDs[tr.ID] = true
		al, ok := types[tr.Type]
		if !ok {
			t.Errorf("EAF: tier %q has linguistic type %q, which is not defined", tr.ID, tr.Type)
		}
		if tr.Parent == "" && al != "true" {
			t.Errorf("EAF: top-level tier %q's type is not time-alignable", tr.ID)
		}
		prevEnd := int64(-1)
		for _, a := range tr.Anns {
			if a.Align == nil {
				t.Errorf("EAF: tier %q: a top-level tier holds alignable annotations", tr.ID)
				continue
			}
			id("ANNOTATION_ID", a.Align.ID)
			v1, ok1 := slots[a.Align.Ref1]
			v2, ok2 := slots[a.Align.Ref2]
			if !ok1 || !ok2 {
				t.Errorf("EAF: annotation %s refers to a missing time slot", a.Align.ID)
				continue
			}
			if v2 < v1 {
				t.Errorf("EAF: annotation %s ends (%d) before it starts (%d)", a.Align.ID, v2, v1)
			}
			if v1 < prevEnd {
				t.Errorf("EAF: tier %q: annotation %s starts at %d, before the one before it ends (%d)", tr.ID, a.Align.ID, v1, prevEnd)
			}
			prevEnd = v2
			if a.Align.Value == nil {
				t.Errorf("EAF: annotation %s has no ANNOTATION_VALUE", a.Align.ID)
				continue
			}
			out.Tiers[tr.ID] = append(out.Tiers[tr.ID], *a.Align.Value)
			out.Times[tr.ID] = append(out.Times[tr.ID], [2]int64{v1, v2})
		}
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// Summary is a short account of an EAF for failure messages.
func (e *EAF) String() string {
	var b strings.Builder
	for id, vs := range e.Tiers {
		fmt.Fprintf(&b, "%s: %d\n", id, len(vs))
	}
	return b.String()
}
