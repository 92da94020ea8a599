// Package telemetry exposes hark's Prometheus metrics: work processed and
// failed per stage and reason, stage durations, engine latency, work in
// flight, messages held through an outage, and queue depth.
package telemetry

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/harkworks/hark"
)

// Registry is one process's Prometheus registry.
type Registry struct {
	reg       *prometheus.Registry
	handled   *prometheus.CounterVec
	recorded  *prometheus.CounterVec
	failed    *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	engine    *prometheus.HistogramVec
	inFlight  *prometheus.GaugeVec
	held      *prometheus.GaugeVec
	queueSize *prometheus.GaugeVec
	progress  *prometheus.GaugeVec
	audio     prometheus.Counter
}

// New returns a registry with hark's metrics and the Go runtime's.
func New() *Registry {
	m := &Registry{
		reg: prometheus.NewRegistry(),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hark_messages_handled_total", Help: "Queue messages handled, by stage and outcome (ack, retry, term).",
		}, []string{"stage", "outcome"}),
		recorded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hark_recordings_processed_total", Help: "Recordings that reached a state, by stage and state.",
		}, []string{"stage", "status"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hark_recordings_failed_total", Help: "Recordings that failed, by stage and kind of reason.",
		}, []string{"stage", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hark_stage_duration_seconds", Help: "Time to handle one message, by stage.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800},
		}, []string{"stage"}),
		engine: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hark_engine_duration_seconds", Help: "Time a transcript engine took for one recording, by outcome.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"outcome"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hark_in_flight", Help: "Messages being handled now, by stage.",
		}, []string{"stage"}),
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hark_messages_held", Help: "Messages a worker keeps while the object store or the index is down, by stage.",
		}, []string{"stage"}),
		queueSize: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hark_queue_depth", Help: "Messages waiting or unacknowledged, by consumer.",
		}, []string{"consumer"}),
		progress: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hark_transcription_progress_ratio", Help: "How far each recording being transcribed has got, 0 to 1 (gone when it is done).",
		}, []string{"recording"}),
		audio: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hark_audio_recognised_seconds_total", Help: "Seconds of audio the speech engines have recognised (its rate is the throughput).",
		}),
	}
	m.reg.MustRegister(m.handled, m.recorded, m.failed, m.duration, m.engine, m.inFlight, m.held, m.queueSize, m.progress, m.audio,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Handle wraps a queue handler so that its duration, outcome and
// concurrency are measured.
func (m *Registry) Handle(stage string, h func(context.Context, hark.Delivery) error) func(context.Context, hark.Delivery) error {
	return func(ctx context.Context, d hark.Delivery) error {
		m.inFlight.WithLabelValues(stage).Inc()
		start := time.Now()
		err := h(ctx, d)
		m.duration.WithLabelValues(stage).Observe(time.Since(start).Seconds())
		m.inFlight.WithLabelValues(stage).Dec()
		outcome := "ack"
		switch {
		case err == nil:
		case hark.IsTemporary(err):
			outcome = "retry"
		default:
			outcome = "term"
		}
		m.handled.WithLabelValues(stage, outcome).Inc()
		return err
	}
}

// Held counts messages held while a dependency is down (delta +1 or -1).
func (m *Registry) Held(stage string, delta int) {
	m.held.WithLabelValues(stage).Add(float64(delta))
}

// Recorded counts a recording reaching a state; failures are also counted
// by the kind of their reason.
func (m *Registry) Recorded(stage hark.Stage, status hark.Status, reasonKind string) {
	m.recorded.WithLabelValues(string(stage), string(status)).Inc()
	if status == hark.StatusFailed {
		m.failed.WithLabelValues(string(stage), reasonKind).Inc()
	}
}

// Progressed records how far a recording's transcription has got.
func (m *Registry) Progressed(id string, p, prev hark.Progress) {
	if p.Done >= p.Total {
		m.progress.DeleteLabelValues(id)
	} else {
		m.progress.WithLabelValues(id).Set(p.Fraction())
	}
	if d := p.Seconds - prev.Seconds; d > 0 {
		m.audio.Add(d)
	}
}

// Engine wraps a transcript engine so that its latency is measured.
func (m *Registry) Engine(e hark.Engine) hark.Engine { return &engine{Engine: e, m: m} }

type engine struct {
	hark.Engine
	m *Registry
}

func (e *engine) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	start := time.Now()
	t, err := e.Engine.Transcribe(ctx, in)
	outcome := "ok"
	if err != nil {
		outcome = hark.ErrorCode(err)
	}
	e.m.engine.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	return t, err
}

// QueueDepth samples the depth of the named consumers every interval until
// ctx is done.
func (m *Registry) QueueDepth(ctx context.Context, interval time.Duration, depth func(context.Context, string) (int, error), consumers ...string) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, c := range consumers {
			if n, err := depth(ctx, c); err == nil {
				m.queueSize.WithLabelValues(c).Set(float64(n))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
