package report

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// Dimension is something a report can group sessions or tags by.
type Dimension string

// The dimensions. Month is the month a meeting was recorded in (YYYY-MM,
// from the recording's date); Code splits the counts by practice code.
const (
	Team        Dimension = "team"
	Worker      Dimension = "worker"
	MeetingType Dimension = "meeting_type"
	Month       Dimension = "month"
	Code        Dimension = "code"
)

// Dimensions lists every dimension, in the order reports show them.
var Dimensions = []Dimension{Team, Worker, MeetingType, Month, Code}

// TagStatus says which tags a report counts.
type TagStatus string

// The tag statuses.
const (
	// Confirmed counts the tags coaches confirmed (machine tags they
	// accepted, under the code they gave, and tags they added) in sessions
	// whose review is complete; other sessions are left out, since their
	// tags are not all judged.
	Confirmed TagStatus = "confirmed"
	// Machine counts every machine tag (rules or LLM) under the code the
	// machine gave it, whatever coaches said, in every ready session.
	Machine TagStatus = "machine"
	// MachineUnrejected counts the machine tags no coach rejected, under
	// their current code (a coach's correction applies), in every ready
	// session. It is the default.
	MachineUnrejected TagStatus = "machine-unrejected"
)

// TagStatuses lists the statuses.
var TagStatuses = []TagStatus{Confirmed, Machine, MachineUnrejected}

// DefaultMinCell is the suppression threshold when a query sets none: a
// cell of fewer sessions shows as suppressed.
const DefaultMinCell = 5

// MaxCodes is how many codes one query may name.
const MaxCodes = 100

// Query says what to count, over which sessions, and how to group it.
type Query struct {
	// By are the dimensions to group by, in order; none gives one row for
	// everything.
	By []Dimension `json:"by"`
	// Codes are the codes to count; none means every code in the index.
	Codes []string `json:"codes,omitempty"`
	// Status says which tags count; "" means MachineUnrejected.
	Status TagStatus `json:"status"`
	// From and To bound the recording date, inclusive, as YYYY-MM-DD
	// (YYYY-MM is read as the month's first or last day). Sessions with no
	// recording date are left out when either is set.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// CodebookVersion, when set, keeps only sessions annotated with that
	// codebook version.
	CodebookVersion string `json:"codebook_version,omitempty"`
	// Teams, when not nil, keeps only sessions of these teams (the teams a
	// user may see); an empty, non-nil list keeps nothing.
	Teams []string `json:"teams,omitempty"`
	// MinCell is the suppression threshold: cells of fewer sessions are
	// suppressed. 0 means DefaultMinCell; 1 turns suppression off.
	MinCell int `json:"min_cell"`
}

var (
	codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	monthOnly   = regexp.MustCompile(`^\d{4}-\d{2}$`)
)

// Has reports whether the query groups by d.
func (q *Query) Has(d Dimension) bool { return slices.Contains(q.By, d) }

