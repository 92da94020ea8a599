// Package web is hark's web server: the coach's pages (recordings, the
// review page with synced audio, the reflection sheet), the admin's audit
// log, and the JSON API behind them, on the standard library with templates
// and assets embedded in the binary. Every request is checked against the
// signed-in user's role and teams: a recording of a team the user may not
// see answers 404, like one that does not exist.
package web

import (
	"context"
	"crypto/tls"
	"embed"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/auth"
	"github.com/harkworks/hark/report"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures the server.
type Config struct {
	Addr     string // host:port; port 0 picks a free port
	Index    hark.Index
	Accounts hark.Accounts
	Auth     *auth.Service
	// Store serves audio and keeps review documents next to the
	// recordings; without it audio is unavailable and reviews live in the
	// index only.
	Store    hark.ObjectStore
	Codebook *hark.Codebook // labels, polarity and the codes a coach may add
	Logger   *slog.Logger
	// Metrics, when set, is served at /metrics.
	Metrics http.Handler
	// Ready, when set, is asked by /readyz whether the server's
	// dependencies answer.
	Ready func(ctx context.Context) error
	// Routes, when set, adds more routes (the reports) to the server's mux.
	Routes func(mux *http.ServeMux)
	// Forget, when set, erases recordings for the admin page and API
	// (as `hark forget` does) and says what it removed; without it they
	// answer that this server cannot erase.
	Forget func(ctx context.Context, recs []*hark.Recording) (string, error)
	// Retag, when set, sends a recording to be tagged again (after a
	// coach corrected who speaks in it); without it the tags follow at the
	// next re-annotation.
	Retag func(ctx context.Context, recordingID string) error
	// AudioPCM, when set, turns a stored recording (in any format the
	// workers read) into a WAV of PCM samples for the redacted audio
	// export; without it only recordings stored as PCM or float WAV can be
	// exported redacted.
	AudioPCM func(ctx context.Context, name string, r io.Reader) (io.ReadCloser, error)
	// MinCell is the reports' suppression threshold (default
	// report.DefaultMinCell): /api/status withholds tag counts over fewer
	// ready recordings than this.
	MinCell int
	// Now returns the time; tests may stub it.
	Now func() time.Time
	// TLSCert and TLSKey are the PEM files of the server's certificate
	// (with its chain) and private key. Set both and the server speaks
	// HTTPS only, TLS 1.2 or later; set neither for plain HTTP (behind a
	// proxy that terminates TLS). The files are read once, by Start.
	TLSCert string
	TLSKey  string
}

// Server serves the pages and the API. It keeps hark's lifecycle contract
// (hark.Closer): Start listens, Close stops, and both are safe to call twice.
type Server struct {
	cfg   Config
	log   *slog.Logger
	tmpl  map[string]*template.Template
	codes map[string]hark.Code

	mu     sync.Mutex // guards srv, ln, done and closed against Start and Close at once
	srv    *http.Server
	ln     net.Listener
	done   chan error // Serve's result
	closed bool

	closeOnce sync.Once
	closeErr  error
}

var _ hark.Closer = (*Server)(nil)

// views are the pages; each is parsed with the layout once, at start.
var views = []string{"recordings.html", "session.html", "sheet.html", "signin.html", "audit.html", "forget.html", "reconcile.html", "error.html"}

// New parses the templates and returns a server that is not yet listening.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinCell <= 0 {
		cfg.MinCell = report.DefaultMinCell
	}
	if cfg.Index == nil || cfg.Accounts == nil || cfg.Auth == nil {
		return nil, errors.New("web server: Index, Accounts and Auth are required")
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, hark.Errorf(hark.EINVALID, "web server: TLS needs both a certificate and a key file (--tls-cert and --tls-key); only one was given")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, tmpl: map[string]*template.Template{}, codes: map[string]hark.Code{}}
	if cfg.Codebook != nil {
		for _, c := range cfg.Codebook.Codes {
			s.codes[c.ID] = c
		}
	}
	for _, v := range views {
		t, err := template.New(v).Funcs(s.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/"+v)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", v, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("template %s defines no content", v)
		}
		s.tmpl[v] = t
	}
	return s, nil
}

// route is one route of the server: a ServeMux pattern and its handler.
type route struct {
	pattern string
	handler http.Handler
}

