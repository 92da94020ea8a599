package deploy

// What every deployment file shares: hark's command line (the subcommands
// and their flags), what looks like a secret, and the Dockerfile. The
// Kubernetes manifests are checked in k8s_test.go, the Compose file in
// compose_test.go, the NATS configurations in nats_test.go.
//
// CI has no network beyond the Go proxy and Debian, so nothing here
// downloads a schema or an image: the checks are hark's own, each with a
// test that feeds it a broken input and sees it fail.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// harkFlags is every subcommand's own flags, from `hark <cmd> --help`
// (cmd/hark). Keep it in step with cmd/hark when a flag is added or renamed.
var harkFlags = map[string][]string{
	"up": {"bucket", "codebook", "concurrency", "hold-for", "http", "nats-listen", "oidc-client-id", "oidc-issuer", "oidc-name", "oidc-redirect-url", "oidc-role-prefix", "oidc-roles-claim", "oidc-scopes", "oidc-team-prefix", "oidc-teams-claim",
		"reconcile-interval", "s3-listen", "secure-cookies", "shutdown-grace", "sweep-interval", "trusted-proxies"},
	"upload":  {"bucket", "engine", "manifest", "meeting-type", "nats", "prefix", "recorded-on", "s3", "team", "worker", "worker-channel", "worker-speaker"},
	"status":  {"batch", "db", "json", "watch"},
	"reindex": {"bucket", "db", "nats", "s3"},
	"worker":  {"ack-wait", "bucket", "codebook", "concurrency", "db", "hold-for", "http", "max-deliver", "nats", "reconcile-interval", "replicas", "s3", "shutdown-grace", "stages", "sweep-interval"},
	"serve": {"bucket", "codebook", "db", "http", "nats", "oidc-client-id", "oidc-issuer", "oidc-name", "oidc-redirect-url", "oidc-role-prefix", "oidc-roles-claim", "oidc-scopes", "oidc-team-prefix", "oidc-teams-claim",
		"s3", "secure-cookies"},
	"store":     {"listen", "nats", "root"},
	"setup":     {"ack-wait", "bucket", "max-deliver", "minio", "nats", "replicas", "s3"},
	"reconcile": {"bucket", "db", "nats", "s3", "stale-after"},
	"retry":     {"batch", "bucket", "db", "nats", "s3"},
	"sweep":     {"bucket", "db", "nats", "s3"},
}

// harkGlobalFlags are the flags every subcommand has.
var harkGlobalFlags = []string{"data-dir", "log-level", "help", "h"}

// harkBoolFlags take no value.
var harkBoolFlags = []string{"minio", "json", "watch", "secure-cookies", "help", "h"}

// harkPositional are the subcommands that take arguments besides flags
// (upload PATH..., retry RECORDING...); the others refuse them.
var harkPositional = []string{"upload", "retry"}

// checkHarkArgs checks a hark command line (without the program name): a real
// subcommand first, then only that subcommand's flags, each with its value.
func checkHarkArgs(args []string) []string {
	if len(args) == 0 {
		return []string{"no hark subcommand (the image's entrypoint is hark: give the subcommand first)"}
	}
	sub := args[0]
	own, ok := harkFlags[sub]
	if !ok {
		return []string{fmt.Sprintf("%q is not a hark subcommand (want one of %s)", sub, strings.Join(sortedKeys(harkFlags), ", "))}
	}
	var errs []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if !slices.Contains(harkPositional, sub) && i+1 < len(args) {
				errs = append(errs, fmt.Sprintf("hark %s takes no arguments, got %q", sub, args[i+1:]))
			}
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if !slices.Contains(harkPositional, sub) {
				errs = append(errs, fmt.Sprintf("hark %s takes no arguments, got %q", sub, a))
			}
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "--") && len(name) > 1 {
			errs = append(errs, fmt.Sprintf("hark %s: %q: long flags take two dashes", sub, a))
			continue
		}
		if !slices.Contains(own, name) && !slices.Contains(harkGlobalFlags, name) {
			errs = append(errs, fmt.Sprintf("hark %s has no flag --%s (it has %s)", sub, name, strings.Join(own, ", ")))
			continue
		}
		if slices.Contains(harkBoolFlags, name) {
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				errs = append(errs, fmt.Sprintf("hark %s: flag --%s needs a value", sub, name))
				break
			}
			i++
			value = args[i]
		}
		if value == "" {
			errs = append(errs, fmt.Sprintf("hark %s: flag --%s has an empty value", sub, name))
		}
	}
	return errs
}

