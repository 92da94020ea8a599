package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/harkworks/hark"
)

func (s *Server) auditLog(r *http.Request, u *hark.User) ([]hark.AuditEntry, error) {
	if u.Role != hark.RoleAdmin {
		return nil, hark.Errorf(hark.ENOTFOUND, "the audit log is for admins")
	}
	q := r.URL.Query()
	f := hark.AuditFilter{User: q.Get("user"), RecordingID: q.Get("recording")}
	if since := q.Get("since"); since != "" {
		t, err := time.Parse("2006-01-02", since)
		if err != nil {
			return nil, hark.Errorf(hark.EINVALID, "since %q is not a date like 2026-11-26", since)
		}
		f.Since = t
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil {
		f.Limit = n
	}
	return s.cfg.Accounts.AuditLog(r.Context(), f)
}

func (s *Server) handleAuditPage(w http.ResponseWriter, r *http.Request, u *hark.User) {
	entries, err := s.auditLog(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "audit.html", "Audit log", map[string]any{"Entries": entries, "Query": r.URL.RawQuery})
}

// handleAuditAPI answers the audit log as JSON, or as CSV with format=csv.
func (s *Server) handleAuditAPI(w http.ResponseWriter, r *http.Request, u *hark.User) {
	entries, err := s.auditLog(r, u)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.audit(r.Context(), u, "export", "", "audit log")
	if r.URL.Query().Get("format") != "csv" {
		writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="hark-audit.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "at", "user", "action", "recording_id", "detail"})
	for _, e := range entries {
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), e.User, e.Action, e.RecordingID, e.Detail})
	}
	cw.Flush()
}
