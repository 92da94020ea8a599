package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// TestHandlerServesMetrics: the registry's handler serves hark's metrics
// and the Go runtime's in Prometheus's text format.
func TestHandlerServesMetrics(t *testing.T) {
	m := New()
	handle := m.Handle("transcribe", func(context.Context, hark.Delivery) error { return nil })
	if err := handle(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	m.Recorded(hark.StageTranscribe, hark.StatusFailed, "engine")
	m.Held("transcribe", 1)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`hark_messages_handled_total{outcome="ack",stage="transcribe"} 1`,
		`hark_recordings_failed_total{reason="engine",stage="transcribe"} 1`,
		`hark_messages_held{stage="transcribe"} 1`,
		`hark_stage_duration_seconds_count{stage="transcribe"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// TestQueueDepthStopsWithCtx: QueueDepth samples until its ctx ends, then
// returns (and the goroutine running it ends: TestMain checks).
func TestQueueDepthStopsWithCtx(t *testing.T) {
	m := New()
	var calls atomic.Int32
	depth := func(_ context.Context, consumer string) (int, error) {
		calls.Add(1)
		if consumer == "annotate" {
			return 0, errors.New("consumer annotate: unavailable")
		}
		return 7, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.QueueDepth(ctx, time.Millisecond, depth, "transcribe", "annotate")
	}()
	for calls.Load() < 4 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("QueueDepth still running 5s after its ctx ended")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if body := rec.Body.String(); !strings.Contains(body, `hark_queue_depth{consumer="transcribe"} 7`) || strings.Contains(body, `consumer="annotate"`) {
		t.Errorf("queue depth: want transcribe's 7 and nothing for annotate, whose depth failed:\n%s", body)
	}
}
