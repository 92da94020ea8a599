package index

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/report"
)

// The index is the source of the analysts' reports (package report). A
// report reads one row per session from report_sessions (migration 0004),
// where triggers keep each recording's report columns and its tag counts
// per code and tag status, never the tags themselves: one aggregate query
// per report.
var _ report.Source = (*DB)(nil)

// argList collects the arguments of a query and names their placeholders.
type argList []any

func (a *argList) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// reportScope is the WHERE clause over report_sessions that picks the
// sessions a report covers: ready, with a duration, within the query's
// dates, teams and codebook version, and meeting extra.
func reportScope(q report.Query, args *argList, extra string) string {
	where := []string{`status = 'ready'`, `duration > 0`}
	if extra != "" {
		where = append(where, extra)
	}
	if q.From != "" || q.To != "" {
		where = append(where, `recorded_on <> ''`) // undated meetings are in no date range
	}
	if q.From != "" {
		where = append(where, `recorded_on >= `+args.add(q.From))
	}
	if q.To != "" {
		where = append(where, `recorded_on <= `+args.add(q.To))
	}
	if q.Teams != nil {
		if len(q.Teams) == 0 {
			where = append(where, `1 = 0`)
		} else {
			ph := make([]string, len(q.Teams))
			for i, t := range q.Teams {
				ph[i] = args.add(t)
			}
			where = append(where, `team IN (`+strings.Join(ph, ", ")+`)`)
		}
	}
	if q.CodebookVersion != "" {
		where = append(where, `codebook_version = `+args.add(q.CodebookVersion))
	}
	return strings.Join(where, " AND ")
}

// concat is the dialect's aggregate that joins text with a separator.
func (d *DB) concat(expr, sep string) string {
	if d.dialect.name == "postgres" {
		return `string_agg(` + expr + `, '` + sep + `')`
	}
	return `group_concat(` + expr + `, '` + sep + `')`
}

// refreshChunk is how many stale sessions one transaction recounts, so
// that a large refresh never holds SQLite's write lock for long.
const refreshChunk = 1000

// RefreshReports recounts the report rows of sessions whose tags,
// segments or review state changed since they were last counted (triggers
// mark them stale: writers pay almost nothing). Reports call it first, so
// they pay for the sessions changed since the last report; a large
// refresh, after a reindex, takes about half a millisecond a session: call
// it after bulk writes so that the next report is quick. It works in
// transactions of refreshChunk sessions.
func (d *DB) RefreshReports(ctx context.Context) error {
	// Writers may mark rows stale as fast as they are recounted; the
	// bound keeps a report from chasing them for ever.
	for range 1000 {
		rows, err := d.db.QueryContext(ctx, `SELECT recording_id FROM report_sessions WHERE stale = 1 LIMIT `+strconv.Itoa(refreshChunk))
		if err != nil {
			return wrapDB(err, "refresh report counts")
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrapDB(err, "refresh report counts")
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrapDB(err, "refresh report counts")
		}
		if len(ids) == 0 {
			return nil
		}
		if err := d.tx(ctx, "refresh report counts", func(tx *sql.Tx) error {
			return d.refreshSessions(ctx, tx, ids)
		}); err != nil {
			return err
		}
		if len(ids) < refreshChunk {
			return nil
		}
	}
	return nil
}

// refreshSessions recounts the report rows of the recordings ids.
func (d *DB) refreshSessions(ctx context.Context, tx *sql.Tx, ids []any) error {
	if d.dialect.name == "postgres" {
		strs := make([]string, len(ids))
		for i, id := range ids {
			strs[i] = id.(string)
		}
		// Lock the rows first, in one order (two refreshes cannot
		// deadlock), waiting for writers that hold them; the recount is
		// then a statement of its own, so it sees what they committed. A
		// writer that comes after marks the row stale again.
		if err := lockRows(ctx, tx, `SELECT recording_id FROM report_sessions WHERE recording_id = ANY ($1)
ORDER BY recording_id FOR UPDATE`, strs); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `SELECT hark_report_refresh($1)`, strs)
		return err
	}
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = []any{id}
	}
	return d.bulkInsert(ctx, tx, "report_refresh", []string{"recording_id"}, rows)
}

