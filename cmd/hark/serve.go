package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
	"github.com/harkworks/hark/report"
	"github.com/harkworks/hark/telemetry"
	"github.com/harkworks/hark/transcribe"
	"github.com/harkworks/hark/web"
)

// trustedProxiesUsage is the help of `hark up` and `hark serve`'s
// --trusted-proxies.
const trustedProxiesUsage = "reverse proxies whose X-Forwarded-For / Forwarded headers name the client, as CIDRs or addresses, comma-separated (e.g. 127.0.0.1,10.0.0.0/8); default none"

// addTLSFlags gives `hark up` and `hark serve` --tls-cert and --tls-key:
// the paths of the web server's PEM certificate and key (the key itself is
// never a flag).
func addTLSFlags(cmd *cobra.Command, cert, key *string) {
	f := cmd.Flags()
	f.StringVar(cert, "tls-cert", env("HARK_TLS_CERT", ""), "PEM certificate file (with its chain): serve HTTPS only, TLS 1.2+, with Secure cookies; needs --tls-key")
	f.StringVar(key, "tls-key", env("HARK_TLS_KEY", ""), "PEM private key file of --tls-cert")
}

func newServeCmd(g *globals) *cobra.Command {
	var (
		db, addr, codebook string
		trustedProxies     string
		tlsCert, tlsKey    string
		secure             bool
		c                  conn
		sso                ssoFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the web server (pages and JSON API) alone, against a team's index",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := g.logger()
			if err := requireIndex(cmd, db); err != nil {
				return err
			}
			idx, err := openIndex(ctx, g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			cb, err := loadCodebook(codebook)
			if err != nil {
				return err
			}
			// Audio comes from the object store, when one is configured.
			var store hark.ObjectStore
			c.storeOnly = true
			if sc, _, err := c.resolve(g); err == nil {
				if st, err := ingest.NewStore(sc); err == nil {
					store = st
					defer closeWithin(st, queueCloseTimeout)
				}
			} else {
				log.Warn("no object store configured: audio is unavailable", "hint", "give --s3 or HARK_S3_URL")
			}
			routes, err := reportRoutes(idx, cb, log)
			if err != nil {
				return err
			}
			proxies, err := auth.ParseTrustedProxies(trustedProxies)
			if err != nil {
				return err
			}
			signIn, err := newAuth(auth.Config{Accounts: idx, Logger: log, SecureCookies: secure || tlsCert != "", TrustedProxies: proxies}, sso.config())
			if err != nil {
				return err
			}
			// With NATS, a coach's correction of who speaks sends the
			// session to the annotate workers at once.
			var (
				retag  func(context.Context, string) error
				forget func(context.Context, []*hark.Recording) (string, error)
			)
			if _, qc, err := c.resolve(g); err == nil && qc.URL != "" {
				if q, err := ingest.Connect(ctx, qc); err == nil {
					defer closeWithin(q, queueCloseTimeout)
					retag = func(ctx context.Context, id string) error { return pipeline.Retag(ctx, q, id) }
					if store != nil {
						forget = forgetter(pipeline.New(pipeline.Config{Store: store, Index: idx, Publisher: q, Logger: log, SidecarExtensions: transcribe.SidecarExtensions}))
					}
				} else {
					log.Warn("no NATS: sessions are tagged again after a correction only by hark reannotate", "err", err)
				}
			}
			srv, err := web.New(web.Config{Addr: addr, Index: idx, Accounts: idx, Store: store, Codebook: cb, Logger: log, Routes: routes,
				MinCell: envInt("HARK_MIN_CELL", report.DefaultMinCell), AudioPCM: audioPCM, Retag: retag, Forget: forget,
				Auth: signIn, TLSCert: tlsCert, TLSKey: tlsKey,
				Metrics: telemetry.New().Handler(), Ready: idx.Ready})
			if err != nil {
				return err
			}
			if err := srv.Start(ctx); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "serving on %s\n", srv.URL())
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return srv.Close(sctx)
		},
	}
	c.flags(cmd)
	f := cmd.Flags()
	f.BoolVar(&secure, "secure-cookies", env("HARK_SECURE_COOKIES", "") == "true", "mark sign-in cookies Secure (set when served over HTTPS)")
	f.StringVar(&trustedProxies, "trusted-proxies", env("HARK_TRUSTED_PROXIES", ""), trustedProxiesUsage)
	addTLSFlags(cmd, &tlsCert, &tlsKey)
	f.StringVar(&db, "db", "", "index database: postgres://… or a SQLite path (default: HARK_DB, else <data-dir>/index.db)")
	f.StringVar(&addr, "http", env("HARK_HTTP", "127.0.0.1:8080"), "address to listen on")
	f.StringVar(&codebook, "codebook", env("HARK_CODEBOOK", ""), "codebook YAML file, for code labels (default: the built-in one)")
	sso.add(cmd)
	return cmd
}
