package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/qda"
)

func newCodebookCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "codebook",
		Short: "Check and show practice codebooks",
		Long: `A codebook is the YAML file that defines the practice markers hark tags: each
code's id, label, definition, role, polarity, cues and examples. hark has its
own (` + "`hark codebook show --format yaml`" + ` prints it, a start for a team's own);
docs/annotate.md describes the format.`,
	}
	cmd.AddCommand(newCodebookLintCmd(g), newCodebookShowCmd(g), newCodebookExportCmd(g), newCodebookImportCmd(g))
	return cmd
}

func newCodebookLintCmd(g *globals) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "lint FILE",
		Short: "Check a codebook: every problem with its line, and examples the rule tagger gets wrong",
		Long: `lint checks a codebook file and prints every problem as FILE:LINE: message,
one a line; it exits with status 1 when there is any.

It then runs the rule tagger on the codebook's examples, which are tests, and
prints each one it gets wrong as a warning: a positive example it does not tag
with its code, or a negative one it does. Warnings do not change the exit
status unless --strict is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCodebookLint(cmd, g, args[0], strict)
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "fail when the rule tagger gets an example wrong")
	return cmd
}

func runCodebookLint(cmd *cobra.Command, g *globals, path string, strict bool) error {
	data, err := readCodebookFile(path)
	if err != nil {
		return err
	}
	cb, err := annotate.ParseCodebook(path, data)
	if err != nil {
		var he *hark.Error
		if !errors.As(err, &he) || he.Code != hark.EINVALID {
			return err
		}
		problems := strings.Split(he.Message, "\n")
		sort.SliceStable(problems, func(i, j int) bool { return problemLine(problems[i]) < problemLine(problems[j]) })
		for _, p := range problems {
			fmt.Fprintln(g.stdout, p)
		}
		n := len(problems)
		if strings.Contains(problems[n-1], "more problems") {
			n--
		}
		return hark.Errorf(hark.EINVALID, "%s: %d problem%s", path, n, plural(n))
	}
	rt, err := annotate.NewRuleTagger(cb)
	if err != nil {
		return err
	}
	failures, err := annotate.CheckExamples(cmd.Context(), rt, cb)
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	for _, f := range failures {
		fmt.Fprintf(g.stdout, "%s:%d: warning: %s\n", path, exampleLine(lines, f.Example), f)
	}
	examples := 0
	for _, c := range cb.Codes {
		examples += len(c.Examples.Positive) + len(c.Examples.Negative)
	}
	if len(failures) > 0 && strict {
		return hark.Errorf(hark.EINVALID, "%s: the rule tagger gets %d of %d examples wrong", path, len(failures), examples)
	}
	fmt.Fprintf(g.stdout, "%s: codebook %s %s: %d codes, %d examples, %d the rule tagger gets wrong\n", path, cb.ID, cb.Version, len(cb.Codes), examples, len(failures))
	return nil
}

// problemLine is the line number of a "FILE:LINE: message" problem; 0
// without one, and the "and N more" line last.
func problemLine(p string) int {
	if strings.Contains(p, "more problems") {
		return math.MaxInt
	}
	if m := problemLineRE.FindStringSubmatch(p); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

var problemLineRE = regexp.MustCompile(`:(\d+): `)

// exampleLine finds the line of the file an example is on, or 0.
func exampleLine(lines []string, example string) int {
	probe := example
	if len(probe) > 40 {
		probe = probe[:40]
	}
	for i, l := range lines {
		if strings.Contains(l, probe) {
			return i + 1
		}
	}
	return 0
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func readCodebookFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, hark.WrapError(hark.ENOTFOUND, err, "codebook %s does not exist", path)
		}
		return nil, hark.WrapError(hark.EINVALID, err, "read codebook %s", path)
	}
	return data, nil
}

func newCodebookShowCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show [FILE]",
		Short: "Show a codebook's codes (hark's own without FILE)",
		Long: `show prints a codebook's codes as a table: id, role, polarity, label, and how
many cues and examples each has. --format yaml prints the codebook's YAML
source, comments included (without FILE, hark's own: a start for a team's
codebook); --format json prints it as JSON.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCodebookShow(g, args, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, yaml or json")
	return cmd
}

