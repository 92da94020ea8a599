package report

import "context"

// Source is what reports need from the index. Both methods take a
// normalized Query (see Query.Normalize) and return EUNAVAILABLE when the
// database cannot answer.
type Source interface {
	// ReportRows returns one row per session in the query's scope: ready
	// recordings with a known duration, of the query's teams, dates and
	// codebook version; for Confirmed, only those whose review is
	// complete. Each row carries the session's counts of the query's codes
	// under its tag status; with no codes named, of every code the index
	// holds. Dimensions the query does not group by may be left empty.
	ReportRows(ctx context.Context, q Query) (*SessionRows, error)
	// AgreementRows returns, per codebook version and code, how coaches
	// judged the machine's tags in reviewed sessions (review in progress
	// or complete) and, over the segments of sessions whose review is
	// complete, whether machine and coaches found the code. It applies the
	// query's teams, dates, codebook version and codes; grouping and tag
	// status do not apply.
	AgreementRows(ctx context.Context, q Query) (*AgreementRows, error)
}

// SessionRows are the sessions of a report and their tag counts.
type SessionRows struct {
	// Codes are the codes counted; every session's Counts align with them.
	Codes    []string
	Sessions []SessionRow
}

// SessionRow is one session: the values of the dimensions, its recorded
// length, and how many tags of each code it has.
type SessionRow struct {
	Team, Worker, MeetingType string
	// Month is YYYY-MM, or "" when the recording date is unknown.
	Month   string
	Seconds float64
	Counts  []int
}

// AgreementRows are the counts behind the agreement report.
type AgreementRows struct {
	// Versions are the reviewed sessions per codebook version.
	Versions []VersionSessions
	// Codes are the tag counts per codebook version and code.
	Codes []CodeAgreement
}

// VersionSessions counts the reviewed sessions annotated with one codebook
// version.
type VersionSessions struct {
	CodebookVersion string
	// Reviewed sessions have a review in progress or complete.
	Reviewed int
	// Complete sessions have a complete review; Segments is how many
	// transcript segments they have between them.
	Complete int
	Segments int
}

// CodeAgreement counts one code's tags under one codebook version.
type CodeAgreement struct {
	CodebookVersion string
	Code            string

	// Machine tags given this code by the machine, in reviewed sessions:
	// accepted with the code kept, rejected, accepted under another code
	// (Changed), or not judged yet (Pending).
	Accepted, Rejected, Changed, Pending int
	// Tags of this code coaches added themselves, and machine tags of
	// another code coaches changed to this one: what the machine missed.
	Added, ChangedTo int

	// Over the segments of completely reviewed sessions: segments where
	// both the machine and the coaches' final tags have the code, where
	// only the machine has it, and where only the coaches have it.
	Both, MachineOnly, CoachOnly int
}
