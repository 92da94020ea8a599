package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
)

func newRedactionCmd(g *globals) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "redaction",
		Short: "Set and show whether a team's transcripts are redacted: names, phone numbers, addresses and other identifiers masked",
		Long: `redaction sets whether a team's transcripts have their identifiers masked:
people's names (the team's list, and names said after "my son", "called", …),
phone numbers, e-mail addresses, postcodes, NHS numbers, dates of birth and
street addresses, every character by '*', so that tags keep their places.

  --mode store    masked before they are stored: the clear text is never kept
                  (a transcript uploaded with the recording is removed once read)
  --mode display  kept as said, masked on the pages, the JSON API and exports
  --mode off      as said

--names-file is the team's list of names to find, one a line (read from the
file, never from the command line, where it would stay in the shell's
history). Without --team it sets the deployment's default. A change applies to
transcripts made from then on (store) or shown from then on (display).`,
	}
	var (
		team, mode, namesFile string
	)
	set := &cobra.Command{
		Use:   "set [--team T] --mode store|display|off [--names-file FILE]",
		Short: "Set a team's redaction (or the default, without --team)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := hark.CheckRedactionMode(mode); err != nil {
				return err
			}
			if team != "" {
				if err := hark.CheckName("team", team); err != nil {
					return err
				}
			}
			r := hark.Redaction{Team: team, Mode: mode}
			if namesFile != "" {
				names, err := readNames(namesFile)
				if err != nil {
					return err
				}
				r.Names = names
			}
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			if err := idx.SetRedaction(cmd.Context(), r); err != nil {
				return err
			}
			detail := fmt.Sprintf("%s: %s, %d name(s)", teamText(team), mode, len(r.Names))
			if err := idx.Audit(cmd.Context(), &hark.AuditEntry{At: time.Now(), User: "cli", Action: "redaction", Detail: detail}); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, "redaction set:", detail)
			return nil
		},
	}
	sf := set.Flags()
	sf.StringVar(&team, "team", "", "the team (default: the deployment's default)")
	sf.StringVar(&mode, "mode", "", "store, display or off (required)")
	sf.StringVar(&namesFile, "names-file", "", "a file of names to find, one a line")
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the redaction policies (how many names each has, not the names)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			list, err := idx.Redactions(cmd.Context())
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(g.stdout, "no redaction: transcripts are kept and shown as said")
			}
			for _, r := range list {
				fmt.Fprintf(g.stdout, "%s: %s, %d name(s)\n", teamText(r.Team), r.Mode, len(r.Names))
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	cmd.AddCommand(set, show)
	return cmd
}

func teamText(team string) string {
	if team == "" {
		return "default"
	}
	return "team " + team
}

// readNames reads names, one a line; blank lines and lines starting with #
// are left out.
func readNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "read the names file %s", path)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) > 100 || strings.Contains(line, "\n") {
			return nil, hark.Errorf(hark.EINVALID, "names file %s: a line of %d characters is not a name", path, len(line))
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "read the names file %s", path)
	}
	return out, nil
}
