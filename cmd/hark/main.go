// Command hark transcribes recorded meetings between social workers and
// families, tags them with practice markers, and serves them to coaches and
// analysts. Run `hark --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal stops hark gracefully; from then on a signal has
	// its default effect: a second Ctrl-C stops it at once.
	context.AfterFunc(ctx, stop)
	root := newRootCmd(os.Stdout, os.Stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hark:", cliMessage(root, err))
		os.Exit(1)
	}
}

// cliMessage is what a person reads when a command fails. An error from a
// command's own work goes through hark.ErrorMessage: its message and cause,
// never a bare Go error such as "EOF" (one that is not a hark.Error is an
// internal error and says so). An error from before any command ran is
// cobra's about the command line (an unknown command or flag, the wrong
// arguments), written for the user already; it gets a pointer to --help.
func cliMessage(root *cobra.Command, err error) string {
	var he *hark.Error
	if errors.As(err, &he) || ran(root) {
		return hark.ErrorMessage(err)
	}
	return err.Error() + " (see hark --help)"
}

// ranAnnotation marks, on the root command, that a command's RunE started.
const ranAnnotation = "hark-ran"

// markRuns wraps the RunE of c and every command under it so that ran
// can tell a command's own error from one about the command line.
func markRuns(root, c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			root.Annotations[ranAnnotation] = "true"
			return run(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markRuns(root, sub)
	}
}

// ran reports whether a command's RunE started.
func ran(root *cobra.Command) bool { return root.Annotations[ranAnnotation] != "" }

// globals are the flags every command has.
type globals struct {
	dataDir  string
	logLevel string
	stdout   io.Writer
	stderr   io.Writer
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "hark",
		Short: "Transcribe and tag recorded social work meetings for coaches and analysts",
		Long: `hark listens to recorded meetings between child and family social workers and
parents: it transcribes them, tags segments with practice markers (reflective
listening, joint agenda setting, threats of escalation and more) and serves the
tagged transcripts to coaches and the counts to analysts.

Every flag can also be set by an environment variable HARK_<FLAG> (upper case,
dashes as underscores), e.g. HARK_DATA_DIR.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return checkSecretFiles()
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.dataDir, "data-dir", env("HARK_DATA_DIR", "./hark-data"), "directory for the embedded servers' data, the index and endpoints.json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", env("HARK_LOG_LEVEL", "info"), "log level: debug, info, warn or error")
	root.AddCommand(newUpCmd(g), newUploadCmd(g), newStatusCmd(g), newReindexCmd(g),
		newWorkerCmd(g), newServeCmd(g), newStoreCmd(g), newSetupCmd(g), newReconcileCmd(g), newRetryCmd(g),
		newUserCmd(g), newTeamCmd(g), newAuditCmd(g), newReannotateCmd(g), newTranscribeCmd(g),
		newAnnotateCmd(g), newEvalCmd(g), newCodebookCmd(g), newReportCmd(g), newBenchCmd(g), newDiarizeCmd(g), newVoiceCmd(g),
		newCorrectCmd(g), newTrainCmd(g), newForgetCmd(g),
		newRetentionCmd(g), newSweepCmd(g), newExportCmd(g), newRedactionCmd(g), newDoubleCodeCmd(g))
	root.Annotations = map[string]string{}
	markRuns(root, root)
	return root
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// secretEnv returns a secret from the environment: NAME itself, or the
// contents of the file named by NAME_FILE (for Docker and Kubernetes
// secrets). Secrets are never flags, so they never show in process lists.
func secretEnv(name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	if f := os.Getenv(name + "_FILE"); f != "" {
		if data, err := os.ReadFile(f); err == nil {
			return strings.TrimSpace(string(data))
		}
	}
	return ""
}

// secretNames are the secrets hark reads from the environment.
var secretNames = []string{"HARK_S3_ACCESS_KEY", "HARK_S3_SECRET_KEY", "HARK_NATS_TOKEN", "HARK_DB", "HARK_OPENAI_API_KEY", "HARK_LLM_API_KEY", "HARK_OIDC_CLIENT_SECRET"}

// checkSecretFiles fails when a secret's NAME_FILE is set but cannot be
// read, rather than running on without the secret.
func checkSecretFiles() error {
	for _, name := range secretNames {
		f := os.Getenv(name + "_FILE")
		if f == "" || os.Getenv(name) != "" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return hark.Errorf(hark.EINVALID, "%s_FILE names %s, which cannot be read: %v", name, f, errors.Unwrap(err))
		}
		if strings.TrimSpace(string(data)) == "" {
			return hark.Errorf(hark.EINVALID, "%s_FILE names %s, which is empty", name, f)
		}
	}
	return nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func (g *globals) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
}
