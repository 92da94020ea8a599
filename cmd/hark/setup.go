package main

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
)

func newSetupCmd(g *globals) *cobra.Command {
	var (
		c     conn
		qf    queueFlags
		minio bool
	)
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create the bucket, the JetStream stream and the consumers (idempotent)",
		Long: `setup creates the bucket, the work stream and the stages' durable consumers if
they do not exist, and brings their settings up to date if they do. It prints
what it did. With --minio it also prints the MinIO notification settings that
send MinIO's upload events to hark.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
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
			created, err := store.EnsureBucket(ctx)
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintf(g.stdout, "bucket %s: created\n", sc.Bucket)
			} else {
				fmt.Fprintf(g.stdout, "bucket %s: exists\n", sc.Bucket)
			}
			switch ok, err := store.CheckConditional(ctx); {
			case err != nil:
				return err
			case ok:
				fmt.Fprintln(g.stdout, "object store: conditional writes work (stalled workers are fenced in the store too)")
			default:
				fmt.Fprintln(g.stdout, "object store: WARNING: conditional writes (If-None-Match) are ignored; hark still works and the index stays fenced, but a worker that stalls at the wrong moment can replace a newer attempt's results in the store (docs/architecture.md, Fencing)")
			}
			q, err := ingest.Connect(ctx, qc)
			if err != nil {
				return err
			}
			defer closeWithin(q, queueCloseTimeout)
			did, err := q.Setup(ctx)
			if err != nil {
				return err
			}
			for _, d := range did {
				fmt.Fprintln(g.stdout, d)
			}
			if minio {
				fmt.Fprint(g.stdout, minioSettings(qc.URL, sc.Bucket))
			}
			return nil
		},
	}
	c.flags(cmd)
	qf.flags(cmd)
	cmd.Flags().BoolVar(&minio, "minio", false, "also print the MinIO notification settings for this deployment")
	return cmd
}

// minioSettings is how to point a MinIO server's bucket notifications at
// hark's stream. The NATS token is never printed: it stays a placeholder.
func minioSettings(natsURL, bucket string) string {
	addr := natsURL
	if u, err := url.Parse(natsURL); err == nil && u.Host != "" {
		addr = u.Host // credentials in the URL are not repeated
	}
	return fmt.Sprintf(`
MinIO: publish upload events to hark's stream. Set on the MinIO server and restart it:
  MINIO_NOTIFY_NATS_ENABLE_HARK=on
  MINIO_NOTIFY_NATS_ADDRESS_HARK=%[1]s
  MINIO_NOTIFY_NATS_SUBJECT_HARK=%[2]s
  MINIO_NOTIFY_NATS_JETSTREAM_HARK=on
  MINIO_NOTIFY_NATS_TOKEN_HARK=<the NATS token>
  MINIO_NOTIFY_NATS_QUEUE_DIR_HARK=/data/.minio-events   # keeps events while NATS is down
  MINIO_NOTIFY_NATS_QUEUE_LIMIT_HARK=100000
  MINIO_API_SYNC_EVENTS=on                                # or rely on the queue dir
or, with MinIO's admin client and an admin's credentials, without editing its environment:
  mc admin config set ALIAS notify_nats:HARK address=%[1]s subject=%[2]s jetstream=on token=<the NATS token> queue_dir=/data/.minio-events queue_limit=100000
  mc admin service restart ALIAS
Then subscribe the bucket:
  mc event add ALIAS/%[3]s arn:minio:sqs::HARK:nats --event put
`, addr, hark.SubjectUploaded, bucket)
}
