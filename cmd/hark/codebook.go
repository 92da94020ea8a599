package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
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
	cmd.AddCommand(newCodebookLintCmd(g), newCodebookShowCmd(g))
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
