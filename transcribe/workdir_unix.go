//go:build unix

package transcribe

import (
	"errors"
	"os"
	"syscall"
)

// canLock says the system has locks that end with their process.
const canLock = true

// tryLock takes an exclusive lock on f without waiting, and reports
// whether it got it. The kernel lets go of the lock when the file is closed
// or its process ends, however it ends.
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
