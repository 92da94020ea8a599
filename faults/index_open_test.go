package faults

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Two hark processes started at the same instant on one fresh data dir
// both create and migrate its SQLite index (as `hark up` beside `hark
// worker`, or two workers after a reboot, do): neither may fail with
// "database is locked", and both writes land. Twenty fresh data dirs, since
// the race is in the first moments of a new file.
func TestTwoProcessesOpenFreshIndex(t *testing.T) {
	for round := range 20 {
		dir := filepath.Join(t.TempDir(), "data")
		var wg sync.WaitGroup
		start := make(chan struct{})
		outs := make([]string, 2)
		errs := make([]error, 2)
		teams := []string{"North", "South"}
		for i := range 2 {
			cmd := exec.Command(harkBin, "team", "add", teams[i], "--data-dir", dir)
			cmd.Env = baseEnv() // no HARK_DB: the index is the data dir's SQLite file
			dieWithTest(cmd)
			wg.Go(func() {
				<-start
				out, err := cmd.CombinedOutput()
				outs[i], errs[i] = string(out), err
			})
		}
		close(start)
		wg.Wait()
		for i := range 2 {
			if errs[i] != nil {
				t.Fatalf("round %d: hark team add %s: %v\n%s", round, teams[i], errs[i], outs[i])
			}
		}
		list := exec.Command(harkBin, "team", "list", "--data-dir", dir)
		list.Env = baseEnv()
		out, err := list.CombinedOutput()
		if err != nil {
			t.Fatalf("round %d: hark team list: %v\n%s", round, err, out)
		}
		for _, team := range teams {
			if !strings.Contains(string(out), team) {
				t.Fatalf("round %d: hark team list does not show %s:\n%s", round, team, out)
			}
		}
	}
}
