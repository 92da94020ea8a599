package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/harkworks/hark"
)

// ForgetRequest is what POST /api/admin/forget takes: what to erase, why,
// and, to erase it, the confirm token the same request without it
// answered.
type ForgetRequest struct {
	hark.Selection
	Reason  string `json:"reason"`
	Confirm string `json:"confirm,omitempty"`
}

// ForgetAnswer names what will go (or went): the recordings, and the token
// that confirms exactly these.
type ForgetAnswer struct {
	Recordings []ForgetItem `json:"recordings"`
	Confirm    string       `json:"confirm"`
	Erased     bool         `json:"erased"`
	Summary    string       `json:"summary,omitempty"`
	Message    string       `json:"message"`
}

// ForgetItem is one recording a request names.
type ForgetItem struct {
	ID         string      `json:"id"`
	Key        string      `json:"key"`
	Team       string      `json:"team"`
	RecordedOn string      `json:"recorded_on,omitempty"`
	Status     hark.Status `json:"status"`
}

// forget answers a request to erase: without Confirm, what would go and
// the token that confirms it; with it, and still the same recordings, it
// erases them (Config.Forget) and audits that it did, without ids.
func (s *Server) forget(ctx context.Context, u *hark.User, req ForgetRequest) (ForgetAnswer, error) {
	var ans ForgetAnswer
	if u.Role != hark.RoleAdmin {
		return ans, hark.Errorf(hark.ENOTFOUND, "erasing recordings is for admins")
	}
	if s.cfg.Forget == nil {
		return ans, hark.Errorf(hark.EUNAVAILABLE, "this server cannot erase recordings (it has no object store or queue): run `hark forget`")
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" || len(reason) > 200 {
		return ans, hark.Errorf(hark.EINVALID, "give the reason (1 to 200 characters, e.g. \"subject access request 2026-114\"; no names): it goes in the audit log")
	}
	recs, err := req.Selection.Select(ctx, s.cfg.Index)
	if err != nil {
		return ans, err
	}
	ans.Recordings = []ForgetItem{}
	for _, r := range recs {
		ans.Recordings = append(ans.Recordings, ForgetItem{ID: r.ID, Key: r.Key, Team: r.Team, RecordedOn: r.RecordedOn, Status: r.Status})
	}
	ans.Confirm = hark.ConfirmToken(recs)
	if len(recs) == 0 {
		ans.Message = "no recordings match: nothing to erase"
		return ans, nil
	}
	if req.Confirm == "" {
		ans.Message = fmt.Sprintf("%d recording(s) and everything made from them will be erased for good; send the same request with confirm %s to erase them", len(recs), ans.Confirm)
		return ans, nil
	}
	if req.Confirm != ans.Confirm {
		return ans, hark.Errorf(hark.ECONFLICT, "the recordings this names have changed since you were shown them: look at the list again and confirm it")
	}
	summary, ferr := s.cfg.Forget(ctx, recs)
	s.audit(ctx, u, "forget", "", fmt.Sprintf("%d recording(s) erased: %s", len(recs), reason))
	if ferr != nil {
		return ans, hark.WrapError(hark.ErrorCode(ferr), ferr, "erasing stopped part way (%s); send the request again to finish", summary)
	}
	ans.Erased, ans.Summary = true, summary
	ans.Message = fmt.Sprintf("erased %d recording(s): %s", len(recs), summary)
	return ans, nil
}

func (s *Server) handleForgetAPI(w http.ResponseWriter, r *http.Request, u *hark.User) {
	var req ForgetRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if u.Role != hark.RoleAdmin {
			s.apiError(w, r, hark.Errorf(hark.ENOTFOUND, "erasing recordings is for admins"))
			return
		}
		s.apiError(w, r, hark.Errorf(hark.EINVALID, "the request is not valid JSON: {\"recordings\": [\"rec_…\"], \"batch\": \"…\", \"family\": \"…\", \"team\": \"…\", \"worker\": \"…\", \"reason\": \"…\", \"confirm\": \"…\"}"))
		return
	}
	ans, err := s.forget(r.Context(), u, req)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// handleForgetPage is the admin page for erasing: a form, then the list
// of what will go with a button that confirms it, then what went.
func (s *Server) handleForgetPage(w http.ResponseWriter, r *http.Request, u *hark.User) {
	if u.Role != hark.RoleAdmin {
		s.pageError(w, r, hark.Errorf(hark.ENOTFOUND, "erasing recordings is for admins"))
		return
	}
	data := map[string]any{}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			s.pageError(w, r, hark.Errorf(hark.EINVALID, "the form could not be read"))
			return
		}
		req := ForgetRequest{Selection: hark.Selection{IDs: strings.Fields(r.PostFormValue("recordings")), Batch: strings.TrimSpace(r.PostFormValue("batch")),
			Family: strings.TrimSpace(r.PostFormValue("family")), Team: strings.TrimSpace(r.PostFormValue("team")), Worker: strings.TrimSpace(r.PostFormValue("worker"))},
			Reason: r.PostFormValue("reason"), Confirm: r.PostFormValue("confirm")}
		data["Req"] = req
		data["IDs"] = strings.Join(req.IDs, " ")
		ans, err := s.forget(r.Context(), u, req)
		if err != nil {
			data["Error"] = hark.ErrorMessage(err)
		} else {
			data["Answer"] = ans
		}
	}
	s.render(w, r, http.StatusOK, "forget.html", "Erase recordings", data)
}
