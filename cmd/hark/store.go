package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/s3server"
)

func newStoreCmd(g *globals) *cobra.Command {
	var (
		root, addr, natsURL string
	)
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Run the S3 server (versitygw) over a directory, publishing upload events to NATS",
		Long: `store runs the S3 gateway hark embeds (versitygw) over --root, a directory on
a persistent volume. Every completed upload (PutObject, CompleteMultipartUpload,
CopyObject) publishes its S3 event to JetStream with a PubAck and a Nats-Msg-Id,
so an upload from any S3 tool (aws, rclone, Cyberduck) starts the pipeline.

Credentials come from HARK_S3_ACCESS_KEY and HARK_S3_SECRET_KEY (required);
the NATS token from HARK_NATS_TOKEN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := g.logger()
			ak, sk := secretEnv("HARK_S3_ACCESS_KEY"), secretEnv("HARK_S3_SECRET_KEY")
			if ak == "" || sk == "" {
				return fmt.Errorf("set HARK_S3_ACCESS_KEY and HARK_S3_SECRET_KEY: the store needs credentials")
			}
			if root == "" {
				return fmt.Errorf("give --root (or HARK_STORE_ROOT): the directory that holds the objects")
			}
			if natsURL == "" {
				return fmt.Errorf("give --nats (or HARK_NATS_URL): the store publishes upload events there")
			}
			q, err := ingest.Connect(ctx, natsConfig(natsURL, g))
			if err != nil {
				return err
			}
			defer closeWithin(q, queueCloseTimeout)
			srv, err := s3server.Start(ctx, s3server.Config{Dir: root, Addr: addr, AccessKey: ak, SecretKey: sk,
				Notify: notifier(q), Logf: func(f string, a ...any) { log.Warn(fmt.Sprintf(f, a...)) }})
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "S3 store on %s over %s; upload events to %s\n", srv.URL(), root, natsURL)
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return srv.Close(sctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&root, "root", env("HARK_STORE_ROOT", ""), "directory holding the objects (a persistent volume)")
	f.StringVar(&addr, "listen", env("HARK_STORE_LISTEN", "127.0.0.1:7070"), "address to listen on")
	f.StringVar(&natsURL, "nats", env("HARK_NATS_URL", ""), "NATS URL to publish upload events to")
	return cmd
}
