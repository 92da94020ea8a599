package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/harkworks/hark"
)

// NATSServerConfig configures the NATS server run in-process by `hark up`.
type NATSServerConfig struct {
	// StoreDir is where JetStream keeps its files. Required.
	StoreDir string
	// Host and Port to listen on; port 0 picks a free port.
	Host string
	Port int
	// Token, when set, is required from every client.
	Token string
}

// NATSServer is a NATS server with JetStream running in this process.
// StartNATSServer starts it; Close, which keeps hark's lifecycle contract
// (hark.Closer), stops it.
type NATSServer struct {
	srv *server.Server

	closeOnce sync.Once
	closeErr  error
}

var _ hark.Closer = (*NATSServer)(nil)

// StartNATSServer starts a NATS server with JetStream on file storage that
// fsyncs every write, and waits until it accepts connections.
func StartNATSServer(cfg NATSServerConfig) (*NATSServer, error) {
	dir, err := filepath.Abs(cfg.StoreDir)
	if err != nil {
		return nil, fmt.Errorf("nats store dir %s: %w", cfg.StoreDir, err)
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Port == 0 {
		cfg.Port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:    "hark",
		Host:          cfg.Host,
		Port:          cfg.Port,
		JetStream:     true,
		StoreDir:      dir,
		SyncAlways:    true, // the default fsyncs every 2 minutes and can lose acknowledged messages
		Authorization: cfg.Token,
		NoSigs:        true,
		NoLog:         true,
		MaxPayload:    8 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("start nats server: not ready after 30s (is %s:%d free?)", cfg.Host, cfg.Port)
	}
	return &NATSServer{srv: srv}, nil
}

// URL returns the address clients connect to.
func (n *NATSServer) URL() string { return n.srv.ClientURL() }

// Close shuts the server down and waits until it has stopped. When ctx
// ends first it stops waiting and returns ctx.Err(); the server goes on
// shutting down on its own. Close is safe to call more than once (a later
// call returns the first call's result) and on a nil or zero NATSServer.
func (n *NATSServer) Close(ctx context.Context) error {
	if n == nil || n.srv == nil {
		return nil
	}
	n.closeOnce.Do(func() {
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			n.srv.Shutdown()
			n.srv.WaitForShutdown()
		}()
		select {
		case <-stopped:
		case <-ctx.Done():
			n.closeErr = fmt.Errorf("nats server: stop: %w", ctx.Err())
		}
	})
	return n.closeErr
}
