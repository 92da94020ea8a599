package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/oidctest"
	"github.com/harkworks/hark/s3server"
	"github.com/harkworks/hark/telemetry"
	"github.com/harkworks/hark/web"
)

// part is one long-lived part of hark under test, started.
type part struct {
	hark.Closer
	// hang, when set, is a URL the part answers only once the request's
	// connection is cut, and entered is closed when a request to it has
	// reached the part: Close has to give up on it.
	hang    string
	entered <-chan struct{}
}

// TestCloserContract runs every long-lived part of hark through the
// lifecycle contract of hark.Closer: Close stops it, a second Close returns
// the first's result at once, Close on a part that was never started
// returns nil, and Close on a server with a request in hand gives up when
// its ctx ends, cutting the request off. The S3 server's and the queue's
// giving up are tested in their packages, which can hold them busy.
func TestCloserContract(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		start func(t *testing.T) part
	}{
		{"hark up", func(t *testing.T) part {
			up, err := StartUp(ctx, UpConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			return part{Closer: up}
		}},
		{"hark up, never started", func(*testing.T) part { return part{Closer: &Up{}} }},
		{"web server", func(t *testing.T) part {
			s := newWebServer(t, nil)
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			return part{Closer: s}
		}},
		{"web server with a request in hand", func(t *testing.T) part {
			entered, wait := hangs()
			s := newWebServer(t, func(mux *http.ServeMux) {
				mux.HandleFunc("GET /test/hang", func(_ http.ResponseWriter, r *http.Request) { wait(r.Context()) })
			})
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			return part{Closer: s, hang: s.URL() + "/test/hang", entered: entered}
		}},
		{"web server, never started", func(t *testing.T) part { return part{Closer: newWebServer(t, nil)} }},
		{"worker's ops server", func(t *testing.T) part {
			s, err := serveOps(ctx, "127.0.0.1:0", telemetry.New(), nil)
			if err != nil {
				t.Fatal(err)
			}
			return part{Closer: s}
		}},
		{"worker's ops server with a request in hand", func(t *testing.T) part {
			entered, wait := hangs()
			addr := fmt.Sprintf("127.0.0.1:%d", oidctest.FreePort(t))
			s, err := serveOps(ctx, addr, telemetry.New(), wait)
			if err != nil {
				t.Fatal(err)
			}
			return part{Closer: s, hang: "http://" + addr + "/readyz", entered: entered}
		}},
		{"worker's ops server, never started", func(*testing.T) part { return part{Closer: (*opsServer)(nil)} }},
		{"S3 server", func(t *testing.T) part {
			s, err := s3server.Start(ctx, s3server.Config{Dir: t.TempDir(), Addr: "127.0.0.1:0", AccessKey: "hark-test", SecretKey: "hark-test-secret-key"})
			if err != nil {
				t.Fatal(err)
			}
			return part{Closer: s}
		}},
		{"S3 server, never started", func(*testing.T) part { return part{Closer: &s3server.Server{}} }},
		{"NATS server", func(t *testing.T) part { return part{Closer: startNATS(t)} }},
		{"NATS server, never started", func(*testing.T) part { return part{Closer: &ingest.NATSServer{}} }},
		{"queue", func(t *testing.T) part {
			ns := startNATS(t)
			t.Cleanup(func() { ns.Close(ctx) })
			q, err := ingest.Connect(ctx, ingest.QueueConfig{URL: ns.URL(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			return part{Closer: q}
		}},
		{"queue, never connected", func(*testing.T) part { return part{Closer: &ingest.Queue{}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.start(t)
			var want error
			if p.hang == "" {
				if err := p.Close(ctx); err != nil {
					t.Fatalf("Close: %v", err)
				}
			} else {
				want = closeWithRequestInHand(t, p)
			}
			again := make(chan error, 1)
			go func() { again <- p.Close(ctx) }()
			select {
			case err := <-again:
				if err != want {
					t.Errorf("second Close: %v, want the first's %v", err, want)
				}
			case <-time.After(time.Second):
				t.Fatal("second Close still waiting after 1s")
			}
		})
	}
}

// closeWithRequestInHand closes p with a request to p.hang in hand and a
// 100ms deadline, checks that Close gave up and cut the request off, and
// returns what Close returned.
func closeWithRequestInHand(t *testing.T, p part) error {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	got := make(chan error, 1)
	go func() {
		resp, err := c.Get(p.hang)
		if err == nil {
			resp.Body.Close()
		}
		got <- err
	}()
	<-p.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close with a request in hand and a 100ms deadline: %v, want the deadline", err)
	}
	if err := <-got; err == nil {
		t.Errorf("the request in hand was answered; want its connection cut")
	}
	return err
}

// hangs returns a wait that does not return until its ctx ends, and
// entered, closed when wait is first called.
func hangs() (entered <-chan struct{}, wait func(ctx context.Context) error) {
	ch := make(chan struct{})
	return ch, func(ctx context.Context) error {
		close(ch)
		<-ctx.Done()
		return ctx.Err()
	}
}

func newWebServer(t *testing.T, routes func(*http.ServeMux)) *web.Server {
	t.Helper()
	idx, err := openIndex(context.Background(), &globals{dataDir: t.TempDir()}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	s, err := web.New(web.Config{Addr: "127.0.0.1:0", Index: idx, Accounts: idx, Auth: auth.New(auth.Config{Accounts: idx}),
		Routes: routes, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startNATS(t *testing.T) *ingest.NATSServer {
	t.Helper()
	ns, err := ingest.StartNATSServer(ingest.NATSServerConfig{StoreDir: t.TempDir(), Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestStagesStopGivesUp: stopping the stages waits for the work in hand
// only as long as its ctx allows.
func TestStagesStopGivesUp(t *testing.T) {
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	s := &stages{cancel: cancel}
	s.wg.Go(func() { <-release })
	sctx, scancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer scancel()
	if err := s.stop(sctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("stop with work in hand and a 100ms deadline: %v, want the deadline", err)
	}
	if ctx.Err() == nil {
		t.Errorf("stop did not tell the stages to stop fetching")
	}
	close(release)
	if err := s.stop(context.Background(), 0); err != nil {
		t.Errorf("stop once the work is done: %v", err)
	}
}

// TestMain fails the package if a test leaves a goroutine behind. The
// embedded S3 server's HTTP library leaves two of its own, which no call
// stops (see s3server.DateUpdater).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(s3server.DateUpdater), goleak.IgnoreAnyFunction(s3server.IdleWorkerCleaner))
}
