package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/pipeline"
	"github.com/harkworks/hark/s3server"
	"github.com/harkworks/hark/transcribe"
)

// bucket is the bucket every test uses.
const bucket = "recordings"

// partSize is the multipart part size of the tests' uploads: minio-go's
// smallest, so that a testdata meeting over 5 MiB goes up in parts.
const partSize = 5 << 20

// options configure a harness.
type options struct {
	// AckWait of the consumers and the workers. Default 10s, long enough
	// that a busy CI machine never redelivers by accident; tests that want
	// redeliveries set 2-3 s.
	AckWait time.Duration
	// MaxDeliver of the consumers and the workers. Default 8.
	MaxDeliver int
	// NoEvents starts the S3 server without its upload hook, so that only
	// the reconciler (or events the test publishes) finds uploads.
	NoEvents bool
	// DSN of the index; default a fresh PostgreSQL schema when
	// HARK_TEST_POSTGRES is set, else an SQLite file in the test's directory.
	DSN string
	// StoreFault, when set, puts a proxy between the workers and the S3
	// server that does to each request what it returns. key is the object
	// key.
	StoreFault func(method, key string) fault
}

// fault is what the faulty store proxy does to a request.
type fault int

const (
	pass   fault = iota // forward it
	refuse              // answer 503 SlowDown, as a store in trouble does
	cut                 // forward it, then drop the connection after cutAfter bytes of the response body
)

// cutAfter is how much of a cut response gets through.
const cutAfter = 64 << 10

// harness is one team deployment under test: NATS and the S3 server in this
// process, an index, and hark worker processes.
type harness struct {
	t    *testing.T
	opts options
	dir  string

	token    string
	natsDir  string
	natsPort int
	nats     *ingest.NATSServer

	ak, sk         string
	s3Dir          string
	s3Addr         string
	s3             *s3server.Server
	proxy          *http.Server // the faulty store in front of s3, when opts.StoreFault is set
	proxyURL       string
	proxyTransport *http.Transport

	q     *ingest.Queue
	store *ingest.Store
	mc    *minio.Client
	dsn   string
	idx   *index.DB

	mu       sync.Mutex
	workers  []*worker
	expected map[string]*expectation
}

// expectation is what a test expects of the recording of one key.
type expectation struct {
	meeting  string // the testdata meeting the object is a copy of; "" for an expected failure
	reason   string // a part of the reason of an expected failure
	attempts int    // the attempt count wanted; 0: any
}

