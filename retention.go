package hark

import "time"

// Retention says how long a team's data is kept, in days; 0 keeps it.
type Retention struct {
	// Team is the team, or "" for the deployment's default, which every
	// team without its own follows.
	Team string `json:"team"`
	// AudioDays: the recording's audio is removed (its transcript and tags
	// stay).
	AudioDays int `json:"audio_days"`
	// ResultsDays: the recording and everything made from it is erased, as
	// `hark forget` does — unless its review is kept longer (ReviewDays).
	ResultsDays int `json:"results_days"`
	// ReviewDays: the coaches' review (decisions, notes, corrections) is
	// removed. 0 here means the review goes with the results; when it is
	// longer than ResultsDays, a reviewed recording is erased when its
	// review goes.
	ReviewDays int `json:"review_days"`
	// AuditDays: audit entries older than this are deleted. The
	// deployment's default applies to the whole audit log.
	AuditDays int `json:"audit_days"`
}

// Keeps reports whether the policy keeps everything.
func (r Retention) Keeps() bool {
	return r.AudioDays == 0 && r.ResultsDays == 0 && r.ReviewDays == 0 && r.AuditDays == 0
}

// Before is the time before which data kept for days is due to go, or the
// zero time when days is 0 (kept).
func Before(now time.Time, days int) time.Time {
	if days <= 0 {
		return time.Time{}
	}
	return now.Add(-time.Duration(days) * 24 * time.Hour)
}

// Redaction modes (Redaction.Mode).
const (
	RedactOff     = "off"     // transcripts as they were said
	RedactStore   = "store"   // masked before they are stored: the clear text is never kept
	RedactDisplay = "display" // kept, masked on pages, the API and exports
)

// Redaction says whether and how a team's transcripts are redacted: names
// (the team's list, and names said after "my son", "called", …), phone
// numbers, e-mail addresses, postcodes, NHS numbers, dates of birth and
// street addresses are masked, every character by '*', so tags keep their
// places.
type Redaction struct {
	Team  string   `json:"team"` // "" for the deployment's default
	Mode  string   `json:"mode"`
	Names []string `json:"names,omitempty"`
}

// CheckRedactionMode reports whether mode is one of the modes.
func CheckRedactionMode(mode string) error {
	switch mode {
	case RedactOff, RedactStore, RedactDisplay:
		return nil
	}
	return Errorf(EINVALID, "redaction mode %q: use store (masked before it is stored), display (masked on pages and exports) or off", mode)
}
