package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/report"
	"github.com/harkworks/hark/s3server"
	"github.com/harkworks/hark/telemetry"
	"github.com/harkworks/hark/transcribe"
	"github.com/harkworks/hark/web"
)

// UpConfig configures the embedded default: everything in one process.
type UpConfig struct {
	DataDir string
	// WorkDir holds decoded audio while it is transcribed, in a directory
	// only the owner may enter; default <data-dir>/work. What a crashed
	// process left there is removed at start.
	WorkDir  string
	HTTPAddr string // web server; default 127.0.0.1:8080
	NATSAddr string // host:port for the embedded NATS server; port 0 picks one
	S3Addr   string // host:port for the embedded S3 server; port 0 picks one
	Bucket   string // default "recordings"
	// Concurrency is how many messages each stage handles at once.
	Concurrency int
	// ReconcileInterval is how often the bucket is checked for recordings
	// without results; 0 means every 5 minutes, negative never.
	ReconcileInterval time.Duration
	// ShutdownGrace is how long Close lets the work in hand finish before
	// it cuts it short and hands its messages back (0: as long as Close's
	// context allows).
	ShutdownGrace time.Duration
	// SweepInterval is how often the retention policies are enforced
	// (hark retention); 0 or negative: never.
	SweepInterval time.Duration
	// Codebook is a codebook YAML file; empty uses the built-in one.
	Codebook string
	// AckWait is how long a delivery may go without an ack or heartbeat.
	AckWait time.Duration
	// HoldFor is how long a stage keeps a message while the object store or
	// the index is down; 0 means 15 minutes, negative never.
	HoldFor time.Duration
	Logger  *slog.Logger
	// SecureCookies marks the sign-in cookie Secure (HTTPS only): set it
	// when hark is served over HTTPS, e.g. behind a TLS proxy.
	SecureCookies bool
	// TLSCert and TLSKey, both or neither, are the web server's PEM
	// certificate and key files: it then serves HTTPS only, and the
	// sign-in cookies are Secure whatever SecureCookies says.
	TLSCert string
	TLSKey  string
	// TrustedProxies lists the reverse proxies (CIDRs or addresses,
	// comma-separated) whose X-Forwarded-For and Forwarded headers give
	// the client's address for the sign-in limit; empty trusts none.
	TrustedProxies string
	// SSO, when set, turns on single sign-on through an OpenID provider.
	SSO *auth.SSOConfig
	// WrapEngine, when set, wraps the transcript engine (tests use it to
	// slow transcription down).
	WrapEngine func(hark.Engine) hark.Engine
}

