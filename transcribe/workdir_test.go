package transcribe

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWorkDir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "work")
	a, err := OpenWorkDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(root); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("work dir %s: %v, %v; want mode 0700", root, fi.Mode(), err)
	}
	chunk := filepath.Join(a.Dir(), "hark-audio-1", "mix-0001.wav")
	if err := os.MkdirAll(filepath.Dir(chunk), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(chunk, []byte("RIFF"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A second process on the same root leaves a running one's files alone.
	b, err := OpenWorkDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := os.Stat(chunk); err != nil {
		t.Fatalf("opening the work dir again removed a running process's chunk: %v", err)
	}
	if a.Dir() == b.Dir() {
		t.Fatalf("two processes share the directory %s", a.Dir())
	}

	// A process that stops without Close (kill -9) lets go of its lock
	// with its file; the next process to open the root sweeps its files.
	a.lock.Close()
	c, err := OpenWorkDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := os.Stat(a.Dir()); !os.IsNotExist(err) {
		t.Fatalf("a stopped process's directory is still there: %v", err)
	}
	if _, err := os.Stat(b.Dir()); err != nil {
		t.Fatalf("the sweep removed a running process's directory: %v", err)
	}

	// A directory without a lock file (a process stopped while making it)
	// is swept too; anything not made by a process is left alone.
	half := filepath.Join(root, workPrefix+"half")
	other := filepath.Join(root, "notes")
	for _, d := range []string{half, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	d, err := OpenWorkDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Fatalf("a directory without a lock was not swept: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("the sweep removed a directory it did not make: %v", err)
	}

	// Close removes the process's own files and may be called again.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(d.Dir()); !os.IsNotExist(err) {
		t.Fatalf("Close left %s: %v", d.Dir(), err)
	}
}

func TestWorkDirClosesOpenRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "work")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := OpenWorkDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if fi, _ := os.Stat(root); fi.Mode().Perm() != 0o700 {
		t.Fatalf("a work dir open to others stays %v, want 0700", fi.Mode().Perm())
	}
}
