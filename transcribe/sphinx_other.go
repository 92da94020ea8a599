//go:build !unix

package transcribe

import "os/exec"

// ownGroup leaves cmd as it is: process groups are a Unix thing; the
// process itself is killed when it is cancelled.
func ownGroup(cmd *exec.Cmd) {}
