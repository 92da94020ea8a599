package index

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

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
		rows, err := tx.QueryContext(ctx, `SELECT recording_id FROM report_sessions WHERE recording_id = ANY ($1)
ORDER BY recording_id FOR UPDATE`, strs)
		if err != nil {
			return err
		}
		for rows.Next() { // every row locked before the recount
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `SELECT hark_report_refresh($1)`, strs)
		return err
	}
	rows := make([][]any, len(ids))
	for i, id := range ids {
		rows[i] = []any{id}
	}
	return d.bulkInsert(ctx, tx, "report_refresh", []string{"recording_id"}, rows)
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

// SeedConfig configures SeedReports.
type SeedConfig struct {
	// Sessions is how many recordings to add.
	Sessions int
	// Seed makes the data reproducible: the same seed gives the same data.
	Seed uint64
	// Batch names the batch the recordings are in; default "bench-seed".
	// Seeding a batch that exists is ECONFLICT.
	Batch string
	// Progress, when set, is called after each transaction with the
	// number of sessions written so far.
	Progress func(done int)
}

// SeedStats says what SeedReports wrote.
type SeedStats struct {
	Sessions, Ready, Reviewed, Complete int
	Tags, Segments                      int
	Took                                time.Duration
}

// seedCode is a code with the rate the simulated machine finds it at, how
// often coaches agree with it, and how often they add one it missed.
type seedCode struct {
	id        string
	perHour   float64
	precision float64
	missed    float64 // coach-added tags per machine tag
	concern   bool
}

var seedCodes = []seedCode{
	{"reflective_listening", 4.0, 0.85, 0.12, false},
	{"open_question", 5.0, 0.90, 0.05, false},
	{"joint_agenda_setting", 0.5, 0.70, 0.30, false},
	{"collaborative_planning", 0.8, 0.75, 0.25, false},
	{"shared_concern", 0.7, 0.70, 0.20, false},
	{"affirmation", 1.3, 0.80, 0.15, false},
	{"asking_permission", 0.5, 0.85, 0.10, false},
	{"explaining_process", 1.6, 0.80, 0.10, false},
	{"threat_of_escalation", 0.3, 0.65, 0.35, true},
	{"directive", 1.8, 0.75, 0.10, true},
	{"dismissing_parent_view", 0.4, 0.60, 0.40, true},
}

var (
	seedTeams        = []string{"north", "south", "east", "west", "central", "riverside", "hillside", "harbour", "valley", "meadow", "forest", "coast"}
	seedMeetingTypes = []struct {
		name  string
		share float64
	}{{"home visit", 0.40}, {"office meeting", 0.20}, {"core group", 0.15}, {"child protection conference", 0.10},
		{"family group conference", 0.05}, {"child in need review", 0.10}}
)

// seedTxSessions is how many sessions one seeding transaction writes.
const seedTxSessions = 500

