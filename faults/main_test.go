package faults

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/harkworks/hark/s3server"
)

// Paths the tests use, absolute: the embedded S3 server changes the
// working directory of the test process.
var (
	harkBin     string // the hark binary TestMain builds
	meetingsDir string // testdata/meetings
	eventsDir   string // ingest/testdata/events
	scriptsDir  string // scripts
)

// TestMain builds the hark binary once for every test, refuses to run on CI
// without PostgreSQL (CI must prove the team deployment on the database a
// team runs, not silently on SQLite), and fails the package if the tests
// leave a goroutine behind.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci && os.Getenv("HARK_TEST_POSTGRES") == "" {
		fmt.Fprintln(os.Stderr, "faults: CI is set but HARK_TEST_POSTGRES is not: the fault tests must run on PostgreSQL in CI; "+
			"start a server with scripts/test-postgres.sh and export the line it prints")
		return 1
	}
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	meetingsDir = filepath.Join(root, "testdata", "meetings")
	eventsDir = filepath.Join(root, "ingest", "testdata", "events")
	scriptsDir = filepath.Join(root, "scripts")
	tmp, err := os.MkdirTemp("", "hark-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	harkBin = filepath.Join(tmp, "hark")
	start := time.Now()
	build := exec.Command("go", "build", "-o", harkBin, "./cmd/hark")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "faults: go build ./cmd/hark: %v\n%s", err, out)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "faults: built %s in %s\n", harkBin, time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	// The in-process servers must leave no goroutine behind, but for the
	// two the S3 server's HTTP library keeps and no call stops (see
	// s3server.DateUpdater).
	if code != 0 {
		return code
	}
	if err := goleak.Find(goleak.IgnoreAnyFunction(s3server.DateUpdater), goleak.IgnoreAnyFunction(s3server.IdleWorkerCleaner)); err != nil {
		fmt.Fprintln(os.Stderr, "faults: goleak:", err)
		return 1
	}
	return 0
}