// newHarness starts NATS (with the stream and consumers), the S3 server
// (with the bucket) and the index. Workers are started by the test.
func newHarness(t *testing.T, opts options) *harness {
	t.Helper()
	if opts.AckWait == 0 {
		opts.AckWait = 10 * time.Second
	}
	if opts.MaxDeliver == 0 {
		opts.MaxDeliver = 8
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t: t, opts: opts, dir: dir,
		token: randHex(16), ak: "hark" + randHex(6), sk: randHex(20),
		natsDir: filepath.Join(dir, "nats"), natsPort: freePort(t),
		s3Dir: filepath.Join(dir, "s3"), s3Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		expected: map[string]*expectation{},
	}
	// The index first: a fresh schema is dropped by a cleanup of its own,
	// which must run after h.close has stopped the workers.
	h.dsn = opts.DSN
	if h.dsn == "" {
		h.dsn = indexDSN(t, dir)
	}
	t.Cleanup(h.close)
	ctx := context.Background()

	h.startNATS()
	h.q, err = ingest.Connect(ctx, ingest.QueueConfig{URL: h.nats.URL(), Token: h.token, AckWait: opts.AckWait, MaxDeliver: opts.MaxDeliver, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.q.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	h.startS3()
	h.mc, err = minio.New(h.s3Addr, &minio.Options{Creds: credentials.NewStaticV4(h.ak, h.sk, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	if opts.StoreFault != nil {
		h.startProxy()
	}
	h.store, err = ingest.NewStore(ingest.StoreConfig{Endpoint: h.s3URL(), AccessKey: h.ak, SecretKey: h.sk, Region: "us-east-1", Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	// Opened (and migrated) here first, so the workers find the schema.
	if h.idx, err = index.Open(ctx, h.dsn); err != nil {
		t.Fatalf("open index: %v", err)
	}
	return h
}

// indexDSN is a fresh index for one test: a PostgreSQL schema when
// HARK_TEST_POSTGRES is set, else an SQLite file in dir.
func indexDSN(t *testing.T, dir string) string {
	if dsn := os.Getenv("HARK_TEST_POSTGRES"); dsn != "" {
		return freshSchema(t, dsn)
	}
	return filepath.Join(dir, "index.db")
}

func (h *harness) startNATS() {
	h.t.Helper()
	n, err := ingest.StartNATSServer(ingest.NATSServerConfig{StoreDir: h.natsDir, Host: "127.0.0.1", Port: h.natsPort, Token: h.token})
	if err != nil {
		h.t.Fatal(err)
	}
	h.nats = n
}

// restartNATS shuts the NATS server down and starts it again on the same
// port and store directory.
func (h *harness) restartNATS(down time.Duration) {
	h.t.Helper()
	h.nats.Close(context.Background())
	h.nats = nil
	time.Sleep(down)
	h.startNATS()
}

func (h *harness) natsURL() string {
	return "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(h.natsPort))
}

// startS3 starts the S3 server on h.s3Addr over h.s3Dir, with the upload
// hook that `hark store` and `hark up` install unless opts.NoEvents.
func (h *harness) startS3() {
	h.t.Helper()
	cfg := s3server.Config{Dir: h.s3Dir, Addr: h.s3Addr, AccessKey: h.ak, SecretKey: h.sk,
		Logf: func(f string, a ...any) { h.t.Logf("s3 server: "+f, a...) }}
	if !h.opts.NoEvents {
		cfg.Notify = h.notify
	}
	s, err := s3server.Start(context.Background(), cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	h.s3 = s
}

// stopS3 stops the S3 server; startS3 starts it again on the same address
// and directory.
func (h *harness) stopS3() {
	h.t.Helper()
	if err := h.s3.Close(context.Background()); err != nil {
		h.t.Errorf("stop s3 server: %v", err)
	}
	h.s3 = nil
}

func (h *harness) s3URL() string { return "http://" + h.s3Addr }

// workerS3URL is the store the workers talk to: the faulty proxy when the
// test has one, else the S3 server.
func (h *harness) workerS3URL() string {
	if h.proxyURL != "" {
		return h.proxyURL
	}
	return h.s3URL()
}

// startProxy starts a reverse proxy to the S3 server that fails the
// requests opts.StoreFault picks with 503 SlowDown. It keeps the Host
// header, so the clients' signatures stay valid.
func (h *harness) startProxy() {
	h.t.Helper()
	target, _ := url.Parse(h.s3URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	rp.Transport = tr
	h.proxyTransport = tr
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Context().Value(cutKey{}) != nil {
			resp.Body = &cutBody{ReadCloser: resp.Body, left: cutAfter}
		}
		return nil
	}
	// A cut body makes the proxy abort the connection mid-response.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	h.proxyURL = "http://" + l.Addr().String()
	h.proxy = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"+bucket), "/")
		switch h.opts.StoreFault(r.Method, key) {
		case cut:
			r = r.WithContext(context.WithValue(r.Context(), cutKey{}, true))
		case refuse:
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>injected by the fault tests</Message><Key>%s</Key></Error>`, html.EscapeString(key))
			return
		}
		rp.ServeHTTP(w, r)
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go h.proxy.Serve(l)
}

type cutKey struct{}

// cutBody ends a response body with an error after left bytes, which makes
// the reverse proxy abort the connection: the client sees the body end
// early, as when a connection drops.
type cutBody struct {
	io.ReadCloser
	left int
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("connection cut by the fault tests")
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= n
	return n, err
}

// announced mirrors the filter of cmd/hark's notifier: which uploads
// publish an event. Keep the two the same.
func announced(key string) bool {
	return !pipeline.IsCompanion(key, nil)
}

// notify publishes the S3 event of a stored recording, as cmd/hark's
// notifier does for `hark store` and `hark up`.
func (h *harness) notify(ctx context.Context, obj s3server.Created) error {
	if !announced(obj.Key) {
		return nil
	}
	info := hark.ObjectInfo{Key: obj.Key, ETag: obj.ETag, Size: obj.Size}
	return h.q.Publish(ctx, hark.SubjectUploaded, ingest.UploadMsgID(obj.Bucket, obj.Key, obj.ETag), ingest.NewUploadEvent(obj.Bucket, info, time.Now()))
}

// close stops the workers, dumps their logs if the test failed, and stops
// the servers.
func (h *harness) close() {
	h.mu.Lock()
	workers := slices.Clone(h.workers)
	h.mu.Unlock()
	for _, w := range workers {
		w.kill()
	}
	if h.t.Failed() || os.Getenv("HARK_FAULTS_LOGS") != "" {
		h.dumpLogs()
	}
	if h.idx != nil {
		h.idx.Close()
	}
	if h.q != nil {
		h.q.Close(context.Background())
	}
	if h.proxy != nil {
		h.proxy.Close()
		h.proxyTransport.CloseIdleConnections()
	}
	if h.store != nil {
		h.store.Close(context.Background()) // its idle connections to the S3 server
	}
	if h.s3 != nil {
		if err := h.s3.Close(context.Background()); err != nil {
			h.t.Logf("stop s3 server: %v", err)
		}
	}
	if h.nats != nil {
		h.nats.Close(context.Background())
	}
}

// dumpLogs writes the end of every worker's log into the test's output.
func (h *harness) dumpLogs() {
	const maxLines = 300
	for _, w := range h.workers {
		lines := strings.Split(strings.TrimRight(w.log(), "\n"), "\n")
		cut := ""
		if len(lines) > maxLines {
			cut = fmt.Sprintf(" (last %d of %d lines)", maxLines, len(lines))
			lines = lines[len(lines)-maxLines:]
		}
		h.t.Logf("--- worker %s (pid %d) stderr%s:\n%s", w.name, w.pid(), cut, strings.Join(lines, "\n"))
	}
}

// workerOpts configure one worker process.
type workerOpts struct {
	Delay       time.Duration // HARK_FAULT_ENGINE_DELAY; 0: none
	Stages      string        // default transcribe,annotate
	Concurrency int           // default 2
	Reconcile   time.Duration // --reconcile-interval; 0: never
	Env         []string      // more KEY=value settings, e.g. a speech engine
}

// worker is one `hark worker` process.
type worker struct {
	h       *harness
	name    string
	cmd     *exec.Cmd
	logPath string
	http    string
	done    chan struct{}
	err     error // how the process ended, once done is closed
}

// startWorker starts `hark worker` with the secrets in its environment and
// waits until its /readyz answers 200.
func (h *harness) startWorker(name string, o workerOpts) *worker {
	h.t.Helper()
	if o.Stages == "" {
		o.Stages = "transcribe,annotate"
	}
	if o.Concurrency == 0 {
		o.Concurrency = 2
	}
	if o.Reconcile == 0 {
		o.Reconcile = -1
	}
	w := &worker{h: h, name: name, http: net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(h.t))),
		logPath: filepath.Join(h.dir, name+".log"), done: make(chan struct{})}
	logFile, err := os.OpenFile(w.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		h.t.Fatal(err)
	}
	defer logFile.Close()
	w.cmd = exec.Command(harkBin, "worker",
		"--s3", h.workerS3URL(), "--nats", h.natsURL(), "--bucket", bucket, "--http", w.http,
		"--ack-wait", h.opts.AckWait.String(), "--max-deliver", strconv.Itoa(h.opts.MaxDeliver),
		"--stages", o.Stages, "--concurrency", strconv.Itoa(o.Concurrency),
		"--reconcile-interval="+o.Reconcile.String(),
		"--data-dir", w.dataDir(), "--log-level", "info")
	w.cmd.Dir = h.dir
	w.cmd.Stdout, w.cmd.Stderr = logFile, logFile
	w.cmd.Env = append(baseEnv(),
		"HARK_S3_ACCESS_KEY="+h.ak, "HARK_S3_SECRET_KEY="+h.sk, "HARK_NATS_TOKEN="+h.token, "HARK_DB="+h.dsn,
		// No speech engine: the faults are the pipeline's, and a recording
		// without a transcript next to it must fail at once.
		"HARK_SPHINX_PROGRAM=off")
	if o.Delay > 0 {
		w.cmd.Env = append(w.cmd.Env, "HARK_FAULT_ENGINE_DELAY="+o.Delay.String())
	}
	w.cmd.Env = append(w.cmd.Env, o.Env...)
	dieWithTest(w.cmd)
	if err := w.cmd.Start(); err != nil {
		h.t.Fatalf("start worker %s: %v", name, err)
	}
	go func() {
		w.err = w.cmd.Wait()
		close(w.done)
	}()
	h.mu.Lock()
	h.workers = append(h.workers, w)
	h.mu.Unlock()

	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + w.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return w
			}
		}
		select {
		case <-w.done:
			h.t.Fatalf("worker %s exited at start: %v\n%s", name, w.err, w.log())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("worker %s not ready after 30s\n%s", name, w.log())
		}
	}
}

// baseEnv is this process's environment without any HARK_ setting, so that
// a developer's shell does not leak into the workers.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HARK_") {
			env = append(env, kv)
		}
	}
	return env
}

// dataDir is the worker's --data-dir, the same for every worker of one
// name: a restarted worker finds what its predecessor left.
func (w *worker) dataDir() string { return filepath.Join(w.h.dir, w.name+"-data") }

func (w *worker) pid() int {
	if w.cmd.Process == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

// log returns what the worker has written to stderr so far.
func (w *worker) log() string {
	data, _ := os.ReadFile(w.logPath)
	return string(data)
}

func (w *worker) signal(sig syscall.Signal) {
	w.h.t.Helper()
	if err := w.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		w.h.t.Fatalf("signal %v to worker %s: %v", sig, w.name, err)
	}
}

func (w *worker) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the worker to finish the work in hand
// and exit. It returns how long that took, and fails the test if the
// worker does not exit cleanly within timeout.
func (w *worker) stop(timeout time.Duration) time.Duration {
	w.h.t.Helper()
	start := time.Now()
	w.signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(timeout):
		w.kill()
		w.h.t.Fatalf("worker %s did not stop within %s of SIGTERM", w.name, timeout)
	}
	if w.err != nil {
		w.h.t.Errorf("worker %s exited with %v after SIGTERM", w.name, w.err)
	}
	return time.Since(start)
}

// kill ends the worker with SIGKILL (waking it first if it is stopped) and
// waits for it to be gone.
func (w *worker) kill() {
	if w.exited() {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGCONT)
	_ = w.cmd.Process.Kill()
	<-w.done
}

// waitLog waits until the worker's log contains s.
func (w *worker) waitLog(s string, timeout time.Duration) {
	w.h.t.Helper()
	w.h.eventually(timeout, fmt.Sprintf("worker %s logs %q", w.name, s), func() (bool, string) {
		return strings.Contains(w.log(), s), ""
	})
}

// eventually polls cond every 50ms until it holds, and fails the test after
// timeout with what cond last said.
func (h *harness) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("after %s, still waiting for %s: %s", timeout, what, detail)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// meeting is one testdata meeting: the WAV, its WebVTT transcript, and what
// the engine and tagger make of it when run in this process.
type meeting struct {
	wav, vtt []byte
	cues     []hark.Segment
	tags     []string // canonical tags of a reference run, sorted
}

var (
	meetingsMu sync.Mutex
	meetings   = map[string]*meeting{}
)

// loadMeeting reads a testdata meeting and makes its reference run: the
// sidecar engine and the default tagger with the built-in codebook, called
// directly, as a worker calls them.
func loadMeeting(t *testing.T, name string) *meeting {
	t.Helper()
	meetingsMu.Lock()
	defer meetingsMu.Unlock()
	if m, ok := meetings[name]; ok {
		return m
	}
	m := &meeting{}
	var err error
	if m.wav, err = os.ReadFile(filepath.Join(meetingsDir, name+".wav")); err != nil {
		t.Fatal(err)
	}
	if m.vtt, err = os.ReadFile(filepath.Join(meetingsDir, name+".vtt")); err != nil {
		t.Fatal(err)
	}
	if m.cues, err = transcribe.ParseVTT(name+".vtt", m.vtt); err != nil {
		t.Fatal(err)
	}
	m.tags = referenceTags(t, name, m)
	meetings[name] = m
	return m
}

// put stores data at key through the S3 API, in parts when it is larger
// than partSize.
func (h *harness) put(key string, data []byte, contentType string, meta map[string]string) minio.UploadInfo {
	h.t.Helper()
	info, err := h.mc.PutObject(context.Background(), bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType, UserMetadata: meta, PartSize: partSize})
	if err != nil {
		h.t.Fatalf("put %q: %v", key, err)
	}
	return info
}

// upload stores a testdata meeting at key (a .wav) with its WebVTT
// transcript next to it, the transcript first, and expects one recording of
// it, done once.
func (h *harness) upload(key, name string, meta map[string]string) minio.UploadInfo {
	h.t.Helper()
	m := loadMeeting(h.t, name)
	h.put(sidecarKey(key), m.vtt, "text/vtt", nil)
	info := h.put(key, m.wav, "audio/wav", meta)
	h.expect(key, name, 1)
	return info
}

// expect records that key should end as a ready recording of the named
// meeting after the given number of attempts (0: any).
func (h *harness) expect(key, meeting string, attempts int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.expected[key] = &expectation{meeting: meeting, attempts: attempts}
}

// expectFailed records that key should end as a failed recording whose
// reason contains reason.
func (h *harness) expectFailed(key, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.expected[key] = &expectation{reason: reason}
}

func sidecarKey(key string) string { return strings.TrimSuffix(key, path.Ext(key)) + ".vtt" }

// recordings returns the index's recordings grouped by key.
func (h *harness) recordings() map[string][]hark.RecordingSummary {
	h.t.Helper()
	out, err := h.tryRecordings()
	if err != nil {
		h.t.Fatalf("list recordings: %v", err)
	}
	return out
}

// tryRecordings is recordings for polling, which goes on through an error
// (the database may be down on purpose).
func (h *harness) tryRecordings() (map[string][]hark.RecordingSummary, error) {
	list, err := h.idx.Recordings(context.Background(), hark.RecordingFilter{Limit: 100000})
	if err != nil {
		return nil, err
	}
	out := map[string][]hark.RecordingSummary{}
	for _, r := range list {
		out[r.Key] = append(out[r.Key], r)
	}
	return out, nil
}

// recording waits until key has exactly one recording and returns it.
func (h *harness) recording(key string) *hark.Recording {
	h.t.Helper()
	var rec *hark.Recording
	h.eventually(30*time.Second, "a recording of "+key, func() (bool, string) {
		recs, err := h.tryRecordings()
		if err != nil {
			return false, err.Error()
		}
		rs := recs[key]
		if len(rs) == 1 {
			rec = &rs[0].Recording
		}
		return len(rs) == 1, fmt.Sprintf("%d recordings", len(rs))
	})
	return rec
}

// waitStatus waits until key's recording has the status and attempts.
func (h *harness) waitStatus(key string, status hark.Status, attempts int, timeout time.Duration) *hark.Recording {
	h.t.Helper()
	var rec *hark.Recording
	h.eventually(timeout, fmt.Sprintf("%s %s after %d attempt(s)", key, status, attempts), func() (bool, string) {
		recs, err := h.tryRecordings()
		if err != nil {
			return false, err.Error()
		}
		rs := recs[key]
		if len(rs) != 1 {
			return false, fmt.Sprintf("%d recordings", len(rs))
		}
		rec = &rs[0].Recording
		return rec.Status == status && rec.Attempts == attempts, fmt.Sprintf("%s after %d attempt(s)", rec.Status, rec.Attempts)
	})
	return rec
}

// pending returns the messages waiting or unacknowledged per consumer.
func (h *harness) pending() (map[string]int, error) {
	out := map[string]int{}
	for _, c := range []string{ingest.ConsumerTranscribe, ingest.ConsumerAnnotate} {
		n, err := h.q.Pending(context.Background(), c)
		if err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, nil
}

// waitDone waits until every expected key has a recording in a final
// state and neither consumer has a message waiting or unacknowledged. It
// returns how long that took.
func (h *harness) waitDone(timeout time.Duration) time.Duration {
	h.t.Helper()
	start := time.Now()
	h.eventually(timeout, "every recording ready or failed and the queue drained", func() (bool, string) {
		recs, err := h.tryRecordings()
		if err != nil {
			return false, err.Error()
		}
		var notDone []string
		h.mu.Lock()
		for key := range h.expected {
			rs := recs[key]
			if len(rs) == 0 {
				notDone = append(notDone, fmt.Sprintf("%q: no recording", key))
				continue
			}
			for _, r := range rs {
				if !r.Done() {
					notDone = append(notDone, fmt.Sprintf("%q: %s after %d attempt(s)", key, r.Status, r.Attempts))
				}
			}
		}
		h.mu.Unlock()
		if len(notDone) > 0 {
			slices.Sort(notDone)
			return false, strings.Join(notDone, "; ")
		}
		p, err := h.pending()
		if err != nil {
			return false, err.Error()
		}
		return p[ingest.ConsumerTranscribe] == 0 && p[ingest.ConsumerAnnotate] == 0, fmt.Sprintf("pending %v", p)
	})
	return time.Since(start)
}

// verify checks the end state against the expectations: one recording per
// expected key and no other; each ready one transcribed once with the
// meeting's cues and the reference run's tags, the same in the index and
// in the object store, after the expected attempts; each failed one with
// its reason; the status counts; and an empty queue.
func (h *harness) verify() {
	h.t.Helper()
	ctx := context.Background()
	recs := h.recordings()
	h.mu.Lock()
	expected := make(map[string]expectation, len(h.expected))
	for k, e := range h.expected {
		expected[k] = *e
	}
	h.mu.Unlock()
	wantCounts := map[hark.Status]int{}
	for key, exp := range expected {
		rs := recs[key]
		if len(rs) != 1 {
			h.t.Errorf("%q: %d recordings, want 1", key, len(rs))
			continue
		}
		r := rs[0].Recording
		if exp.meeting == "" {
			wantCounts[hark.StatusFailed]++
			if r.Status != hark.StatusFailed || !strings.Contains(r.Reason, exp.reason) {
				h.t.Errorf("%q: %s %q, want failed with a reason containing %q", key, r.Status, r.Reason, exp.reason)
			}
			h.checkStored(key, &r)
			continue
		}
		wantCounts[hark.StatusReady]++
		if r.Status != hark.StatusReady {
			h.t.Errorf("%q: %s (%s: %s), want ready", key, r.Status, r.Stage, r.Reason)
			continue
		}
		if exp.attempts != 0 && r.Attempts != exp.attempts {
			h.t.Errorf("%q: %d attempts, want %d", key, r.Attempts, exp.attempts)
		}
		h.checkSession(key, exp.meeting, &r)
	}
	for key, rs := range recs {
		if _, ok := expected[key]; !ok {
			for _, r := range rs {
				h.t.Errorf("unexpected recording %s of %q: %s", r.ID, key, r.Status)
			}
		}
	}
	counts, err := h.idx.StatusCounts(ctx, hark.CountFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	if !equalCounts(counts, wantCounts) {
		h.t.Errorf("status counts %v, want %v", counts, wantCounts)
	}
	p, err := h.pending()
	if err != nil {
		h.t.Fatal(err)
	}
	if p[ingest.ConsumerTranscribe] != 0 || p[ingest.ConsumerAnnotate] != 0 {
		h.t.Errorf("messages still pending: %v", p)
	}
}

// checkSession checks one ready recording's transcript and tags, in the
// index and in the object store.
func (h *harness) checkSession(key, name string, r *hark.Recording) {
	h.t.Helper()
	ctx := context.Background()
	m := loadMeeting(h.t, name)
	s, err := h.idx.Session(ctx, r.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	if s.Transcript == nil || len(s.Transcript.Segments) != len(m.cues) {
		n := -1
		if s.Transcript != nil {
			n = len(s.Transcript.Segments)
		}
		h.t.Errorf("%q: transcript has %d segments in the index, want %d (the cues of %s.vtt)", key, n, len(m.cues), name)
	} else {
		for i, seg := range s.Transcript.Segments {
			if seg.Index != i || seg.Text != m.cues[i].Text || seg.Start != m.cues[i].Start {
				h.t.Errorf("%q: segment %d differs from cue %d of %s.vtt", key, i, i, name)
				break
			}
		}
	}
	var got []string
	if s.Annotations != nil {
		got = canonicalTags(s.Annotations.Tags)
	}
	if !slices.Equal(got, m.tags) {
		// Codes and places only: test output carries no transcript text.
		h.t.Errorf("%q: %d tags, want the reference run's %d:\n got %v\nwant %v", key, len(got), len(m.tags), tagPlaces(got), tagPlaces(m.tags))
	}
	h.checkStored(key, r)
	var tr hark.Transcript
	if err := h.getJSON(hark.TranscriptKey(r.ID), &tr); err != nil {
		h.t.Errorf("%q: %v", key, err)
	} else if len(tr.Segments) != len(m.cues) {
		h.t.Errorf("%q: the store's transcript.json has %d segments, want %d", key, len(tr.Segments), len(m.cues))
	}
	var an hark.Annotations
	if err := h.getJSON(hark.AnnotationsKey(r.ID), &an); err != nil {
		h.t.Errorf("%q: %v", key, err)
	} else if got := canonicalTags(an.Tags); !slices.Equal(got, m.tags) {
		h.t.Errorf("%q: the store's annotations.json has %d tags, want the reference run's %d", key, len(got), len(m.tags))
	}
}

// checkStored checks that the object store — the system of record, from
// which `hark reindex` rebuilds the index — holds the recording in the same
// state as the index.
func (h *harness) checkStored(key string, r *hark.Recording) {
	h.t.Helper()
	var stored hark.Recording
	if err := h.getJSON(hark.RecordingKey(r.ID), &stored); err != nil {
		h.t.Errorf("%q: the store has no recording.json (the index says %s): %v", key, r.Status, err)
	} else if stored.Status != r.Status || stored.Attempts != r.Attempts {
		h.t.Errorf("%q: the store's recording.json is %s after %d attempt(s), the index's %s after %d", key, stored.Status, stored.Attempts, r.Status, r.Attempts)
	}
}

func (h *harness) getJSON(key string, v any) error {
	r, _, err := h.store.Get(context.Background(), key)
	if err != nil {
		return err
	}
	defer r.Close()
	return json.NewDecoder(r).Decode(v)
}

// snapshot summarises what the index holds about every recording, for
// checking that something changed nothing.
func (h *harness) snapshot() string {
	h.t.Helper()
	ctx := context.Background()
	list, err := h.idx.Recordings(ctx, hark.RecordingFilter{Limit: 100000})
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range list {
		s, err := h.idx.Session(ctx, r.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		segs, tags := 0, 0
		if s.Transcript != nil {
			segs = len(s.Transcript.Segments)
		}
		if s.Annotations != nil {
			tags = len(s.Annotations.Tags)
		}
		fmt.Fprintf(&b, "%q %s %s attempts=%d segments=%d tags=%d updated=%s\n", r.Key, r.ETag, r.Status, r.Attempts, segs, tags, r.UpdatedAt.Format(time.RFC3339Nano))
	}
	return b.String()
}

func equalCounts(got, want map[hark.Status]int) bool {
	for _, s := range hark.Statuses {
		if got[s] != want[s] {
			return false
		}
	}
	return len(got) <= len(hark.Statuses)
}

// canonicalTags turns tags into sorted strings of what a tagger decides.
func canonicalTags(tags []hark.Tag) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		out = append(out, fmt.Sprintf("%d %s %d-%d %.3f %s %q", t.Segment, t.Code, t.Start, t.End, t.Confidence, t.Source, t.Evidence))
	}
	slices.Sort(out)
	return out
}

// tagPlaces cuts canonical tags down to segment, code and offsets.
func tagPlaces(tags []string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		f := strings.Fields(t)
		out[i] = strings.Join(f[:min(3, len(f))], " ")
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// readAll reads a file the test needs, failing the test if it cannot.
func readAll(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
