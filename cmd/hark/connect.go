package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
)

// conn says where the object store and NATS are. Unset fields come from
// the environment, then from a running `hark up`'s endpoints.json. Secrets
// are never flags: they come from the environment or the data dir.
type conn struct {
	s3URL   string
	natsURL string
	bucket  string
	// storeOnly: the command needs the object store and not NATS.
	storeOnly bool
}

func (c *conn) flags(cmd *cobra.Command) { c.flagsOn(cmd.Flags()) }

// persistentFlags gives cmd and its subcommands the flags.
func (c *conn) persistentFlags(cmd *cobra.Command) { c.flagsOn(cmd.PersistentFlags()) }

func (c *conn) flagsOn(f *pflag.FlagSet) {
	f.StringVar(&c.s3URL, "s3", env("HARK_S3_URL", ""), "object store URL (default: the running `hark up`)")
	f.StringVar(&c.natsURL, "nats", env("HARK_NATS_URL", ""), "NATS URL (default: the running `hark up`)")
	f.StringVar(&c.bucket, "bucket", env("HARK_BUCKET", ""), "bucket holding recordings (default: recordings)")
}

// resolve fills in what the flags left unset.
func (c *conn) resolve(g *globals) (ingest.StoreConfig, ingest.QueueConfig, error) {
	sc := ingest.StoreConfig{Endpoint: c.s3URL, Bucket: c.bucket, AccessKey: secretEnv("HARK_S3_ACCESS_KEY"), SecretKey: secretEnv("HARK_S3_SECRET_KEY"), Region: env("HARK_S3_REGION", "us-east-1"),
		CAFile: env("HARK_S3_CA", ""), Logger: g.logger()}
	qc := natsConfig(c.natsURL, g)
	if sc.Endpoint == "" || qc.URL == "" {
		e, err := readEndpoints(g.dataDir)
		if err != nil {
			if sc.Endpoint != "" && c.storeOnly {
				return sc, qc, nil
			}
			if c.storeOnly && hark.ErrorCode(err) == hark.EUNAVAILABLE {
				return sc, qc, hark.Errorf(hark.EUNAVAILABLE, "this command needs the object store, and no hark servers were found in %s: start them with `hark up --data-dir %s`, or give the store with --s3 (or HARK_S3_URL, with HARK_S3_ACCESS_KEY and HARK_S3_SECRET_KEY)", g.dataDir, g.dataDir)
			}
			return sc, qc, err
		}
		s, err := readSecrets(g.dataDir)
		if err != nil {
			return sc, qc, err
		}
		if sc.Endpoint == "" {
			sc.Endpoint = e.S3
			if sc.AccessKey == "" {
				sc.AccessKey, sc.SecretKey = s.S3AccessKey, s.S3SecretKey
			}
		}
		if qc.URL == "" {
			// `hark up`'s NATS listens on loopback without TLS.
			qc.URL, qc.CAFile, qc.CertFile, qc.KeyFile = e.NATS, "", "", ""
			if qc.Token == "" {
				qc.Token = s.NATSToken
			}
		}
		if sc.Bucket == "" {
			sc.Bucket = e.Bucket
		}
	}
	if sc.Bucket == "" {
		sc.Bucket = "recordings"
	}
	return sc, qc, nil
}

// natsConfig is how to reach NATS at url with the environment's token and
// TLS settings: HARK_NATS_CA, the CA file the server's certificate must
// chain to, and HARK_NATS_CERT / HARK_NATS_KEY, a client certificate for
// mutual TLS. They are file paths; the token is the only secret.
func natsConfig(url string, g *globals) ingest.QueueConfig {
	return ingest.QueueConfig{URL: url, Token: secretEnv("HARK_NATS_TOKEN"), Logger: g.logger(),
		CAFile: env("HARK_NATS_CA", ""), CertFile: env("HARK_NATS_CERT", ""), KeyFile: env("HARK_NATS_KEY", "")}
}

// open connects to the store and the queue.
func (c *conn) open(ctx context.Context, g *globals) (*ingest.Store, *ingest.Queue, error) {
	sc, qc, err := c.resolve(g)
	if err != nil {
		return nil, nil, err
	}
	store, err := ingest.NewStore(sc)
	if err != nil {
		return nil, nil, err
	}
	q, err := ingest.Connect(ctx, qc)
	if err != nil {
		return nil, nil, hark.WrapError(hark.EUNAVAILABLE, err, "is `hark up` running?")
	}
	return store, q, nil
}

// openStore connects to the object store alone (not NATS).
func (c *conn) openStore(g *globals) (*ingest.Store, error) {
	c.storeOnly = true
	sc, _, err := c.resolve(g)
	if err != nil {
		return nil, err
	}
	return ingest.NewStore(sc)
}

// connected is the store, the queue and the index a command works with.
type connected struct {
	store *ingest.Store
	q     *ingest.Queue
	idx   *index.DB
}

// Close disconnects from the queue and the store and closes the index.
func (c *connected) Close() {
	closeWithin(c.q, queueCloseTimeout)
	closeWithin(c.store, queueCloseTimeout)
	c.idx.Close()
}

// openAll connects to the store and the queue and opens the index at db.
func (c *conn) openAll(ctx context.Context, g *globals, db string) (*connected, error) {
	store, q, err := c.open(ctx, g)
	if err != nil {
		return nil, err
	}
	idx, err := openIndex(ctx, g, db)
	if err != nil {
		closeWithin(q, queueCloseTimeout)
		return nil, err
	}
	return &connected{store: store, q: q, idx: idx}, nil
}
