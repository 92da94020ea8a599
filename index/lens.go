package index

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

var _ report.FamilySource = (*DB)(nil)

// What the family-lens report reads of a session is kept short and apart
// from the documents it comes from (migration 0012), written with the
// annotations and the review: report_sessions.family_lens, the family
// lens as a line of numbers (encodeLens), read for every session in
// scope; family_moments, the moments' keys and cues and the coaches'
// answers to them (encodeMoments, encodeAnswers), read for the reviewed
// sessions only. One aggregate returns them all as one text, as for the
// other reports (ReportRows). Decoding each session's annotations header
// and review instead took 1.6 s over 100,000 sessions
// (BenchmarkFamilySessions).

// Separators of the texts: between sessions and between a session's
// fields in FamilySessions' aggregate, and between the moments or answers
// of a column and the parts of one. encodeMoments and encodeAnswers keep
// control characters out of the keys and cues they write; numbers and
// hex digits never hold them.
const (
	sessionSep = "\x1d"
	fieldSep   = "\x1c"
	recordSep  = "\x1e"
	unitSep    = "\x1f"
)

// plain is s without control characters, which the texts use as
// separators (a key or a cue never has them).
func plain(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < ' ' }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' {
			return '?'
		}
		return r
	}, s)
}

// encodeMoments is the moment_keys column of moments ms: each moment's
// key and cue.
func encodeMoments(ms []hark.Moment) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString(recordSep)
		}
		b.WriteString(plain(m.Key))
		b.WriteString(unitSep)
		b.WriteString(plain(m.Cue))
	}
	return b.String()
}

// encodeAnswers is the answers column of a review with the answers ds:
// each one's state, key and cue.
func encodeAnswers(ds []hark.SuggestionDecision) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString(recordSep)
		}
		b.WriteString(plain(string(d.State)))
		b.WriteString(unitSep)
		b.WriteString(plain(d.Key))
		b.WriteString(unitSep)
		b.WriteString(plain(d.Cue))
	}
	return b.String()
}

// parseMoments adds the moments of a moment_keys column to s.
func parseMoments(col string, s *report.FamilySession) {
	for col != "" {
		var m string
		m, col, _ = strings.Cut(col, recordSep)
		key, cue, _ := strings.Cut(m, unitSep)
		s.Keys = append(s.Keys, key)
		s.Cues = append(s.Cues, cue)
	}
}

// parseAnswers adds the answers of an answers column to s.
func parseAnswers(col string, s *report.FamilySession) {
	for col != "" {
		var a string
		a, col, _ = strings.Cut(col, recordSep)
		state, rest, _ := strings.Cut(a, unitSep)
		key, cue, _ := strings.Cut(rest, unitSep)
		s.Answers = append(s.Answers, hark.SuggestionDecision{Key: key, Cue: cue, State: hark.SuggestionState(state)})
	}
}

