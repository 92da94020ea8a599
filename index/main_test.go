package index

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind, such as a
// connection pool that was never closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
