// Command load measures hark's pipeline overhead with an instant engine: how
// many recordings a minute a team deployment finishes, and how long each
// takes from upload to ready.
//
//	go run ./bench/load -n 500
//
// It runs what a team deployment runs, on one machine: NATS with JetStream
// and the S3 server (versitygw, publishing upload events like `hark store`)
// in this process, and -workers `hark worker` processes (built from this
// module unless -hark names a binary) with -concurrency each, on an SQLite
// index (or -db). It generates short synthetic recordings — 2 s of 16 kHz
// mono WAV with a one-cue WebVTT transcript next to each, so the default
// engine uses the sidecar and transcription itself costs nothing — and
// uploads them as `hark upload` does (ingest.Upload, leaving the event to
// the S3 server) in two phases:
//
//   - burst: -n recordings as fast as -uploaders can send them; throughput is
//     recordings divided by the time from the first upload to the last ready;
//   - paced: -n recordings at -rate a minute, below capacity, so the latency
//     from upload (ingest.Upload returned) to ready (the recording's updated_at
//     in the index) is the pipeline's, not time spent queueing.
//
// Results go to stdout; -cpuprofile profiles this process (NATS, the S3
// server and the uploads); -keep keeps the workers' logs.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
	"github.com/harkworks/hark/s3server"
	"github.com/harkworks/hark/transcribe"
)

const bucket = "recordings"

