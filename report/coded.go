package report

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/harkworks/hark"
)

// CodingSource answers for double-coded sessions: the index.
type CodingSource interface {
	// DoubleCoded returns the marks of the double-coded sessions of the
	// teams (every team for nil, none for an empty list).
	DoubleCoded(ctx context.Context, teams []string) ([]*hark.DoubleCoding, error)
	DoubleCoding(ctx context.Context, id string) (*hark.DoubleCoding, error)
	// CoderSession returns a session as one coder coded it: the machine's
	// tags with that coder's review applied, and the review.
	CoderSession(ctx context.Context, id, coder string) (*hark.Session, error)
}

// CodedSessions returns the double-coded sessions of the teams (every team
// for nil) whose coders have all completed their reviews, as units of
// agreement for CoderAgreement.
func CodedSessions(ctx context.Context, src CodingSource, teams []string) ([]CoderSession, error) {
	dcs, err := src.DoubleCoded(ctx, teams)
	if err != nil {
		return nil, err
	}
	var out []CoderSession
	for _, dc := range dcs {
		s, _, err := CodedSessionOf(ctx, src, dc.RecordingID, true)
		if err != nil {
			return nil, err
		}
		if s != nil {
			out = append(out, *s)
		}
	}
	return out, nil
}

// CodedSessionOf returns one double-coded session as units of agreement,
// and its coders. With complete set, a session whose coders have not all
// completed their reviews is nil; without, every coder's review counts as
// it stands (the disagreements so far).
func CodedSessionOf(ctx context.Context, src CodingSource, id string, complete bool) (*CoderSession, []string, error) {
	dc, err := src.DoubleCoding(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	views := map[string]CoderView{}
	var transcript *hark.Transcript
	version := ""
	for _, c := range dc.Coders {
		s, err := src.CoderSession(ctx, id, c)
		if err != nil {
			return nil, nil, err
		}
		if complete && s.Review.State != hark.ReviewComplete {
			return nil, dc.Coders, nil
		}
		transcript = s.Transcript
		v := CoderView{State: hark.ReviewComplete}
		if s.Annotations != nil {
			v.Tags = s.Annotations.Tags
			version = s.Annotations.CodebookVersion
		}
		views[c] = v
	}
	s := CodedSession(id, transcript, views)
	s.CodebookVersion = version
	return &s, dc.Coders, nil
}

// CoderView is one coder's independent review of a session, as the units
// of agreement are made from it: its state and the tags as the coder left
// them (the machine's with the coder's decisions applied, and the coder's
// own), as index.CoderSession gives them.
type CoderView struct {
	State hark.ReviewState
	Tags  []hark.Tag
}

// CodedSession makes the units of agreement of a double-coded session:
// each turn of its transcript with the codes each coder applied to it —
// the machine's tags the coder accepted, under the code the coder gave
// them, and the coder's own tags. A tag left pending or rejected is not
// applied. Only coders whose review is complete count: a review in hand
// is not yet a coding.
func CodedSession(id string, t *hark.Transcript, coders map[string]CoderView) CoderSession {
	s := CoderSession{Session: id}
	if t == nil {
		return s
	}
	applied := map[string]map[int][]string{}
	for coder, v := range coders {
		if v.State != hark.ReviewComplete {
			continue
		}
		bySeg := map[int][]string{}
		for _, tg := range v.Tags {
			if tg.Review == hark.ReviewAccepted || tg.Source == hark.SourceCoach && tg.Review != hark.ReviewRejected {
				if !slices.Contains(bySeg[tg.Segment], tg.Code) {
					bySeg[tg.Segment] = append(bySeg[tg.Segment], tg.Code)
				}
			}
		}
		applied[coder] = bySeg
	}
	for _, sg := range t.Segments {
		u := CodedUnit{Start: sg.Start, End: sg.End, Codes: map[string][]string{}}
		for coder, bySeg := range applied {
			codes := append([]string{}, bySeg[sg.Index]...)
			slices.Sort(codes)
			u.Codes[coder] = codes
		}
		s.Segments = append(s.Segments, u)
	}
	return s
}

// Table is the report as rows of text: per code, one row over turns and
// one over time units, or one withheld row; figures to three places,
// blank where undefined.
func (r *CoderReport) Table() (header []string, rows [][]string) {
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', 3, 64)
	}
	header = []string{"code", "coders", "sessions", "unit", "units", "observed", "kappa", "kappa_low", "kappa_high", "alpha", "alpha_low", "alpha_high", "suppressed"}
	for _, row := range r.Rows {
		if row.Suppressed {
			rows = append(rows, []string{row.Code, strings.Join(row.Coders, " "), "", "", "", "", "", "", "", "", "", "", "true"})
			continue
		}
		for _, u := range []struct {
			name string
			a    *UnitAgreement
		}{{"turn", row.Segments}, {"time", row.Time}} {
			if u.a == nil {
				continue
			}
			rows = append(rows, []string{row.Code, strings.Join(row.Coders, " "), strconv.Itoa(row.Sessions), u.name, strconv.Itoa(u.a.Units),
				num(u.a.Observed.Value), num(u.a.Kappa.Value), num(u.a.Kappa.Low), num(u.a.Kappa.High),
				num(u.a.Alpha.Value), num(u.a.Alpha.Low), num(u.a.Alpha.High), "false"})
		}
	}
	return header, rows
}

// WriteCSV writes the report's Table as CSV.
func (r *CoderReport) WriteCSV(w io.Writer) error {
	header, rows := r.Table()
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	_ = cw.WriteAll(rows)
	return cw.Error()
}

// coderSeed is the bootstrap seed of the coders' agreement beside the
// machine–coach agreement, fixed so that the same data gives the same
// intervals on the reports page, the API, the CSV and the CLI.
const coderSeed = 2026

// addCoders puts, beside each machine–coach row, the coders' agreement on
// the same code over the double-coded sessions of the same codebook
// version (those of the query's teams whose coders all completed), over
// turns.
func addCoders(ctx context.Context, src CodingSource, q Query, a *Agreement) error {
	sessions, err := CodedSessions(ctx, src, q.Teams)
	if err != nil {
		return err
	}
	byVersion := map[string][]CoderSession{}
	for _, s := range sessions {
		byVersion[s.CodebookVersion] = append(byVersion[s.CodebookVersion], s)
	}
	reports := map[string]map[string]*CoderAgreementRow{}
	for v, ss := range byVersion {
		rep := CoderAgreement(ss, CoderOptions{Codes: q.Codes, MinCell: q.MinCell, Seed: coderSeed})
		reports[v] = map[string]*CoderAgreementRow{}
		for i := range rep.Rows {
			reports[v][rep.Rows[i].Code] = &rep.Rows[i]
		}
	}
	for i := range a.Rows {
		a.Rows[i].Coders = reports[a.Rows[i].CodebookVersion][a.Rows[i].Code]
	}
	return nil
}

// Applied returns the codes any coder applied to the unit, sorted.
func (u CodedUnit) Applied() []string {
	var codes []string
	for _, cs := range u.Codes {
		for _, c := range cs {
			if !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	slices.Sort(codes)
	return codes
}

// NewSeed returns a random bootstrap seed, for a run not given one (it is
// in the report, so that the run can be repeated).
func NewSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}
