package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
	"github.com/harkworks/hark/report"
	"github.com/harkworks/hark/s3server"
	"github.com/harkworks/hark/telemetry"
	"github.com/harkworks/hark/transcribe"
	"github.com/harkworks/hark/web"
)

// loadCodebook returns the codebook at path, or the built-in one.
func loadCodebook(path string) (*hark.Codebook, error) {
	if path == "" {
		return annotate.DefaultCodebook(), nil
	}
	return annotate.LoadCodebook(path)
}

// newPipeline builds the stages' pipeline from its parts.
// Decoded audio goes into workDir.
func newPipeline(store hark.ObjectStore, idx hark.Index, q *ingest.Queue, cb *hark.Codebook, m *telemetry.Registry, log *slog.Logger, workDir string, wrap func(hark.Engine) hark.Engine) (*pipeline.Pipeline, error) {
	mode, model := env("HARK_TAGGER", ""), env("HARK_MODEL", "")
	tagger, err := newTaggerFromEnv(mode, model, cb, log)
	if err != nil {
		return nil, err
	}
	engines, err := transcribe.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	engines.Logger = log
	engines.TempDir = workDir
	svc := transcribe.NewService(transcribe.Config{Engines: engines, Logger: log})
	if name, err := svc.Default(); err != nil {
		log.Warn("no speech engine: only recordings with a transcript next to them can be processed", "why", hark.ErrorMessage(err))
	} else {
		log.Info("speech engine", "default", name)
	}
	var engine hark.Engine = svc
	if wrap != nil {
		engine = wrap(engine)
	}
	var obs pipeline.Observer
	if m != nil {
		engine = m.Engine(engine)
		obs = m
	}
	return pipeline.New(pipeline.Config{
		Store: store, Index: idx, Publisher: q, Logger: log,
		Engine: engine, Tagger: tagger, Observer: obs,
		SidecarExtensions: transcribe.SidecarExtensions,
		LoadTagger: func(name string, data []byte) (hark.Tagger, error) {
			cb, err := annotate.ParseCodebook(name, data)
			if err != nil {
				return nil, err
			}
			return newTaggerFromEnv(mode, model, cb, log)
		},
	}), nil
}

// stages runs the chosen stages' consumers and the reconciler.
type stages struct {
	wg     sync.WaitGroup
	cancel context.CancelFunc
	q      *ingest.Queue
	log    *slog.Logger
}

type stagesConfig struct {
	Names             []string // transcribe, annotate
	Concurrency       int
	ReconcileInterval time.Duration // 0: never
	SweepInterval     time.Duration // how often retention is enforced; 0: never
}

func parseStages(s string) ([]string, error) {
	var out []string
	for _, n := range strings.Split(s, ",") {
		switch n = strings.TrimSpace(n); n {
		case ingest.ConsumerTranscribe, ingest.ConsumerAnnotate:
			out = append(out, n)
		case "":
		default:
			return nil, hark.Errorf(hark.EINVALID, "unknown stage %q: use transcribe, annotate or both (transcribe,annotate)", n)
		}
	}
	if len(out) == 0 {
		return nil, hark.Errorf(hark.EINVALID, "no stages: use transcribe, annotate or both")
	}
	return out, nil
}

func startStages(ctx context.Context, cfg stagesConfig, q *ingest.Queue, p *pipeline.Pipeline, m *telemetry.Registry, log *slog.Logger) *stages {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &stages{cancel: cancel, q: q, log: log}
	if m != nil {
		q.ObserveHolds(m.Held) // before the stages run
	}
	for _, name := range cfg.Names {
		h := p.Transcribe
		if name == ingest.ConsumerAnnotate {
			h = p.Annotate
		}
		if m != nil {
			h = m.Handle(name, h)
		}
		s.wg.Go(func() {
			if err := q.Run(ctx, name, cfg.Concurrency, h); err != nil {
				log.Error("stage stopped", "stage", name, "err", err)
			}
		})
	}
	if err := q.OnExhausted(ctx, p.Exhausted); err != nil {
		log.Warn("not watching for exhausted messages", "err", err)
	}
	if cfg.ReconcileInterval > 0 {
		s.wg.Go(func() { p.RunReconciler(ctx, cfg.ReconcileInterval) })
	}
	if cfg.SweepInterval > 0 {
		s.wg.Go(func() { p.RunSweeper(ctx, cfg.SweepInterval) })
	}
	if m != nil {
		s.wg.Go(func() { m.QueueDepth(ctx, 5*time.Second, q.Pending, cfg.Names...) })
	}
	return s
}

// stop stops fetching and waits for the work in hand to finish for up to
// grace (0: for as long as ctx allows); then it cuts the work short — the
// handlers' contexts cancelled, engine subprocesses killed, their messages
// handed back at once for another worker, not counted as failures — and
// waits for that, for as long as ctx allows. When ctx ends first it
// returns ctx.Err() and the work in hand goes on (its messages are
// redelivered if it never finishes).
func (s *stages) stop(ctx context.Context, grace time.Duration) error {
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var graceOver <-chan time.Time
	if grace > 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		graceOver = t.C
	}
	select {
	case <-done:
		return nil
	case <-graceOver:
		s.log.Warn("the work in hand did not finish within the shutdown grace: cutting it short; its messages go back for another worker", "grace", grace)
		s.q.AbortWork()
	case <-ctx.Done():
		return fmt.Errorf("stages: the work in hand has not finished: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stages: the work in hand has not stopped: %w", ctx.Err())
	}
}

// queueCloseTimeout is how long a command waits for its NATS connection to
// drain when it stops.
const queueCloseTimeout = 10 * time.Second

// closeWithin closes c from a defer, where no context is left (the
// command's has ended): it gives c at most d to stop.
func closeWithin(c hark.Closer, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.Close(ctx)
}

// notifier returns the S3 server's upload hook: it publishes the S3 event of
// every stored recording to JetStream, waiting for the PubAck.
func notifier(q *ingest.Queue) func(context.Context, s3server.Created) error {
	return func(ctx context.Context, obj s3server.Created) error {
		if pipeline.IsCompanion(obj.Key, nil) {
			return nil // hark's own results and codebooks; transcripts are announced too
		}
		info := hark.ObjectInfo{Key: obj.Key, ETag: obj.ETag, Size: obj.Size}
		return q.Publish(ctx, hark.SubjectUploaded, ingest.UploadMsgID(obj.Bucket, obj.Key, obj.ETag), ingest.NewUploadEvent(obj.Bucket, info, time.Now()))
	}
}

// readiness combines readiness checks.
func readiness(checks ...func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		var errs []error
		for _, c := range checks {
			if err := c(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

func sidecarExts() []string { return transcribe.SidecarExtensions }

// reportRoutes builds the analysts' reports (page, API, CSV) over the index,
// signed-in users and the audit log.
func reportRoutes(idx *index.DB, cb *hark.Codebook, log *slog.Logger) (func(*http.ServeMux), error) {
	rp, err := web.NewReports(web.ReportsConfig{
		Source: idx, Codebook: cb, Logger: log, MinCell: envInt("HARK_MIN_CELL", report.DefaultMinCell),
		User: func(r *http.Request) (*hark.User, error) { return auth.UserFrom(r.Context()), nil },
		CSRF: func(r *http.Request) string { return auth.CSRFToken(r.Context()) },
		Audit: func(ctx context.Context, e hark.AuditEntry) {
			if err := idx.Audit(ctx, &e); err != nil {
				log.Warn("audit log", "err", err)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	return rp.Routes, nil
}