func runCodebookShow(g *globals, args []string, format string) error {
	switch format {
	case "table", "yaml", "json":
	default:
		return hark.Errorf(hark.EINVALID, "unknown format %q: use table, yaml or json", format)
	}
	src := annotate.DefaultCodebookYAML()
	name := "hark's own codebook"
	if len(args) == 1 {
		var err error
		if src, err = readCodebookFile(args[0]); err != nil {
			return err
		}
		name = filepath.Base(args[0])
	}
	cb, err := annotate.ParseCodebook(name, src)
	if err != nil {
		return err
	}
	switch format {
	case "yaml":
		_, err := g.stdout.Write(src)
		return err
	case "json":
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cb)
	}
	printCodebook(g.stdout, cb)
	return nil
}

func printCodebook(w io.Writer, cb *hark.Codebook) {
	fmt.Fprintf(w, "codebook %s, version %s: %d codes\n\n", cb.ID, cb.Version, len(cb.Codes))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tPOLARITY\tLABEL\tCUES\tEXAMPLES (+/-)")
	for _, c := range cb.Codes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d/%d\n", c.ID, c.Role, c.Polarity, c.Label, len(c.Cues), len(c.Examples.Positive), len(c.Examples.Negative))
	}
	tw.Flush()
}

func newCodebookExportCmd(g *globals) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export [FILE] --format qdc -o FILE.qdc",
		Short: "Write a codebook (hark's own without FILE) as a REFI-QDA codebook (.qdc) for NVivo, ATLAS.ti, MAXQDA",
		Long: `export writes a codebook's codes as a REFI-QDA codebook exchange file (.qdc,
QDA-XML 1.0): each code with its label, definition (and boundaries) and a
colour, under a parent code per polarity (Strengths, Concerns, Other). Each
code's description ends with a line [hark id=… role=…] so that hark codebook
import gives it back its id. Cues and examples are hark's own and stay in the
YAML. -o - writes to standard output.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "qdc" {
				return hark.Errorf(hark.EINVALID, "unknown format %q: use qdc", format)
			}
			if out == "" {
				return hark.Errorf(hark.EINVALID, "give the file to write with -o FILE.qdc (- for standard output)")
			}
			cb := annotate.DefaultCodebook()
			if len(args) == 1 {
				var err error
				if cb, err = loadCodebook(args[0]); err != nil {
					return err
				}
			}
			if out == "-" {
				return qda.WriteCodebook(g.stdout, cb)
			}
			if err := writeAtomic(out, func(w io.Writer) error { return qda.WriteCodebook(w, cb) }); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "codebook %s %s: %d codes written to %s\n", cb.ID, cb.Version, len(cb.Codes), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "qdc", "output format: qdc (REFI-QDA codebook exchange)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "the file to write (- for standard output)")
	return cmd
}

func newCodebookImportCmd(g *globals) *cobra.Command {
	var out, base, id, version string
	cmd := &cobra.Command{
		Use:   "import FILE.qdc -o codebook.yaml",
		Short: "Make a codebook YAML from a REFI-QDA codebook (.qdc) or project (.qdpx, .qde) another tool wrote",
		Long: `import reads the codes of a REFI-QDA codebook (.qdc) or of a project (.qdpx
or its project.qde) and writes a hark codebook YAML with them: labels and
definitions from the file, polarity from the parent code they sit under
(Strengths, Concerns), ids from hark's own line in a description, else from
the GUIDs hark gave the codes of the --base codebook, else from the label.

The base codebook (--base, else the -o file when it exists) keeps what
REFI-QDA has no place for: each code's cues, examples and role, and the
codebook's id and version. Its codes the file lacks are left out, and named.
The result is checked as hark codebook lint does before it is written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCodebookImport(g, args[0], out, base, id, version)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "", "the codebook YAML to write (required; - for standard output)")
	f.StringVar(&base, "base", "", "the codebook whose cues, examples and roles to keep (default: the -o file, if it exists)")
	f.StringVar(&id, "id", "", "the codebook's id (default: the base's, else imported)")
	f.StringVar(&version, "version", "", "the codebook's version (default: the base's, else 1.0.0)")
	return cmd
}

// yamlCode is a code as import writes it: empty fields left out.
type yamlCode struct {
	ID           string         `yaml:"id"`
	Label        string         `yaml:"label"`
	Definition   string         `yaml:"definition"`
	Boundaries   string         `yaml:"boundaries,omitempty"`
	Role         string         `yaml:"role"`
	Polarity     hark.Polarity  `yaml:"polarity"`
	Cues         []string       `yaml:"cues,omitempty"`
	RuledOutBy   []string       `yaml:"ruled_out_by,omitempty"`
	OutweighedBy []string       `yaml:"outweighed_by,omitempty"`
	Examples     *hark.Examples `yaml:"examples,omitempty"`
}

