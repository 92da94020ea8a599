package deploy

// deploy/compose.yaml, checked without Docker: dependencies, secrets,
// hark's command lines, secrets kept out of commands and the environment,
// ports on loopback only, volumes, and the files it points at.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeTopLevel and composeServiceKeys are the Compose Specification's
// keys (x-… extensions aside): anything else is a typo.
var composeTopLevel = []string{"version", "name", "include", "services", "networks", "volumes", "secrets", "configs", "models"}

var composeServiceKeys = []string{
	"annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent", "command",
	"configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
	"cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on", "deploy", "develop",
	"device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname", "entrypoint", "env_file",
	"environment", "expose", "extends", "external_links", "extra_hosts", "gpus", "group_add", "healthcheck",
	"hostname", "image", "init", "ipc", "isolation", "labels", "links", "logging", "mac_address", "mem_limit",
	"mem_reservation", "mem_swappiness", "memswap_limit", "models", "network_mode", "networks", "oom_kill_disable",
	"oom_score_adj", "pid", "pids_limit", "platform", "ports", "post_start", "pre_stop", "privileged", "profiles",
	"pull_policy", "read_only", "restart", "runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open",
	"stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "user", "userns_mode",
	"uts", "volumes", "volumes_from", "working_dir",
}

var dependsConditions = []string{"service_started", "service_healthy", "service_completed_successfully"}

type composeFile struct {
	Top      map[string]any
	Services map[string]map[string]any
	Secrets  map[string]map[string]any
	Volumes  map[string]any
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// asStrings reads a list of strings, or a string split into words.
func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, asString(e))
		}
		return out
	}
	return nil
}

func parseCompose(text string) (*composeFile, []string) {
	var top map[string]any
	if err := yaml.Unmarshal([]byte(text), &top); err != nil {
		return nil, []string{fmt.Sprintf("compose file: %v", err)}
	}
	c := &composeFile{Top: top, Services: map[string]map[string]any{}, Secrets: map[string]map[string]any{}, Volumes: asMap(top["volumes"])}
	var errs []string
	for name, v := range asMap(top["services"]) {
		svc := asMap(v)
		if svc == nil {
			errs = append(errs, fmt.Sprintf("service %s is not a mapping", name))
			continue
		}
		c.Services[name] = svc
	}
	for name, v := range asMap(top["secrets"]) {
		c.Secrets[name] = asMap(v)
	}
	return c, errs
}

// environment reads a service's environment, as a map or a list of NAME=value.
func environment(svc map[string]any) map[string]string {
	env := map[string]string{}
	switch x := svc["environment"].(type) {
	case map[string]any:
		for k, v := range x {
			env[k] = asString(v)
		}
	case []any:
		for _, e := range x {
			k, v, _ := strings.Cut(asString(e), "=")
			env[k] = v
		}
	}
	return env
}

// serviceSecrets is the file names under /run/secrets a service gets.
func serviceSecrets(svc map[string]any) (sources, targets []string) {
	list, _ := svc["secrets"].([]any)
	for _, s := range list {
		switch x := s.(type) {
		case string:
			sources, targets = append(sources, x), append(targets, x)
		case map[string]any:
			src, tgt := asString(x["source"]), asString(x["target"])
			if tgt == "" {
				tgt = src
			}
			sources, targets = append(sources, src), append(targets, filepath.Base(tgt))
		}
	}
	return sources, targets
}

func dependsOn(svc map[string]any) map[string]string {
	deps := map[string]string{}
	switch x := svc["depends_on"].(type) {
	case []any:
		for _, d := range x {
			deps[asString(d)] = "service_started"
		}
	case map[string]any:
		for name, v := range x {
			cond := asString(asMap(v)["condition"])
			if cond == "" {
				cond = "service_started"
			}
			deps[name] = cond
		}
	}
	return deps
}

// isHarkService says whether a service runs hark's image.
func isHarkService(svc map[string]any) bool {
	build := asMap(svc["build"])
	return isHarkImage(asString(svc["image"])) || strings.HasSuffix(asString(build["dockerfile"]), "deploy/Dockerfile")
}