// SeedReports fills the index with realistic sessions for benchmarks of
// reports: twelve teams of 8 to 30 workers, six meeting types, two years
// of dates (with a codebook change halfway), meetings of 30 to 120 minutes,
// tags at per-code rates that vary by team and worker, and about 15% of
// sessions reviewed (10% completely) with accepts, rejects, changed codes
// and added tags. Transcript segments are written for completely reviewed
// sessions only (reports count segments of those only), with placeholder
// text.
//
// The rows go in with prepared multi-row INSERTs, 500 sessions a
// transaction, which also counts them for reports; without review
// documents: the result is for measuring reports, not for reviewing.
func (d *DB) SeedReports(ctx context.Context, cfg SeedConfig) (*SeedStats, error) {
	if cfg.Sessions <= 0 {
		return nil, hark.Errorf(hark.EINVALID, "seed: the number of sessions must be positive")
	}
	if cfg.Batch == "" {
		cfg.Batch = "bench-seed"
	}
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM recordings WHERE batch = $1`, params(cfg.Batch)...).Scan(&n); err != nil {
		return nil, wrapDB(err, "seed")
	}
	if n > 0 {
		return nil, hark.Errorf(hark.ECONFLICT, "seed: the index already has a batch %q; seed a fresh index or name another batch", cfg.Batch)
	}
	start := time.Now()
	g := newSeeder(cfg)
	g.d = d
	st := &SeedStats{}
	for done := 0; done < cfg.Sessions; {
		n := min(seedTxSessions, cfg.Sessions-done)
		var recs, tags, segs [][]any
		for i := range n {
			r, t, s := g.session(done + i)
			recs, tags, segs = append(recs, r), append(tags, t...), append(segs, s...)
		}
		err := d.tx(ctx, "seed", func(tx *sql.Tx) error {
			if err := d.bulkInsert(ctx, tx, "recordings", seedRecordingColumns, recs); err != nil {
				return err
			}
			if err := d.bulkInsert(ctx, tx, "tags", tagColumns, tags); err != nil {
				return err
			}
			if err := d.bulkInsert(ctx, tx, "segments", seedSegmentColumns, segs); err != nil {
				return err
			}
			ids := make([]any, len(recs))
			for i, r := range recs {
				ids[i] = r[0]
			}
			return d.refreshSessions(ctx, tx, ids)
		})
		if err != nil {
			return nil, err
		}
		done += n
		st.Tags += len(tags)
		st.Segments += len(segs)
		if cfg.Progress != nil {
			cfg.Progress(done)
		}
	}
	st.Sessions, st.Ready, st.Reviewed, st.Complete = cfg.Sessions, g.ready, g.reviewed, g.complete
	// Fresh statistics for the planner, and on PostgreSQL a visibility
	// map, so that index-only scans are possible at once.
	analyze := `ANALYZE`
	if d.dialect.name == "postgres" {
		analyze = `VACUUM ANALYZE recordings, tags, segments`
	}
	if _, err := d.db.ExecContext(ctx, analyze); err != nil {
		return nil, wrapDB(err, "seed: analyze")
	}
	st.Took = time.Since(start)
	return st, nil
}

// seedBatchRows is how many rows one seeding INSERT carries.
const seedBatchRows = 250

// bulkInsert inserts rows into table with one prepared multi-row INSERT
// of seedBatchRows rows, reused. SQLite gets ? placeholders: it looks $N
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
	args := make([]any, 0, seedBatchRows*len(cols))
	for len(rows) > 0 {
		n := min(len(rows), seedBatchRows)
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		var err error
		if n == seedBatchRows {
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

var seedSegmentColumns = []string{"recording_id", "idx", "start_s", "end_s", "speaker", "role", "text", "confidence"}

var seedRecordingColumns = []string{"id", "bucket", "key", "etag", "size", "duration", "channels", "sample_rate", "team",
	"worker", "meeting_type", "recorded_on", "batch", "status", "stage", "reason", "attempts", "doc", "created_at",
	"updated_at", "transcript_doc", "annotations_doc", "review_state"}

// seeder draws the sessions.
type seeder struct {
	cfg                       SeedConfig
	d                         *DB
	rng                       *rand.Rand
	workers                   [][]seedWorker // by team
	teamF                     []float64
	first                     time.Time
	ready, reviewed, complete int
}

type seedWorker struct {
	id                string
	strength, concern float64 // rate multipliers
}

func newSeeder(cfg SeedConfig) *seeder {
	g := &seeder{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x6861726b)),
		first: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)}
	for _, team := range seedTeams {
		g.teamF = append(g.teamF, 0.7+0.6*g.rng.Float64())
		var ws []seedWorker
		for w := range 8 + g.rng.IntN(23) {
			ws = append(ws, seedWorker{id: fmt.Sprintf("w-%s-%02d", team[:3], w+1),
				strength: math.Exp(g.rng.NormFloat64() * 0.35), concern: math.Exp(g.rng.NormFloat64() * 0.6)})
		}
		g.workers = append(g.workers, ws)
	}
	return g
}

// poisson draws from a Poisson distribution with mean lambda.
func (g *seeder) poisson(lambda float64) int {
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*g.rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// session returns the rows of session i: its recording, tags and segments.
func (g *seeder) session(i int) (rec []any, tags, segs [][]any) {
	rng := g.rng
	team := rng.IntN(len(seedTeams))
	w := g.workers[team][rng.IntN(len(g.workers[team]))]
	mt := seedMeetingTypes[len(seedMeetingTypes)-1].name
	x, acc := rng.Float64(), 0.0
	for _, m := range seedMeetingTypes {
		if acc += m.share; x < acc {
			mt = m.name
			break
		}
	}
	// Dates over two years, more meetings later on; 1% undated.
	day := int(730 * math.Sqrt(rng.Float64()))
	date := g.first.AddDate(0, 0, day)
	recordedOn := date.Format(time.DateOnly)
	if rng.IntN(100) == 0 {
		recordedOn = ""
	}
	version := "1"
	if date.After(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)) {
		version = "2"
	}
	minutes := 30 + 45*(rng.Float64()+rng.Float64()) // 30–120, most near 75
	seconds := math.Round(minutes*60*100) / 100
	status, stage, reason := hark.StatusReady, hark.Stage(""), ""
	switch x := rng.IntN(100); {
	case x < 2:
		status, stage, reason = hark.StatusFailed, hark.StageTranscribe, "the audio could not be decoded"
	case x < 3:
		status = hark.StatusTranscribing
	}
	created := date.Add(time.Duration(9+rng.IntN(8))*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
	key := fmt.Sprintf("%s/%07d.wav", g.cfg.Batch, i)
	etag := fmt.Sprintf("%032x", rng.Uint64())
	r := hark.Recording{Schema: hark.SchemaVersion, ID: hark.RecordingID("recordings", key, etag), Bucket: "recordings",
		Key: key, ETag: etag, Size: int64(seconds * 32000), DurationSeconds: seconds, Channels: 1, SampleRate: 16000,
		Team: seedTeams[team], Worker: w.id, MeetingType: mt, RecordedOn: recordedOn, Batch: g.cfg.Batch,
		Status: status, Stage: stage, Reason: reason, Attempts: 1, CreatedAt: created, UpdatedAt: created.Add(3 * time.Minute)}
	doc, _ := json.Marshal(r)
	reviewState := ""
	tdoc, adoc := "", ""
	if status == hark.StatusReady {
		g.ready++
		tdoc = `{"Engine":"bench","Model":"","Language":"en","Audio":{}}`
		a, _ := json.Marshal(annotationsHeader{Codebook: "hark-practice", CodebookVersion: version, Tagger: "rules"})
		adoc = string(a)
		switch x := rng.IntN(100); {
		case x < 10:
			reviewState = string(hark.ReviewComplete)
			g.reviewed++
			g.complete++
		case x < 15:
			reviewState = string(hark.ReviewInProgress)
			g.reviewed++
		}
	} else {
		seconds = 0
	}
	rec = []any{r.ID, r.Bucket, r.Key, r.ETag, r.Size, seconds, r.Channels, r.SampleRate, r.Team, r.Worker, r.MeetingType,
		r.RecordedOn, r.Batch, string(r.Status), string(r.Stage), r.Reason, r.Attempts, string(doc),
		g.d.dialect.time(r.CreatedAt), g.d.dialect.time(r.UpdatedAt), tdoc, adoc, reviewState}
	if status != hark.StatusReady {
		return rec, nil, nil
	}
	nseg := int(minutes * 5) // a turn every 12 seconds
	reviewedAt := created.Add(72 * time.Hour)
	at := g.d.dialect.time(reviewedAt)
	coach := fmt.Sprintf("coach-%s", seedTeams[team])
	for _, c := range seedCodes {
		f := g.teamF[team] * w.strength
		if c.concern {
			f = g.teamF[team] * w.concern
		}
		prec := c.precision
		if version == "2" {
			prec = min(0.97, prec+0.06)
		}
		n := g.poisson(c.perHour * minutes / 60 * f)
		for range n {
			seg := rng.IntN(nseg)
			start := rng.IntN(80)
			end := start + 10 + rng.IntN(60)
			code, orig, review, by := c.id, "", hark.ReviewPending, ""
			var reviewed any
			judged := reviewState == string(hark.ReviewComplete) || reviewState == string(hark.ReviewInProgress) && rng.IntN(2) == 0
			if judged {
				review, by, reviewed = hark.ReviewAccepted, coach, at
				if rng.Float64() >= prec {
					if rng.IntN(5) == 0 { // a fifth of the machine's mistakes are the wrong code
						orig, code = c.id, seedCodes[rng.IntN(len(seedCodes))].id
						if code == orig {
							review = hark.ReviewRejected
							code, orig = c.id, ""
						}
					} else {
						review = hark.ReviewRejected
					}
				}
			}
			tags = append(tags, []any{r.ID, seg, code, start, end, "bench evidence", 0.5 + rng.Float64()/2, string(hark.SourceRules),
				string(review), "hark-practice", version, hark.TagKey(seg, start, end, c.id), orig, by, reviewed, 0})
		}
		if reviewState != "" {
			for k := range g.poisson(float64(n) * c.missed) {
				seg := rng.IntN(nseg)
				tags = append(tags, []any{r.ID, seg, c.id, 0, 20, "bench evidence", 1.0, string(hark.SourceCoach),
					string(hark.ReviewAccepted), "hark-practice", version, fmt.Sprintf("c:%s:%d", c.id, k), "", coach, at, 0})
			}
		}
	}
	if reviewState == string(hark.ReviewComplete) {
		for s := range nseg {
			role := hark.RoleWorker
			if s%2 == 1 {
				role = hark.RoleParent
			}
			segs = append(segs, []any{r.ID, s, float64(s) * 12, float64(s)*12 + 11, "S" + strconv.Itoa(s%2), string(role), "…", 0.9})
		}
	}
	return rec, tags, segs
}