type config struct {
	n           int
	workers     int
	concurrency int
	uploaders   int
	rate        float64
	harkBin     string
	db          string
	keep        bool
	cpuprofile  string
	phases      string
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 500, "recordings per phase")
	flag.IntVar(&c.workers, "workers", 2, "hark worker processes")
	flag.IntVar(&c.concurrency, "concurrency", 2, "messages each worker's stage handles at once (--concurrency)")
	flag.IntVar(&c.uploaders, "uploaders", 4, "concurrent uploads in the burst phase")
	flag.Float64Var(&c.rate, "rate", 300, "uploads a minute in the paced phase")
	flag.StringVar(&c.harkBin, "hark", "", "hark binary (default: build ./cmd/hark into a temp dir)")
	flag.StringVar(&c.db, "db", "", "index DSN (default: an SQLite file in the temp dir; a postgres:// URL works)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temp dir (data, worker logs) and print its path")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of this process (NATS, S3 server, uploads) to this file")
	flag.StringVar(&c.phases, "phases", "burst,paced", "phases to run: burst, paced or both")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(c config) (err error) {
	ctx := context.Background()
	if c.cpuprofile != "" {
		if c.cpuprofile, err = filepath.Abs(c.cpuprofile); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "hark-load-")
	if err != nil {
		return err
	}
	if c.keep {
		fmt.Println("data and worker logs in", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if c.harkBin == "" {
		c.harkBin = filepath.Join(dir, "hark")
		fmt.Fprintln(os.Stderr, "building hark …")
		if out, err := exec.Command("go", "build", "-o", c.harkBin, "github.com/harkworks/hark/cmd/hark").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	} else if c.harkBin, err = filepath.Abs(c.harkBin); err != nil {
		return err
	}
	if c.db == "" {
		c.db = filepath.Join(dir, "index.db")
	}

	token, ak, sk := randHex(16), "load"+randHex(4), randHex(20)
	nats, err := ingest.StartNATSServer(ingest.NATSServerConfig{StoreDir: filepath.Join(dir, "nats"), Token: token})
	if err != nil {
		return err
	}
	defer nats.Close(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := ingest.Connect(ctx, ingest.QueueConfig{URL: nats.URL(), Token: token, Logger: quiet})
	if err != nil {
		return err
	}
	defer q.Close(context.Background())
	if _, err := q.Setup(ctx); err != nil {
		return err
	}
	notify := func(ctx context.Context, obj s3server.Created) error {
		if pipeline.IsCompanion(obj.Key, transcribe.SidecarExtensions) {
			return nil
		}
		info := hark.ObjectInfo{Key: obj.Key, ETag: obj.ETag, Size: obj.Size}
		return q.Publish(ctx, hark.SubjectUploaded, ingest.UploadMsgID(obj.Bucket, obj.Key, obj.ETag), ingest.NewUploadEvent(obj.Bucket, info, time.Now()))
	}
	s3, err := s3server.Start(ctx, s3server.Config{Dir: filepath.Join(dir, "s3"), AccessKey: ak, SecretKey: sk, Notify: notify})
	if err != nil {
		return err
	}
	defer s3.Close(context.Background())
	st, err := ingest.NewStore(ingest.StoreConfig{Endpoint: s3.URL(), AccessKey: ak, SecretKey: sk, Bucket: bucket, Region: "us-east-1", Logger: quiet})
	if err != nil {
		return err
	}
	if _, err := st.EnsureBucket(ctx); err != nil {
		return err
	}
	idx, err := index.Open(ctx, c.db)
	if err != nil {
		return err
	}
	defer idx.Close()

	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_ = p.Wait()
		}
	}()
	for i := range c.workers {
		p, err := startWorker(c, dir, i, s3.URL(), nats.URL(), ak, sk, token)
		if err != nil {
			return err
		}
		procs = append(procs, p.cmd)
		if err := p.waitReady(30 * time.Second); err != nil {
			return err
		}
	}

	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	wav, vtt := syntheticRecording(2 * time.Second)
	rec := recordingFiles{wav: filepath.Join(dir, "recording.wav"), vtt: filepath.Join(dir, "recording.vtt")}
	if err := os.WriteFile(rec.wav, wav, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(rec.vtt, vtt, 0o600); err != nil {
		return err
	}
	fmt.Printf("hark pipeline load: %d recordings a phase, %d workers × concurrency %d, index %s, %d CPUs (%s)\n",
		c.n, c.workers, c.concurrency, backend(c.db), runtime.NumCPU(), cpuModel())
	fmt.Printf("each recording: %d-byte WAV (2 s, 16 kHz mono) + %d-byte one-cue WebVTT\n", len(wav), len(vtt))
	for _, phase := range strings.Split(c.phases, ",") {
		var res *result
		switch phase = strings.TrimSpace(phase); phase {
		case "burst":
			res, err = runPhase(ctx, c, st, idx, phase, rec, 0)
		case "paced":
			res, err = runPhase(ctx, c, st, idx, phase, rec, c.rate)
		default:
			return fmt.Errorf("unknown phase %q", phase)
		}
		if err != nil {
			return err
		}
		res.print()
	}
	return nil
}

// upload is one recording's upload: its key and when its upload returned.
type upload struct {
	key  string
	id   string
	done time.Time
}

type result struct {
	phase     string
	rate      float64
	n         int
	start     time.Time
	uploaded  time.Time // the last upload returned
	lastReady time.Time
	latencies []time.Duration
	failed    int
}

// recordingFiles are the files of the synthetic recording every upload
// sends: its WAV and its WebVTT transcript.
type recordingFiles struct{ wav, vtt string }

// runPhase uploads c.n recordings (at rate a minute, or as fast as possible
// for 0) and waits until all are ready or failed. The uploads publish no
// event: the S3 server announces them, as `hark store` does.
func runPhase(ctx context.Context, c config, st *ingest.Store, idx *index.DB, phase string, rec recordingFiles, rate float64) (*result, error) {
	batch := fmt.Sprintf("%s-%d", phase, time.Now().UnixNano())
	res := &result{phase: phase, rate: rate, n: c.n, start: time.Now()}
	uploads := make([]upload, c.n)
	put := func(i int) error {
		key := fmt.Sprintf("%s/r%05d.wav", batch, i)
		up, err := ingest.Upload(ctx, ingest.UploadOptions{Store: st, Key: key, Path: rec.wav, Sidecar: rec.vtt,
			Meta: ingest.UploadMeta{Team: "load"}, Batch: batch})
		if err != nil {
			return fmt.Errorf("upload %s: %w", key, err)
		}
		uploads[i] = upload{key: key, id: hark.RecordingID(bucket, key, up.Object.ETag), done: time.Now()}
		return nil
	}
	var uerr error
	if rate <= 0 {
		var mu sync.Mutex
		var wg sync.WaitGroup
		next := 0
		for range c.uploaders {
			wg.Go(func() {
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= c.n {
						return
					}
					if err := put(i); err != nil {
						mu.Lock()
						uerr = errors.Join(uerr, err)
						mu.Unlock()
						return
					}
				}
			})
		}
		wg.Wait()
	} else {
		interval := time.Duration(float64(time.Minute) / rate)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range c.n {
			time.Sleep(time.Until(res.start.Add(time.Duration(i) * interval)))
			wg.Go(func() {
				if err := put(i); err != nil {
					mu.Lock()
					uerr = errors.Join(uerr, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	if uerr != nil {
		return nil, uerr
	}
	res.uploaded = time.Now()

	deadline := time.Now().Add(10*time.Minute + time.Duration(c.n)*time.Second)
	for {
		counts, err := idx.StatusCounts(ctx, hark.CountFilter{Batch: batch})
		if err != nil {
			return nil, err
		}
		if counts[hark.StatusReady]+counts[hark.StatusFailed] == c.n {
			res.failed = counts[hark.StatusFailed]
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: not done after %s: %v", phase, time.Since(res.start).Round(time.Second), counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	list, err := idx.Recordings(ctx, hark.RecordingFilter{Batch: batch, Limit: c.n + 1})
	if err != nil {
		return nil, err
	}
	updated := make(map[string]time.Time, len(list))
	for _, r := range list {
		updated[r.ID] = r.UpdatedAt
		if r.UpdatedAt.After(res.lastReady) {
			res.lastReady = r.UpdatedAt
		}
	}
	for _, u := range uploads {
		if t, ok := updated[u.id]; ok {
			res.latencies = append(res.latencies, t.Sub(u.done))
		}
	}
	slices.Sort(res.latencies)
	return res, nil
}

func (r *result) print() {
	total := r.lastReady.Sub(r.start)
	perMin := float64(r.n) / total.Minutes()
	mode := "as fast as possible"
	if r.rate > 0 {
		mode = fmt.Sprintf("paced at %.0f/min", r.rate)
	}
	fmt.Printf("\n%s (%d recordings, uploads %s):\n", r.phase, r.n, mode)
	fmt.Printf("  uploads took      %8s\n", r.uploaded.Sub(r.start).Round(time.Millisecond))
	fmt.Printf("  first upload → last ready %s: %.0f recordings/minute\n", total.Round(time.Millisecond), perMin)
	fmt.Printf("  upload → ready    p50 %s  p95 %s  p99 %s  max %s\n",
		pct(r.latencies, 50), pct(r.latencies, 95), pct(r.latencies, 99), pct(r.latencies, 100))
	if r.failed > 0 {
		fmt.Printf("  FAILED: %d recordings\n", r.failed)
	}
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))].Round(time.Millisecond)
}

type workerProc struct {
	cmd  *exec.Cmd
	http string
}

func startWorker(c config, dir string, i int, s3URL, natsURL, ak, sk, token string) (*workerProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	w := &workerProc{http: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	logFile, err := os.Create(filepath.Join(dir, fmt.Sprintf("worker%d.log", i)))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	w.cmd = exec.Command(c.harkBin, "worker", "--s3", s3URL, "--nats", natsURL, "--bucket", bucket,
		"--http", w.http, "--concurrency", strconv.Itoa(c.concurrency), "--reconcile-interval=-1s",
		"--data-dir", filepath.Join(dir, fmt.Sprintf("worker%d", i)), "--log-level", "warn")
	w.cmd.Dir = dir
	w.cmd.Stdout, w.cmd.Stderr = logFile, logFile
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HARK_") {
			w.cmd.Env = append(w.cmd.Env, kv)
		}
	}
	w.cmd.Env = append(w.cmd.Env, "HARK_S3_ACCESS_KEY="+ak, "HARK_S3_SECRET_KEY="+sk, "HARK_NATS_TOKEN="+token, "HARK_DB="+c.db)
	if err := w.cmd.Start(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *workerProc) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if resp, err := client.Get("http://" + w.http + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("worker on %s not ready after %s", w.http, timeout)
}

// syntheticRecording returns a WAV of d at 16 kHz mono 16-bit — a quiet
// tone with a louder "utterance" in the middle — and a WebVTT transcript
// with one cue over it.
func syntheticRecording(d time.Duration) (wav, vtt []byte) {
	const rate = 16000
	frames := int(d.Seconds() * rate)
	var b bytes.Buffer
	b.WriteString("RIFF")
	le := binary.LittleEndian
	h := le.AppendUint32(nil, uint32(36+2*frames))
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, 16)
	h = le.AppendUint16(h, 1) // PCM
	h = le.AppendUint16(h, 1) // mono
	h = le.AppendUint32(h, rate)
	h = le.AppendUint32(h, 2*rate)
	h = le.AppendUint16(h, 2)
	h = le.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = le.AppendUint32(h, uint32(2*frames))
	b.Write(h)
	for i := range frames {
		amp := 300.0
		if i > rate/4 && i < frames-rate/4 {
			amp = 6000
		}
		b.Write(le.AppendUint16(nil, uint16(int16(amp*math.Sin(2*math.Pi*220*float64(i)/rate)))))
	}
	vtt = []byte("WEBVTT\n\n00:00:00.250 --> 00:00:01.750\n<v Worker>What would help you most this week?\n")
	return b.Bytes(), vtt
}

func backend(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return "PostgreSQL"
	}
	return "SQLite"
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
