package pipeline

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/harkworks/hark/s3server"
)

// TestMain fails the package if a test leaves a goroutine behind. The
// embedded S3 server's HTTP library leaves two of its own, which no call
// stops (see s3server.DateUpdater).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(s3server.DateUpdater), goleak.IgnoreAnyFunction(s3server.IdleWorkerCleaner))
}
