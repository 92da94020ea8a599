package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/harkworks/hark"
)

// retainer is an index that retention works with (index.DB).
type retainer interface {
	Retentions(ctx context.Context) ([]hark.Retention, error)
	RecordingsBefore(ctx context.Context, team string, t time.Time, limit int) ([]*hark.Recording, error)
	Review(ctx context.Context, id string) (*hark.ReviewDoc, error)
	CoderReviews(ctx context.Context, id string) ([]*hark.ReviewDoc, error)
	DeleteReview(ctx context.Context, id string) error
	PruneAudit(ctx context.Context, t time.Time) (int, error)
	Audit(ctx context.Context, e *hark.AuditEntry) error
}

// SweepCounts says what a sweep removed.
type SweepCounts struct {
	AudioRemoved   int // recordings whose audio was removed
	Erased         int // recordings erased with everything made from them
	ReviewsRemoved int // reviews removed (the machine's tags pending again)
	AuditPruned    int // audit entries deleted
}

func (c SweepCounts) String() string {
	return fmt.Sprintf("audio of %d recording(s) removed, %d recording(s) erased, %d review(s) removed, %d audit entr(ies) deleted",
		c.AudioRemoved, c.Erased, c.ReviewsRemoved, c.AuditPruned)
}

// sweepBatch is the most recordings of one team a sweep handles for each
// kind of data; the next sweep goes on.
const sweepBatch = 5000

// Sweep enforces the retention policies (hark retention): for each team
// (its own policy, else the default), it removes the audio of finished
// recordings older than AudioDays, erases recordings older than
// ResultsDays with everything made from them — unless their review is
// kept longer, then when it goes — removes reviews older than ReviewDays,
// and deletes audit entries older than the default AuditDays. It logs and
// audits the counts, never what was removed.
func (p *Pipeline) Sweep(ctx context.Context) (SweepCounts, error) {
	var c SweepCounts
	ix, ok := p.cfg.Index.(retainer)
	if !ok {
		return c, hark.Errorf(hark.EINTERNAL, "this index cannot keep retention policies")
	}
	policies, err := ix.Retentions(ctx)
	if err != nil {
		return c, err
	}
	now := p.cfg.Now()
	var def hark.Retention
	own := map[string]bool{}
	for _, r := range policies {
		if r.Team == "" {
			def = r
		} else {
			own[r.Team] = true
		}
	}
	for _, pol := range policies {
		if pol.Keeps() {
			continue
		}
		longest := max(pol.AudioDays, pol.ResultsDays, pol.ReviewDays)
		shortest := longest
		for _, d := range []int{pol.AudioDays, pol.ResultsDays, pol.ReviewDays} {
			if d > 0 && d < shortest {
				shortest = d
			}
		}
		if shortest == 0 {
			continue
		}
		recs, err := ix.RecordingsBefore(ctx, pol.Team, hark.Before(now, shortest), sweepBatch)
		if err != nil {
			return c, err
		}
		var erase []*hark.Recording
		for _, r := range recs {
			if pol.Team == "" && own[r.Team] {
				continue // its team has a policy of its own
			}
			what, err := p.sweepOne(ctx, ix, pol, r, now)
			if err != nil {
				return c, err
			}
			switch what {
			case "erase":
				erase = append(erase, r)
			case "review":
				c.ReviewsRemoved++
			case "audio":
				c.AudioRemoved++
			case "review+audio":
				c.ReviewsRemoved++
				c.AudioRemoved++
			}
		}
		if len(erase) > 0 {
			got, err := p.Forget(ctx, erase)
			c.Erased += got.Recordings
			if err != nil {
				return c, err
			}
		}
	}
	if def.AuditDays > 0 {
		n, err := ix.PruneAudit(ctx, hark.Before(now, def.AuditDays))
		c.AuditPruned = n
		if err != nil {
			return c, err
		}
	}
	if c != (SweepCounts{}) {
		p.log.Info("retention sweep", "audio_removed", c.AudioRemoved, "erased", c.Erased, "reviews_removed", c.ReviewsRemoved, "audit_pruned", c.AuditPruned)
		if err := ix.Audit(ctx, &hark.AuditEntry{At: now, User: "retention", Action: "sweep", Detail: c.String()}); err != nil {
			return c, err
		}
	}
	return c, nil
}

// sweepOne applies the policy to one recording and says what it did:
// "erase" (left to the caller, for all at once), "review", "audio",
// "review+audio" or "".
func (p *Pipeline) sweepOne(ctx context.Context, ix retainer, pol hark.Retention, r *hark.Recording, now time.Time) (string, error) {
	older := func(days int) bool { return days > 0 && r.CreatedAt.Before(hark.Before(now, days)) }
	if !r.Done() {
		return "", nil // still being worked on
	}
	review, err := ix.Review(ctx, r.ID)
	if err != nil {
		return "", err
	}
	coders, err := ix.CoderReviews(ctx, r.ID)
	if err != nil {
		return "", err
	}
	// A double-coded session's coders' reviews are reviews too.
	reviewed := review.Version > 0 || len(coders) > 0
	eraseAfter := pol.ResultsDays
	if reviewed && pol.ResultsDays > 0 && pol.ReviewDays > pol.ResultsDays {
		eraseAfter = pol.ReviewDays // the review is kept longer: so is what it reviews
	}
	if eraseAfter > 0 && older(eraseAfter) {
		return "erase", nil
	}
	var did []string
	if reviewed && older(pol.ReviewDays) {
		// The copies in the store first: should removing them fail, the
		// index still holds the review, and the next sweep tries again
		// (else `hark reindex` could bring back what is past keeping).
		if err := p.cfg.Store.Remove(ctx, hark.ReviewKey(r.ID)); err != nil {
			return "", err
		}
		if _, err := hark.RemoveAll(ctx, p.cfg.Store, hark.CoderReviewsPrefix(r.ID)); err != nil {
			return "", err
		}
		if err := p.cfg.Store.Remove(ctx, hark.DoubleCodingKey(r.ID)); err != nil {
			return "", err
		}
		if err := ix.DeleteReview(ctx, r.ID); err != nil {
			return "", err
		}
		if p.cfg.Publisher == nil {
			p.log.Info("a review removed under the retention policy: the session is tagged without it at the next reannotate", "recording", r.ID)
		} else if err := p.Retag(ctx, r.ID); err != nil {
			p.log.Warn("a review removed under the retention policy: the session could not be sent to be tagged again", "recording", r.ID, "err", err)
		}
		did = append(did, "review")
	}
	if r.AudioRemoved == nil && older(pol.AudioDays) {
		if err := p.cfg.Store.Remove(ctx, r.Key); err != nil {
			return "", err
		}
		at := now
		r.AudioRemoved = &at
		r.UpdatedAt = now
		if err := p.state.save(ctx, r); err != nil {
			return "", err
		}
		did = append(did, "audio")
	}
	return strings.Join(did, "+"), nil
}

// RunSweeper sweeps at start and then every interval until ctx is done.
func (p *Pipeline) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := p.Sweep(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("retention sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
