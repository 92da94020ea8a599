package report

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Agreement is the agreement report: per code and codebook version, how
// coaches judged the machine's tags.
type Agreement struct {
	// Query is the query as run, normalized. Its grouping and tag status
	// do not apply.
	Query Query
	// Rows are sorted by code, then codebook version, so that the versions
	// of one code sit together.
	Rows []AgreementRow
}

// AgreementRow is one code under one codebook version.
type AgreementRow struct {
	CodebookVersion string
	Code            string

	// Reviewed is how many sessions of this codebook version have a
	// review in progress or complete: the sessions the next numbers are
	// over.
	Reviewed int
	// Machine tags of the code: accepted as they were, rejected, accepted
	// under another code (Changed), and not judged yet (Pending).
	Accepted, Rejected, Changed, Pending int
	// Precision is Accepted / (Accepted + Rejected + Changed): the share of
	// the machine's judged tags of this code that coaches kept as they
	// were. Nil when none was judged.
	Precision *float64
	// Added are tags of this code coaches added, ChangedTo machine tags
	// coaches changed to this code, and Missed their sum: what the machine
	// missed.
	Added, ChangedTo, Missed int

	// Complete is how many sessions have a complete review, and Segments
	// how many transcript segments they have: the units kappa is over.
	Complete int
	Segments int
	// Segments where the machine and the coaches' final tags both have the
	// code, only the machine has it, only the coaches have it, or neither.
	Both, MachineOnly, CoachOnly, Neither int
	// Observed is the share of segments where they agree, (Both +
	// Neither) / Segments; Kappa is Cohen's kappa, the agreement beyond
	// what chance would give. Nil when undefined (no segments, or neither
	// rater ever, or always, gives the code).
	Observed, Kappa *float64

	// Suppressed withholds every number: fewer reviewed sessions than the
	// threshold. KappaSuppressed withholds the segment counts, Observed
	// and Kappa: fewer completely reviewed sessions than the threshold.
	Suppressed, KappaSuppressed bool

	// Coders is the agreement between human coders on the same code, over
	// the double-coded sessions of the same codebook version (see
	// CoderAgreement), when the source keeps double coding and there are
	// any; nil otherwise.
	Coders *CoderAgreementRow
}

