package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/index"
)

// withAccounts opens the index for an accounts command and closes it after.
func withAccounts(cmd *cobra.Command, g *globals, db string, fn func(ctx context.Context, idx *index.DB) error) error {
	ctx := cmd.Context()
	idx, err := openIndex(ctx, g, db)
	if err != nil {
		return err
	}
	defer idx.Close()
	return fn(ctx, idx)
}

func newUserCmd(g *globals) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage accounts: add, list, disable, enable, set a password, send a sign-in link, rename, remove",
		Long: `Accounts have a role: admin (manages accounts and teams, sees everything),
coach (reviews the recordings of their teams), researcher (reads the recordings
of their teams), analyst (reports only: no transcripts, no audio).`,
	}
	cmd.PersistentFlags().StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")

	var role, display string
	var teams []string
	var passwordStdin bool
	add := &cobra.Command{
		Use:   "add NAME --role ROLE [--team TEAM]...",
		Short: "Add an account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := hark.CheckName("user", args[0]); err != nil {
				return err
			}
			for _, t := range teams {
				if err := hark.CheckName("team", t); err != nil {
					return err
				}
			}
			r, err := hark.ParseUserRole(role)
			if err != nil {
				return err
			}
			if (r == hark.RoleCoach || r == hark.RoleResearcher) && len(teams) == 0 {
				return hark.Errorf(hark.EINVALID, "a %s needs at least one --team: they see only their teams' recordings", r)
			}
			u := &hark.User{ID: auth.NewID("u_"), Name: args[0], Display: display, Role: r, Teams: teams, CreatedAt: time.Now().UTC()}
			if passwordStdin {
				if u.PasswordHash, err = readPassword(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				if _, err := idx.UserByName(ctx, u.Name); err == nil {
					return hark.Errorf(hark.ECONFLICT, "there is already a user called %q", u.Name)
				}
				for _, t := range teams {
					if err := idx.PutTeam(ctx, t); err != nil {
						return err
					}
				}
				if err := idx.PutUser(ctx, u); err != nil {
					return err
				}
				_ = idx.Audit(ctx, &hark.AuditEntry{User: "cli", Action: "user-add", Detail: u.Name + " as " + string(r)})
				fmt.Fprintf(g.stdout, "added %s (%s%s)\n", u.Name, r, teamList(teams))
				if u.PasswordHash == "" {
					fmt.Fprintf(g.stdout, "no password set: send a sign-in link with `hark user link %s`, or set one with `hark user passwd %s`\n", u.Name, u.Name)
				}
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "admin, coach, analyst or researcher")
	add.Flags().StringArrayVar(&teams, "team", nil, "a team the user belongs to (repeat for several)")
	add.Flags().StringVar(&display, "display", "", "name shown on pages")
	add.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read a password from standard input (never give it as an argument)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				users, err := idx.Users(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tTEAMS\tSTATE\tSIGN-IN")
				for _, u := range users {
					state, signin := "active", "link only"
					if u.Disabled {
						state = "disabled"
					}
					if u.PasswordHash != "" {
						signin = "password"
					}
					if u.OIDCSubject != "" {
						signin = "single sign-on"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, strings.Join(u.Teams, ", "), state, signin)
				}
				return tw.Flush()
			})
		},
	}

	setDisabled := func(use, short string, disabled bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " NAME", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
					u, err := idx.UserByName(ctx, args[0])
					if err != nil {
						return hark.Errorf(hark.ENOTFOUND, "no user called %q (see `hark user list`)", args[0])
					}
					u.Disabled = disabled
					if err := idx.PutUser(ctx, u); err != nil {
						return err
					}
					if disabled {
						if err := idx.DeleteUserSessions(ctx, u.ID); err != nil {
							return err
						}
					}
					_ = idx.Audit(ctx, &hark.AuditEntry{User: "cli", Action: "user-" + use, Detail: u.Name})
					fmt.Fprintf(g.stdout, "%sd %s\n", use, u.Name)
					return nil
				})
			},
		}
	}

	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a password, read from standard input",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hash, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				u, err := idx.UserByName(ctx, args[0])
				if err != nil {
					return hark.Errorf(hark.ENOTFOUND, "no user called %q", args[0])
				}
				u.PasswordHash = hash
				if err := idx.PutUser(ctx, u); err != nil {
					return err
				}
				if err := idx.DeleteUserSessions(ctx, u.ID); err != nil {
					return err
				}
				_ = idx.Audit(ctx, &hark.AuditEntry{User: "cli", Action: "user-passwd", Detail: u.Name})
				fmt.Fprintf(g.stdout, "password set for %s; their other sessions were signed out\n", u.Name)
				return nil
			})
		},
	}

	var ttl time.Duration
	var baseURL string
	link := &cobra.Command{
		Use:   "link NAME",
		Short: "Print a one-time sign-in link for an account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			base := baseURL
			if base == "" {
				e, err := readEndpoints(g.dataDir)
				if err != nil {
					return hark.Errorf(hark.EINVALID, "give --base-url (the address people open hark at), or run `hark up` first")
				}
				base = e.HTTP
			}
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				u, err := idx.UserByName(ctx, args[0])
				if err != nil {
					return hark.Errorf(hark.ENOTFOUND, "no user called %q", args[0])
				}
				if u.Disabled {
					return hark.Errorf(hark.EINVALID, "%s is disabled: `hark user enable %s` first", u.Name, u.Name)
				}
				token, err := auth.New(auth.Config{Accounts: idx}).NewSignInLink(ctx, u, ttl)
				if err != nil {
					return err
				}
				_ = idx.Audit(ctx, &hark.AuditEntry{User: "cli", Action: "user-link", Detail: u.Name})
				fmt.Fprintf(g.stdout, "%s/signin/link?token=%s\n", strings.TrimRight(base, "/"), url.QueryEscape(token))
				fmt.Fprintf(g.stderr, "the link signs %s in once, within %s; send it privately\n", u.Name, ttl)
				return nil
			})
		},
	}
	link.Flags().DurationVar(&ttl, "ttl", 30*time.Minute, "how long the link works")
	link.Flags().StringVar(&baseURL, "base-url", env("HARK_BASE_URL", ""), "the address people open hark at (default: the running `hark up`)")

	rename := &cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Give an account a new sign-in name (the audit log keeps the old one on what was done under it)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, name := args[0], args[1]
			if err := hark.CheckName("user", name); err != nil {
				return err
			}
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				u, err := idx.UserByName(ctx, old)
				if err != nil {
					return hark.Errorf(hark.ENOTFOUND, "no user called %q (see `hark user list`)", old)
				}
				if u.OIDCSubject != "" {
					return hark.Errorf(hark.EINVALID, "%s signs in through single sign-on, which names the account at every sign-in: change the name in the directory", old)
				}
				if old == name {
					return hark.Errorf(hark.EINVALID, "%s is called %s already", old, name)
				}
				if err := idx.RenameUser(ctx, u.ID, name); err != nil {
					return err
				}
				_ = idx.Audit(ctx, &hark.AuditEntry{User: "cli", Action: "user-rename", Detail: fmt.Sprintf("%s → %s (account %s)", old, name, u.ID)})
				fmt.Fprintf(g.stdout, "renamed %s to %s; they sign in as %s now, and the audit log keeps %s on what was done before\n", old, name, name, old)
				return nil
			})
		},
	}

	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an account: it can no longer sign in and leaves the list, its audit history stays",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				u, err := idx.UserByName(ctx, args[0])
				if err != nil {
					return hark.Errorf(hark.ENOTFOUND, "no user called %q (see `hark user list`)", args[0])
				}
				if err := idx.RemoveUser(ctx, u.ID); err != nil {
					return err
				}
				_ = idx.Audit(ctx, &hark.AuditEntry{User: "cli", Action: "user-remove",
					Detail: fmt.Sprintf("%s (account %s, %s%s)", u.Name, u.ID, u.Role, teamList(u.Teams))})
				fmt.Fprintf(g.stdout, "removed %s: signed out, and they can no longer sign in; the audit log keeps what they did, and the name %s is not given to anyone else\n", u.Name, u.Name)
				return nil
			})
		},
	}

	cmd.AddCommand(add, list, setDisabled("disable", "Disable an account and sign it out everywhere", true),
		setDisabled("enable", "Enable a disabled account", false), passwd, link, rename, remove)
	return cmd
}

