package web

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/qda"
)

// filter reads the list filters from the query, restricted to what the
// user may see.
func filter(r *http.Request, u *hark.User) hark.RecordingFilter {
	q := r.URL.Query()
	f := hark.RecordingFilter{
		Team: q.Get("team"), Batch: q.Get("batch"), Status: hark.Status(q.Get("status")), Worker: q.Get("worker"),
		MeetingType: q.Get("meeting_type"), From: q.Get("from"), To: q.Get("to"), Code: q.Get("code"),
	}
	if teams, all := u.VisibleTeams(); !all {
		f.Teams = teams
		if f.Teams == nil {
			f.Teams = []string{}
		}
	}
	return f
}

// APIRecording is a recording in the list API.
type APIRecording struct {
	ID          string           `json:"id"`
	Key         string           `json:"key"`
	Team        string           `json:"team"`
	Worker      string           `json:"worker,omitempty"`
	MeetingType string           `json:"meeting_type,omitempty"`
	RecordedOn  string           `json:"recorded_on,omitempty"`
	Batch       string           `json:"batch,omitempty"`
	Status      hark.Status      `json:"status"`
	Stage       hark.Stage       `json:"stage,omitempty"`
	Reason      string           `json:"reason,omitempty"`
	Duration    float64          `json:"duration_seconds"`
	TagCounts   map[string]int   `json:"tag_counts"`
	Tags        int              `json:"tags"`
	Reviewed    int              `json:"reviewed"`
	ReviewState hark.ReviewState `json:"review_state"`
	UpdatedAt   time.Time        `json:"updated_at"`
	// Progress is how far a recording being transcribed has got, with
	// ProgressText its words ("12 of 64 chunks (19%), about 8 min left").
	Progress     *hark.Progress `json:"progress,omitempty"`
	ProgressText string         `json:"progress_text,omitempty"`
}

func (s *Server) handleRecordingsAPI(w http.ResponseWriter, r *http.Request, u *hark.User) {
	if u.Role == hark.RoleAnalyst {
		s.apiError(w, r, hark.Errorf(hark.ENOTFOUND, "analysts see reports only: /api/reports"))
		return
	}
	list, err := s.cfg.Index.Recordings(r.Context(), filter(r, u))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]APIRecording, 0, len(list))
	for _, x := range list {
		out = append(out, APIRecording{ID: x.ID, Key: x.Key, Team: x.Team, Worker: x.Worker, MeetingType: x.MeetingType,
			RecordedOn: x.RecordedOn, Batch: x.Batch, Status: x.Status, Stage: x.Stage, Reason: x.Reason,
			Duration: x.DurationSeconds, TagCounts: x.TagCounts, Tags: x.Tags, Reviewed: x.Reviewed, UpdatedAt: x.UpdatedAt})
		if x.Progress != nil && x.Status == hark.StatusTranscribing {
			out[len(out)-1].Progress, out[len(out)-1].ProgressText = x.Progress, x.Progress.String()
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"recordings": out})
}

// StatusAnswer is what GET /api/status returns: a batch's (or every
// batch's) recordings per status and tags per code, over the teams the user
// may see.
type StatusAnswer struct {
	Batch    string              `json:"batch"`
	Statuses map[hark.Status]int `json:"statuses"`
	// Tags counts tags per code over the ready recordings, rejected tags
	// left out; nil when TagsSuppressed.
	Tags map[string]int `json:"tags"`
	// TagsSuppressed says the tag counts are withheld, as the reports
	// withhold a row: fewer than MinCell recordings are ready, so the
	// counts would describe one or two meetings.
	TagsSuppressed bool   `json:"tags_suppressed,omitempty"`
	MinCell        int    `json:"min_cell"`
	Message        string `json:"message,omitempty"`
}