func checkCompose(c *composeFile) []string {
	var errs []string
	for _, k := range sortedKeys(c.Top) {
		if !strings.HasPrefix(k, "x-") && !slices.Contains(composeTopLevel, k) {
			errs = append(errs, fmt.Sprintf("unknown top-level key %q", k))
		}
	}
	if len(c.Services) == 0 {
		errs = append(errs, "no services")
	}
	for name, sec := range c.Secrets {
		if asString(sec["file"]) == "" && asString(sec["environment"]) == "" && sec["external"] == nil {
			errs = append(errs, fmt.Sprintf("secret %s: no file", name))
		}
	}
	for _, name := range sortedKeys(c.Services) {
		svc := c.Services[name]
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Sprintf("service %s: %s", name, fmt.Sprintf(format, a...)))
		}
		for _, k := range sortedKeys(svc) {
			if !strings.HasPrefix(k, "x-") && !slices.Contains(composeServiceKeys, k) {
				bad("unknown key %q", k)
			}
		}
		if asString(svc["image"]) == "" && svc["build"] == nil {
			bad("no image or build")
		}
		if p, _ := svc["privileged"].(bool); p {
			bad("must not be privileged")
		}
		if nm := asString(svc["network_mode"]); nm == "host" {
			bad("network_mode host would publish every port on every interface")
		}

		for dep, cond := range dependsOn(svc) {
			target, ok := c.Services[dep]
			if !ok {
				bad("depends on %q, which is not a service", dep)
				continue
			}
			if !slices.Contains(dependsConditions, cond) {
				bad("depends on %s with condition %q (want one of %s)", dep, cond, strings.Join(dependsConditions, ", "))
			}
			if cond == "service_healthy" {
				hc := asMap(target["healthcheck"])
				if hc == nil || hc["disable"] == true {
					bad("waits for %s to be healthy, but %s has no healthcheck", dep, dep)
				}
			}
			if cond == "service_completed_successfully" {
				if r := asString(target["restart"]); r == "always" || r == "unless-stopped" {
					bad("waits for %s to complete, but %s restarts %q: make it restart: \"no\"", dep, dep, r)
				}
			}
		}

		sources, targets := serviceSecrets(svc)
		for _, s := range sources {
			if _, ok := c.Secrets[s]; !ok {
				bad("uses secret %q, which is not declared under secrets:", s)
			}
		}
		env := environment(svc)
		for _, k := range sortedKeys(env) {
			if why := checkSecretEnv(k, env[k]); why != "" {
				bad("%s", why)
			}
			if strings.HasSuffix(k, "_FILE") {
				if file, ok := strings.CutPrefix(env[k], "/run/secrets/"); !ok || !slices.Contains(targets, file) {
					bad("%s=%s is not one of the service's secrets (%v)", k, env[k], targets)
				}
			}
		}
		for _, key := range []string{"command", "entrypoint"} {
			var parts []string
			switch x := svc[key].(type) {
			case string:
				parts = append([]string{x}, strings.Fields(x)...)
			case []any:
				for _, e := range x {
					parts = append(parts, asString(e))
					parts = append(parts, strings.Fields(asString(e))...)
				}
			}
			for _, p := range parts {
				if why := secretIn(p); why != "" {
					bad("%s %q looks like %s: pass secrets as files (secrets: and *_FILE)", key, p, why)
					break
				}
			}
		}

		if isHarkService(svc) {
			build := asMap(svc["build"])
			if asString(build["context"]) != ".." || asString(build["dockerfile"]) != "deploy/Dockerfile" {
				bad("build it with context .. and dockerfile deploy/Dockerfile")
			}
			if img := asString(svc["image"]); img != "hark:local" {
				bad("image %q: every hark service uses hark:local", img)
			}
			if svc["entrypoint"] != nil {
				bad("entrypoint replaces the image's (hark): give the subcommand in command")
			}
			for _, e := range checkHarkArgs(asStrings(svc["command"])) {
				bad("%s", e)
			}
		}

		ports, _ := svc["ports"].([]any)
		for _, p := range ports {
			switch x := p.(type) {
			case map[string]any:
				if asString(x["host_ip"]) != "127.0.0.1" {
					bad("port %v: publish on host_ip 127.0.0.1 only", x)
				}
			default:
				s := asString(x)
				if !strings.HasPrefix(s, "127.0.0.1:") || strings.Count(s, ":") < 2 {
					bad("port %q: publish on 127.0.0.1 only (\"127.0.0.1:HOST:CONTAINER\")", s)
				}
			}
		}

		vols, _ := svc["volumes"].([]any)
		for _, v := range vols {
			var source string
			switch x := v.(type) {
			case map[string]any:
				if asString(x["type"]) != "volume" {
					continue
				}
				source = asString(x["source"])
			default:
				source, _, _ = strings.Cut(asString(x), ":")
				if strings.HasPrefix(source, ".") || strings.HasPrefix(source, "/") || strings.HasPrefix(source, "~") || !strings.Contains(asString(x), ":") {
					continue // a bind mount or an anonymous volume
				}
			}
			if _, ok := c.Volumes[source]; !ok {
				bad("uses volume %q, which is not declared under volumes:", source)
			}
		}
	}
	return errs
}