// Normalize returns the query checked and with its defaults filled in:
// the status, the threshold, full dates for months, codes and teams sorted
// without repeats. An invalid query is EINVALID with a message that says
// what to change.
func (q Query) Normalize() (Query, error) {
	seen := map[Dimension]bool{}
	by := make([]Dimension, 0, len(q.By))
	for _, d := range q.By {
		d = Dimension(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(string(d))), "-", "_"))
		if d == "meeting" || d == "type" {
			d = MeetingType
		}
		if !slices.Contains(Dimensions, d) {
			return q, hark.Errorf(hark.EINVALID, "report: cannot group by %q: use team, worker, meeting_type, month or code", d)
		}
		if seen[d] {
			return q, hark.Errorf(hark.EINVALID, "report: %s is named twice in by", d)
		}
		seen[d] = true
		by = append(by, d)
	}
	q.By = by

	codes := make([]string, 0, len(q.Codes))
	for _, c := range q.Codes {
		c = strings.TrimSpace(c)
		if !codePattern.MatchString(c) {
			return q, hark.Errorf(hark.EINVALID, "report: %q is not a code id (lower-case letters, digits and underscores, e.g. reflective_listening)", c)
		}
		codes = append(codes, c)
	}
	slices.Sort(codes)
	q.Codes = slices.Compact(codes)
	if len(q.Codes) > MaxCodes {
		return q, hark.Errorf(hark.EINVALID, "report: %d codes named; name at most %d", len(q.Codes), MaxCodes)
	}

	switch q.Status {
	case "":
		q.Status = MachineUnrejected
	case Confirmed, Machine, MachineUnrejected:
	default:
		return q, hark.Errorf(hark.EINVALID, "report: unknown tag status %q: use confirmed, machine or machine-unrejected", q.Status)
	}

	var err error
	if q.From, err = normDate(q.From, false); err != nil {
		return q, err
	}
	if q.To, err = normDate(q.To, true); err != nil {
		return q, err
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		return q, hark.Errorf(hark.EINVALID, "report: the date range starts (%s) after it ends (%s)", q.From, q.To)
	}
	q.CodebookVersion = strings.TrimSpace(q.CodebookVersion)
	if len(q.CodebookVersion) > 100 {
		return q, hark.Errorf(hark.EINVALID, "report: the codebook version is too long")
	}
	if q.Teams != nil {
		teams := make([]string, 0, len(q.Teams))
		for _, t := range q.Teams {
			if t = strings.TrimSpace(t); t != "" {
				teams = append(teams, t)
			}
		}
		slices.Sort(teams)
		q.Teams = slices.Compact(teams)
	}
	if q.MinCell < 0 {
		return q, hark.Errorf(hark.EINVALID, "report: the suppression threshold cannot be negative")
	}
	if q.MinCell == 0 {
		q.MinCell = DefaultMinCell
	}
	return q, nil
}

// normDate checks a YYYY-MM-DD date; a YYYY-MM month becomes its first day,
// or its last when end is set.
func normDate(s string, end bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if monthOnly.MatchString(s) {
		t, err := time.Parse("2006-01", s)
		if err != nil {
			return "", hark.Errorf(hark.EINVALID, "report: %q is not a month (YYYY-MM)", s)
		}
		if end {
			t = t.AddDate(0, 1, -1)
		}
		return t.Format(time.DateOnly), nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", hark.Errorf(hark.EINVALID, "report: %q is not a date (YYYY-MM-DD)", s)
	}
	return s, nil
}

// ParseQuery reads a query from URL parameters named as the CLI's flags:
// by, codes, status, from, to, codebook-version, min-cell and team. Lists
// may be comma-separated, repeated, or both. The result is normalized.
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	for _, d := range list(v, "by") {
		q.By = append(q.By, Dimension(d))
	}
	q.Codes = list(v, "codes")
	if t := list(v, "team"); len(t) > 0 {
		q.Teams = t
	}
	q.Status = TagStatus(v.Get("status"))
	q.From, q.To = v.Get("from"), v.Get("to")
	q.CodebookVersion = v.Get("codebook-version")
	if s := strings.TrimSpace(v.Get("min-cell")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, hark.Errorf(hark.EINVALID, "report: min-cell must be a whole number, not %q", s)
		}
		q.MinCell = n
	}
	return q.Normalize()
}

// list returns the comma-separated values of every parameter named key.
func list(v url.Values, key string) []string {
	var out []string
	for _, s := range v[key] {
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// Values returns the query as URL parameters that ParseQuery reads back,
// in a fixed order: for links and for the audit log.
func (q Query) Values() url.Values {
	v := url.Values{}
	if len(q.By) > 0 {
		by := make([]string, len(q.By))
		for i, d := range q.By {
			by[i] = string(d)
		}
		v.Set("by", strings.Join(by, ","))
	}
	if len(q.Codes) > 0 {
		v.Set("codes", strings.Join(q.Codes, ","))
	}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.From != "" {
		v.Set("from", q.From)
	}
	if q.To != "" {
		v.Set("to", q.To)
	}
	if q.CodebookVersion != "" {
		v.Set("codebook-version", q.CodebookVersion)
	}
	for _, t := range q.Teams {
		v.Add("team", t)
	}
	if q.MinCell != 0 {
		v.Set("min-cell", strconv.Itoa(q.MinCell))
	}
	return v
}
