package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/pipeline"
	"github.com/harkworks/hark/web"
)

// correcting is what every `hark correct` command needs: where the
// servers are, the index, and the account the correction is made as.
type correcting struct {
	c      conn
	db, as string
}

func newCorrectCmd(g *globals) *cobra.Command {
	k := &correcting{}
	cmd := &cobra.Command{
		Use:   "correct",
		Short: "Correct who speaks and what was said in a session, as a coach does on the review page",
		Long: `correct makes the corrections a coach makes on the review page, from the
command line: a speaker's role or name, a turn (or its words from one on)
given to another speaker, two turns merged, a turn's words edited. Each is
made as the account --as names (who must be able to review the team's
sessions), audited and versioned like a change on the page; the machine's
transcript is kept, and the session is tagged again.

Turns are numbered from 0, as ` + "`hark correct show`" + ` lists them.`,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&k.as, "as", env("HARK_AS", ""), "the account (sign-in name) making the correction")
	f.StringVar(&k.db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	k.c.persistentFlags(cmd)

	show := &cobra.Command{
		Use:   "show RECORDING",
		Short: "List a session's turns, numbered, and the corrections made to it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return k.show(cmd.Context(), g, args[0])
		},
	}
	role := &cobra.Command{
		Use:   "role RECORDING SPEAKER ROLE",
		Short: "Give a speaker a role (worker, parent, child, other or unknown) in every turn",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return k.change(cmd.Context(), g, args[0], web.ReviewRequest{Action: hark.CorrectRole, Speaker: args[1], Role: hark.Role(args[2])})
		},
	}
	name := &cobra.Command{
		Use:   "name RECORDING SPEAKER NAME",
		Short: "Rename a speaker; another speaker's name makes them one",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return k.change(cmd.Context(), g, args[0], web.ReviewRequest{Action: hark.CorrectName, Speaker: args[1], Text: args[2]})
		},
	}
	var from, newRole string
	turn := &cobra.Command{
		Use:   "turn RECORDING TURN SPEAKER [--from WORDS] [--role ROLE]",
		Short: "Give a turn, or its words from WORDS on, to a speaker (an existing one, or a new one with --role)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := turnNumber(args[1])
			if err != nil {
				return err
			}
			req := web.ReviewRequest{Action: hark.CorrectMove, Segment: n, Speaker: args[2], Role: hark.Role(newRole)}
			if from != "" {
				if req.Start, err = k.wordAt(cmd.Context(), g, args[0], n, from); err != nil {
					return err
				}
			}
			return k.change(cmd.Context(), g, args[0], req)
		},
	}
	turn.Flags().StringVar(&from, "from", "", "the words where the part given to the speaker starts (default: the whole turn)")
	turn.Flags().StringVar(&newRole, "role", "", "the role of a new speaker (an existing speaker keeps theirs)")
	merge := &cobra.Command{
		Use:   "merge RECORDING TURN",
		Short: "Merge a turn with the turn after it, as one turn of the first's speaker",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := turnNumber(args[1])
			if err != nil {
				return err
			}
			return k.change(cmd.Context(), g, args[0], web.ReviewRequest{Action: hark.CorrectMerge, Segment: n})
		},
	}
	text := &cobra.Command{
		Use:   "text RECORDING TURN < WORDS.txt",
		Short: "Replace a turn's words with those read from standard input",
		Long: `text replaces a turn's words with the text read from standard input (never
from the command line, where the family's words would stay in the shell's
history and the process list).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := turnNumber(args[1])
			if err != nil {
				return err
			}
			data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), hark.MaxTurnText+1))
			if err != nil {
				return err
			}
			return k.change(cmd.Context(), g, args[0], web.ReviewRequest{Action: hark.CorrectText, Segment: n, Text: string(data)})
		},
	}
	cmd.AddCommand(show, role, name, turn, merge, text)
	return cmd
}

func turnNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, hark.Errorf(hark.EINVALID, "turn %q is not a turn number: `hark correct show RECORDING` lists them", s)
	}
	return n, nil
}

// account is the user --as names, who must exist and be enabled.
func (k *correcting) account(ctx context.Context, idx *index.DB) (*hark.User, error) {
	if k.as == "" {
		return nil, hark.Errorf(hark.EINVALID, "say who makes the correction: --as NAME (an account that can review the team's sessions; `hark user list`)")
	}
	u, err := idx.UserByName(ctx, k.as)
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		return nil, hark.Errorf(hark.EINVALID, "there is no account %q: `hark user list` shows them", k.as)
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, hark.Errorf(hark.EINVALID, "the account %q is disabled", k.as)
	}
	return u, nil
}

// change makes one correction as the review page does.
func (k *correcting) change(ctx context.Context, g *globals, id string, req web.ReviewRequest) error {
	cn, err := k.c.openAll(ctx, g, k.db)
	if err != nil {
		return err
	}
	defer cn.Close()
	u, err := k.account(ctx, cn.idx)
	if err != nil {
		return err
	}
	srv, err := web.New(web.Config{Index: cn.idx, Accounts: cn.idx, Auth: auth.New(auth.Config{Accounts: cn.idx}), Store: cn.store,
		Logger: g.logger(), Retag: func(ctx context.Context, id string) error { return pipeline.Retag(ctx, cn.q, id) }})
	if err != nil {
		return err
	}
	sess, err := cn.idx.Session(ctx, id)
	if err != nil {
		return err
	}
	if sess.Review != nil {
		req.Version = sess.Review.Version
	}
	resp, err := srv.Change(ctx, u, id, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s saved (review version %d)", req.Action, resp.Version)
	if resp.Retagging {
		fmt.Fprint(g.stdout, "; the session is being tagged again")
	}
	fmt.Fprintln(g.stdout)
	if resp.Warning != "" {
		fmt.Fprintln(g.stdout, "warning:", resp.Warning)
	}
	return nil
}

// session is the recording's session, if the account may read it.
func (k *correcting) session(ctx context.Context, g *globals, id string) (*hark.Session, error) {
	idx, err := openIndex(ctx, g, k.db)
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	u, err := k.account(ctx, idx)
	if err != nil {
		return nil, err
	}
	sess, err := idx.Session(ctx, id)
	if hark.ErrorCode(err) == hark.ENOTFOUND || err == nil && !u.CanReadTranscripts(sess.Recording.Team) {
		return nil, hark.Errorf(hark.ENOTFOUND, "recording %q not found", id)
	}
	if err != nil {
		return nil, err
	}
	if sess.Transcript == nil {
		return nil, hark.Errorf(hark.EINVALID, "recording %s has no transcript yet (%s)", id, sess.Recording.Status)
	}
	return sess, nil
}

// wordAt is the byte offset in turn n of the first place its words start
// with words, at the start of a word.
func (k *correcting) wordAt(ctx context.Context, g *globals, id string, n int, words string) (int, error) {
	sess, err := k.session(ctx, g, id)
	if err != nil {
		return 0, err
	}
	for _, s := range sess.Transcript.Segments {
		if s.Index != n {
			continue
		}
		for from := 0; from < len(s.Text); {
			i := strings.Index(s.Text[from:], words)
			if i < 0 {
				break
			}
			at := from + i
			if at == 0 || unicode.IsSpace(rune(s.Text[at-1])) {
				return at, nil
			}
			from = at + 1
		}
		return 0, hark.Errorf(hark.EINVALID, "turn %d has no word starting %q (`hark correct show %s` lists the turns)", n, words, id)
	}
	return 0, hark.Errorf(hark.EINVALID, "there is no turn %d in %s (`hark correct show %s` lists the turns)", n, id, id)
}

// show lists the session's turns as corrected and the corrections made.
func (k *correcting) show(ctx context.Context, g *globals, id string) error {
	sess, err := k.session(ctx, g, id)
	if err != nil {
		return err
	}
	for _, s := range sess.Transcript.Segments {
		fmt.Fprintf(g.stdout, "%4d  %s  %s (%s)  %s\n", s.Index, clock(s.Start), s.Speaker, s.Role, s.Text)
	}
	if sess.Review == nil || len(sess.Review.Corrections) == 0 {
		fmt.Fprintln(g.stdout, "\nno corrections yet")
		return nil
	}
	fmt.Fprintf(g.stdout, "\ncorrections (review version %d):\n", sess.Review.Version)
	for _, c := range sess.Review.Corrections {
		what := ""
		switch c.Kind {
		case hark.CorrectRole:
			what = fmt.Sprintf("%s is %s", c.Speaker, c.Role)
		case hark.CorrectName:
			what = fmt.Sprintf("%s is called %s", c.Speaker, c.Name)
		case hark.CorrectMove:
			what = fmt.Sprintf("turn %d given to %s", c.Turn, c.Name)
			if c.Word > 0 {
				what = fmt.Sprintf("turn %d from byte %d given to %s", c.Turn, c.Word, c.Name)
			}
		case hark.CorrectMerge:
			what = fmt.Sprintf("turn %d merged with the next", c.Turn)
		case hark.CorrectText:
			what = fmt.Sprintf("turn %d's words edited", c.Turn)
		}
		fmt.Fprintf(g.stdout, "  %s  %s  %s\n", c.At.UTC().Format("2006-01-02 15:04"), c.By, what)
	}
	return nil
}

// clock is seconds as m:ss (or h:mm:ss).
func clock(secs float64) string {
	s := int(secs)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