// lockRows runs a SELECT … FOR UPDATE (PostgreSQL) and reads every row,
// so that all of them are locked before the next statement.
func lockRows(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

// reportCodes returns the code of each code number.
func reportCodes(ctx context.Context, tx *sql.Tx) (map[int]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, code FROM report_codes`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var id int
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return nil, err
		}
		out[id] = code
	}
	return out, rows.Err()
}

// errCounts is the error for count lists that cannot be read: a bug, or a
// database changed by hand.
func errCounts(s string) error {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return hark.Errorf(hark.EINTERNAL, "index: unreadable report counts %q", s)
}

// eachCount calls fn for each "ID:N:N…" entry of a count list, separated
// by spaces, with the code number and the entry's numbers in nums, which
// says how many there are. It allocates nothing: a report reads millions.
func eachCount(list string, nums []int, fn func(id int, nums []int)) error {
	for i := 0; i < len(list); {
		if list[i] == ' ' {
			i++
			continue
		}
		id, j, ok := atoi(list, i)
		if !ok {
			return errCounts(list)
		}
		for k := range nums {
			if j >= len(list) || list[j] != ':' {
				return errCounts(list)
			}
			if nums[k], j, ok = atoi(list, j+1); !ok {
				return errCounts(list)
			}
		}
		if j < len(list) && list[j] != ' ' {
			return errCounts(list)
		}
		fn(id, nums)
		i = j
	}
	return nil
}

// atoi reads the decimal number at s[i:], and returns it and the index
// after it.
func atoi(s string, i int) (n, next int, ok bool) {
	start := i
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 18; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, i, i > start
}

// hexText is the SQL for the hex digits of a text column's UTF-8 bytes: a
// name from outside can hold any separator, hex digits cannot.
func (d *DB) hexText(col string) string {
	if d.dialect.name == "postgres" {
		return `encode(convert_to(` + col + `, 'UTF8'), 'hex')`
	}
	return `hex(` + col + `)`
}

// millis is the SQL for a duration in seconds as whole milliseconds, as
// text: an integer is quicker to write and to read than a float.
func (d *DB) millis(col string) string {
	if d.dialect.name == "postgres" {
		return `CAST(round(` + col + ` * 1000) AS BIGINT)`
	}
	return `CAST(round(` + col + ` * 1000) AS INTEGER)`
}

// ReportRows returns one row per session in the query's scope with its
// counts of the query's codes (of every code with tags in scope when it
// names none). See report.Source.
//
// One aggregate over report_sessions returns every session in scope as one
// text, "DIMS|MILLISECONDS|COUNTS;…" with the dimensions asked for in hex: a
// row per session would cost more than the rest of the report, and
// grouping in SQL means a sort on SQLite.
func (d *DB) ReportRows(ctx context.Context, q report.Query) (*report.SessionRows, error) {
	if err := d.RefreshReports(ctx); err != nil {
		return nil, err
	}
	type session struct {
		row        report.SessionRow
		start, end int // its code numbers and counts in pairs
	}
	var (
		sessions []session
		pairs    []int
		names    map[int]string
	)
	err := d.read(ctx, "report", func(tx *sql.Tx) error {
		var err error
		if names, err = reportCodes(ctx, tx); err != nil {
			return err
		}
		var args argList
		var fields []string
		var dims []report.Dimension
		for _, dim := range []report.Dimension{report.Team, report.Worker, report.MeetingType, report.Month} {
			if q.Has(dim) {
				dims = append(dims, dim)
				col := map[report.Dimension]string{report.Team: `team`, report.Worker: `worker`,
					report.MeetingType: `meeting_type`, report.Month: `substr(recorded_on, 1, 7)`}[dim]
				fields = append(fields, d.hexText(col))
			}
		}
		list, extra := `unrejected`, ``
		switch q.Status {
		case report.Machine:
			list = `machine`
		case report.Confirmed:
			list, extra = `confirmed`, `review_state = 'complete'`
		}
		fields = append(fields, d.millis(`duration`), list)
		query := `SELECT ` + d.concat(strings.Join(fields, ` || '|' || `), ";") +
			` FROM report_sessions WHERE ` + reportScope(q, &args, extra)
		var text sql.NullString
		if err := tx.QueryRowContext(ctx, query, params(args...)...).Scan(&text); err != nil {
			return err
		}
		all := text.String
		sessions = make([]session, 0, strings.Count(all, ";")+1)
		pairs = make([]int, 0, len(all)/3)
		decoded := map[string]string{}
		nums := make([]int, 1)
		for len(all) > 0 {
			tok, rest, _ := strings.Cut(all, ";")
			all = rest
			s := session{start: len(pairs)}
			for _, dim := range dims {
				h, after, ok := strings.Cut(tok, "|")
				if !ok {
					return errCounts(tok)
				}
				tok = after
				v, ok := decoded[h]
				if !ok {
					b, err := hex.DecodeString(h)
					if err != nil {
						return errCounts(h)
					}
					v = string(b)
					decoded[h] = v
				}
				switch dim {
				case report.Team:
					s.row.Team = v
				case report.Worker:
					s.row.Worker = v
				case report.MeetingType:
					s.row.MeetingType = v
				case report.Month:
					s.row.Month = v
				}
			}
			ms, counts, ok := strings.Cut(tok, "|")
			if !ok {
				return errCounts(tok)
			}
			n, end, ok := atoi(ms, 0)
			if !ok || end != len(ms) {
				return errCounts(tok)
			}
			s.row.Seconds = float64(n) / 1000
			if err := eachCount(counts, nums, func(id int, n []int) { pairs = append(pairs, id, n[0]) }); err != nil {
				return err
			}
			s.end = len(pairs)
			sessions = append(sessions, s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// The codes: those asked for, else every code with a count.
	codes := q.Codes
	if len(codes) == 0 {
		seen := map[int]bool{}
		for i := 0; i < len(pairs); i += 2 {
			if !seen[pairs[i]] && pairs[i+1] > 0 {
				seen[pairs[i]] = true
				codes = append(codes, names[pairs[i]])
			}
		}
		slices.Sort(codes)
	}
	maxID := 0
	for id := range names {
		maxID = max(maxID, id)
	}
	for i := 0; i < len(pairs); i += 2 {
		maxID = max(maxID, pairs[i])
	}
	pos := make([]int, maxID+1) // code number → position in codes, or -1
	for id := range pos {
		pos[id] = slices.Index(codes, names[id])
	}
	out := &report.SessionRows{Codes: codes, Sessions: make([]report.SessionRow, len(sessions))}
	if out.Codes == nil {
		out.Codes = []string{}
	}
	k := len(codes)
	backing := make([]int, len(sessions)*k)
	for i, s := range sessions {
		r := s.row
		r.Counts = backing[i*k : (i+1)*k : (i+1)*k]
		for j := s.start; j < s.end; j += 2 {
			if p := pos[pairs[j]]; p >= 0 {
				r.Counts[p] += pairs[j+1]
			}
		}
		out.Sessions[i] = r
	}
	return out, nil
}

// AgreementRows returns the counts behind the agreement report. See
// report.Source.
//
// One aggregate over the reviewed sessions in report_sessions, grouped by
// codebook version, with each session's agreement counts as text.
func (d *DB) AgreementRows(ctx context.Context, q report.Query) (*report.AgreementRows, error) {
	if err := d.RefreshReports(ctx); err != nil {
		return nil, err
	}
	out := &report.AgreementRows{}
	err := d.read(ctx, "agreement report", func(tx *sql.Tx) error {
		names, err := reportCodes(ctx, tx)
		if err != nil {
			return err
		}
		var args argList
		query := `SELECT codebook_version, COUNT(*),
	SUM(CASE WHEN review_state = 'complete' THEN 1 ELSE 0 END),
	SUM(CASE WHEN review_state = 'complete' THEN segments ELSE 0 END),
	` + d.concat(`CASE WHEN review_state = 'complete' THEN '1' ELSE '0' END || '|' || agreement`, ";") + `
FROM report_sessions WHERE ` + reportScope(q, &args, `review_state <> ''`) + ` GROUP BY codebook_version`
		rows, err := tx.QueryContext(ctx, query, params(args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		byKey := map[[2]string]int{}
		nums := make([]int, 9)
		for rows.Next() {
			var v report.VersionSessions
			var text sql.NullString
			if err := rows.Scan(&v.CodebookVersion, &v.Reviewed, &v.Complete, &v.Segments, &text); err != nil {
				return err
			}
			out.Versions = append(out.Versions, v)
			for tok := range strings.SplitSeq(text.String, ";") {
				if tok == "" {
					continue
				}
				flag, list, ok := strings.Cut(tok, "|")
				if !ok {
					return errCounts(tok)
				}
				complete := flag == "1"
				err := eachCount(list, nums, func(id int, n []int) {
					code := names[id]
					if len(q.Codes) > 0 && !slices.Contains(q.Codes, code) {
						return
					}
					key := [2]string{v.CodebookVersion, code}
					i, ok := byKey[key]
					if !ok {
						i = len(out.Codes)
						byKey[key] = i
						out.Codes = append(out.Codes, report.CodeAgreement{CodebookVersion: v.CodebookVersion, Code: code})
					}
					c := &out.Codes[i]
					c.Accepted += n[0]
					c.Rejected += n[1]
					c.Changed += n[2]
					c.Pending += n[3]
					c.Added += n[4]
					c.ChangedTo += n[5]
					if complete {
						c.Both += n[6]
						c.MachineOnly += n[7]
						c.CoachOnly += n[8]
					}
				})
				if err != nil {
					return err
				}
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ImportSession is one session as ImportSessions writes it: a recording
// with its results as they stand.
type ImportSession struct {
	// Recording is the recording's row; its ID names the session.
	Recording hark.Recording
	// Transcript, when not nil, is the recording's transcript.
	Transcript *hark.Transcript
	// Annotations, when not nil, hold the tags as reviewed, as Session
	// returns them: the machine's with the coaches' decisions already
	// applied, and the coaches' own. They are stored as given.
	Annotations *hark.Annotations
	// ReviewState is how far coaches have reviewed the session; "" for a
	// session nobody has reviewed.
	ReviewState hark.ReviewState
}

// ImportSessions adds whole sessions, recordings the index does not have
// yet, in one transaction of prepared multi-row INSERTs, and counts them
// for reports in it. It is for bulk loads, such as a data set to measure
// reports on, where PutRecording, PutTranscript, PutAnnotations and
// PutReview would take a transaction a step and a session. No review
// documents are written: the review's outcome is in the tags and the
// review state, and a later PutReview of an imported session starts from
// an empty review.
//
// It returns EINVALID for a recording without an id, and ECONFLICT,
// writing nothing, when the index already has one of the recordings. Call
// Analyze after a large import.
func (d *DB) ImportSessions(ctx context.Context, sessions []ImportSession) error {
	if len(sessions) == 0 {
		return nil
	}
	var recs, tags, segs, family, lenses [][]any
	ids := make([]any, len(sessions))
	for i := range sessions {
		s := &sessions[i]
		r := &s.Recording
		if r.ID == "" {
			return hark.Errorf(hark.EINVALID, "import sessions: recording %d of %d has no id", i+1, len(sessions))
		}
		doc, err := json.Marshal(r)
		if err != nil {
			return hark.WrapError(hark.EINTERNAL, err, "encode recording %s", r.ID)
		}
		var tdoc, adoc []byte
		if t := s.Transcript; t != nil {
			if tdoc, err = json.Marshal(transcriptHeader{t.Engine, t.Model, t.Language, t.Audio, t.Speakers}); err != nil {
				return hark.WrapError(hark.EINTERNAL, err, "encode transcript %s", r.ID)
			}
			for _, sg := range t.Segments {
				segs = append(segs, []any{r.ID, sg.Index, sg.Start, sg.End, sg.Speaker, string(sg.Role), sg.Text, sg.Confidence})
			}
		}
		if a := s.Annotations; a != nil {
			if adoc, err = json.Marshal(headerOf(a)); err != nil {
				return hark.WrapError(hark.EINTERNAL, err, "encode annotations %s", r.ID)
			}
			family = append(family, []any{r.ID, encodeMoments(a.Moments)})
			if a.Family != nil {
				lenses = append(lenses, []any{encodeLens(a.Family), r.ID})
			}
			for _, t := range a.Tags {
				tags = append(tags, d.tagRow(r.ID, a.Codebook, a.CodebookVersion, t))
			}
		}
		recs = append(recs, []any{r.ID, r.Bucket, r.Key, r.ETag, r.Size, r.DurationSeconds, r.Channels, r.SampleRate, r.Team,
			r.Worker, r.MeetingType, r.RecordedOn, r.Batch, string(r.Status), string(r.Stage), r.Reason, r.Attempts, string(doc),
			d.dialect.time(r.CreatedAt), d.dialect.time(r.UpdatedAt), r.Lease, string(tdoc), string(adoc), string(s.ReviewState)})
		ids[i] = r.ID
	}
	return d.tx(ctx, "import sessions", func(tx *sql.Tx) error {
		// In chunks: both databases bound the parameters of a statement.
		for chunk := range slices.Chunk(ids, refreshChunk) {
			var args argList
			ph := make([]string, len(chunk))
			for i, id := range chunk {
				ph[i] = args.add(id)
			}
			var id string
			err := tx.QueryRowContext(ctx, `SELECT id FROM recordings WHERE id IN (`+strings.Join(ph, ", ")+`) LIMIT 1`,
				params(args...)...).Scan(&id)
			switch {
			case err == nil:
				return hark.Errorf(hark.ECONFLICT, "import sessions: the index already has recording %s; nothing was imported", id)
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		if err := d.bulkInsert(ctx, tx, "recordings", importRecordingColumns, recs); err != nil {
			return err
		}
		if err := d.bulkInsert(ctx, tx, "tags", tagColumns, tags); err != nil {
			return err
		}
		if err := d.bulkInsert(ctx, tx, "segments", importSegmentColumns, segs); err != nil {
			return err
		}
		if err := d.bulkInsert(ctx, tx, "family_moments", []string{"recording_id", "moment_keys"}, family); err != nil {
			return err
		}
		for _, l := range lenses {
			if _, err := tx.ExecContext(ctx, `UPDATE report_sessions SET family_lens = $1 WHERE recording_id = $2`, params(l...)...); err != nil {
				return err
			}
		}
		return d.refreshSessions(ctx, tx, ids)
	})
}

// importRecordingColumns are the columns ImportSessions writes a recording
// with: PutRecording's, and the results' own.
var importRecordingColumns = []string{"id", "bucket", "key", "etag", "size", "duration", "channels", "sample_rate", "team",
	"worker", "meeting_type", "recorded_on", "batch", "status", "stage", "reason", "attempts", "doc", "created_at",
	"updated_at", "lease", "transcript_doc", "annotations_doc", "review_state"}

var importSegmentColumns = []string{"recording_id", "idx", "start_s", "end_s", "speaker", "role", "text", "confidence"}

// tagRow is tag t of recording id, found with the codebook's version, as
// a row of tagColumns.
func (d *DB) tagRow(id, codebook, version string, t hark.Tag) []any {
	var at any
	if t.ReviewedAt != nil {
		at = d.dialect.time(*t.ReviewedAt)
	}
	moment := 0
	if t.Moment {
		moment = 1
	}
	return []any{id, t.Segment, t.Code, t.Start, t.End, t.Evidence, t.Confidence, string(t.Source),
		string(t.Review), codebook, version, t.Key, t.OrigCode, t.ReviewedBy, at, moment}
}

// Analyze refreshes the statistics the database plans queries with, and on
// PostgreSQL the visibility map, so that index-only scans are possible at
// once: after a bulk import, so that the next reports are planned for the
// rows there are.
func (d *DB) Analyze(ctx context.Context) error {
	analyze := `ANALYZE`
	if d.dialect.name == "postgres" {
		analyze = `VACUUM ANALYZE recordings, tags, segments`
	}
	_, err := d.db.ExecContext(ctx, analyze)
	return wrapDB(err, "analyze")
}

// bulkRows is how many rows one of bulkInsert's INSERTs carries.
const bulkRows = 250

// bulkInsert inserts rows into table with one prepared multi-row INSERT
// of bulkRows rows, reused. SQLite gets ? placeholders: it looks $N
// names up one by one, which costs more than the insert itself in
// statements this long.
func (d *DB) bulkInsert(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	statement := func(n int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		p := 0
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				p++
				if d.dialect.name == "postgres" {
					b.WriteString("$" + strconv.Itoa(p))
				} else {
					b.WriteByte('?')
				}
			}
			b.WriteByte(')')
		}
		return b.String()
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, bulkRows*len(cols))
	for len(rows) > 0 {
		n := min(len(rows), bulkRows)
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		var err error
		if n == bulkRows {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, statement(n)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, params(args...)...)
		} else {
			_, err = tx.ExecContext(ctx, statement(n), params(args...)...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
