package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harkworks/hark"
)

// logScanPhrase is planted in a sidecar transcript; it must never reach a log.
const logScanPhrase = "quince-lighthouse-5521"

// syncBuffer is a bytes.Buffer that several goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogsHoldNoSecretsOrText runs `hark up` as the binary does (flags and
// environment, its slog output at debug level captured, and the standard
// logger's), over TLS, with planted credentials: the S3 keys and the NATS
// token (in secrets.json and as *_FILE for the CLI), an LLM API key and an
// OIDC client secret (as *_FILE). A recording whose sidecar transcript holds
// a distinctive phrase is uploaded, tagged by rules+llm against a fake LLM
// server (which answers 503 once, then drops a bad tag), and viewed by a
// coach; the sign-in page's single sign-on fails against an issuer that
// answers nothing. Afterwards no log line at any level holds a planted
// secret or the phrase (hark logs no transcript text at debug either).
func TestLogsHoldNoSecretsOrText(t *testing.T) {
	data, files := t.TempDir(), t.TempDir()
	secrets := Secrets{
		S3AccessKey: "harkplantedaccess9f3c",
		S3SecretKey: "planted-s3-secret-6d1e0a7b2c",
		NATSToken:   "planted-nats-token-41b7e9",
	}
	const llmKey, oidcSecret = "sk-planted-llm-key-77aa31", "planted-oidc-secret-0c9d52"
	planted := []string{secrets.S3AccessKey, secrets.S3SecretKey, secrets.NATSToken, llmKey, oidcSecret}
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeJSONFile(filepath.Join(data, secretsFile), &secrets, 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := func(name, value string) {
		path := filepath.Join(files, strings.ToLower(name))
		if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv(name+"_FILE", path)
	}
	secretFile("HARK_S3_ACCESS_KEY", secrets.S3AccessKey)
	secretFile("HARK_S3_SECRET_KEY", secrets.S3SecretKey)
	secretFile("HARK_NATS_TOKEN", secrets.NATSToken)
	secretFile("HARK_LLM_API_KEY", llmKey)
	secretFile("HARK_OIDC_CLIENT_SECRET", oidcSecret)

	llm := newScanLLM(t, llmKey)
	issuer := httptest.NewServer(http.NotFoundHandler()) // discovery fails
	t.Cleanup(issuer.Close)
	certFile, keyFile, pool := scanCert(t, files)
	t.Setenv("HARK_TAGGER", "rules+llm")
	t.Setenv("HARK_LLM_BASE_URL", llm.URL+"/v1")
	t.Setenv("HARK_LLM_MODEL", "scan-model")
	t.Setenv("HARK_TLS_CERT", certFile)
	t.Setenv("HARK_TLS_KEY", keyFile)
	t.Setenv("HARK_OIDC_ISSUER", issuer.URL)
	t.Setenv("HARK_OIDC_CLIENT_ID", "hark-scan")
	t.Setenv("HARK_OIDC_REDIRECT_URL", "https://127.0.0.1/signin/sso/callback")

	// The standard logger too: libraries hark embeds may write to it.
	logs := &syncBuffer{}
	log.SetOutput(logs)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	upOut := &syncBuffer{}
	upDone := make(chan error, 1)
	go func() {
		root := newRootCmd(upOut, logs)
		root.SetArgs([]string{"up", "--data-dir", data, "--log-level", "debug", "--http", "127.0.0.1:0"})
		upDone <- root.ExecuteContext(ctx)
	}()
	base := waitForUp(t, data, upDone, upOut)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("hark up with HARK_TLS_CERT serves %s, want https://", base)
	}

	var cli bytes.Buffer // every CLI command's output, scanned too
	run := func(args ...string) string {
		t.Helper()
		out, err := runHark(t, data, "", append(args, "--log-level", "debug")...)
		cli.WriteString(out)
		if err != nil {
			t.Fatalf("hark %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	dir := t.TempDir()
	copyFile(t, filepath.Join(meetingsDir, "partnership.wav"), filepath.Join(dir, "scan.wav"))
	vtt, err := os.ReadFile(filepath.Join(meetingsDir, "partnership.vtt"))
	if err != nil {
		t.Fatal(err)
	}
	if vtt = bytes.Replace(vtt, []byte("school"), []byte(logScanPhrase), 1); !bytes.Contains(vtt, []byte(logScanPhrase)) {
		t.Fatal("the phrase was not planted: the test proves nothing")
	}
	if err := os.WriteFile(filepath.Join(dir, "scan.vtt"), vtt, 0o600); err != nil {
		t.Fatal(err)
	}
	m := batchRe.FindStringSubmatch(run("upload", filepath.Join(dir, "scan.wav"), "--team", "North"))
	if m == nil {
		t.Fatalf("no batch id in upload output:\n%s", cli.String())
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var r StatusReport
		if err := json.Unmarshal([]byte(run("status", "--batch", m[1], "--json")), &r); err != nil {
			t.Fatalf("status --json: %v", err)
		}
		if r.Statuses[hark.StatusReady] == 1 {
			break
		}
		if r.Statuses[hark.StatusFailed] > 0 || time.Now().After(deadline) {
			t.Fatalf("recording not ready: %+v\nlogs:\n%s", r, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if llm.served() < 2 {
		t.Fatalf("the LLM server answered %d requests: the LLM tagger's paths were not run", llm.served())
	}

	// A coach signs in over TLS and reviews the recording.
	run("user", "add", "scan-coach", "--role", "coach", "--team", "North")
	link := strings.TrimSpace(strings.SplitN(run("user", "link", "scan-coach"), "\n", 2)[0])
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	coach := &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			for _, c := range req.Response.Cookies() {
				if !c.Secure {
					t.Errorf("cookie %s is not Secure under TLS", c.Name)
				}
			}
			return nil
		}}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := coach.Get(strings.Replace(path, "BASE", base, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if st, _ := get(link); st != http.StatusOK {
		t.Fatalf("sign-in link: %d", st)
	}
	var list struct {
		Recordings []struct {
			ID string `json:"id"`
		} `json:"recordings"`
	}
	st, body := get("BASE/api/recordings")
	if err := json.Unmarshal([]byte(body), &list); st != http.StatusOK || err != nil || len(list.Recordings) != 1 {
		t.Fatalf("GET /api/recordings: %d %v %s", st, err, body)
	}
	id := list.Recordings[0].ID
	if st, body := get("BASE/recordings/" + id); st != http.StatusOK || !strings.Contains(body, logScanPhrase) {
		t.Fatalf("the review page (%d) does not show the transcript with the phrase", st)
	}
	for _, p := range []string{"BASE/api/recordings/" + id, "BASE/recordings/" + id + "/sheet", "BASE/recordings/" + id + "/export/vtt", "BASE/recordings/" + id + "/audio", "BASE/signin/sso"} {
		get(p)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP to hark up's TLS port was served")
		}
	}

	cancel()
	select {
	case err := <-upDone:
		if err != nil {
			t.Fatalf("hark up: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("hark up did not stop")
	}

	// hark serve, with the environment's TLS, and a NATS URL carrying the
	// token that cannot be reached: the warning about it names the server only.
	serveOut := &syncBuffer{}
	sctx, scancel := context.WithCancel(context.Background())
	serveDone := make(chan error, 1)
	go func() {
		root := newRootCmd(serveOut, logs)
		root.SetArgs([]string{"serve", "--data-dir", data, "--log-level", "debug", "--http", "127.0.0.1:0",
			"--db", filepath.Join(data, "index.db"), "--s3", "http://127.0.0.1:1", "--nats", "nats://" + secrets.NATSToken + "@127.0.0.1:1"})
		serveDone <- root.ExecuteContext(sctx)
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(serveOut.String(), "serving on"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("hark serve not serving after 30s\n%s\n%s", serveOut.String(), logs.String())
		}
	}
	if !strings.Contains(serveOut.String(), "serving on https://") {
		t.Errorf("hark serve with HARK_TLS_CERT: %s", serveOut.String())
	}
	scancel()
	if err := <-serveDone; err != nil {
		t.Fatalf("hark serve: %v", err)
	}

	all := logs.String()
	for _, want := range []string{"hark is up", "msg=transcribed", "LLM server busy", "LLM tagger dropped", "msg=ready", "single sign-on provider unavailable", "no NATS"} {
		if !strings.Contains(all, want) {
			t.Fatalf("the captured logs lack %q: the capture is not what hark logs\n%s", want, all)
		}
	}
	scanned := map[string]string{"hark up's log": all, "hark up's output": upOut.String(), "hark serve's output": serveOut.String(), "the CLI commands' output and logs": cli.String()}
	for where, text := range scanned {
		for i, line := range strings.Split(text, "\n") {
			for _, s := range planted {
				if strings.Contains(line, s) {
					t.Errorf("%s, line %d, holds a planted secret: %s", where, i+1, line)
				}
			}
			if strings.Contains(line, logScanPhrase) {
				t.Errorf("%s, line %d, holds transcript text: %s", where, i+1, line)
			}
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("%d lines of hark up's log scanned", strings.Count(all, "\n"))
	}
}

// waitForUp waits until `hark up` has written endpoints.json and returns
// its web server's URL.
func waitForUp(t *testing.T, data string, done <-chan error, out *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("hark up stopped: %v\n%s", err, out.String())
		default:
		}
		if strings.Contains(out.String(), "hark is up") {
			e, err := readEndpoints(data)
			if err != nil {
				t.Fatal(err)
			}
			return e.HTTP
		}
		if time.Now().After(deadline) {
			t.Fatalf("hark up not up after 60s\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scanCert writes a self-signed certificate for 127.0.0.1 and its key, and
// returns them with a pool that trusts the certificate.
func scanCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hark"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "web.crt"), filepath.Join(dir, "web.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// scanLLM is an OpenAI-compatible chat server for the LLM tagger: it
// requires the key, answers 503 to the first request, and then proposes a
// tag whose evidence is not in the turn (which the tagger drops).
type scanLLM struct {
	*httptest.Server
	mu sync.Mutex
	n  int
}

var scanSegment = regexp.MustCompile(`\[(\d+)\] `)

func newScanLLM(t *testing.T, key string) *scanLLM {
	l := &scanLLM{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`, http.StatusUnauthorized)
			return
		}
		l.mu.Lock()
		l.n++
		n := l.n
		l.mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":{"message":"The server is overloaded or not ready yet.","type":"server_error"}}`, http.StatusServiceUnavailable)
			return
		}
		var req struct {
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		data, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(data, &req)
		seg := 0
		if len(req.Messages) > 1 {
			if m := scanSegment.FindStringSubmatch(req.Messages[len(req.Messages)-1].Content); m != nil {
				fmt.Sscanf(m[1], "%d", &seg)
			}
		}
		content, _ := json.Marshal(map[string]any{
			"tags":     []any{map[string]any{"segment": seg, "code": "open_question", "evidence": "words nobody said"}},
			"rejected": []any{},
		})
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": time.Now().Unix(), "model": "scan-model",
			"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": string(content)}, "finish_reason": "stop"}},
			"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
		})
	}))
	t.Cleanup(l.Close)
	return l
}

// served is how many requests carried the right key.
func (l *scanLLM) served() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// TestUpRefusesBadTLSFiles: `hark up` with only one of --tls-cert and
// --tls-key, or with a file that is not there, stops at start with a
// message that says so and names the file, having stopped what it had
// started.
func TestUpRefusesBadTLSFiles(t *testing.T) {
	files := t.TempDir()
	certFile, keyFile, _ := scanCert(t, files)
	missing := filepath.Join(files, "missing.crt")
	tests := []struct {
		name      string
		cert, key string
		want      string
	}{
		{"key only", "", keyFile, "--tls-cert"},
		{"cert only", certFile, "", "--tls-key"},
		{"missing cert", missing, keyFile, missing},
		{"key for the cert", keyFile, keyFile, keyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			u, err := StartUp(context.Background(), UpConfig{DataDir: data, HTTPAddr: "127.0.0.1:0", TLSCert: tt.cert, TLSKey: tt.key,
				Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				u.Close(context.Background())
				t.Fatal("started")
			}
			if msg := hark.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("%q does not name %s", msg, tt.want)
			}
			if _, err := os.Stat(filepath.Join(data, endpointsFile)); err == nil {
				t.Errorf("endpoints.json written by a hark up that did not start")
			}
		})
	}
}
