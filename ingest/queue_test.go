package ingest

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// call is one run of a handler, as the handler saw its delivery.
type call struct {
	attempt int
	final   bool
}

// outage runs one message through a queue whose handler fails with
// EUNAVAILABLE while down is set, clears down after outage (0: never), and returns the
// handler's calls once a call succeeded or a final one failed.
func outage(t *testing.T, q *Queue, down *atomic.Bool, outage time.Duration) []call {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu    sync.Mutex
		calls []call
		done  = make(chan struct{})
		once  sync.Once
	)
	h := func(_ context.Context, d hark.Delivery) error {
		mu.Lock()
		calls = append(calls, call{d.Attempt(), d.Final()})
		mu.Unlock()
		if down.Load() {
			if d.Final() {
				once.Do(func() { close(done) })
				return nil // a stage records the failure on the last delivery
			}
			return hark.Errorf(hark.EUNAVAILABLE, "object store unavailable")
		}
		once.Do(func() { close(done) })
		return nil
	}
	down.Store(true)
	if err := q.Publish(ctx, hark.SubjectUploaded, "", []byte(`{"Records":[]}`)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = q.Run(ctx, ConsumerTranscribe, 1, h) })
	if outage > 0 {
		timer := time.AfterFunc(outage, func() { down.Store(false) })
		defer timer.Stop()
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the message was never handled to the end")
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return calls
}

// delivered is how many deliveries the transcribe consumer has made.
func delivered(t *testing.T, q *Queue) uint64 {
	t.Helper()
	c, err := q.js.Consumer(context.Background(), q.cfg.Stream, ConsumerTranscribe)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.Delivered.Consumer
}

func TestHoldWhileDown(t *testing.T) {
	ns, err := StartNATSServer(NATSServerConfig{StoreDir: t.TempDir(), Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Close)
	// Two deliveries, one second apart (the backoff), and an ack wait of
	// two seconds: an outage of five seconds outlasts them all.
	cfg := QueueConfig{URL: ns.URL(), AckWait: 2 * time.Second, MaxDeliver: 2, Logger: slog.New(slog.DiscardHandler)}
	connect := func() *Queue {
		q, err := Connect(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(q.Close)
		if _, err := q.Setup(context.Background()); err != nil {
			t.Fatal(err)
		}
		return q
	}
	const down5s = 5 * time.Second
	var down atomic.Bool

	t.Run("without holding the outage uses up the deliveries", func(t *testing.T) {
		calls := outage(t, connect(), &down, down5s)
		if last := calls[len(calls)-1]; !last.final || last.attempt != 2 {
			t.Fatalf("calls %+v: want the last delivery (2, final) to meet the outage", calls)
		}
	})

	t.Run("holding keeps the message until the store is back", func(t *testing.T) {
		q := connect()
		q.HoldWhileDown(func(context.Context) error {
			if down.Load() {
				return hark.Errorf(hark.EUNAVAILABLE, "object store unavailable")
			}
			return nil
		}, time.Minute)
		before := delivered(t, q)
		start := time.Now()
		calls := outage(t, q, &down, down5s)
		for i, c := range calls {
			if c.attempt != i+1 || c.final {
				t.Fatalf("calls %+v: want runs counted as attempts 1, 2 …, none final", calls)
			}
		}
		if len(calls) < 2 || time.Since(start) < down5s {
			t.Fatalf("calls %+v after %s: want a failed run, then a run after the outage", calls, time.Since(start))
		}
		// Held with heartbeats past the ack wait: JetStream delivered it once.
		if n := delivered(t, q) - before; n != 1 {
			t.Errorf("the held message was delivered %d times, want once", n)
		}
		if n, err := q.Pending(context.Background(), ConsumerTranscribe); err != nil || n != 0 {
			t.Errorf("pending after the held message succeeded: %d, %v", n, err)
		}
	})

	t.Run("a hold has a limit", func(t *testing.T) {
		q := connect()
		q.HoldWhileDown(func(context.Context) error {
			if down.Load() {
				return hark.Errorf(hark.EUNAVAILABLE, "object store unavailable")
			}
			return nil
		}, 1500*time.Millisecond)
		before := delivered(t, q)
		calls := outage(t, q, &down, 0)
		if last := calls[len(calls)-1]; !last.final {
			t.Fatalf("calls %+v: a store down for good must still end on the final delivery", calls)
		}
		if n := delivered(t, q) - before; n != 2 {
			t.Errorf("delivered %d times, want 2 (MaxDeliver)", n)
		}
	})
}