// checkComposeFiles checks the files the Compose file in dir points at: an
// example for every secret file (the real ones are not in git), the bind
// mounts and the build.
func checkComposeFiles(c *composeFile, dir string) []string {
	var errs []string
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(dir, p)); return err == nil }
	for _, name := range sortedKeys(c.Secrets) {
		if file := asString(c.Secrets[name]["file"]); file != "" && !exists(file+".example") {
			errs = append(errs, fmt.Sprintf("secret %s: no %s.example next to %s to copy", name, file, file))
		}
	}
	for _, name := range sortedKeys(c.Services) {
		svc := c.Services[name]
		vols, _ := svc["volumes"].([]any)
		for _, v := range vols {
			source, _, _ := strings.Cut(asString(v), ":")
			if (strings.HasPrefix(source, "./") || strings.HasPrefix(source, "../")) && !exists(source) {
				errs = append(errs, fmt.Sprintf("service %s: mounts %s, which does not exist", name, source))
			}
		}
		if build := asMap(svc["build"]); build != nil {
			ctx := asString(build["context"])
			if !exists(filepath.Join(ctx, asString(build["dockerfile"]))) {
				errs = append(errs, fmt.Sprintf("service %s: no %s in build context %s", name, build["dockerfile"], ctx))
			}
		}
	}
	return errs
}

