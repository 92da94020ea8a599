package annotate

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
	"go.yaml.in/yaml/v3"
)

//go:embed codebook.yaml
var defaultCodebookYAML string

// MaxCodebookSize is the largest codebook file ParseCodebook accepts, in
// bytes. Codebooks are a few dozen kilobytes; anything near this size is a
// wrong file.
const MaxCodebookSize = 1 << 20

// maxProblems is how many problems a codebook error lists before it stops.
const maxProblems = 20

// DefaultCodebook returns hark's own practice codebook (id hark-practice),
// parsed from the YAML embedded in the binary. Each call returns a new copy
// that the caller may change. The embedded file is checked by this
// package's tests, so DefaultCodebook does not fail.
func DefaultCodebook() *hark.Codebook {
	cb, err := ParseCodebook("codebook.yaml", []byte(defaultCodebookYAML))
	if err != nil {
		panic("annotate: the embedded codebook is invalid: " + err.Error())
	}
	return cb
}

// DefaultCodebookYAML returns the YAML source of the default codebook, for a
// team that wants to start its own from it.
func DefaultCodebookYAML() []byte {
	return []byte(defaultCodebookYAML)
}

// LoadCodebook reads and validates the codebook in the YAML file at path.
// It returns ENOTFOUND when there is no such file and EINVALID when the
// file cannot be read or is not a valid codebook; the message names the
// file and line of every problem.
func LoadCodebook(path string) (*hark.Codebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, hark.WrapError(hark.ENOTFOUND, err, "codebook %s does not exist", path)
		}
		return nil, hark.WrapError(hark.EINVALID, err, "read codebook %s", path)
	}
	return ParseCodebook(path, data)
}

// ParseCodebook parses and validates a codebook in YAML. name is the file
// name used in messages. Problems are reported together, one a line, each
// with the line it is on, for example
//
//	codebook.yaml:42: code "directive": polarity "bad" is not one of strength, concern, neutral
//
// The codebook needs an id and a version, and at least one code. Each code
// needs a unique id of lower-case letters, digits and underscores starting
// with a letter, a label, a definition, a role (worker, parent or any) and a
// polarity (strength, concern or neutral). Every cue must be a valid Go
// regular expression, every example must follow the example syntax (see
// ParseExample), and fields the codebook does not define are rejected so
// that a misspelt field is not silently ignored. Errors are *hark.Error
// values with code EINVALID.
func ParseCodebook(name string, data []byte) (*hark.Codebook, error) {
	if name == "" {
		name = "codebook"
	}
	if len(data) > MaxCodebookSize {
		return nil, hark.Errorf(hark.EINVALID, "%s: the codebook is %d bytes, more than the %d a codebook may have", name, len(data), MaxCodebookSize)
	}
	var doc yaml.Node
	if err := unmarshalYAML(data, &doc); err != nil {
		return nil, hark.Errorf(hark.EINVALID, "%s", yamlProblem(name, err))
	}
	p := &cbParser{name: name, ruledOutLines: map[string][]int{}, outweighedLines: map[string][]int{}}
	cb := p.codebook(&doc)
	if len(p.problems) > 0 {
		msg := strings.Join(p.problems, "\n")
		if p.dropped > 0 {
			msg += fmt.Sprintf("\n%s: and %d more problems", name, p.dropped)
		}
		return nil, hark.Errorf(hark.EINVALID, "%s", msg)
	}
	return cb, nil
}

// unmarshalYAML parses YAML into a node tree. The YAML library is not ours,
// so a panic on hostile input becomes an error rather than a crash.
func unmarshalYAML(data []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the parser failed: %v", r)
		}
	}()
	return yaml.Unmarshal(data, n)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlProblem turns a YAML syntax error into "name:line: invalid YAML: ...".
func yamlProblem(name string, err error) string {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s:%s: invalid YAML: %s", name, m[1], m[2])
	}
	return fmt.Sprintf("%s: invalid YAML: %s", name, strings.TrimPrefix(msg, "yaml: "))
}

// The patterns ids must match.
var (
	codeIDRE     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	codebookIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// maxAliases bounds how many YAML aliases a codebook may follow, so that a
// small file of aliases to aliases cannot make the parser do unbounded work.
const maxAliases = 1000

// cbParser walks a codebook's YAML nodes, collecting problems with lines.
type cbParser struct {
	name     string
	problems []string
	dropped  int
	aliases  int
	// ruledOutLines are the lines of the codes' ruled_out_by lists, for
	// the check that they name codes of the codebook.
	ruledOutLines map[string][]int
	// outweighedLines are those of the outweighed_by lists.
	outweighedLines map[string][]int
}

func (p *cbParser) addf(line int, format string, args ...any) {
	if len(p.problems) >= maxProblems {
		p.dropped++
		return
	}
	where := p.name
	if line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	p.problems = append(p.problems, where+": "+fmt.Sprintf(format, args...))
}

// resolve follows aliases, returning nil past maxAliases.
func (p *cbParser) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		p.aliases++
		if p.aliases > maxAliases {
			if p.aliases == maxAliases+1 {
				p.addf(n.Line, "the codebook uses more than %d aliases", maxAliases)
			}
			return nil
		}
		n = n.Alias
	}
	return n
}

