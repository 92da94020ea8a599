package index

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

var _ report.FamilySource = (*DB)(nil)

// familyHeader is what the family report reads of an annotations
// header (annotationsHeader): decoding only these fields, and of the
// moments only their keys and cues, leaves the rest unallocated.
type familyHeader struct {
	Moments []struct {
		Key string `json:"key"`
		Cue string `json:"cue"`
	}
	Family *hark.FamilyLens
}

// FamilySessions returns every session in the query's scope with its
// dimensions, family lens, the cues and keys of its suggested moments,
// whether a coach has reviewed it and the coaches' answers to the
// moments. See report.FamilySource.
//
// The family lens and the moments are in the annotations' header, the
// answers in the review: one read of each per session, and a decode of
// the header's lens and moment keys, about 0.1 ms a session
// (BenchmarkFamilySessions), unlike the other reports, which read
// report_sessions' counts alone.
func (d *DB) FamilySessions(ctx context.Context, q report.Query) ([]report.FamilySession, error) {
	if err := d.RefreshReports(ctx); err != nil {
		return nil, err
	}
	var out []report.FamilySession
	err := d.read(ctx, "family report", func(tx *sql.Tx) error {
		out = out[:0]
		var args argList
		scope := reportScope(q, &args, "")
		rows, err := tx.QueryContext(ctx, `SELECT s.recording_id, s.team, s.worker, s.meeting_type, s.recorded_on,
	s.review_state, r.annotations_doc, COALESCE(v.doc, '')
FROM (SELECT recording_id, team, worker, meeting_type, recorded_on, review_state FROM report_sessions WHERE `+scope+`) s
JOIN recordings r ON r.id = s.recording_id
LEFT JOIN reviews v ON v.recording_id = s.recording_id
ORDER BY s.recording_id`, params(args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, recorded, reviewState, adoc, rdoc string
			var fs report.FamilySession
			if err := rows.Scan(&id, &fs.Team, &fs.Worker, &fs.MeetingType, &recorded, &reviewState, &adoc, &rdoc); err != nil {
				return err
			}
			fs.Reviewed = reviewState != string(hark.ReviewNone)
			if len(recorded) >= 7 {
				fs.Month = recorded[:7]
			}
			if adoc != "" {
				var h familyHeader
				if err := json.Unmarshal([]byte(adoc), &h); err != nil {
					return hark.WrapError(hark.EINTERNAL, err, "decode annotations %s", id)
				}
				fs.Family = h.Family
				for _, m := range h.Moments {
					fs.Cues = append(fs.Cues, m.Cue)
					fs.Keys = append(fs.Keys, m.Key)
				}
			}
			if rdoc != "" {
				var rv struct {
					Suggestions []hark.SuggestionDecision `json:"suggestions"`
				}
				if err := json.Unmarshal([]byte(rdoc), &rv); err != nil {
					return hark.WrapError(hark.EINTERNAL, err, "decode review %s", id)
				}
				fs.Answers = rv.Suggestions
			}
			out = append(out, fs)
		}
		return rows.Err()
	})
	return out, err
}
