package s3server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"go.uber.org/goleak"
)

const testKey, testSecret = "hark-test", "hark-test-secret-key"

// start starts a server over a fresh directory with notify as its upload
// hook (none when nil).
func start(t *testing.T, notify func(context.Context, Created) error) *Server {
	t.Helper()
	s, err := Start(context.Background(), Config{Dir: filepath.Join(t.TempDir(), "s3"), Addr: "127.0.0.1:0", AccessKey: testKey, SecretKey: testSecret, Notify: notify})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClose is the lifecycle contract (hark.Closer). Start is the
// constructor: there is no second Start, and a Server that was never
// started is the zero one.
func TestClose(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"close twice", func(t *testing.T) {
			s := start(t, nil)
			if err := s.Close(context.Background()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got, _ := os.Getwd(); got != wd {
				t.Errorf("working directory after Close: %s, want %s", got, wd)
			}
			if conn, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
				conn.Close()
				t.Errorf("still accepting connections on %s after Close", s.addr)
			}
			if err := s.Close(context.Background()); err != nil {
				t.Errorf("second Close: %v", err)
			}
		}},
		{"close gives up when ctx ends", func(t *testing.T) {
			// An upload whose event cannot be published keeps its request,
			// and so the gateway, from stopping.
			entered, release := make(chan struct{}), make(chan struct{})
			s := start(t, func(ctx context.Context, _ Created) error {
				close(entered)
				<-release
				return nil
			})
			mc, err := minio.New(s.addr, &minio.Options{Creds: credentials.NewStaticV4(testKey, testSecret, ""), Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := mc.MakeBucket(ctx, "recordings", minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
				t.Fatal(err)
			}
			put := make(chan error, 1)
			go func() {
				_, err := mc.PutObject(ctx, "recordings", "a.wav", bytes.NewReader([]byte("RIFF")), 4, minio.PutObjectOptions{})
				put <- err
			}()
			<-entered
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			err = s.Close(cctx)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Close with an upload in hand and a 100ms deadline: %v, want the deadline", err)
			}
			if again := s.Close(context.Background()); again != err {
				t.Errorf("second Close: %v, want the first's %v", again, err)
			}
			close(release)
			if err := <-put; err != nil {
				t.Errorf("upload: %v", err)
			}
			<-s.done // the gateway stops once the upload has its answer
		}},
		{"close without start", func(t *testing.T) {
			var nilServer *Server
			if err := nilServer.Close(context.Background()); err != nil {
				t.Errorf("Close of a nil Server: %v", err)
			}
			if err := (&Server{}).Close(context.Background()); err != nil {
				t.Errorf("Close of a zero Server: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// TestMain fails the package if a test leaves a goroutine behind, but for
// the two that fasthttp keeps and no call stops (DateUpdater,
// IdleWorkerCleaner).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(DateUpdater), goleak.IgnoreAnyFunction(IdleWorkerCleaner))
}
