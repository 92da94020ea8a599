package ingest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/s3server"
)

// TestClose is the lifecycle contract (hark.Closer) of the embedded NATS
// server and of a queue connection. StartNATSServer and Connect are their
// starts: there is no second one, and a part that was never started is the
// zero one.
func TestClose(t *testing.T) {
	ctx := context.Background()
	startNATS := func(t *testing.T) *NATSServer {
		t.Helper()
		ns, err := StartNATSServer(NATSServerConfig{StoreDir: t.TempDir(), Host: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ns.Close(ctx) })
		return ns
	}
	connect := func(t *testing.T, ns *NATSServer) *Queue {
		t.Helper()
		q, err := Connect(ctx, QueueConfig{URL: ns.URL(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close(ctx) })
		return q
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"nats server: close twice", func(t *testing.T) {
			ns := startNATS(t)
			addr := ns.srv.Addr().String()
			for i := range 2 {
				if err := ns.Close(ctx); err != nil {
					t.Errorf("Close %d: %v", i+1, err)
				}
			}
			if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				conn.Close()
				t.Errorf("still accepting connections on %s after Close", addr)
			}
		}},
		{"nats server: close with ctx ended", func(t *testing.T) {
			ns := startNATS(t)
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			// Whether the server stopped before Close gave up is a race;
			// either way Close returns, says which, and the server stops.
			err := ns.Close(cctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Close with ctx ended: %v", err)
			}
			if again := ns.Close(ctx); again != err {
				t.Errorf("second Close: %v, want the first's %v", again, err)
			}
			ns.srv.WaitForShutdown()
		}},
		{"queue: close twice", func(t *testing.T) {
			q := connect(t, startNATS(t))
			for i := range 2 {
				if err := q.Close(ctx); err != nil {
					t.Errorf("Close %d: %v", i+1, err)
				}
			}
			if !q.nc.IsClosed() {
				t.Errorf("connection still open after Close")
			}
		}},
		{"queue: close gives up when ctx ends", func(t *testing.T) {
			// A subscription whose handler never returns keeps the drain
			// from finishing.
			q := connect(t, startNATS(t))
			entered, release := make(chan struct{}), make(chan struct{})
			if _, err := q.nc.Subscribe("test.hang", func(*nats.Msg) {
				close(entered)
				<-release
			}); err != nil {
				t.Fatal(err)
			}
			if err := q.nc.Publish("test.hang", nil); err != nil {
				t.Fatal(err)
			}
			<-entered
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			err := q.Close(cctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Close with a message in hand and a 100ms deadline: %v, want the deadline", err)
			}
			if !q.nc.IsClosed() {
				t.Errorf("connection still open after Close gave up")
			}
			if again := q.Close(ctx); again != err {
				t.Errorf("second Close: %v, want the first's %v", again, err)
			}
			close(release)
			waitForDrainToEnd(t)
		}},
		{"queue: close after the server stopped", func(t *testing.T) {
			ns := startNATS(t)
			q := connect(t, ns)
			if err := ns.Close(ctx); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := q.Close(cctx); err != nil {
				t.Errorf("Close while NATS is down: %v", err)
			}
		}},
		{"close without start", func(t *testing.T) {
			for _, c := range []hark.Closer{(*NATSServer)(nil), &NATSServer{}, (*Queue)(nil), &Queue{}} {
				if err := c.Close(ctx); err != nil {
					t.Errorf("Close of %#v: %v", c, err)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// waitForDrainToEnd waits for the goroutine of nats.go's drain that a Close
// cut short by its ctx leaves behind: nats.go turns the closed connection
// back to draining and waits out a 5 s flush on it before the goroutine
// ends, and nothing ends it sooner.
func waitForDrainToEnd(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !bytes.Contains(buf[:runtime.Stack(buf, true)], []byte(".(*Conn).drainConnection(")) {
			return
		}
	}
	t.Errorf("nats.go's drain still running 15s after Close gave up")
}

// TestMain fails the package if a test leaves a goroutine behind. The
// embedded S3 server's HTTP library leaves two of its own, which no call
// stops (see s3server.DateUpdater).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(s3server.DateUpdater), goleak.IgnoreAnyFunction(s3server.IdleWorkerCleaner))
}