// routes are the server's own routes. Every one must be in the cross-team
// walk of the tests (TestEveryRouteKeepsTeamsApart), which fails when a
// route is added here without saying how it answers another team's user.
func (s *Server) routes() []route {
	static, _ := fs.Sub(staticFS, "static")
	rs := []route{
		{"GET /static/", http.StripPrefix("/static/", http.FileServer(filesOnly{http.FS(static)}))},
		{"GET /signin", http.HandlerFunc(s.handleSignInPage)},
		{"POST /signin", http.HandlerFunc(s.handleSignIn)},
		{"GET /signin/link", http.HandlerFunc(s.handleSignInLink)},
		{"GET /signin/sso", http.HandlerFunc(s.handleSSOStart)},
		{"GET /signin/sso/callback", http.HandlerFunc(s.handleSSOCallback)},
		{"POST /signout", s.page(s.handleSignOut)},

		{"GET /{$}", s.page(s.handleRecordingsPage)},
		{"GET /recordings/{id}", s.page(s.handleSessionPage)},
		{"GET /recordings/{id}/sheet", s.page(s.handleSheet)},
		{"GET /recordings/{id}/reconcile", s.page(s.handleReconcile)},
		{"POST /recordings/{id}/reconcile", s.page(s.handleReconcile)},
		{"GET /recordings/{id}/audio", s.page(s.handleAudio)},
		{"GET /recordings/{id}/export/{format}", s.page(s.handleExport)},
		{"GET /export/{format}", s.page(s.handleListExport)},
		{"GET /admin/audit", s.page(s.handleAuditPage)},
		{"GET /admin/forget", s.page(s.handleForgetPage)},
		{"POST /admin/forget", s.page(s.handleForgetPage)},

		{"GET /api/me", s.api(s.handleMe)},
		{"GET /api/recordings", s.api(s.handleRecordingsAPI)},
		{"GET /api/recordings/{id}", s.api(s.handleRecordingAPI)},
		{"POST /api/recordings/{id}/review", s.api(s.handleReview)},
		{"GET /api/status", s.api(s.handleStatusAPI)},
		{"GET /api/audit", s.api(s.handleAuditAPI)},
		{"POST /api/admin/forget", s.api(s.handleForgetAPI)},

		{"GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })},
		{"GET /readyz", ReadyHandler(s.cfg.Ready)},
	}
	if s.cfg.Metrics != nil {
		rs = append(rs, route{"GET /metrics", s.cfg.Metrics})
	}
	return rs
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	if s.cfg.Routes != nil {
		s.cfg.Routes(mux)
	}
	return securityHeaders(s.cfg.Auth.Middleware(mux))
}

// Start listens on Config.Addr and serves in the background until Close;
// ctx bounds the listening, not the serving. A second Start does nothing and
// returns nil; Start after Close returns an error.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return errors.New("web server: start after close")
	case s.srv != nil:
		return nil
	}
	var tlsConfig *tls.Config
	if s.cfg.TLSCert != "" {
		cert, err := loadKeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return err
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("web server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsConfig,
		// net/http's own complaints (failed TLS handshakes, a handler's
		// panic) go to the server's log, not to the standard logger.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.done = make(chan error, 1)
	if tlsConfig != nil {
		// ServeTLS adds HTTP/2 to the configuration's protocols.
		go func() { s.done <- s.srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { s.done <- s.srv.Serve(ln) }()
	}
	return nil
}

// loadKeyPair reads a PEM certificate and key, naming the file that is
// missing, unreadable or not what it should be.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, hark.WrapError(hark.EINVALID, err, "web server: read TLS certificate %s", certFile)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, hark.WrapError(hark.EINVALID, err, "web server: read TLS key %s", keyFile)
	}
	if b, _ := pem.Decode(certPEM); b == nil || b.Type != "CERTIFICATE" {
		return tls.Certificate{}, hark.Errorf(hark.EINVALID, "web server: TLS certificate %s holds no PEM certificate", certFile)
	}
	if b, _ := pem.Decode(keyPEM); b == nil || !strings.HasSuffix(b.Type, "PRIVATE KEY") {
		return tls.Certificate{}, hark.Errorf(hark.EINVALID, "web server: TLS key %s holds no PEM private key", keyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, hark.WrapError(hark.EINVALID, err, "web server: TLS certificate %s and key %s", certFile, keyFile)
	}
	return cert, nil
}

// URL returns the address the server listens on: https:// when it serves
// TLS.
func (s *Server) URL() string {
	if s.cfg.TLSCert != "" {
		return "https://" + s.ln.Addr().String()
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops the server gracefully: it stops listening and waits for the
// requests in hand to finish. When ctx ends first, it closes the
// connections still open and returns ctx.Err(). Close is safe to call more
// than once (a later call returns the first call's result), without Start
// and on a nil Server.
func (s *Server) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.closeOnce.Do(func() { s.closeErr = s.shutdown(ctx) })
	return s.closeErr
}

func (s *Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	srv, done := s.srv, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	var err error
	if serr := srv.Shutdown(ctx); serr != nil {
		// ctx ended with requests still in hand: cut them off.
		_ = srv.Close()
		err = fmt.Errorf("web server: stop: %w", serr)
	}
	// Serve returns as soon as Shutdown has closed the listener.
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// filesOnly serves the files of a file system and nothing else: a
// directory is "not found", so /static/ lists nothing.
type filesOnly struct{ fs http.FileSystem }

// Open opens name if it is a file.
func (f filesOnly) Open(name string) (http.File, error) {
	file, err := f.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; media-src 'self'; frame-ancestors 'none'; form-action 'self'")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// page wraps a page handler: it needs a signed-in user (otherwise the
// sign-in page) and, for a form post, the session's CSRF token.
func (s *Server) page(h func(http.ResponseWriter, *http.Request, *hark.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := auth.UserFrom(r.Context())
		if u == nil {
			http.Redirect(w, r, "/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err := auth.CheckCSRF(r); err != nil {
			s.pageError(w, r, hark.Errorf(hark.EINVALID, "%s", err.Error()))
			return
		}
		h(w, r, u)
	}
}

// api wraps an API handler: it needs a signed-in user (401 otherwise) and,
// for a change, the session's CSRF token in X-CSRF-Token.
func (s *Server) api(h func(http.ResponseWriter, *http.Request, *hark.User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := auth.UserFrom(r.Context())
		if u == nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "sign in first"})
			return
		}
		if err := auth.CheckCSRF(r); err != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "csrf", "message": err.Error()})
			return
		}
		h(w, r, u)
	}
}

