package index

import (
	"path/filepath"
	"testing"
)

// TestSQLite runs the conformance suite on SQLite files in a temporary
// directory.
func TestSQLite(t *testing.T) {
	runConformance(t, func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "index.db")
	})
}