// encodeLens writes the figures of f the family report adds up, in the
// order parseLens reads them, separated by spaces: the parent's talk and
// turn shares, turns, turns interrupted, questions, questions answered,
// rights and next steps explained (0 or 1), explained before a decision
// and permission before advice (0, 1 or "-" for neither), fears and fears
// met. A nil lens is "".
func encodeLens(f *hark.FamilyLens) string {
	if f == nil {
		return ""
	}
	b := make([]byte, 0, 64)
	b = strconv.AppendFloat(b, f.ParentTalkShare, 'g', -1, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, f.ParentTurnShare, 'g', -1, 64)
	for _, n := range []int{f.ParentTurns, f.ParentInterrupted, f.ParentQuestions, f.ParentQuestionsAnswered,
		bit(f.RightsExplained), bit(f.NextStepsExplained), maybe(f.ExplainedBeforeDecision), maybe(f.PermissionBeforeAdvice),
		f.ParentFears, f.ParentFearsMet} {
		b = append(b, ' ')
		if n < 0 {
			b = append(b, '-')
		} else {
			b = strconv.AppendInt(b, int64(n), 10)
		}
	}
	return string(b)
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maybe is 1 or 0 for a yes or no, -1 for neither.
func maybe(b *bool) int {
	if b == nil {
		return -1
	}
	return bit(*b)
}

// parseLens reads a family_lens column: nil for "", an error for a
// column encodeLens did not write.
func parseLens(s string) (*hark.FamilyLens, error) {
	if s == "" {
		return nil, nil
	}
	var nums [12]float64
	var unset [12]bool
	for i := range nums {
		var field string
		field, s, _ = strings.Cut(s, " ")
		if field == "-" && (i == 8 || i == 9) {
			unset[i] = true
			continue
		}
		var x float64
		var err error
		if i < 2 {
			x, err = strconv.ParseFloat(field, 64)
		} else {
			var n int
			n, err = strconv.Atoi(field)
			x = float64(n)
		}
		if err != nil {
			return nil, hark.Errorf(hark.EINTERNAL, "family lens column: field %d is %q, not a number", i+1, field)
		}
		nums[i] = x
	}
	if s != "" {
		return nil, hark.Errorf(hark.EINTERNAL, "family lens column: more than 12 fields")
	}
	yes := func(i int) *bool {
		if unset[i] {
			return nil
		}
		b := nums[i] == 1
		return &b
	}
	return &hark.FamilyLens{ParentTalkShare: nums[0], ParentTurnShare: nums[1], ParentTurns: int(nums[2]),
		ParentInterrupted: int(nums[3]), ParentQuestions: int(nums[4]), ParentQuestionsAnswered: int(nums[5]),
		RightsExplained: nums[6] == 1, NextStepsExplained: nums[7] == 1, ExplainedBeforeDecision: yes(8),
		PermissionBeforeAdvice: yes(9), ParentFears: int(nums[10]), ParentFearsMet: int(nums[11])}, nil
}

// putFamily writes what the family report reads of annotations with the
// family lens f and the moments ms, within tx.
func putFamily(ctx context.Context, tx *sql.Tx, id string, f *hark.FamilyLens, ms []hark.Moment) error {
	if _, err := tx.ExecContext(ctx, `UPDATE report_sessions SET family_lens = $1 WHERE recording_id = $2`, params(encodeLens(f), id)...); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO family_moments (recording_id, moment_keys) VALUES ($1, $2)
ON CONFLICT (recording_id) DO UPDATE SET moment_keys = excluded.moment_keys`, params(id, encodeMoments(ms))...)
	return err
}

// putAnswers writes what the family report reads of a review with the
// answers ds, within tx.
func putAnswers(ctx context.Context, tx *sql.Tx, id string, ds []hark.SuggestionDecision) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO family_moments (recording_id, answers) VALUES ($1, $2)
ON CONFLICT (recording_id) DO UPDATE SET answers = excluded.answers`, params(id, encodeAnswers(ds))...)
	return err
}

// fillFamilyPending fills in what the family report reads of the
// sessions written before migration 0012 (it lists them in
// family_pending) from their annotations and reviews, a thousand
// sessions a transaction, and takes them off the list: after the
// migration, the first family report pays for it once.
func (d *DB) fillFamilyPending(ctx context.Context) error {
	for {
		var one int
		switch err := d.db.QueryRowContext(ctx, `SELECT 1 FROM family_pending LIMIT 1`).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return wrapDB(err, "fill in the family report's columns")
		}
		n := 0
		err := d.tx(ctx, "fill in the family report's columns", func(tx *sql.Tx) error {
			// From the list first: it is empty but once after a migration,
			// and a plan that scanned the recordings would cost every
			// report a scan of the largest table.
			chunk := `SELECT recording_id FROM family_pending ORDER BY recording_id LIMIT ` + strconv.Itoa(refreshChunk)
			if d.dialect.name == "postgres" {
				// Lock the recordings first, in one order, as every writer
				// of annotations or a review locks its recording first: a
				// writer waits for the fill or the fill for it, and the
				// documents are then read by a statement of their own,
				// which sees what the writer committed (else the fill
				// could write over a newer lens what it read before).
				if err := lockRows(ctx, tx, `SELECT id FROM recordings WHERE id IN (`+chunk+`) ORDER BY id FOR UPDATE`); err != nil {
					return err
				}
			}
			rows, err := tx.QueryContext(ctx, `SELECT p.recording_id, r.annotations_doc, COALESCE(v.doc, '')
FROM (`+chunk+`) p
JOIN recordings r ON r.id = p.recording_id
LEFT JOIN reviews v ON v.recording_id = p.recording_id
ORDER BY p.recording_id`)
			if err != nil {
				return err
			}
			type pending struct {
				id      string
				h       annotationsHeader
				answers []hark.SuggestionDecision
			}
			var ps []pending
			for rows.Next() {
				var adoc, rdoc string
				var p pending
				if err := rows.Scan(&p.id, &adoc, &rdoc); err != nil {
					rows.Close()
					return err
				}
				if adoc != "" {
					if err := json.Unmarshal([]byte(adoc), &p.h); err != nil {
						rows.Close()
						return hark.WrapError(hark.EINTERNAL, err, "decode annotations %s", p.id)
					}
				}
				if rdoc != "" {
					var rv struct {
						Suggestions []hark.SuggestionDecision `json:"suggestions"`
					}
					if err := json.Unmarshal([]byte(rdoc), &rv); err != nil {
						rows.Close()
						return hark.WrapError(hark.EINTERNAL, err, "decode review %s", p.id)
					}
					p.answers = rv.Suggestions
				}
				ps = append(ps, p)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, p := range ps {
				if err := putFamily(ctx, tx, p.id, p.h.Family, p.h.Moments); err != nil {
					return err
				}
				if err := putAnswers(ctx, tx, p.id, p.answers); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `DELETE FROM family_pending WHERE recording_id = $1`, params(p.id)...); err != nil {
					return err
				}
			}
			n = len(ps)
			return nil
		})
		if err != nil || n < refreshChunk {
			return err
		}
	}
}