// RunAgreement computes the agreement report for q from src, with the
// coders' agreement beside it when src keeps double coding.
func RunAgreement(ctx context.Context, src Source, q Query) (*Agreement, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	rows, err := src.AgreementRows(ctx, q)
	if err != nil {
		return nil, err
	}
	a := ComputeAgreement(q, rows)
	if cs, ok := src.(CodingSource); ok {
		if err := addCoders(ctx, cs, q, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// ComputeAgreement turns the counts of a normalized query into its
// agreement report: a row for every codebook version with reviewed
// sessions and every code (the query's codes, or every code the counts
// name).
func ComputeAgreement(q Query, in *AgreementRows) *Agreement {
	if in == nil {
		in = &AgreementRows{}
	}
	out := &Agreement{Query: q, Rows: []AgreementRow{}}
	codes := slices.Clone(q.Codes)
	counts := map[[2]string]CodeAgreement{}
	for _, c := range in.Codes {
		if len(q.Codes) == 0 && !slices.Contains(codes, c.Code) {
			codes = append(codes, c.Code)
		}
		k := [2]string{c.CodebookVersion, c.Code}
		x := counts[k]
		x.Accepted += c.Accepted
		x.Rejected += c.Rejected
		x.Changed += c.Changed
		x.Pending += c.Pending
		x.Added += c.Added
		x.ChangedTo += c.ChangedTo
		x.Both += c.Both
		x.MachineOnly += c.MachineOnly
		x.CoachOnly += c.CoachOnly
		counts[k] = x
	}
	for _, v := range in.Versions {
		if v.Reviewed == 0 {
			continue
		}
		for _, code := range codes {
			c := counts[[2]string{v.CodebookVersion, code}]
			r := AgreementRow{CodebookVersion: v.CodebookVersion, Code: code, Reviewed: v.Reviewed,
				Accepted: c.Accepted, Rejected: c.Rejected, Changed: c.Changed, Pending: c.Pending,
				Added: c.Added, ChangedTo: c.ChangedTo, Missed: c.Added + c.ChangedTo,
				Complete: v.Complete, Segments: v.Segments, Both: c.Both, MachineOnly: c.MachineOnly, CoachOnly: c.CoachOnly}
			if judged := r.Accepted + r.Rejected + r.Changed; judged > 0 {
				p := float64(r.Accepted) / float64(judged)
				r.Precision = &p
			}
			r.Neither = r.Segments - r.Both - r.MachineOnly - r.CoachOnly
			r.Observed, r.Kappa = Kappa(r.Both, r.MachineOnly, r.CoachOnly, r.Neither)
			r.Suppressed = r.Reviewed < q.MinCell
			r.KappaSuppressed = r.Complete < q.MinCell
			if r.Suppressed {
				r = AgreementRow{CodebookVersion: r.CodebookVersion, Code: r.Code, Suppressed: true, KappaSuppressed: true}
			} else if r.KappaSuppressed {
				r.Complete, r.Segments, r.Both, r.MachineOnly, r.CoachOnly, r.Neither = 0, 0, 0, 0, 0, 0
				r.Observed, r.Kappa = nil, nil
			}
			out.Rows = append(out.Rows, r)
		}
	}
	slices.SortStableFunc(out.Rows, func(a, b AgreementRow) int {
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		return compareVersions(a.CodebookVersion, b.CodebookVersion)
	})
	return out
}

// Kappa returns the observed agreement and Cohen's kappa of two raters
// over a 2×2 table: both say yes, only the first, only the second, neither.
// Either is nil when undefined: no units, a negative count, or chance
// agreement of 1 (each rater gives the same answer to every unit).
func Kappa(both, firstOnly, secondOnly, neither int) (observed, kappa *float64) {
	if both < 0 || firstOnly < 0 || secondOnly < 0 || neither < 0 {
		return nil, nil
	}
	n := float64(both + firstOnly + secondOnly + neither)
	if n == 0 {
		return nil, nil
	}
	a, b, c, d := float64(both), float64(firstOnly), float64(secondOnly), float64(neither)
	po := (a + d) / n
	pe := ((a+b)*(a+c) + (c+d)*(b+d)) / (n * n)
	if pe >= 1 {
		return &po, nil
	}
	k := (po - pe) / (1 - pe)
	return &po, &k
}

// compareVersions orders codebook versions as numbers where both are
// numbers (2 before 10), else as text.
func compareVersions(a, b string) int {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil && x != y {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}

// agreementJSON is a row in JSON: counts null where suppressed.
type agreementJSON struct {
	CodebookVersion string   `json:"codebook_version"`
	Code            string   `json:"code"`
	Reviewed        *int     `json:"reviewed_sessions"`
	Machine         *int     `json:"machine_tags"`
	Accepted        *int     `json:"accepted"`
	Rejected        *int     `json:"rejected"`
	Changed         *int     `json:"changed"`
	Pending         *int     `json:"pending"`
	Precision       *float64 `json:"precision"`
	Added           *int     `json:"added"`
	ChangedTo       *int     `json:"changed_to"`
	Missed          *int     `json:"missed"`
	Complete        *int     `json:"complete_sessions"`
	Segments        *int     `json:"segments"`
	Both            *int     `json:"both"`
	MachineOnly     *int     `json:"machine_only"`
	CoachOnly       *int     `json:"coach_only"`
	Neither         *int     `json:"neither"`
	Observed        *float64 `json:"observed_agreement"`
	Kappa           *float64 `json:"kappa"`
	Suppressed      bool     `json:"suppressed"`
	KappaSuppressed bool     `json:"kappa_suppressed"`
	// Coders is the coders' agreement on the code (double coding).
	Coders *CoderAgreementRow `json:"coders,omitempty"`
}

// MarshalJSON writes the row with null for what is suppressed or
// undefined.
func (r AgreementRow) MarshalJSON() ([]byte, error) {
	j := agreementJSON{CodebookVersion: r.CodebookVersion, Code: r.Code, Suppressed: r.Suppressed, KappaSuppressed: r.KappaSuppressed, Coders: r.Coders}
	if !r.Suppressed {
		machine := r.Accepted + r.Rejected + r.Changed + r.Pending
		j.Reviewed, j.Machine, j.Accepted, j.Rejected, j.Changed, j.Pending = &r.Reviewed, &machine, &r.Accepted, &r.Rejected, &r.Changed, &r.Pending
		j.Precision, j.Added, j.ChangedTo, j.Missed = r.Precision, &r.Added, &r.ChangedTo, &r.Missed
	}
	if !r.KappaSuppressed {
		j.Complete, j.Segments, j.Both, j.MachineOnly, j.CoachOnly, j.Neither = &r.Complete, &r.Segments, &r.Both, &r.MachineOnly, &r.CoachOnly, &r.Neither
		j.Observed, j.Kappa = r.Observed, r.Kappa
	}
	return json.Marshal(j)
}

// MarshalJSON writes the report as {"query": {…}, "rows": […]}.
func (a Agreement) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Query Query          `json:"query"`
		Rows  []AgreementRow `json:"rows"`
	}{a.Query, a.Rows})
}

func itoa(n int) string { return strconv.Itoa(n) }
