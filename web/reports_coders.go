package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

// handleCoders answers the agreement between the coders of double-coded
// sessions, per code (GET /api/reports/coders; format=csv for CSV), over
// the user's teams, with the reports' suppression floor. Parameters:
// team, codes, unit-seconds, rounds, level, seed (a new one when not
// given; it is in the answer), min-cell.
func (rp *Reports) handleCoders(w http.ResponseWriter, r *http.Request) {
	u, all, err := rp.user(r)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	q, err := rp.query(r, u, all)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	src, ok := rp.cfg.Source.(report.CodingSource)
	if !ok {
		rp.apiError(w, r, hark.Errorf(hark.EUNAVAILABLE, "this server's index keeps no double coding"))
		return
	}
	opt, err := coderOptions(r, q)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	sessions, err := report.CodedSessions(r.Context(), src, q.Teams)
	if err != nil {
		rp.apiError(w, r, err)
		return
	}
	rep := report.CoderAgreement(sessions, opt)
	format := r.URL.Query().Get("format")
	rp.audit(r, u, "export", "coder agreement "+format+": "+r.URL.Query().Encode())
	if format != "csv" {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
	w.Header().Set("Content-Disposition", `attachment; filename="hark-coder-agreement-`+rp.cfg.Now().UTC().Format("2006-01-02")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := rep.WriteCSV(w); err != nil {
		rp.cfg.Logger.Warn("write coder agreement csv", "err", err)
	}
}

// minUnitSeconds is the shortest time unit asked for: units cost memory
// in proportion to a session's length over their width.
const minUnitSeconds = 0.1

// coderOptions reads the agreement's options from the request; the
// suppression floor is the query's (never under the server's).
func coderOptions(r *http.Request, q report.Query) (report.CoderOptions, error) {
	v := r.URL.Query()
	opt := report.CoderOptions{Codes: q.Codes, MinCell: q.MinCell}
	num := func(key string, set func(float64)) error {
		s := strings.TrimSpace(v.Get(key))
		if s == "" {
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return hark.Errorf(hark.EINVALID, "%s=%q: want a number", key, s)
		}
		set(f)
		return nil
	}
	if err := num("unit-seconds", func(f float64) { opt.UnitSeconds = f }); err != nil {
		return opt, err
	}
	if err := num("level", func(f float64) { opt.Level = f }); err != nil {
		return opt, err
	}
	if err := num("rounds", func(f float64) { opt.Rounds = int(f) }); err != nil {
		return opt, err
	}
	if opt.UnitSeconds != 0 && !(opt.UnitSeconds >= minUnitSeconds) || math.IsNaN(opt.Level) || opt.Level < 0 || opt.Level >= 1 || opt.Rounds > 100000 {
		return opt, hark.Errorf(hark.EINVALID, "unit-seconds must be at least %g, level between 0 and 1, rounds at most 100000", minUnitSeconds)
	}
	if s := strings.TrimSpace(v.Get("seed")); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return opt, hark.Errorf(hark.EINVALID, "seed=%q: want a whole number", s)
		}
		opt.Seed = seed
	} else {
		opt.Seed = report.NewSeed()
	}
	return opt, nil
}
