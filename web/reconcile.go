package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

// settleIndex is an index that can settle a double coding.
type settleIndex interface {
	codingIndex
	report.CodingSource
	CoderReviews(ctx context.Context, id string) ([]*hark.ReviewDoc, error)
	SettleDoubleCoding(ctx context.Context, settled *hark.ReviewDoc, prev int, by string) error
}

// disagreement is one code on one turn that not every coder applied.
type disagreement struct {
	Field   string // the form field that settles it
	Turn    int
	Start   float64
	Speaker string
	Text    string
	Code    string
	Said    []coderSaid
}

type coderSaid struct {
	Coder   string
	Applied bool
}

// reconcileView is the reconciliation page.
type reconcileView struct {
	Session       *hark.Session
	Coding        *hark.DoubleCoding
	Waiting       []string // coders whose reviews are not complete
	Disagreements []disagreement
	Turns         int
	CanSettle     bool
	Error         string
}

// handleReconcile shows where the coders of a double-coded session
// disagree, turn by turn, once every one of them has completed their
// review (never before: the reviews are blind until then), and settles
// them: for each disagreement, whose answer stands; the first coder's
// review, with those answers, becomes the session's review.
func (s *Server) handleReconcile(w http.ResponseWriter, r *http.Request, u *hark.User) {
	sess, err := s.visibleSession(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	si, ok := s.cfg.Index.(settleIndex)
	if !ok {
		s.pageError(w, r, hark.Errorf(hark.ENOTFOUND, "this server keeps no double coding"))
		return
	}
	ctx := r.Context()
	id := sess.Recording.ID
	dc, err := si.DoubleCoding(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := &reconcileView{Session: sess, Coding: dc, CanSettle: dc.Blind() && u.CanReview(sess.Recording.Team)}
	reviews, err := si.CoderReviews(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, c := range dc.Coders {
		if rv := coderReview(reviews, c); rv == nil || rv.State != hark.ReviewComplete {
			v.Waiting = append(v.Waiting, c)
		}
	}
	if len(v.Waiting) > 0 {
		v.CanSettle = false
		s.audit(ctx, u, "view", id, "reconciliation: waiting for "+fmt.Sprint(v.Waiting))
		s.render(w, r, http.StatusOK, "reconcile.html", "Reconcile", v)
		return
	}
	units, _, err := report.CodedSessionOf(ctx, si, id, true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v.Turns = len(units.Segments)
	for i, u := range units.Segments {
		var sg hark.Segment
		if sess.Transcript != nil && i < len(sess.Transcript.Segments) {
			sg = sess.Transcript.Segments[i]
		}
		for _, code := range u.Applied() {
			d := disagreement{Field: fmt.Sprintf("d-%d-%s", sg.Index, code), Turn: sg.Index, Start: u.Start, Speaker: sg.Speaker, Text: sg.Text, Code: code}
			yes := 0
			for _, c := range dc.Coders {
				applied := slices.Contains(u.Codes[c], code)
				if applied {
					yes++
				}
				d.Said = append(d.Said, coderSaid{c, applied})
			}
			if yes < len(dc.Coders) {
				v.Disagreements = append(v.Disagreements, d)
			}
		}
	}
	if r.Method == http.MethodPost && v.CanSettle {
		if err := s.settle(ctx, si, u, sess, dc, reviews, v.Disagreements, r); err != nil {
			v.Error = hark.ErrorMessage(err)
		} else {
			http.Redirect(w, r, "/recordings/"+id, http.StatusSeeOther)
			return
		}
	}
	s.audit(ctx, u, "view", id, fmt.Sprintf("reconciliation: %d disagreement(s)", len(v.Disagreements)))
	s.render(w, r, http.StatusOK, "reconcile.html", "Reconcile", v)
}

// settle builds the settled review from the form's answers and makes it
// the session's: the first coder's review, with, for each disagreement,
// the decisions and tags on that turn and code of the coder whose answer
// was chosen.
func (s *Server) settle(ctx context.Context, si settleIndex, u *hark.User, sess *hark.Session, dc *hark.DoubleCoding, reviews []*hark.ReviewDoc, ds []disagreement, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return hark.Errorf(hark.EINVALID, "the form could not be read")
	}
	machine := map[string]hark.Tag{}
	if sess.Annotations != nil {
		for _, t := range machineOnly(sess.Annotations) {
			machine[hark.TagKey(t.Segment, t.Start, t.End, t.Code)] = t
		}
	}
	decision := func(rv *hark.ReviewDoc, key string) *hark.Decision {
		for i := range rv.Decisions {
			if rv.Decisions[i].Key == key {
				return &rv.Decisions[i]
			}
		}
		return nil
	}
	// touches says whether machine tag key bears on code: it is the
	// machine's code, or a coder gave the tag that code.
	touches := func(key string, t hark.Tag, code string) bool {
		if t.Code == code {
			return true
		}
		for _, rv := range reviews {
			if d := decision(rv, key); d != nil && d.Code == code {
				return true
			}
		}
		return false
	}
	base := *coderReview(reviews, dc.Coders[0])
	decisions := map[string]*hark.Decision{}
	for _, d := range base.Decisions {
		decisions[d.Key] = &d
	}
	base.Added = slices.Clone(base.Added)
	chosen := map[string]string{} // machine tag key → the coder whose decision stands
	for _, d := range ds {
		from := r.PostFormValue(d.Field)
		src := coderReview(reviews, from)
		if src == nil || !dc.Codes(from) {
			return hark.Errorf(hark.EINVALID, "turn %d, %s: choose whose answer stands", d.Turn, d.Code)
		}
		for key, t := range machine {
			if t.Segment != d.Turn || !touches(key, t, d.Code) {
				continue
			}
			if prev, ok := chosen[key]; ok && prev != from {
				return hark.Errorf(hark.EINVALID, "turn %d: one of the machine's tags is settled two ways (%s's answer and %s's, through the codes it was given): choose the same coder for both", d.Turn, prev, from)
			}
			chosen[key] = from
			if x := decision(src, key); x != nil {
				decisions[key] = x
			} else {
				delete(decisions, key)
			}
		}
		if from == dc.Coders[0] {
			continue
		}
		base.Added = slices.DeleteFunc(base.Added, func(t hark.Tag) bool { return t.Segment == d.Turn && t.Code == d.Code })
		for _, t := range src.Added {
			if t.Segment == d.Turn && t.Code == d.Code {
				t.Key = fmt.Sprintf("c:settled:%s:%s", from, t.Key)
				base.Added = append(base.Added, t)
			}
		}
	}
	base.Decisions = nil
	for _, d := range decisions {
		base.Decisions = append(base.Decisions, *d)
	}
	slices.SortFunc(base.Decisions, func(a, b hark.Decision) int { return strings.Compare(a.Key, b.Key) })
	// An answer to a suggested moment stands when every coder gave it;
	// the others are left for the coaches to give on the session's page.
	base.Suggestions = agreedSuggestions(dc.Coders, reviews)
	// The notes of every coder are kept, each under its author.
	base.Notes = nil
	for _, c := range dc.Coders {
		base.Notes = append(base.Notes, coderReview(reviews, c).Notes...)
	}
	shared, err := s.cfg.Index.Review(ctx, sess.Recording.ID)
	if err != nil {
		return err
	}
	// Corrections of who speaks and what was said are the session's: they
	// stay.
	base.Corrections = shared.Corrections
	base.Coder, base.State, base.UpdatedBy, base.UpdatedAt = "", hark.ReviewComplete, u.Name, s.cfg.Now().UTC().Truncate(time.Microsecond)
	if err := si.SettleDoubleCoding(ctx, &base, shared.Version, u.Name); err != nil {
		return err
	}
	s.audit(ctx, u, "review", sess.Recording.ID, fmt.Sprintf("double coding settled: %d disagreement(s)", len(ds)))
	// The review before the mark: a settled mark in the store over an
	// older review would make `hark reindex` restore a session settled
	// without its settled review.
	if err := s.storeReview(ctx, &base); err != nil {
		s.log.Warn("settled review not yet in the object store: `hark double-code settle` writes it", "recording", base.RecordingID, "err", err)
	} else if err := s.storeDoubleCoding(ctx, base.RecordingID); err != nil {
		s.log.Warn("settled double coding not yet in the object store: `hark double-code settle` writes it", "recording", base.RecordingID, "err", err)
	}
	return nil
}

// agreedSuggestions are the answers to suggested moments that every coder
// gave alike, as the first coder gave them.
func agreedSuggestions(coders []string, reviews []*hark.ReviewDoc) []hark.SuggestionDecision {
	var out []hark.SuggestionDecision
	for _, d := range coderReview(reviews, coders[0]).Suggestions {
		all := true
		for _, c := range coders[1:] {
			o := coderReview(reviews, c).Suggestion(d.Key)
			all = all && o != nil && o.State == d.State
		}
		if all {
			out = append(out, d)
		}
	}
	return out
}

func coderReview(reviews []*hark.ReviewDoc, coder string) *hark.ReviewDoc {
	for _, r := range reviews {
		if r.Coder == coder {
			return r
		}
	}
	return nil
}
