package web

import (
	"context"
	"net/http"
	"testing"

	"go.uber.org/goleak"
)

// TestServerLifecycle is the lifecycle contract (hark.Closer): Start and
// Close are each safe to call twice, and Close without Start. A second
// Start is a no-op; Start after Close is an error. That Close gives up on
// the requests in hand when its ctx ends is tested with the other servers'
// in cmd/hark (TestCloserContract).
func TestServerLifecycle(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, b *lifecycleBundle)
	}{
		{"start twice, close twice", func(t *testing.T, b *lifecycleBundle) {
			s, c := b.s, b.c
			ctx := context.Background()
			if err := s.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			url := s.URL()
			if err := s.Start(ctx); err != nil {
				t.Fatalf("second Start: %v", err)
			}
			if s.URL() != url {
				t.Fatalf("second Start moved the server from %s to %s", url, s.URL())
			}
			if resp, err := c.Get(url + "/healthz"); err != nil {
				t.Fatal(err)
			} else {
				resp.Body.Close()
			}
			if err := s.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if resp, err := c.Get(url + "/healthz"); err == nil {
				resp.Body.Close()
				t.Errorf("still serving after Close")
			}
			if err := s.Close(ctx); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := s.Start(ctx); err == nil {
				t.Errorf("Start after Close: no error")
			}
		}},
		{"close without start", func(t *testing.T, b *lifecycleBundle) {
			ctx := context.Background()
			for range 2 {
				if err := b.s.Close(ctx); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
			if err := b.s.Start(ctx); err == nil {
				t.Errorf("Start after Close: no error")
			}
			var nilServer *Server
			if err := nilServer.Close(ctx); err != nil {
				t.Errorf("Close of a nil Server: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := setup(t)
			b := &lifecycleBundle{c: &http.Client{Transport: &http.Transport{}}}
			var err error
			if b.s, err = New(Config{Addr: "127.0.0.1:0", Index: tb.idx, Accounts: tb.idx, Auth: tb.auth}); err != nil {
				t.Fatal(err)
			}
			defer b.c.CloseIdleConnections()
			defer b.s.Close(context.Background())
			tt.run(t, b)
		})
	}
}

// lifecycleBundle is a server that is not started yet and a client of its
// own.
type lifecycleBundle struct {
	s *Server
	c *http.Client
}

// TestMain fails the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
