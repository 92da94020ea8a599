package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/telemetry"
	"github.com/harkworks/hark/transcribe"
	"github.com/harkworks/hark/web"
)

// queueFlags are the JetStream settings shared by worker and setup.
type queueFlags struct {
	replicas   int
	ackWait    time.Duration
	maxDeliver int
}

func (q *queueFlags) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&q.replicas, "replicas", envInt("HARK_REPLICAS", 1), "stream replicas (3 in a NATS cluster)")
	f.DurationVar(&q.ackWait, "ack-wait", envDuration("HARK_ACK_WAIT", 60*time.Second), "redeliver a message after this long without an ack or heartbeat")
	f.IntVar(&q.maxDeliver, "max-deliver", envInt("HARK_MAX_DELIVER", 8), "deliveries before a recording is marked failed")
}

func (q *queueFlags) apply(c *ingest.QueueConfig) {
	c.Replicas, c.AckWait, c.MaxDeliver = q.replicas, q.ackWait, q.maxDeliver
}

func newWorkerCmd(g *globals) *cobra.Command {
	var (
		c                 conn
		qf                queueFlags
		db, stageList     string
		codebook, addr    string
		concurrency       int
		reconcileInterval time.Duration
		sweepInterval     time.Duration
		shutdownGrace     time.Duration
		holdFor           time.Duration
		work              workDirFlag
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the transcribe and/or annotate stages against a team's NATS, S3 store and index",
		Long: `worker consumes work from NATS JetStream and runs the chosen stages. Run as
many as you like on as many machines; each message is handled by one of them.
It also reconciles the bucket periodically (finding recordings whose events were
lost) and serves /metrics, /healthz and /readyz on --http.

Secrets come from the environment, never flags: HARK_S3_ACCESS_KEY,
HARK_S3_SECRET_KEY, HARK_NATS_TOKEN, and the password inside HARK_DB.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := g.logger()
			if err := requireIndex(cmd, db); err != nil {
				return err
			}
			names, err := parseStages(stageList)
			if err != nil {
				return err
			}
			sc, qc, err := c.resolve(g)
			if err != nil {
				return err
			}
			qf.apply(&qc)
			store, err := ingest.NewStore(sc)
			if err != nil {
				return err
			}
			defer closeWithin(store, queueCloseTimeout)
			q, err := ingest.Connect(ctx, qc)
			if err != nil {
				return err
			}
			defer closeWithin(q, queueCloseTimeout)
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			cb, err := loadCodebook(codebook)
			if err != nil {
				return err
			}
			work, err := transcribe.OpenWorkDir(work.path(g), log)
			if err != nil {
				return err
			}
			defer work.Close()
			m := telemetry.New()
			p, err := newPipeline(store, idx, q, cb, m, log, work.Dir(), faultDelay(log))
			if err != nil {
				return err
			}
			srv, err := serveOps(ctx, addr, m, readiness(q.Ready, store.Ready, idx.Ready))
			if err != nil {
				return err
			}
			defer closeWithin(srv, 5*time.Second)
			// While the store or the index is down, keep messages instead
			// of using up their deliveries.
			q.HoldWhileDown(readiness(store.Ready, idx.Ready), holdFor)
			st := startStages(ctx, stagesConfig{Names: names, Concurrency: concurrency, ReconcileInterval: reconcileInterval, SweepInterval: sweepInterval}, q, p, m, log)
			log.Info("worker started", "stages", names, "concurrency", concurrency, "http", addr)
			<-ctx.Done()
			log.Info("worker stopping: finishing the work in hand", "grace", shutdownGrace)
			// The work in hand has the grace to finish; then it is cut
			// short and its messages go back for another worker.
			return st.stop(context.Background(), shutdownGrace)
		},
	}
	c.flags(cmd)
	qf.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "index database: postgres://… or a SQLite path (default: HARK_DB, else <data-dir>/index.db); give a password only through HARK_DB")
	f.StringVar(&stageList, "stages", env("HARK_STAGES", "transcribe,annotate"), "stages to run: transcribe, annotate or both")
	f.StringVar(&codebook, "codebook", env("HARK_CODEBOOK", ""), "codebook YAML file (default: the built-in one)")
	f.StringVar(&addr, "http", env("HARK_WORKER_HTTP", "127.0.0.1:9090"), "address for /metrics, /healthz and /readyz")
	f.IntVar(&concurrency, "concurrency", envInt("HARK_CONCURRENCY", 2), "messages each stage handles at once")
	f.DurationVar(&reconcileInterval, "reconcile-interval", envDuration("HARK_RECONCILE_INTERVAL", 5*time.Minute), "how often to look for recordings without results (negative: never)")
	f.DurationVar(&shutdownGrace, "shutdown-grace", envDuration("HARK_SHUTDOWN_GRACE", 9*time.Minute), "how long stopping lets the work in hand finish before it cuts it short and hands it back to the queue (keep it under Kubernetes' terminationGracePeriodSeconds, 600 s in deploy/k8s)")
	f.DurationVar(&sweepInterval, "sweep-interval", envDuration("HARK_SWEEP_INTERVAL", time.Hour), "how often to enforce the retention policies, hark retention (negative: never; a CronJob running hark sweep can do it instead)")
	f.DurationVar(&holdFor, "hold-for", envDuration("HARK_HOLD_FOR", 15*time.Minute), "how long a worker keeps a message while the object store or the index is down, before it goes back to the queue (0 or negative: never)")
	work.add(cmd)
	return cmd
}

// opsServer serves /metrics, /healthz and /readyz for a worker. serveOps
// starts it; Close, which keeps hark's lifecycle contract (hark.Closer),
// stops it.
type opsServer struct {
	srv *http.Server

	closeOnce sync.Once
	closeErr  error
}

var _ hark.Closer = (*opsServer)(nil)

// serveOps listens on addr and serves in the background until Close.
func serveOps(ctx context.Context, addr string, m *telemetry.Registry, ready func(context.Context) error) (*opsServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", web.ReadyHandler(ready))
	s := &opsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server, waiting for the requests in hand to finish; when
// ctx ends first it closes their connections and returns ctx.Err(). It is
// safe to call more than once (a later call returns the first call's
// result) and on a nil opsServer.
func (s *opsServer) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
			s.closeErr = fmt.Errorf("ops server: stop: %w", err)
		}
	})
	return s.closeErr
}

// faultDelay returns an engine wrapper that sleeps before every
// transcription when HARK_FAULT_ENGINE_DELAY is set (e.g. "5s"): a fault
// injection knob for the fault-tolerance tests and for trying out AckWait and
// heartbeat settings. It is off unless set.
func faultDelay(log *slog.Logger) func(hark.Engine) hark.Engine {
	d, err := time.ParseDuration(os.Getenv("HARK_FAULT_ENGINE_DELAY"))
	if err != nil || d <= 0 {
		return nil
	}
	log.Warn("fault injection: every transcription is delayed", "delay", d)
	return func(e hark.Engine) hark.Engine { return delayedEngine{Engine: e, delay: d} }
}

// delayedEngine sleeps before transcribing, honouring cancellation.
type delayedEngine struct {
	hark.Engine
	delay time.Duration
}

func (e delayedEngine) Transcribe(ctx context.Context, in hark.EngineInput) (*hark.Transcript, error) {
	select {
	case <-ctx.Done():
		return nil, hark.WrapError(hark.EUNAVAILABLE, ctx.Err(), "transcription interrupted")
	case <-time.After(e.delay):
	}
	return e.Engine.Transcribe(ctx, in)
}