// fields walks a mapping node, calling fn with each key and value, and
// reports duplicate and unknown keys. what names the mapping in messages.
func (p *cbParser) fields(n *yaml.Node, what string, known []string, fn func(key string, v *yaml.Node)) {
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.resolve(n.Content[i]), p.resolve(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.addf(k.Line, "%s: a key must be a plain name", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.addf(k.Line, "%s: field %q appears twice (first on line %d)", what, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		ok := false
		for _, f := range known {
			if f == k.Value {
				ok = true
				break
			}
		}
		if !ok {
			p.addf(k.Line, "%s: unknown field %q (known fields: %s)", what, k.Value, strings.Join(known, ", "))
			continue
		}
		fn(k.Value, v)
	}
}

// text returns a scalar's text, reporting anything else.
func (p *cbParser) text(v *yaml.Node, what string) string {
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		return ""
	case v.Kind == yaml.ScalarNode:
		return v.Value
	}
	p.addf(v.Line, "%s must be text, not a %s", what, kindName(v))
	return ""
}

// texts returns a sequence of scalars with their lines.
func (p *cbParser) texts(v *yaml.Node, what string) ([]string, []int) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		p.addf(v.Line, "%s must be a list, not a %s", what, kindName(v))
		return nil, nil
	}
	var out []string
	var lines []int
	for _, e := range v.Content {
		e = p.resolve(e)
		if e == nil {
			continue
		}
		s := p.text(e, what+" entry")
		out = append(out, s)
		lines = append(lines, e.Line)
	}
	return out, lines
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "text"
	}
	return "value"
}

func (p *cbParser) codebook(doc *yaml.Node) *hark.Codebook {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.addf(0, "the codebook is empty; it needs an id, a version and codes")
		return nil
	}
	root := p.resolve(doc.Content[0])
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.addf(root.Line, "the codebook must be a mapping with id, version and codes, not a %s", kindName(root))
		return nil
	}
	cb := &hark.Codebook{}
	var codesLine int
	hasCodes := false
	p.fields(root, "codebook", []string{"id", "version", "description", "codes"}, func(key string, v *yaml.Node) {
		switch key {
		case "id":
			cb.ID = p.text(v, "codebook id")
			if cb.ID != "" && !codebookIDRE.MatchString(cb.ID) {
				p.addf(v.Line, "codebook id %q must be letters, digits, dots, dashes and underscores", cb.ID)
			}
		case "version":
			cb.Version = p.text(v, "codebook version")
		case "description":
			cb.Description = p.text(v, "codebook description")
		case "codes":
			hasCodes = true
			codesLine = v.Line
			cb.Codes = p.codes(v)
		}
	})
	if cb.ID == "" {
		p.addf(root.Line, "the codebook has no id; add for example `id: my-team-practice`")
	}
	if cb.Version == "" {
		p.addf(root.Line, "the codebook has no version; add for example `version: 2026.1.0`")
	}
	if !hasCodes {
		p.addf(root.Line, "the codebook has no codes; add a `codes:` list")
	} else if len(cb.Codes) == 0 {
		p.addf(codesLine, "the codebook's code list is empty")
	}
	for _, c := range cb.Codes {
		for _, list := range []struct {
			field string
			codes []string
			lines map[string][]int
		}{{"ruled_out_by", c.RuledOutBy, p.ruledOutLines}, {"outweighed_by", c.OutweighedBy, p.outweighedLines}} {
			for i, other := range list.codes {
				line := 0
				if lines := list.lines[c.ID]; i < len(lines) { // a code id used twice has one list of lines
					line = lines[i]
				}
				switch {
				case other == c.ID:
					p.addf(line, "code %q: %s names the code itself", c.ID, list.field)
				case cb.Code(other) == nil:
					p.addf(line, "code %q: %s names %q, which the codebook does not have", c.ID, list.field, other)
				}
			}
		}
	}
	return cb
}

func (p *cbParser) codes(v *yaml.Node) []hark.Code {
	if v.Kind != yaml.SequenceNode {
		p.addf(v.Line, "codes must be a list of codes, not a %s", kindName(v))
		return nil
	}
	var codes []hark.Code
	seen := make(map[string]int)
	for i, n := range v.Content {
		n = p.resolve(n)
		if n == nil {
			continue
		}
		c, ok := p.code(n, i+1, seen)
		if ok {
			codes = append(codes, c)
		}
	}
	return codes
}