// FamilySessions returns every session in the query's scope with its
// dimensions, family lens, the cues and keys of its suggested moments,
// whether a coach has reviewed it and the coaches' answers to the
// moments; the moments and answers of reviewed sessions only, as only
// they count in the answers per cue. See report.FamilySource.
//
// One aggregate returns every session as a record of units: team, worker,
// meeting type and month in hex, the family lens, and for a reviewed
// session an empty field, its moments and its answers.
func (d *DB) FamilySessions(ctx context.Context, q report.Query) ([]report.FamilySession, error) {
	if err := d.RefreshReports(ctx); err != nil {
		return nil, err
	}
	if err := d.fillFamilyPending(ctx); err != nil {
		return nil, err
	}
	var out []report.FamilySession
	err := d.read(ctx, "family report", func(tx *sql.Tx) error {
		var args argList
		scope := reportScope(q, &args, "")
		u := ` || '` + fieldSep + `' || `
		// The moments of a reviewed session only: a subquery in the CASE
		// looks them up for those alone.
		record := d.hexText(`team`) + u + d.hexText(`worker`) + u + d.hexText(`meeting_type`) + u +
			d.hexText(`substr(recorded_on, 1, 7)`) + u + `family_lens` +
			` || CASE WHEN review_state <> '' THEN '` + fieldSep + `'` + u + `COALESCE((SELECT f.moment_keys` + u +
			`f.answers FROM family_moments f WHERE f.recording_id = report_sessions.recording_id), '` + fieldSep + `') ELSE '' END`
		if d.dialect.name == "postgres" {
			// PostgreSQL's estimate of the subqueries makes it compile the
			// query (JIT), which costs more than the query: 150 ms of 360
			// over 100,000 sessions.
			if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
				return err
			}
		}
		var text sql.NullString
		// In the table's order, as for the counts (ReportRows): sorting
		// the sessions in SQL would cost a second over 100,000.
		agg := d.concat(record, sessionSep) + ` FROM report_sessions WHERE ` + scope
		if err := tx.QueryRowContext(ctx, `SELECT `+agg, params(args...)...).Scan(&text); err != nil {
			return err
		}
		var err error
		out, err = parseFamilySessions(text.String)
		return err
	})
	return out, err
}

// parseFamilySessions reads FamilySessions' text.
func parseFamilySessions(all string) ([]report.FamilySession, error) {
	if all == "" {
		return nil, nil
	}
	out := make([]report.FamilySession, 0, strings.Count(all, sessionSep)+1)
	decoded := map[string]string{}
	dim := func(h string) (string, error) {
		if v, ok := decoded[h]; ok {
			return v, nil
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return "", hark.Errorf(hark.EINTERNAL, "family report: %q is not hex", h)
		}
		decoded[h] = string(b)
		return string(b), nil
	}
	for all != "" {
		var rec string
		rec, all, _ = strings.Cut(all, sessionSep)
		var f [8]string
		n := 0
		for n < len(f) {
			var ok bool
			f[n], rec, ok = strings.Cut(rec, fieldSep)
			n++
			if !ok {
				break
			}
		}
		if n != 5 && n != 8 || rec != "" {
			return nil, hark.Errorf(hark.EINTERNAL, "family report: a session of %d fields", n)
		}
		var fs report.FamilySession
		var err error
		for i, p := range []*string{&fs.Team, &fs.Worker, &fs.MeetingType} {
			if *p, err = dim(f[i]); err != nil {
				return nil, err
			}
		}
		month, err := dim(f[3])
		if err != nil {
			return nil, err
		}
		if isMonth(month) {
			fs.Month = month
		}
		if fs.Family, err = parseLens(f[4]); err != nil {
			return nil, err
		}
		if n == 8 {
			fs.Reviewed = true
			parseMoments(f[6], &fs)
			parseAnswers(f[7], &fs)
		}
		out = append(out, fs)
	}
	return out, nil
}

// isMonth reports whether s is a month, YYYY-MM: a recording date from
// outside may be anything.
func isMonth(s string) bool {
	if len(s) != 7 || s[4] != '-' {
		return false
	}
	for i := range 7 {
		if i != 4 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}
