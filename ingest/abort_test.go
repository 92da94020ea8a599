package ingest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// Work cut short by a stop on its message's last delivery is not lost:
// sent back, JetStream would never deliver it again (its deliveries are
// used up), so it is queued anew, and another worker gets it.
func TestAbortOnLastDeliveryQueuesAnew(t *testing.T) {
	q := testQueue(t, 2)
	ctx := context.Background()
	if err := q.Publish(ctx, hark.SubjectUploaded, "", []byte(`{"Records":[]}`)); err != nil {
		t.Fatal(err)
	}
	working := make(chan struct{})
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = q.Run(runCtx, ConsumerTranscribe, 1, func(ctx context.Context, d hark.Delivery) error {
			if d.Attempt() < 2 {
				return hark.Errorf(hark.EUNAVAILABLE, "the speech server is down") // sent back with a delay
			}
			close(working) // the last delivery: a long transcription, until stopped
			<-ctx.Done()
			return hark.WrapError(hark.EUNAVAILABLE, ctx.Err(), "stopped")
		})
	})
	select {
	case <-working:
	case <-time.After(30 * time.Second):
		t.Fatal("the message's last delivery never came")
	}
	q.AbortWork()
	cancel()
	wg.Wait()

	other, err := Connect(ctx, QueueConfig{URL: q.cfg.URL, AckWait: 2 * time.Second, MaxDeliver: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	got := make(chan int, 1)
	otherCtx, stop := context.WithCancel(ctx)
	var owg sync.WaitGroup
	defer owg.Wait()
	defer stop()
	owg.Go(func() { _ = other.Run(otherCtx, ConsumerTranscribe, 1, handler(got)) })
	select {
	case a := <-got:
		if a != 1 {
			t.Errorf("the other worker got it as delivery %d, want a fresh message", a)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the work cut short on its last delivery was lost: no other worker got it")
	}
}

// handler tells got the attempt of the first delivery it handles.
func handler(got chan<- int) Handler {
	return func(_ context.Context, d hark.Delivery) error {
		select {
		case got <- d.Attempt():
		default:
		}
		return nil
	}
}