func (p *cbParser) code(n *yaml.Node, pos int, seen map[string]int) (hark.Code, bool) {
	what := fmt.Sprintf("code %d", pos)
	if n.Kind != yaml.MappingNode {
		p.addf(n.Line, "%s must be a mapping with id, label, definition, role and polarity, not a %s", what, kindName(n))
		return hark.Code{}, false
	}
	var c hark.Code
	// Read the id first so every later message can name the code.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := p.resolve(n.Content[i]); k != nil && k.Value == "id" {
			if v := p.resolve(n.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode {
				c.ID = v.Value
			}
		}
	}
	if c.ID != "" {
		what = fmt.Sprintf("code %q", c.ID)
	}
	var cueLines []int
	var roleLine, polarityLine int
	var posLines, negLines []int
	p.fields(n, what, []string{"id", "label", "definition", "boundaries", "role", "polarity", "cues", "ruled_out_by", "outweighed_by", "examples"}, func(key string, v *yaml.Node) {
		switch key {
		case "id":
			id := p.text(v, what+": id")
			switch {
			case id == "":
			case !codeIDRE.MatchString(id):
				p.addf(v.Line, "%s: id %q must be lower-case letters, digits and underscores, starting with a letter", what, id)
			default:
				if first, dup := seen[id]; dup {
					p.addf(v.Line, "%s: id %q is used twice (first on line %d)", what, id, first)
				} else {
					seen[id] = v.Line
				}
			}
		case "label":
			c.Label = strings.TrimSpace(p.text(v, what+": label"))
		case "definition":
			c.Definition = strings.TrimSpace(p.text(v, what+": definition"))
		case "boundaries":
			c.Boundaries = strings.TrimSpace(p.text(v, what+": boundaries"))
		case "role":
			c.Role = p.text(v, what+": role")
			roleLine = v.Line
		case "polarity":
			c.Polarity = hark.Polarity(p.text(v, what+": polarity"))
			polarityLine = v.Line
		case "cues":
			c.Cues, cueLines = p.texts(v, what+": cues")
		case "ruled_out_by":
			c.RuledOutBy, p.ruledOutLines[c.ID] = p.texts(v, what+": ruled_out_by")
		case "outweighed_by":
			c.OutweighedBy, p.outweighedLines[c.ID] = p.texts(v, what+": outweighed_by")
		case "examples":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				return
			}
			if v.Kind != yaml.MappingNode {
				p.addf(v.Line, "%s: examples must be a mapping with positive and negative lists, not a %s", what, kindName(v))
				return
			}
			p.fields(v, what+": examples", []string{"positive", "negative"}, func(key string, v *yaml.Node) {
				if key == "positive" {
					c.Examples.Positive, posLines = p.texts(v, what+": positive examples")
				} else {
					c.Examples.Negative, negLines = p.texts(v, what+": negative examples")
				}
			})
		}
	})
	if c.ID == "" {
		p.addf(n.Line, "%s has no id", what)
	}
	if c.Label == "" {
		p.addf(n.Line, "%s has no label", what)
	}
	if c.Definition == "" {
		p.addf(n.Line, "%s has no definition", what)
	}
	switch c.Role {
	case "worker", "parent", "any":
	case "":
		p.addf(n.Line, "%s has no role; use worker, parent or any", what)
	default:
		p.addf(roleLine, "%s: role %q is not one of worker, parent, any", what, c.Role)
	}
	switch c.Polarity {
	case hark.PolarityStrength, hark.PolarityConcern, hark.PolarityNeutral:
	case "":
		p.addf(n.Line, "%s has no polarity; use strength, concern or neutral", what)
	default:
		p.addf(polarityLine, "%s: polarity %q is not one of strength, concern, neutral", what, c.Polarity)
	}
	for i, cue := range c.Cues {
		if strings.TrimSpace(cue) == "" {
			p.addf(cueLines[i], "%s: cue %d is empty", what, i+1)
			continue
		}
		if _, err := regexp.Compile(cue); err != nil {
			p.addf(cueLines[i], "%s: cue %q is not a valid regular expression: %s", what, cue, reError(err))
		}
	}
	for i, ex := range c.Examples.Positive {
		turns, err := ParseExample(ex, defaultRole(c.Role))
		if err != nil {
			p.addf(posLines[i], "%s: positive example %d: %s", what, i+1, err)
			continue
		}
		last := turns[len(turns)-1]
		if c.Role != "" && c.Role != "any" && string(last.Role) != c.Role && (c.Role == "worker" || c.Role == "parent") {
			p.addf(posLines[i], "%s: positive example %d: its last turn is said by a %s, but the code applies to a %s", what, i+1, last.Role, c.Role)
		}
	}
	for i, ex := range c.Examples.Negative {
		if _, err := ParseExample(ex, defaultRole(c.Role)); err != nil {
			p.addf(negLines[i], "%s: negative example %d: %s", what, i+1, err)
		}
	}
	return c, true
}

// reError shortens a regexp error to what a person needs.
func reError(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// defaultRole is the role of an example turn without a speaker: the code's
// role, or a worker for codes that apply to anyone.
func defaultRole(codeRole string) hark.Role {
	if codeRole == string(hark.RoleParent) {
		return hark.RoleParent
	}
	return hark.RoleWorker
}
