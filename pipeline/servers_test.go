package pipeline_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/s3server"
)

// startStore starts the S3 server hark embeds, with its data in dir, and
// returns a store on its bucket "recordings" and an SQLite index in dir.
// Both are closed when the test ends.
func startStore(t *testing.T, dir string) (*ingest.Store, *index.DB) {
	t.Helper()
	ctx := context.Background()
	srv, err := s3server.Start(ctx, s3server.Config{Dir: filepath.Join(dir, "s3"), Addr: "127.0.0.1:0", AccessKey: "hark-test", SecretKey: "hark-test-secret-key"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	st, err := ingest.NewStore(ingest.StoreConfig{Endpoint: srv.URL(), AccessKey: "hark-test", SecretKey: "hark-test-secret-key", Bucket: "recordings", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	idx, err := index.OpenSQLite(ctx, filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return st, idx
}
