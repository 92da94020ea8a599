package transcribe

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/harkworks/hark"
)

// workPrefix starts the name of each process's directory in a work dir.
const workPrefix = "proc-"

// WorkDir is one process's private scratch space for decoded audio: the
// chunks of the recordings it is transcribing, a family's meeting in
// plain PCM. It lives in a directory of its own inside a root that only
// the owner may enter (0700), held by a lock for as long as the process
// runs, so that the next process to open the root can tell what a crashed
// one left (its lock is gone with it, even after kill -9) from what a
// running one is using, and remove it.
type WorkDir struct {
	root, dir string
	lock      *os.File
}

// A work dir only releases what it holds, without waiting on anything: it
// is an io.Closer, like the index, not a hark.Closer.
var _ io.Closer = (*WorkDir)(nil)

// OpenWorkDir makes root (0700) if it is missing, takes away group and
// other access if it has any, removes what processes that are no longer
// running left in it, and makes this process's own directory there.
// Several processes may share a root. log gets the counts of what was
// swept (never content).
func OpenWorkDir(root string, log *slog.Logger) (*WorkDir, error) {
	if log == nil {
		log = slog.Default()
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "work dir %s", root)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "create the work dir %s (set --work-dir or HARK_WORK_DIR to a writable directory)", root)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "work dir %s", root)
	} else if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(root, 0o700); err != nil {
			return nil, hark.WrapError(hark.EINVALID, err, "work dir %s is open to other users and cannot be closed (chmod 700 it, or give another --work-dir)", root)
		}
	}
	swept, err := sweepWorkDir(root)
	if err != nil {
		return nil, err
	}
	if swept > 0 {
		log.Info("removed work files a stopped process left", "work_dir", root, "directories", swept)
	}
	dir, err := os.MkdirTemp(root, workPrefix+"*")
	if err != nil {
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "create a directory in the work dir %s", root)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		var held bool
		if held, err = tryLock(lock); err == nil && !held && canLock {
			err = errors.New("locked by another process")
		}
		if err != nil {
			lock.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, hark.WrapError(hark.EUNAVAILABLE, err, "lock the work directory %s", dir)
	}
	return &WorkDir{root: root, dir: dir, lock: lock}, nil
}

// Dir is where this process writes its work files (PrepareConfig.Dir,
// EngineConfig.TempDir); "" for a nil WorkDir, which leaves them to the
// system's temporary directory (or memory, where a part can keep them).
func (w *WorkDir) Dir() string {
	if w == nil {
		return ""
	}
	return w.dir
}

// Close removes this process's directory and everything in it. It is safe
// to call more than once.
func (w *WorkDir) Close() error {
	if w == nil || w.lock == nil {
		return nil
	}
	err := os.RemoveAll(w.dir)
	w.lock.Close()
	w.lock = nil
	if err != nil {
		return fmt.Errorf("remove the work directory %s: %w", w.dir, err)
	}
	return nil
}

// sweepWorkDir removes the directories in root whose process has gone,
// and returns how many it removed.
func sweepWorkDir(root string) (int, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, hark.WrapError(hark.EUNAVAILABLE, err, "read the work dir %s", root)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workPrefix) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if gone, err := ownerGone(dir); err != nil || !gone {
			continue // in use, or not ours to judge: leave it
		}
		if err := os.RemoveAll(dir); err != nil {
			return n, hark.WrapError(hark.EUNAVAILABLE, err, "remove %s, which a stopped process left", dir)
		}
		n++
	}
	return n, nil
}

// ownerGone reports whether the process that made dir no longer holds its
// lock. A directory without a lock file was being made or taken apart when
// its process stopped.
func ownerGone(dir string) (bool, error) {
	if !canLock {
		return false, nil
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close() // closing lets go of the lock taken here
	return tryLock(f)
}