type yamlCodebook struct {
	ID          string     `yaml:"id"`
	Version     string     `yaml:"version"`
	Description string     `yaml:"description,omitempty"`
	Codes       []yamlCode `yaml:"codes"`
}

func runCodebookImport(g *globals, file, out, base, id, version string) error {
	if out == "" {
		return hark.Errorf(hark.EINVALID, "give the codebook YAML to write with -o codebook.yaml")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return hark.WrapError(hark.ENOTFOUND, err, "%s does not exist", file)
		}
		return hark.WrapError(hark.EINVALID, err, "read %s", file)
	}
	if base == "" && out != "-" {
		if _, err := os.Stat(out); err == nil {
			base = out
		}
	}
	var bcb *hark.Codebook
	known := map[string]string{}
	if base != "" {
		if bcb, err = loadCodebook(base); err != nil {
			return err
		}
		for _, c := range bcb.Codes {
			known[qda.CodeGUID(c.ID)] = c.ID
		}
	}
	imp, err := qda.ReadCodebook(bytes.NewReader(data), int64(len(data)), known)
	if err != nil {
		return hark.WrapError(hark.ErrorCode(err), err, "%s", file)
	}
	doc := yamlCodebook{ID: "imported", Version: "1.0.0", Description: "Imported from " + filepath.Base(file)}
	if imp.Origin != "" {
		doc.Description += " (" + imp.Origin + ")"
	}
	if bcb != nil {
		doc.ID, doc.Version = bcb.ID, bcb.Version
	}
	if id != "" {
		doc.ID = id
	}
	if version != "" {
		doc.Version = version
	}
	kept := map[string]bool{}
	for _, c := range imp.Codes {
		yc := yamlCode{ID: c.ID, Label: c.Label, Definition: c.Definition, Boundaries: c.Boundaries, Role: c.Role, Polarity: c.Polarity}
		if bcb != nil {
			if b := bcb.Code(c.ID); b != nil {
				kept[b.ID] = true
				yc.Cues = b.Cues
				has := func(other string) bool { // the imported codebook has it
					return slices.ContainsFunc(imp.Codes, func(ic qda.ImportedCode) bool { return ic.ID == other })
				}
				for _, other := range b.RuledOutBy {
					if has(other) {
						yc.RuledOutBy = append(yc.RuledOutBy, other)
					}
				}
				for _, other := range b.OutweighedBy {
					if has(other) {
						yc.OutweighedBy = append(yc.OutweighedBy, other)
					}
				}
				if len(b.Examples.Positive)+len(b.Examples.Negative) > 0 {
					ex := b.Examples
					yc.Examples = &ex
				}
				if yc.Role == "any" && b.Role != "" {
					yc.Role = b.Role
				}
				if yc.Polarity == hark.PolarityNeutral && b.Polarity != "" {
					yc.Polarity = b.Polarity
				}
				if yc.Boundaries == "" {
					yc.Boundaries = b.Boundaries
				}
			}
		}
		doc.Codes = append(doc.Codes, yc)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Made by hark codebook import from %s.\n# Cues and examples are hark's own: add them here (docs/annotate.md).\n", filepath.Base(file))
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write codebook YAML: %w", err)
	}
	if _, err := annotate.ParseCodebook(filepath.Base(out), buf.Bytes()); err != nil {
		return hark.WrapError(hark.EINVALID, err, "the imported codebook does not check")
	}
	if out == "-" {
		_, err := g.stdout.Write(buf.Bytes())
		return err
	}
	if err := writeAtomic(out, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	}); err != nil {
		return err
	}
	var dropped []string
	if bcb != nil {
		for _, c := range bcb.Codes {
			if !kept[c.ID] {
				dropped = append(dropped, c.ID)
			}
		}
	}
	fmt.Fprintf(g.stdout, "codebook %s %s: %d codes from %s written to %s\n", doc.ID, doc.Version, len(doc.Codes), filepath.Base(file), out)
	if len(dropped) > 0 {
		fmt.Fprintf(g.stdout, "left out (the file lacks them): %s\n", strings.Join(dropped, ", "))
	}
	return nil
}
