// Package s3server runs versitygw, an S3-compatible server, in-process over a
// local directory. It is the object store of the embedded default (`hark up`)
// and of `hark store`. hark speaks to it only through S3, as to any other store.
//
// Limits of versitygw embedded this way: one instance per process; it changes
// the process's working directory to its root (every path hark uses is made
// absolute first); object metadata is kept in a sidecar directory beside the
// root so that no extended-attribute support is needed from the filesystem.
package s3server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"

	"github.com/harkworks/hark"
)

// Config configures the embedded S3 server.
type Config struct {
	// Dir holds the objects (Dir/objects) and their metadata (Dir/meta).
	Dir string
	// Addr is host:port to listen on; port 0 picks a free port.
	Addr      string
	AccessKey string
	SecretKey string
	// Notify, when set, is called after every completed PutObject,
	// CompleteMultipartUpload and CopyObject, so that an upload from any S3
	// tool starts the pipeline. An error is logged, not returned to the
	// client: the object is stored, and the reconciler finds it later.
	Notify func(ctx context.Context, obj Created) error
	// Logf logs a notification failure. Default: discard.
	Logf func(format string, args ...any)
}

// Created describes an object the server has just stored.
type Created struct {
	Bucket    string
	Key       string
	ETag      string
	Size      int64
	EventName string // s3:ObjectCreated:Put, :CompleteMultipartUpload or :Copy
}

// Goroutines of the gateway's HTTP library, fasthttp, that a Server leaves
// behind after Close, named for the leak checks of the tests that embed it
// (goleak.IgnoreAnyFunction). They are fasthttp's, not hark's, and no
// call of its API stops them sooner.
const (
	// DateUpdater refreshes fasthttp's Date header every second, for the
	// rest of the process once a first fasthttp server has started.
	DateUpdater = "github.com/valyala/fasthttp.updateServerDate.func1"
	// IdleWorkerCleaner is a fasthttp server's sweeper of idle workers: it
	// sees the server stopped only when it wakes, up to 10 s after Close.
	IdleWorkerCleaner = "github.com/valyala/fasthttp.(*workerPool).Start.func2"
)

// Server is a running embedded S3 server. Start starts it; Close, which
// keeps hark's lifecycle contract (hark.Closer), stops it.
type Server struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
	// wd is the working directory before the gateway changed it; Close
	// restores it.
	wd string

	closeOnce sync.Once
	closeErr  error
}

var _ hark.Closer = (*Server)(nil)

// Start starts the server and waits until it accepts connections.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("s3 server: access key and secret key are required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("s3 server dir %s: %w", cfg.Dir, err)
	}
	root, metaDir := filepath.Join(dir, "objects"), filepath.Join(dir, "meta")
	for _, d := range []string{root, metaDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("s3 server: %w", err)
		}
	}
	addr, err := resolveAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("s3 server: working directory: %w", err)
	}
	ms, err := meta.NewSideCar(metaDir)
	if err != nil {
		return nil, fmt.Errorf("s3 server metadata dir %s: %w", metaDir, err)
	}
	be, err := posix.New(root, ms, posix.PosixOpts{
		SideCarDir:          metaDir,
		NewDirPerm:          0o700,
		Concurrency:         64,
		CopyObjectThreshold: 1 << 40, // 0 would refuse every CopyObject
	})
	if err != nil {
		return nil, fmt.Errorf("s3 server over %s: %w", root, err)
	}
	var gw backend.Backend = be
	if cfg.Notify != nil {
		gw = &notifying{Backend: be, notify: cfg.Notify, logf: cfg.Logf}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{addr: addr, cancel: cancel, done: make(chan error, 1), wd: wd}
	go func() {
		s.done <- embedgw.RunVersityGW(runCtx, gw, &embedgw.Config{
			RootUserAccess:    cfg.AccessKey,
			RootUserSecret:    cfg.SecretKey,
			Ports:             []string{addr},
			MaxConnections:    1024,
			MaxRequests:       512,
			MultipartMaxParts: 10000,
			Quiet:             true,
			KeepAlive:         true,
			HealthPath:        "/healthz",
		})
		be.Shutdown()
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			cancel()
			return nil, fmt.Errorf("s3 server on %s: %w", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, fmt.Errorf("s3 server on %s: not accepting connections after 30s", addr)
		}
	}
}

// URL returns the server's endpoint URL.
func (s *Server) URL() string { return "http://" + s.addr }

// Close stops the server, waits for it to stop, and gives the process its
// working directory back. When ctx ends first it stops waiting and returns
// ctx.Err(); the gateway, told to stop, goes on stopping on its own. Close is
// safe to call more than once (a later call returns the first call's
// result) and on a nil or zero Server.
func (s *Server) Close(ctx context.Context) error {
	if s == nil || s.cancel == nil {
		return nil
	}
	s.closeOnce.Do(func() { s.closeErr = s.stop(ctx) })
	return s.closeErr
}

func (s *Server) stop(ctx context.Context) error {
	s.cancel()
	defer os.Chdir(s.wd) //nolint:errcheck // best effort: the directory may be gone
	select {
	case err := <-s.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("s3 server: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("s3 server: stop: %w", ctx.Err())
	}
}

// resolveAddr turns a port-0 address into a concrete free one, since the
// gateway needs to be told its port.
func resolveAddr(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("s3 server address %q: %w", addr, err)
	}
	if port != "0" {
		return addr, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("s3 server: find a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