var (
	// scheme://user:password@ — a DSN or URL carrying a password.
	urlPassword = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s@:]+:[^/\s@]+@`)
	// NAME=… or NAME: … where NAME says secret, token, password or key.
	secretAssignment = regexp.MustCompile(`(?i)([A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|api[_-]?key|access[_-]?key)[A-Za-z0-9_.-]*)\s*[=:]`)
	// a flag that takes a secret: --auth, --token, --password, --pass, --secret …
	secretFlag = regexp.MustCompile(`(?i)^--?(?:auth|token|pass|passwd|password|secret|secret[_-]?key|access[_-]?key|api[_-]?key)(?:=|$)`)
	// environment variables that hold a secret: they must come from a file
	// (NAME_FILE) or, in Kubernetes, from a secretKeyRef.
	secretEnvName = regexp.MustCompile(`(?i)(?:secret|token|passw(?:or)?d|api_?key|access_?key|_dsn$|^database_url$|^hark_db$)`)
)

// secretIn says why s looks like it carries a secret, or "" if it does not.
// References to secrets (NAME_FILE=/run/secrets/…) are fine.
func secretIn(s string) string {
	if urlPassword.MatchString(s) {
		return "a URL with a password in it"
	}
	if secretFlag.MatchString(s) {
		return "a flag that takes a secret"
	}
	for _, m := range secretAssignment.FindAllStringSubmatch(s, -1) {
		if !strings.HasSuffix(strings.ToUpper(m[1]), "_FILE") {
			return fmt.Sprintf("a secret assigned in the open (%s)", strings.TrimSpace(m[0]))
		}
	}
	return ""
}

// checkSecretEnv checks one environment variable given as a literal value.
func checkSecretEnv(name, value string) string {
	if secretEnvName.MatchString(name) && !strings.HasSuffix(strings.ToUpper(name), "_FILE") {
		return fmt.Sprintf("environment variable %s holds a secret: give %s_FILE (a secret file) instead", name, name)
	}
	if urlPassword.MatchString(value) {
		return fmt.Sprintf("environment variable %s has a URL with a password in it: put it in a secret file", name)
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantErrors fails unless exactly the errors containing want are present
// (want "" means no errors at all).
func wantErrors(t *testing.T, errs []string, want string) {
	t.Helper()
	if want == "" {
		if len(errs) > 0 {
			t.Errorf("want no errors, got:\n  %s", strings.Join(errs, "\n  "))
		}
		return
	}
	for _, e := range errs {
		if strings.Contains(e, want) {
			return
		}
	}
	if len(errs) == 0 {
		t.Errorf("want an error containing %q, got none", want)
	} else {
		t.Errorf("want an error containing %q, got:\n  %s", want, strings.Join(errs, "\n  "))
	}
}

// mutate replaces old, which must occur exactly once, with new.
func mutate(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("test fixture: %q occurs %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

func TestCheckHarkArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"worker", "--s3", "http://store:7070", "--nats=nats://nats:4222", "--http", "0.0.0.0:9090"}, ""},
		{[]string{"setup", "--minio", "--replicas", "3", "--log-level", "debug"}, ""},
		{[]string{"upload", "meetings/", "--team", "North", "a.wav"}, ""},
		{[]string{"retry", "--batch", "b1"}, ""},
		{[]string{"store", "--root", "/data", "-h"}, ""},
		{nil, "no hark subcommand"},
		{[]string{"--http", "x", "worker"}, "not a hark subcommand"},
		{[]string{"wroker"}, "not a hark subcommand"},
		{[]string{"serve", "--listen", "0.0.0.0:8080"}, "has no flag --listen"},
		{[]string{"store", "--s3", "http://x"}, "has no flag --s3"},
		{[]string{"worker", "--http"}, "needs a value"},
		{[]string{"worker", "--http="}, "empty value"},
		{[]string{"worker", "extra"}, "takes no arguments"},
		{[]string{"serve", "-http", "x"}, "two dashes"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantErrors(t, checkHarkArgs(tc.args), tc.want)
		})
	}
}

func TestSecretIn(t *testing.T) {
	for _, tc := range []struct {
		s      string
		secret bool
	}{
		{"postgres://hark:s3cret@postgres:5432/hark?sslmode=disable", true},
		{"nats://tok:x@nats:4222", true},
		{"--auth", true},
		{"--token=abc", true},
		{"HARK_NATS_TOKEN=abc", true},
		{"POSTGRES_PASSWORD=abc", true},
		{"export AWS_SECRET_ACCESS_KEY=abc", true},
		{"secret: abc", true},
		{"postgres://hark@postgres:5432/hark", false},
		{"http://store:7070", false},
		{"HARK_S3_SECRET_KEY_FILE=/run/secrets/s3_secret_key", false},
		{"read -r NATS_TOKEN < /run/secrets/nats_token; export NATS_TOKEN", false},
		{"--nats", false},
		{"nats://nats:4222", false},
	} {
		if got := secretIn(tc.s) != ""; got != tc.secret {
			t.Errorf("secretIn(%q) = %q, want secret %v", tc.s, secretIn(tc.s), tc.secret)
		}
	}
	for _, tc := range []struct {
		name, value string
		bad         bool
	}{
		{"HARK_NATS_TOKEN", "abc", true},
		{"HARK_S3_SECRET_KEY", "abc", true},
		{"HARK_S3_ACCESS_KEY", "abc", true},
		{"HARK_DB", "postgres://hark@db/hark", true},
		{"POSTGRES_PASSWORD", "x", true},
		{"HARK_OPENAI_API_KEY", "x", true},
		{"HARK_DB_FILE", "/run/secrets/hark_db", false},
		{"POSTGRES_PASSWORD_FILE", "/run/secrets/postgres_password", false},
		{"POSTGRES_DB", "hark", false},
		{"HARK_S3_URL", "http://store:7070", false},
		{"DATABASE", "postgres://u:p@h/db", true},
	} {
		if got := checkSecretEnv(tc.name, tc.value) != ""; got != tc.bad {
			t.Errorf("checkSecretEnv(%q, %q) = %q, want bad %v", tc.name, tc.value, checkSecretEnv(tc.name, tc.value), tc.bad)
		}
	}
}

// checkDockerfile checks deploy/Dockerfile: a Go build stage on golang:1.26
// making a static, trimmed binary, a Debian bookworm-slim runtime with the
// certificates and the offline engine, a non-root user and hark as the
// entrypoint. exists says whether a path in the build context exists.
func checkDockerfile(text string, exists func(string) bool) []string {
	var errs []string
	var froms []string
	var user, entrypoint string
	// Join continuation lines into instructions.
	var instrs []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		instrs = append(instrs, cur.String())
		cur.Reset()
	}
	var build, run string
	for _, in := range instrs {
		op, rest, _ := strings.Cut(in, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(op) {
		case "FROM":
			froms = append(froms, rest)
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entrypoint = rest
		case "RUN", "ENV":
			if len(froms) == 1 {
				build += " " + rest
			} else {
				run += " " + rest
			}
		case "COPY", "ADD":
			fields := strings.Fields(rest)
			var srcs []string
			fromStage := false
			for _, f := range fields {
				if strings.HasPrefix(f, "--from=") {
					fromStage = true
				}
				if !strings.HasPrefix(f, "--") {
					srcs = append(srcs, f)
				}
			}
			if !fromStage && len(srcs) >= 2 {
				for _, src := range srcs[:len(srcs)-1] {
					if src != "." && !exists(src) {
						errs = append(errs, fmt.Sprintf("COPY %s: no such file in the build context (the repository root)", src))
					}
				}
			}
		}
	}
	if len(froms) != 2 {
		errs = append(errs, fmt.Sprintf("want two stages (build, run), got %d FROM", len(froms)))
	} else {
		if !strings.HasPrefix(froms[0], "golang:1.26") {
			errs = append(errs, fmt.Sprintf("build stage is %q, want golang:1.26", froms[0]))
		}
		if !strings.HasPrefix(froms[1], "debian:bookworm-slim") {
			errs = append(errs, fmt.Sprintf("run stage is %q, want debian:bookworm-slim", froms[1]))
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "go build -trimpath -o /hark ./cmd/hark"} {
		if !strings.Contains(build, want) {
			errs = append(errs, fmt.Sprintf("build stage does not have %q", want))
		}
	}
	for _, pkg := range []string{"ca-certificates", "pocketsphinx", "pocketsphinx-en-us"} {
		if !regexp.MustCompile(`apt-get install[^&;]*\s` + regexp.QuoteMeta(pkg) + `(\s|$)`).MatchString(run) {
			errs = append(errs, fmt.Sprintf("run stage does not install %s", pkg))
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "0" || u == "root" {
		errs = append(errs, fmt.Sprintf("runs as %q: want a non-root USER", user))
	} else if strings.Trim(u, "0123456789") != "" {
		errs = append(errs, fmt.Sprintf("USER %s: give a numeric uid, so Kubernetes' runAsNonRoot can check it", user))
	}
	if entrypoint != `["hark"]` {
		errs = append(errs, fmt.Sprintf(`ENTRYPOINT is %s, want ["hark"]`, entrypoint))
	}
	return errs
}

func TestDockerfile(t *testing.T) {
	text := readFile(t, "Dockerfile")
	exists := func(p string) bool { _, err := os.Stat(filepath.Join("..", p)); return err == nil }
	wantErrors(t, checkDockerfile(text, exists), "")
	if _, err := os.Stat("Dockerfile.dockerignore"); err != nil {
		t.Errorf("deploy/Dockerfile.dockerignore: %v (it keeps hark-data/, secrets and .git out of the build context)", err)
	}

	for _, tc := range []struct{ name, old, new, want string }{
		{"one stage", "FROM golang:1.26 AS build", "", "want two stages"},
		{"alpine", "FROM debian:bookworm-slim", "FROM alpine:3", "want debian:bookworm-slim"},
		{"old go", "FROM golang:1.26 AS build", "FROM golang:1.22 AS build", "want golang:1.26"},
		{"cgo", "ENV CGO_ENABLED=0", "ENV CGO_ENABLED=1", "CGO_ENABLED=0"},
		{"no trimpath", "go build -trimpath -o /hark", "go build -o /hark", "-trimpath"},
		{"no engine", "ca-certificates pocketsphinx pocketsphinx-en-us", "ca-certificates pocketsphinx", "pocketsphinx-en-us"},
		{"root", "USER 10001:10001", "USER root", "non-root USER"},
		{"named user", "USER 10001:10001", "USER hark", "numeric uid"},
		{"entrypoint", `ENTRYPOINT ["hark"]`, `ENTRYPOINT ["/bin/sh"]`, "ENTRYPOINT"},
		{"missing copy source", "COPY --chmod=0755 deploy/hark-probe", "COPY --chmod=0755 deploy/no-such-probe", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErrors(t, checkDockerfile(mutate(t, text, tc.old, tc.new), exists), tc.want)
		})
	}
}

// TestSecretFiles checks deploy/secrets: an example for every secret, the
// real files git-ignored, and generate.sh making a consistent set.
func TestSecretFiles(t *testing.T) {
	examples, _ := filepath.Glob("secrets/*.example")
	want := []string{"hark_db", "nats_token", "postgres_password", "s3_access_key", "s3_secret_key"}
	var got []string
	for _, e := range examples {
		got = append(got, strings.TrimSuffix(filepath.Base(e), ".example"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("secret examples %v, want %v", got, want)
	}
	if tok := strings.TrimSpace(readFile(t, "secrets/nats_token.example")); tok == "" || !isLetter(tok[0]) {
		t.Errorf("nats_token.example %q: a NATS token must start with a letter", tok)
	}

	if git, err := exec.LookPath("git"); err == nil {
		for _, name := range want {
			real := filepath.Join("secrets", name)
			if err := exec.Command(git, "check-ignore", "-q", real).Run(); err != nil {
				t.Errorf("deploy/%s is not git-ignored (deploy/.gitignore): %v", real, err)
			}
			if err := exec.Command(git, "check-ignore", "-q", real+".example").Run(); err == nil {
				t.Errorf("deploy/%s.example is git-ignored; it must be committed", real)
			}
		}
	}

	sh, err := exec.LookPath("sh")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI has no sh to run secrets/generate.sh")
		}
		t.Skip("no sh to run secrets/generate.sh")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "generate.sh")
	if err := os.WriteFile(script, []byte(readFile(t, "secrets/generate.sh")), 0o755); err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 2; run++ { // the second run keeps what the first made
		if out, err := exec.Command(sh, script).CombinedOutput(); err != nil {
			t.Fatalf("generate.sh: %v\n%s", err, out)
		}
	}
	read := func(name string) string { return strings.TrimSpace(readFile(t, filepath.Join(dir, name))) }
	pw := read("postgres_password")
	if dsn, wantDSN := read("hark_db"), "postgres://hark:"+pw+"@postgres:5432/hark?sslmode=disable"; dsn != wantDSN {
		t.Errorf("hark_db = %q, want %q (the password of postgres_password)", dsn, wantDSN)
	}
	for _, name := range want {
		v := read(name)
		if len(v) < 16 || !isLetter(v[0]) || strings.Trim(strings.ToLower(v), "abcdefghijklmnopqrstuvwxyz0123456789:/@?=._-") != "" {
			t.Errorf("generated %s = %q: want 16+ characters, a letter first, nothing a URL or NATS would mangle", name, v)
		}
	}
}

func isLetter(b byte) bool { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') }
