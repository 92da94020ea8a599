package ingest

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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
type NATSServer struct {
	srv *server.Server
}

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

// Close shuts the server down and waits until it has stopped.
func (n *NATSServer) Close() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}