func teamList(teams []string) string {
	if len(teams) == 0 {
		return ""
	}
	return "; teams " + strings.Join(teams, ", ")
}

// readPassword reads one line from r and hashes it.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read the password: %w", err)
	}
	return auth.HashPassword(strings.TrimRight(line, "\r\n"))
}

func newTeamCmd(g *globals) *cobra.Command {
	var db string
	cmd := &cobra.Command{Use: "team", Short: "Manage teams"}
	cmd.PersistentFlags().StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	cmd.AddCommand(&cobra.Command{
		Use: "add NAME", Short: "Add a team", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := hark.CheckName("team", args[0]); err != nil {
				return err
			}
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				if err := idx.PutTeam(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "team %s\n", args[0])
				return nil
			})
		},
	}, &cobra.Command{
		Use: "list", Short: "List teams", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				teams, err := idx.Teams(ctx)
				if err != nil {
					return err
				}
				for _, t := range teams {
					fmt.Fprintln(g.stdout, t)
				}
				return nil
			})
		},
	})
	return cmd
}

func newAuditCmd(g *globals) *cobra.Command {
	var db, user, recording, since, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Print the audit log: who viewed, played, exported or changed what, and when",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := hark.AuditFilter{User: user, RecordingID: recording, Limit: limit}
			if since != "" {
				t, err := time.Parse("2006-01-02", since)
				if err != nil {
					return hark.Errorf(hark.EINVALID, "--since %q is not a date like 2026-11-26", since)
				}
				f.Since = t
			}
			return withAccounts(cmd, g, db, func(ctx context.Context, idx *index.DB) error {
				entries, err := idx.AuditLog(ctx, f)
				if err != nil {
					return err
				}
				switch format {
				case "json":
					enc := json.NewEncoder(g.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(entries)
				case "csv":
					w := csv.NewWriter(g.stdout)
					_ = w.Write([]string{"id", "at", "user", "action", "recording_id", "detail"})
					for _, e := range entries {
						_ = w.Write([]string{fmt.Sprint(e.ID), e.At.UTC().Format(time.RFC3339), e.User, e.Action, e.RecordingID, e.Detail})
					}
					w.Flush()
					return w.Error()
				case "table", "":
					tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "WHEN (UTC)\tUSER\tACTION\tRECORDING\tDETAIL")
					for _, e := range entries {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format("2006-01-02 15:04:05"), e.User, e.Action, e.RecordingID, e.Detail)
					}
					return tw.Flush()
				}
				return hark.Errorf(hark.EINVALID, "--format %q: use table, csv or json", format)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	f.StringVar(&user, "user", "", "only this user's actions")
	f.StringVar(&recording, "recording", "", "only actions on this recording")
	f.StringVar(&since, "since", "", "only since this date (YYYY-MM-DD)")
	f.StringVar(&format, "format", "table", "table, csv or json")
	f.IntVar(&limit, "limit", 1000, "at most this many entries, newest first")
	return cmd
}