func (s *Server) handleStatusAPI(w http.ResponseWriter, r *http.Request, u *hark.User) {
	if u.Role != hark.RoleAdmin && u.Role != hark.RoleResearcher {
		s.apiError(w, r, hark.Errorf(hark.ENOTFOUND, "batch status is for admins and researchers"))
		return
	}
	f := hark.CountFilter{Batch: r.URL.Query().Get("batch")}
	if teams, all := u.VisibleTeams(); !all {
		f.Teams = teams
		if f.Teams == nil {
			f.Teams = []string{}
		}
	}
	counts, err := s.cfg.Index.StatusCounts(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	tags, err := s.cfg.Index.TagCounts(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := StatusAnswer{Batch: f.Batch, Statuses: counts, Tags: tags, MinCell: s.cfg.MinCell}
	if ready := counts[hark.StatusReady]; ready > 0 && ready < s.cfg.MinCell {
		out.Tags, out.TagsSuppressed = nil, true
		out.Message = fmt.Sprintf("tag counts are withheld until at least %d recordings are ready (%d are)", s.cfg.MinCell, ready)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleRecordingsPage(w http.ResponseWriter, r *http.Request, u *hark.User) {
	if u.Role == hark.RoleAnalyst {
		http.Redirect(w, r, "/reports", http.StatusSeeOther)
		return
	}
	f := filter(r, u)
	list, err := s.cfg.Index.Recordings(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	counts := map[hark.Status]int{}
	teams, workers, types := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, x := range list {
		counts[x.Status]++
		teams[x.Team], workers[x.Worker], types[x.MeetingType] = true, true, true
	}
	visible, all := u.VisibleTeams()
	if all {
		if ts, err := s.cfg.Accounts.Teams(r.Context()); err == nil {
			visible = ts
		}
	}
	s.render(w, r, http.StatusOK, "recordings.html", "Recordings", map[string]any{
		"Recordings": list, "Counts": counts, "Statuses": hark.Statuses, "Filter": f,
		"Teams": visible, "Workers": keys(workers), "Types": keys(types), "Codes": s.codeList(),
		"Query": template.URL(r.URL.Query().Encode()),
	})
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// handleListExport writes the ready recordings the list's filters select
// (and the user may read) as one REFI-QDA project: GET /export/qdpx?….
func (s *Server) handleListExport(w http.ResponseWriter, r *http.Request, u *hark.User) {
	if f := r.PathValue("format"); f != "qdpx" {
		s.pageError(w, r, hark.Errorf(hark.ENOTFOUND, "unknown export format %q for a list of recordings: use qdpx (a REFI-QDA project)", f))
		return
	}
	f := filter(r, u)
	f.Status, f.Limit = hark.StatusReady, 10_000
	list, err := s.cfg.Index.Recordings(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	var ids []string
	for _, x := range list {
		if u.CanReadTranscripts(x.Team) {
			ids = append(ids, x.ID)
		}
	}
	if len(ids) == 0 {
		s.pageError(w, r, hark.Errorf(hark.ENOTFOUND, "no ready recordings you may read match these filters: nothing to export"))
		return
	}
	cfg := qda.ProjectConfig{Name: "hark recordings", User: u.Name, Codebook: s.cfg.Codebook}
	if s.cfg.Store != nil && r.URL.Query().Get("audio") != "reference" {
		cfg.Audio = func(ctx context.Context, rec *hark.Recording) (io.ReadCloser, error) {
			rd, _, err := s.cfg.Store.Get(ctx, rec.Key)
			return rd, err
		}
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="hark-recordings.qdpx"`)
	load := func(ctx context.Context, id string) (*hark.Session, error) {
		sess, err := s.sessionFor(ctx, id, u)
		if err != nil {
			return nil, err
		}
		if sess, err = s.ownView(ctx, sess, u); err != nil {
			return nil, err
		}
		return s.displayed(ctx, sess)
	}
	st, err := qda.WriteProject(r.Context(), w, cfg, ids, load)
	if err != nil {
		s.log.Warn("export qdpx of a list", "recordings", len(ids), "err", err)
		return
	}
	for _, id := range ids {
		s.audit(r.Context(), u, "export", id, fmt.Sprintf("qdpx of %d recording(s): %d coding(s) in all", len(ids), st.Codings))
	}
}