func (c UpConfig) withDefaults() UpConfig {
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if c.NATSAddr == "" {
		c.NATSAddr = "127.0.0.1:0"
	}
	if c.S3Addr == "" {
		c.S3Addr = "127.0.0.1:0"
	}
	if c.Bucket == "" {
		c.Bucket = "recordings"
	}
	if c.Concurrency == 0 {
		c.Concurrency = 2
	}
	if c.ReconcileInterval == 0 {
		c.ReconcileInterval = 5 * time.Minute
	}
	if c.HoldFor == 0 {
		c.HoldFor = 15 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Up is a running embedded hark: NATS with JetStream, the S3 server, the
// index, both stages and the web server, in one process.
type Up struct {
	cfg       UpConfig
	Endpoints Endpoints
	Secrets   Secrets

	nats   *ingest.NATSServer
	s3     *s3server.Server
	idx    *index.DB
	queue  *ingest.Queue
	web    *web.Server
	stages *stages
	work   *transcribe.WorkDir
	store  *ingest.Store // the stages' and the web server's client of s3

	closeOnce sync.Once
	closeErr  error
}

var _ hark.Closer = (*Up)(nil)

// StartUp starts everything and returns when it is serving. Close stops it.
func StartUp(ctx context.Context, cfg UpConfig) (u *Up, err error) {
	cfg = cfg.withDefaults()
	log := cfg.Logger
	// The S3 server changes the working directory: make every path absolute first.
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join(cfg.DataDir, "work")
	}
	if cfg.WorkDir, err = filepath.Abs(cfg.WorkDir); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	if cfg.Codebook != "" {
		if cfg.Codebook, err = filepath.Abs(cfg.Codebook); err != nil {
			return nil, fmt.Errorf("codebook: %w", err)
		}
	}
	for _, f := range []*string{&cfg.TLSCert, &cfg.TLSKey} {
		if *f != "" {
			if *f, err = filepath.Abs(*f); err != nil {
				return nil, fmt.Errorf("TLS file %s: %w", *f, err)
			}
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	cb, err := loadCodebook(cfg.Codebook)
	if err != nil {
		return nil, err
	}
	secrets, err := loadOrCreateSecrets(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	u = &Up{cfg: cfg, Secrets: *secrets}
	// Every failed return below sets u to nil: stop what started through
	// a copy.
	partial := u
	defer func() {
		if err != nil {
			partial.Close(context.Background())
		}
	}()

	host, port, err := splitAddr(cfg.NATSAddr)
	if err != nil {
		return nil, err
	}
	if u.nats, err = ingest.StartNATSServer(ingest.NATSServerConfig{
		StoreDir: filepath.Join(cfg.DataDir, "nats"), Host: host, Port: port, Token: secrets.NATSToken,
	}); err != nil {
		return nil, err
	}
	if u.queue, err = ingest.Connect(ctx, ingest.QueueConfig{URL: u.nats.URL(), Token: secrets.NATSToken, AckWait: cfg.AckWait, Logger: log}); err != nil {
		return nil, err
	}
	if _, err := u.queue.Setup(ctx); err != nil {
		return nil, err
	}
	if u.s3, err = s3server.Start(ctx, s3server.Config{
		Dir: filepath.Join(cfg.DataDir, "s3"), Addr: cfg.S3Addr, AccessKey: secrets.S3AccessKey, SecretKey: secrets.S3SecretKey,
		Notify: notifier(u.queue), Logf: func(f string, a ...any) { log.Warn(fmt.Sprintf(f, a...)) },
	}); err != nil {
		return nil, err
	}
	store, err := ingest.NewStore(ingest.StoreConfig{
		Endpoint: u.s3.URL(), AccessKey: secrets.S3AccessKey, SecretKey: secrets.S3SecretKey, Bucket: cfg.Bucket, Region: "us-east-1",
	})
	if err != nil {
		return nil, err
	}
	u.store = store
	if _, err := store.EnsureBucket(ctx); err != nil {
		return nil, err
	}
	if u.idx, err = index.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "index.db")); err != nil {
		return nil, err
	}
	m := telemetry.New()
	if u.work, err = transcribe.OpenWorkDir(cfg.WorkDir, log); err != nil {
		return nil, err
	}
	p, err := newPipeline(store, u.idx, u.queue, cb, m, log, u.work.Dir(), cfg.WrapEngine)
	if err != nil {
		return nil, err
	}
	routes, err := reportRoutes(u.idx, cb, log)
	if err != nil {
		return nil, err
	}
	proxies, err := auth.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	signIn, err := newAuth(auth.Config{Accounts: u.idx, Logger: log, SecureCookies: cfg.SecureCookies || cfg.TLSCert != "", TrustedProxies: proxies}, cfg.SSO)
	if err != nil {
		return nil, err
	}
	if u.web, err = web.New(web.Config{Addr: cfg.HTTPAddr, Index: u.idx, Accounts: u.idx, Store: store, Codebook: cb, Logger: log, Routes: routes,
		MinCell: envInt("HARK_MIN_CELL", report.DefaultMinCell), AudioPCM: audioPCM, Retag: p.Retag, Forget: forgetter(p),
		Auth: signIn, TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey,
		Metrics: m.Handler(), Ready: readiness(u.queue.Ready, store.Ready, u.idx.Ready)}); err != nil {
		return nil, err
	}
	if err := u.web.Start(ctx); err != nil {
		return nil, err
	}
	u.queue.HoldWhileDown(readiness(store.Ready, u.idx.Ready), cfg.HoldFor)
	u.stages = startStages(ctx, stagesConfig{
		Names:       []string{ingest.ConsumerTranscribe, ingest.ConsumerAnnotate},
		Concurrency: cfg.Concurrency, ReconcileInterval: cfg.ReconcileInterval, SweepInterval: cfg.SweepInterval,
	}, u.queue, p, m, log)
	// Objects stored while hark was down (or whose events were lost) are found now.
	if res, err := p.Reconcile(ctx); err != nil {
		log.Warn("reconcile at start", "err", err)
	} else if res.Enqueued > 0 {
		log.Info("found recordings without results", "enqueued", res.Enqueued)
	}

	u.Endpoints = Endpoints{Schema: hark.SchemaVersion, NATS: u.nats.URL(), S3: u.s3.URL(), Bucket: cfg.Bucket, HTTP: u.web.URL(), PID: os.Getpid()}
	if err := writeJSONFile(filepath.Join(cfg.DataDir, endpointsFile), &u.Endpoints, 0o600); err != nil {
		return nil, err
	}
	log.Info("hark is up", "http", u.Endpoints.HTTP, "s3", u.Endpoints.S3, "nats", u.Endpoints.NATS, "data_dir", cfg.DataDir)
	return u, nil
}

// Index returns the running index.
func (u *Up) Index() hark.Index { return u.idx }

// Close stops fetching work, lets the work in hand finish, and stops the
// servers. When ctx ends before the work in hand has finished, Close stops
// the servers anyway, without waiting for them either, and returns
// ctx.Err(). It is safe to call more than once (a later call returns the
// first call's result) and on a partly started Up.
func (u *Up) Close(ctx context.Context) error {
	u.closeOnce.Do(func() { u.closeErr = u.close(ctx) })
	return u.closeErr
}

func (u *Up) close(ctx context.Context) error {
	var errs []error
	stopped := true
	if u.stages != nil {
		if err := u.stages.stop(ctx, u.cfg.ShutdownGrace); err != nil {
			errs = append(errs, err)
			stopped = false
		}
	}
	// The work in hand may still be writing decoded audio when it did not
	// stop: its directory is left to the sweep of the next process.
	if stopped {
		if err := u.work.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, u.web.Close(ctx), u.queue.Close(ctx))
	if u.idx != nil {
		errs = append(errs, u.idx.Close())
	}
	if u.store != nil {
		// Its idle connections would keep the S3 server serving them.
		errs = append(errs, u.store.Close(ctx))
	}
	errs = append(errs, u.s3.Close(ctx), u.nats.Close(ctx))
	if u.cfg.DataDir != "" {
		_ = os.Remove(filepath.Join(u.cfg.DataDir, endpointsFile))
	}
	return errors.Join(errs...)
}

func newUpCmd(g *globals) *cobra.Command {
	var (
		cfg  UpConfig
		sso  ssoFlags
		work workDirFlag
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run everything in one process: NATS, the S3 store, the workers and the web server",
		Long: `up runs the embedded default: a NATS server with JetStream, an S3 server
(versitygw) over <data-dir>/s3, the SQLite index, the transcribe and annotate
workers and the web server, all in this process. Endpoints are written to
<data-dir>/endpoints.json for the other commands. Stop with Ctrl-C; starting
again on the same data dir loses nothing and re-does nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.DataDir = g.dataDir
			cfg.WorkDir = work.path(g)
			cfg.Logger = g.logger()
			cfg.SSO = sso.config()
			ctx := cmd.Context()
			u, err := StartUp(ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "hark is up: open %s\n", u.Endpoints.HTTP)
			<-ctx.Done()
			fmt.Fprintf(g.stdout, "stopping: finishing the work in hand (for up to %s; Ctrl-C again to stop at once)\n", cfg.ShutdownGrace)
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			return u.Close(sctx)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&cfg.SecureCookies, "secure-cookies", env("HARK_SECURE_COOKIES", "") == "true", "mark sign-in cookies Secure (set when served over HTTPS)")
	f.StringVar(&cfg.TrustedProxies, "trusted-proxies", env("HARK_TRUSTED_PROXIES", ""), trustedProxiesUsage)
	addTLSFlags(cmd, &cfg.TLSCert, &cfg.TLSKey)
	f.StringVar(&cfg.HTTPAddr, "http", env("HARK_HTTP", "127.0.0.1:8080"), "address of the web server")
	f.StringVar(&cfg.NATSAddr, "nats-listen", env("HARK_NATS_LISTEN", "127.0.0.1:0"), "address of the embedded NATS server (port 0 picks a free port)")
	f.StringVar(&cfg.S3Addr, "s3-listen", env("HARK_S3_LISTEN", "127.0.0.1:0"), "address of the embedded S3 server (port 0 picks a free port)")
	f.StringVar(&cfg.Bucket, "bucket", env("HARK_BUCKET", "recordings"), "bucket holding recordings and results")
	f.StringVar(&cfg.Codebook, "codebook", env("HARK_CODEBOOK", ""), "codebook YAML file (default: the built-in practice codebook)")
	f.IntVar(&cfg.Concurrency, "concurrency", envInt("HARK_CONCURRENCY", 2), "messages each stage handles at once")
	f.DurationVar(&cfg.ReconcileInterval, "reconcile-interval", envDuration("HARK_RECONCILE_INTERVAL", 5*time.Minute), "how often to look for recordings without results (negative: never)")
	f.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", envDuration("HARK_SHUTDOWN_GRACE", 30*time.Second), "how long stopping lets the work in hand finish before it cuts it short and hands it back to the queue")
	f.DurationVar(&cfg.SweepInterval, "sweep-interval", envDuration("HARK_SWEEP_INTERVAL", time.Hour), "how often to enforce the retention policies, hark retention (negative: never)")
	f.DurationVar(&cfg.HoldFor, "hold-for", envDuration("HARK_HOLD_FOR", 15*time.Minute), "how long a stage keeps a message while the object store or the index is down (negative: never)")
	sso.add(cmd)
	work.add(cmd)
	return cmd
}

// workDirFlag is --work-dir, where decoded audio goes while it is
// transcribed.
type workDirFlag string

func (w *workDirFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar((*string)(w), "work-dir", env("HARK_WORK_DIR", ""),
		"private directory (0700) for decoded audio while it is transcribed; what a crashed process left is removed at start (default <data-dir>/work)")
}

// path is the work dir: the flag's, or <data-dir>/work.
func (w workDirFlag) path(g *globals) string {
	if w != "" {
		return string(w)
	}
	return filepath.Join(g.dataDir, "work")
}

func splitAddr(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, hark.WrapError(hark.EINVALID, err, "address %q", addr)
	}
	var port int
	if _, err := fmt.Sscanf(portStr, "%d", &port); err != nil {
		return "", 0, hark.Errorf(hark.EINVALID, "address %q: bad port", addr)
	}
	return host, port, nil
}

// Idle reports whether neither stage has work waiting or in hand.
func (u *Up) Idle(ctx context.Context) (bool, error) {
	for _, c := range []string{ingest.ConsumerTranscribe, ingest.ConsumerAnnotate} {
		n, err := u.queue.Pending(ctx, c)
		if err != nil || n > 0 {
			return false, err
		}
	}
	return true, nil
}
