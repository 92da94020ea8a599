// Package web is hark's web server: the JSON API and the server-rendered
// pages, on the standard library, with templates embedded in the binary.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

//go:embed templates/*.html
var templateFS embed.FS

// Config configures the server.
type Config struct {
	Addr     string // host:port; port 0 picks a free port
	Index    hark.Index
	Codebook *hark.Codebook // for labels and polarity of codes; may be nil
	Logger   *slog.Logger
	// Metrics, when set, is served at /metrics.
	Metrics http.Handler
	// Ready, when set, is asked by /readyz whether the server's
	// dependencies answer.
	Ready func(ctx context.Context) error
}

// Server serves the pages and the API.
type Server struct {
	cfg   Config
	log   *slog.Logger
	tmpl  map[string]*template.Template
	srv   *http.Server
	ln    net.Listener
	done  chan error
	codes map[string]hark.Code
}

// views are the pages; each is parsed with the layout once, at start.
var views = []string{"recordings.html", "session.html", "error.html"}

// New parses the templates and returns a server that is not yet listening.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, tmpl: map[string]*template.Template{}, codes: map[string]hark.Code{}}
	if cfg.Codebook != nil {
		for _, c := range cfg.Codebook.Codes {
			s.codes[c.ID] = c
		}
	}
	funcs := template.FuncMap{
		"clock":    clock,
		"label":    s.label,
		"polarity": s.polarity,
		"highlight": func(text string, tags []hark.Tag) template.HTML {
			return highlight(text, tags)
		},
	}
	for _, v := range views {
		t, err := template.New(v).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+v)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", v, err)
		}
		s.tmpl[v] = t
	}
	return s, nil
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleRecordingsPage)
	mux.HandleFunc("GET /recordings/{id}", s.handleSessionPage)
	mux.HandleFunc("GET /api/recordings", s.handleRecordingsAPI)
	mux.HandleFunc("GET /api/recordings/{id}", s.handleRecordingAPI)
	mux.HandleFunc("GET /api/status", s.handleStatusAPI)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.Handle("GET /readyz", ReadyHandler(s.cfg.Ready))
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	return securityHeaders(mux)
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("web server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	return nil
}

// URL returns the address the server listens on.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close shuts the server down gracefully.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// APIRecording is a recording in the list API.
type APIRecording struct {
	ID          string         `json:"id"`
	Key         string         `json:"key"`
	Team        string         `json:"team"`
	Worker      string         `json:"worker,omitempty"`
	MeetingType string         `json:"meeting_type,omitempty"`
	Batch       string         `json:"batch,omitempty"`
	Status      hark.Status    `json:"status"`
	Stage       hark.Stage     `json:"stage,omitempty"`
	Reason      string         `json:"reason,omitempty"`
	Duration    float64        `json:"duration_seconds"`
	TagCounts   map[string]int `json:"tag_counts"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

func (s *Server) list(r *http.Request) ([]hark.RecordingSummary, error) {
	q := r.URL.Query()
	return s.cfg.Index.Recordings(r.Context(), hark.RecordingFilter{
		Team: q.Get("team"), Batch: q.Get("batch"), Status: hark.Status(q.Get("status")),
	})
}

func (s *Server) handleRecordingsAPI(w http.ResponseWriter, r *http.Request) {
	list, err := s.list(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]APIRecording, 0, len(list))
	for _, x := range list {
		out = append(out, APIRecording{ID: x.ID, Key: x.Key, Team: x.Team, Worker: x.Worker, MeetingType: x.MeetingType,
			Batch: x.Batch, Status: x.Status, Stage: x.Stage, Reason: x.Reason, Duration: x.DurationSeconds,
			TagCounts: x.TagCounts, UpdatedAt: x.UpdatedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"recordings": out})
}

func (s *Server) handleRecordingAPI(w http.ResponseWriter, r *http.Request) {
	sess, err := s.session(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sess)
}

func (s *Server) handleStatusAPI(w http.ResponseWriter, r *http.Request) {
	batch := r.URL.Query().Get("batch")
	counts, err := s.cfg.Index.StatusCounts(r.Context(), batch)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	tags, err := s.cfg.Index.TagCounts(r.Context(), batch)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"batch": batch, "statuses": counts, "tags": tags})
}

func (s *Server) session(r *http.Request) (*hark.Session, error) {
	id := r.PathValue("id")
	if !hark.ValidRecordingID(id) {
		return nil, hark.Errorf(hark.ENOTFOUND, "recording %q not found", id)
	}
	return s.cfg.Index.Session(r.Context(), id)
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
	code := hark.ErrorCode(err)
	st, ok := errorStatus[code]
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

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, view string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.tmpl[view].ExecuteTemplate(w, "layout", data); err != nil {
		s.log.Error("render", "view", view, "err", err)
	}
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	st, msg := s.status(r, err)
	s.render(w, r, st, "error.html", map[string]any{"Title": http.StatusText(st), "Message": msg})
}

func (s *Server) handleRecordingsPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.list(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	counts := map[hark.Status]int{}
	for _, x := range list {
		counts[x.Status]++
	}
	s.render(w, r, http.StatusOK, "recordings.html", map[string]any{
		"Title": "Recordings", "Recordings": list, "Counts": counts, "Statuses": hark.Statuses,
	})
}

// turn is one segment with its tags, for the session page.
type turn struct {
	hark.Segment
	Tags []hark.Tag
}

func (s *Server) handleSessionPage(w http.ResponseWriter, r *http.Request) {
	sess, err := s.session(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var turns []turn
	counts := map[string]int{}
	if sess.Transcript != nil {
		bySeg := map[int][]hark.Tag{}
		if sess.Annotations != nil {
			for _, t := range sess.Annotations.Tags {
				bySeg[t.Segment] = append(bySeg[t.Segment], t)
				counts[t.Code]++
			}
		}
		for _, sg := range sess.Transcript.Segments {
			turns = append(turns, turn{Segment: sg, Tags: bySeg[sg.Index]})
		}
	}
	type count struct {
		Code string
		N    int
	}
	var cs []count
	for c, n := range counts {
		cs = append(cs, count{c, n})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].N > cs[j].N || cs[i].N == cs[j].N && cs[i].Code < cs[j].Code })
	s.render(w, r, http.StatusOK, "session.html", map[string]any{
		"Title": sess.Recording.Key, "Session": sess, "Turns": turns, "Counts": cs,
	})
}

func (s *Server) label(code string) string {
	if c, ok := s.codes[code]; ok && c.Label != "" {
		return c.Label
	}
	return strings.ReplaceAll(code, "_", " ")
}

func (s *Server) polarity(code string) string {
	if c, ok := s.codes[code]; ok && c.Polarity != "" {
		return string(c.Polarity)
	}
	return string(hark.PolarityNeutral)
}

func clock(secs float64) string {
	t := int(secs)
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

// highlight marks the evidence spans of tags in text.
func highlight(text string, tags []hark.Tag) template.HTML {
	marks := make([]bool, len(text))
	for _, t := range tags {
		if t.Start < 0 || t.End > len(text) || t.Start >= t.End {
			continue
		}
		for i := t.Start; i < t.End; i++ {
			marks[i] = true
		}
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(text); {
		if marks[i] != in {
			if marks[i] {
				b.WriteString("<mark>")
			} else {
				b.WriteString("</mark>")
			}
			in = marks[i]
		}
		j := i + 1
		for j < len(text) && marks[j] == marks[i] {
			j++
		}
		b.WriteString(template.HTMLEscapeString(text[i:j]))
		i = j
	}
	if in {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
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