// checkComposeDeployment checks what hark's Compose deployment needs.
func checkComposeDeployment(c *composeFile) []string {
	var errs []string
	for _, name := range []string{"nats", "postgres", "store", "setup", "worker", "serve", "whisper"} {
		if c.Services[name] == nil {
			errs = append(errs, fmt.Sprintf("no service %s", name))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if cmd := strings.Join(asStrings(c.Services["nats"]["command"]), " "); !strings.Contains(cmd, "/etc/nats/nats.conf") {
		errs = append(errs, "nats does not run with the mounted nats-single.conf")
	}
	if vols, _ := c.Services["nats"]["volumes"].([]any); !slices.ContainsFunc(vols, func(v any) bool {
		return strings.HasPrefix(asString(v), "./nats/nats-single.conf:/etc/nats/nats.conf")
	}) {
		errs = append(errs, "nats does not mount ./nats/nats-single.conf at /etc/nats/nats.conf")
	}
	if r := asString(c.Services["setup"]["restart"]); r != "no" {
		errs = append(errs, fmt.Sprintf("setup restarts %q: it is a one-shot (restart: \"no\")", r))
	}
	if n := asString(environment(c.Services["setup"])["HARK_REPLICAS"]); n != "" && n != "1" {
		errs = append(errs, fmt.Sprintf("setup asks for %s stream replicas on one NATS server", n))
	}
	if dependsOn(c.Services["worker"])["setup"] != "service_completed_successfully" {
		errs = append(errs, "worker does not wait for setup to complete successfully")
	}
	if n := asString(asMap(c.Services["worker"]["deploy"])["replicas"]); n != "2" {
		errs = append(errs, fmt.Sprintf("worker has deploy.replicas %q, want 2", n))
	}
	if prof := asStrings(c.Services["whisper"]["profiles"]); !slices.Equal(prof, []string{"whisper"}) {
		errs = append(errs, fmt.Sprintf("whisper has profiles %v, want [whisper] (it is optional)", prof))
	}
	if env := environment(c.Services["postgres"]); env["POSTGRES_PASSWORD_FILE"] == "" {
		errs = append(errs, "postgres takes its password from POSTGRES_PASSWORD_FILE")
	}
	for _, name := range []string{"worker", "serve"} {
		if environment(c.Services[name])["HARK_DB_FILE"] == "" {
			errs = append(errs, fmt.Sprintf("%s has no HARK_DB_FILE: it would make its own SQLite index", name))
		}
	}
	return errs
}

func TestCompose(t *testing.T) {
	text := readFile(t, "compose.yaml")
	c, errs := parseCompose(text)
	wantErrors(t, errs, "")
	wantErrors(t, checkCompose(c), "")
	wantErrors(t, checkComposeFiles(c, "."), "")
	wantErrors(t, checkComposeDeployment(c), "")

	// The files checks fail where the files are missing.
	wantErrors(t, checkComposeFiles(c, t.TempDir()), "no ./secrets/hark_db.example")

	for _, tc := range []struct{ name, old, new, want string }{
		{"setup restarts", "    restart: \"no\"\n", "", `setup restarts "unless-stopped"`},
		{"setup R3 on one server", `      HARK_REPLICAS: "1"` + "\n      HARK_S3_ACCESS_KEY_FILE", `      HARK_REPLICAS: "3"` + "\n      HARK_S3_ACCESS_KEY_FILE", "3 stream replicas"},
		{"one worker", "      replicas: 2\n", "      replicas: 1\n", `deploy.replicas "1"`},
		{"whisper always on", `    profiles: ["whisper"]` + "\n", "", "profiles []"},
		{"serve without index", "    command: [\"serve\", \"--http\", \"0.0.0.0:8080\"]\n    environment:\n      HARK_DB_FILE: /run/secrets/hark_db\n", "    command: [\"serve\", \"--http\", \"0.0.0.0:8080\"]\n    environment:\n      HARK_LOG_LEVEL: info\n", "serve has no HARK_DB_FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, errs := parseCompose(mutate(t, text, tc.old, tc.new))
			wantErrors(t, errs, "")
			wantErrors(t, checkComposeDeployment(c), tc.want)
		})
	}
}

// composeFixture is a small valid Compose file; each case of
// TestCheckCompose breaks one thing in it.
const composeFixture = `name: hark
x-hark: &hark
  build: {context: .., dockerfile: deploy/Dockerfile}
  image: hark:local
  restart: unless-stopped
services:
  nats:
    image: nats:2.12-alpine
    entrypoint: ["/bin/sh", "-c"]
    command: ["read -r NATS_TOKEN < /run/secrets/nats_token; export NATS_TOKEN; exec nats-server -c /etc/nats/nats.conf"]
    secrets: [nats_token]
    volumes: ["./nats/nats-single.conf:/etc/nats/nats.conf:ro", "nats-data:/data"]
    ports: ["127.0.0.1:4222:4222"]
    healthcheck: {test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8222/healthz"]}
  setup:
    <<: *hark
    command: ["setup", "--nats", "nats://nats:4222"]
    restart: "no"
    environment:
      HARK_NATS_TOKEN_FILE: /run/secrets/nats_token
    secrets: [nats_token]
    depends_on:
      nats: {condition: service_healthy}
  worker:
    <<: *hark
    command: ["worker", "--http", "0.0.0.0:9090"]
    environment:
      HARK_DB_FILE: /run/secrets/hark_db # worker
      HARK_S3_URL: http://store:7070
    secrets:
      - source: hark_db
    depends_on:
      setup: {condition: service_completed_successfully}
  serve:
    <<: *hark
    command: serve --http 0.0.0.0:8080
    environment: ["HARK_DB_FILE=/run/secrets/hark_db"]
    secrets: [hark_db]
    ports:
      - "127.0.0.1:8080:8080"
      - {target: 9000, published: "9000", host_ip: 127.0.0.1}
    depends_on: [setup]
secrets:
  nats_token: {file: ./secrets/nats_token}
  hark_db: {file: ./secrets/hark_db}
volumes:
  nats-data:
`

func TestCheckCompose(t *testing.T) {
	for _, tc := range []struct{ name, old, new, want string }{
		{"valid", "", "", ""},
		{"yaml syntax", "name: hark\n", "name: [hark\n", "compose file:"},
		{"unknown top-level key", "name: hark\n", "name: hark\nservice: {}\n", `unknown top-level key "service"`},
		{"unknown service key", "    restart: \"no\"\n", "    restart: \"no\"\n    depend_on: [nats]\n", `unknown key "depend_on"`},
		{"no image", "    image: nats:2.12-alpine\n", "", "no image or build"},
		{"privileged", "    image: nats:2.12-alpine\n", "    image: nats:2.12-alpine\n    privileged: true\n", "must not be privileged"},
		{"host network", "    image: nats:2.12-alpine\n", "    image: nats:2.12-alpine\n    network_mode: host\n", "network_mode host"},
		{"depends on nothing", "depends_on: [setup]", "depends_on: [setpu]", `depends on "setpu"`},
		{"bad condition", "setup: {condition: service_completed_successfully}", "setup: {condition: service_done}", `condition "service_done"`},
		{"healthy without healthcheck", "      nats: {condition: service_healthy}", "      worker: {condition: service_healthy}", "worker has no healthcheck"},
		{"one-shot restarts", "    restart: \"no\"\n", "", `setup restarts "unless-stopped"`},
		{"undeclared secret", "  hark_db: {file: ./secrets/hark_db}\n", "", `secret "hark_db"`},
		{"secret without file", "  hark_db: {file: ./secrets/hark_db}\n", "  hark_db: {}\n", "secret hark_db: no file"},
		{"_FILE not a secret of the service", "      HARK_DB_FILE: /run/secrets/hark_db # worker", "      HARK_DB_FILE: /run/secrets/db", "HARK_DB_FILE=/run/secrets/db is not one of the service's secrets"},
		{"secret in environment", "      HARK_NATS_TOKEN_FILE: /run/secrets/nats_token", "      HARK_NATS_TOKEN: abc", "HARK_NATS_TOKEN holds a secret"},
		{"DSN in environment", "      HARK_S3_URL: http://store:7070", "      HARK_INDEX: postgres://hark:pw@postgres/hark", "URL with a password"},
		{"DSN in command", `command: ["worker", "--http", "0.0.0.0:9090"]`, `command: ["worker", "--db", "postgres://hark:pw@postgres/hark"]`, "a URL with a password"},
		{"token in a shell command", "read -r NATS_TOKEN < /run/secrets/nats_token; export NATS_TOKEN; exec nats-server", "exec nats-server --auth abc", "a flag that takes a secret"},
		{"token assigned in a shell command", "read -r NATS_TOKEN < /run/secrets/nats_token; export NATS_TOKEN;", "export NATS_TOKEN=abc;", "a secret assigned in the open"},
		{"not a subcommand", `command: ["worker", "--http"`, `command: ["wrker", "--http"`, `"wrker" is not a hark subcommand`},
		{"unknown flag in a string command", "command: serve --http 0.0.0.0:8080", "command: serve --listen 0.0.0.0:8080", "has no flag --listen"},
		{"hark entrypoint", "  image: hark:local\n", "  image: hark:local\n  entrypoint: [/bin/sh]\n", "entrypoint replaces"},
		{"hark built elsewhere", "  build: {context: .., dockerfile: deploy/Dockerfile}", "  build: {context: ., dockerfile: deploy/Dockerfile}", "context .. and dockerfile deploy/Dockerfile"},
		{"hark other image", "  image: hark:local", "  image: hark:latest", `image "hark:latest"`},
		{"port on every interface", `"127.0.0.1:8080:8080"`, `"8080:8080"`, `port "8080:8080"`},
		{"port on 0.0.0.0", `"127.0.0.1:4222:4222"`, `"0.0.0.0:4222:4222"`, "publish on 127.0.0.1 only"},
		{"port container only", `"127.0.0.1:8080:8080"`, `"8080"`, `port "8080"`},
		{"long port", "host_ip: 127.0.0.1}", "host_ip: 0.0.0.0}", "host_ip 127.0.0.1 only"},
		{"undeclared volume", `"nats-data:/data"`, `"natsdata:/data"`, `volume "natsdata"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := composeFixture
			if tc.old != "" {
				text = mutate(t, text, tc.old, tc.new)
			}
			c, errs := parseCompose(text)
			if c != nil {
				errs = append(errs, checkCompose(c)...)
			}
			wantErrors(t, errs, tc.want)
		})
	}
}
