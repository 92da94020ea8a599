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

// scenario is one message through a queue whose handler fails with
// EUNAVAILABLE while the store is down, as hark's stages do.
type scenario struct {
	// outage is how long the store stays down from the start; 0: for good.
	outage time.Duration
	// firstRun is how long the handler's first run works before it meets
	// the store (a long transcription).
	firstRun time.Duration
}

// run publishes one message and returns the handler's calls once a call
// succeeded or a final one failed (and recorded the failure, as a stage
// does on the last delivery).
func (sc scenario) run(t *testing.T, q *Queue, down *atomic.Bool) []call {
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
		first := len(calls) == 0
		mu.Unlock()
		if first {
			time.Sleep(sc.firstRun)
		}
		final := down.Load() && d.Final() // asked only when about to fail, as retryOrFail does
		mu.Lock()
		calls = append(calls, call{d.Attempt(), final})
		mu.Unlock()
		if down.Load() && !final {
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
	if sc.outage > 0 {
		timer := time.AfterFunc(sc.outage, func() { down.Store(false) })
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

// testQueue starts a NATS server and a queue with the given MaxDeliver, an
// ack wait of two seconds, and backoff of 1 s, 2 s …
func testQueue(t *testing.T, maxDeliver int) *Queue {
	t.Helper()
	ns, err := StartNATSServer(NATSServerConfig{StoreDir: t.TempDir(), Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close(context.Background()) })
	q, err := Connect(context.Background(), QueueConfig{URL: ns.URL(), AckWait: 2 * time.Second, MaxDeliver: maxDeliver, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close(context.Background()) })
	if _, err := q.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q
}

func TestHoldWhileDown(t *testing.T) {
	var down atomic.Bool
	probe := func(context.Context) error {
		if down.Load() {
			return hark.Errorf(hark.EUNAVAILABLE, "object store unavailable")
		}
		return nil
	}
	// With two deliveries one second apart, a five-second outage outlasts
	// them all.
	const outage = 5 * time.Second

	t.Run("without holding the outage uses up the deliveries", func(t *testing.T) {
		q := testQueue(t, 2)
		calls := scenario{outage: outage}.run(t, q, &down)
		if last := calls[len(calls)-1]; !last.final || last.attempt != 2 {
			t.Fatalf("calls %+v: want the last delivery (2, final) to meet the outage", calls)
		}
	})

	t.Run("holding keeps the message until the store is back", func(t *testing.T) {
		q := testQueue(t, 2)
		q.HoldWhileDown(probe, time.Minute)
		var held, maxHeld atomic.Int32
		q.ObserveHolds(func(consumer string, delta int) {
			if consumer != ConsumerTranscribe {
				t.Errorf("hold reported for consumer %q", consumer)
			}
			if n := held.Add(int32(delta)); n > maxHeld.Load() {
				maxHeld.Store(n)
			}
		})
		defer func() {
			if held.Load() != 0 || maxHeld.Load() != 1 {
				t.Errorf("held-messages gauge: now %d, at most %d; want back to 0 after 1", held.Load(), maxHeld.Load())
			}
		}()
		start := time.Now()
		calls := scenario{outage: outage}.run(t, q, &down)
		if len(calls) < 2 || time.Since(start) < outage {
			t.Fatalf("calls %+v after %s: want a failed run, then a run after the outage", calls, time.Since(start))
		}
		for _, c := range calls {
			if c.attempt != 1 || c.final {
				t.Fatalf("calls %+v: want every run on the first delivery, none final", calls)
			}
		}
		// Held with heartbeats past the ack wait: JetStream delivered it once.
		if n := delivered(t, q); n != 1 {
			t.Errorf("the held message was delivered %d times, want once", n)
		}
	})

	t.Run("the last delivery is held too, not failed", func(t *testing.T) {
		q := testQueue(t, 1) // the first delivery is the last
		q.HoldWhileDown(probe, time.Minute)
		calls := scenario{outage: 3 * time.Second}.run(t, q, &down)
		for _, c := range calls {
			if c.final {
				t.Fatalf("calls %+v: the last delivery was failed while the store was down", calls)
			}
		}
		if n := delivered(t, q); n != 1 || len(calls) < 2 {
			t.Errorf("delivered %d times, %d runs; want one delivery, run again after the outage", n, len(calls))
		}
	})

	t.Run("a last delivery whose dependency answers again at once is run again, not sent back", func(t *testing.T) {
		// The handler asks Final while the store is down (no: it may be
		// held), and the store answers again before the queue looks: the
		// queue must still run it again rather than send it back, where a
		// last delivery never comes again.
		q := testQueue(t, 1)
		q.HoldWhileDown(probe, time.Minute)
		down.Store(true)
		var runs atomic.Int32
		done := make(chan bool, 1)
		h := func(_ context.Context, d hark.Delivery) error {
			if runs.Add(1) == 1 {
				final := d.Final()
				down.Store(false)
				if final {
					done <- false
					return nil
				}
				return hark.Errorf(hark.EUNAVAILABLE, "object store unavailable")
			}
			done <- true
			return nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := q.Publish(ctx, hark.SubjectUploaded, "", []byte(`{"Records":[]}`)); err != nil {
			t.Fatal(err)
		}
		go func() { _ = q.Run(ctx, ConsumerTranscribe, 1, h) }()
		select {
		case ok := <-done:
			if !ok {
				t.Fatal("the last delivery was final while the store was down")
			}
		case <-time.After(15 * time.Second):
			t.Fatal("the last delivery was never run again")
		}
	})

	t.Run("a worker stopping during a hold queues a last delivery anew", func(t *testing.T) {
		q := testQueue(t, 1)
		q.HoldWhileDown(probe, time.Minute)
		down.Store(true)
		held := make(chan struct{}, 1)
		h := func(_ context.Context, d hark.Delivery) error {
			if down.Load() {
				select {
				case held <- struct{}{}:
				default:
				}
				return hark.Errorf(hark.EUNAVAILABLE, "object store unavailable")
			}
			return nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		if err := q.Publish(ctx, hark.SubjectUploaded, "", []byte(`{"Records":[]}`)); err != nil {
			t.Fatal(err)
		}
		go func() { _ = q.Run(ctx, ConsumerTranscribe, 1, h); close(stopped) }()
		<-held
		cancel() // the worker stops while it holds the message
		<-stopped
		down.Store(false)
		if n, err := q.Pending(context.Background(), ConsumerTranscribe); err != nil || n != 1 {
			t.Fatalf("after the worker stopped: %d waiting, %v; want the message queued anew", n, err)
		}
		ctx2, cancel2 := context.WithCancel(context.Background())
		defer cancel2()
		ran := make(chan struct{})
		go func() {
			_ = q.Run(ctx2, ConsumerTranscribe, 1, func(context.Context, hark.Delivery) error { close(ran); return nil })
		}()
		select {
		case <-ran:
		case <-time.After(15 * time.Second):
			t.Fatal("the message held on its last delivery never came back")
		}
	})

	t.Run("the hold is timed from when it starts", func(t *testing.T) {
		// The first run works for longer than the hold allows before it
		// meets the store down: the message is still held.
		q := testQueue(t, 1)
		q.HoldWhileDown(probe, 1500*time.Millisecond)
		calls := scenario{firstRun: 2 * time.Second, outage: 3 * time.Second}.run(t, q, &down)
		if calls[0].final || calls[len(calls)-1].final {
			t.Fatalf("calls %+v: a long job that met the outage was failed instead of held", calls)
		}
	})

	t.Run("a hold has a limit", func(t *testing.T) {
		q := testQueue(t, 2)
		q.HoldWhileDown(probe, 1500*time.Millisecond)
		calls := scenario{}.run(t, q, &down) // down for good
		if last := calls[len(calls)-1]; !last.final {
			t.Fatalf("calls %+v: a store down for good must still end on the final delivery", calls)
		}
		if n := delivered(t, q); n != 2 {
			t.Errorf("delivered %d times, want 2 (MaxDeliver)", n)
		}
	})

	t.Run("a hold of zero holds nothing", func(t *testing.T) {
		q := testQueue(t, 1)
		q.HoldWhileDown(probe, 0)
		calls := scenario{outage: outage}.run(t, q, &down)
		if len(calls) != 1 || !calls[0].final {
			t.Fatalf("calls %+v: want the only delivery to meet the outage and fail", calls)
		}
	})
}