// errorStatus maps domain error codes to HTTP status codes.
var errorStatus = map[string]int{
	hark.EINVALID:     http.StatusBadRequest,
	hark.ENOTFOUND:    http.StatusNotFound,
	hark.ECONFLICT:    http.StatusConflict,
	hark.EUNAVAILABLE: http.StatusServiceUnavailable,
	hark.EINTERNAL:    http.StatusInternalServerError,
}

func (s *Server) status(r *http.Request, err error) (int, string) {
	st, ok := errorStatus[hark.ErrorCode(err)]
	if !ok {
		st = http.StatusInternalServerError
	}
	msg := hark.ErrorMessage(err)
	if st >= 500 {
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
		msg = "the server could not answer; the error was logged"
	}
	return st, msg
}

func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	st, msg := s.status(r, err)
	writeJSON(w, st, map[string]string{"error": hark.ErrorCode(err), "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// pageData is what every page's layout reads.
type pageData struct {
	Title string
	User  *hark.User
	CSRF  string
	Data  any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, view, title string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	pd := pageData{Title: title, User: auth.UserFrom(r.Context()), CSRF: auth.CSRFToken(r.Context()), Data: data}
	if err := s.tmpl[view].ExecuteTemplate(w, "layout", pd); err != nil {
		s.log.Error("render", "view", view, "err", err)
	}
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	st, msg := s.status(r, err)
	s.render(w, r, st, "error.html", http.StatusText(st), map[string]any{"Message": msg})
}

// audit writes an audit entry; a failure is logged, never shown.
func (s *Server) audit(ctx context.Context, u *hark.User, action, recording, detail string) {
	e := &hark.AuditEntry{At: s.cfg.Now(), User: u.Name, Action: action, RecordingID: recording, Detail: detail}
	if err := s.cfg.Accounts.Audit(ctx, e); err != nil {
		s.log.Warn("audit log", "err", err)
	}
}

// ReadyHandler answers 200 when ready returns nil, and 503 with the reason
// otherwise.
func ReadyHandler(ready func(ctx context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := ready(ctx); err != nil {
				http.Error(w, "not ready: "+hark.ErrorMessage(err), http.StatusServiceUnavailable)
				return
			}
		}
		w.Write([]byte("ready\n"))
	})
}
