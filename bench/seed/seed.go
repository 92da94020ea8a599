// Package seed fills an index with realistic synthetic sessions to measure
// reports on (`hark bench seed`, docs/benchmarks.md): the same sessions for
// the same seed, written through index.DB.ImportSessions.
package seed

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
)

// Config configures Reports.
type Config struct {
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

// Stats says what Reports wrote.
type Stats struct {
	Sessions, Ready, Reviewed, Complete int
	Tags, Segments                      int
	Took                                time.Duration
}

// code is a code with the rate the simulated machine finds it at, how
// often coaches agree with it, and how often they add one it missed.
type code struct {
	id        string
	perHour   float64
	precision float64
	missed    float64 // coach-added tags per machine tag
	concern   bool
}

var codes = []code{
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
	teams        = []string{"north", "south", "east", "west", "central", "riverside", "hillside", "harbour", "valley", "meadow", "forest", "coast"}
	meetingTypes = []struct {
		name  string
		share float64
	}{{"home visit", 0.40}, {"office meeting", 0.20}, {"core group", 0.15}, {"child protection conference", 0.10},
		{"family group conference", 0.05}, {"child in need review", 0.10}}
)

// txSessions is how many sessions one import (one transaction) writes.
const txSessions = 500

// Reports fills the index with realistic sessions for benchmarks of
// reports: twelve teams of 8 to 30 workers, six meeting types, two years
// of dates (with a codebook change halfway), meetings of 30 to 120 minutes,
// tags at per-code rates that vary by team and worker, and about 15% of
// sessions reviewed (10% completely) with accepts, rejects, changed codes
// and added tags. Transcript segments are written for completely reviewed
// sessions only (reports count segments of those only), with placeholder
// text.
//
// The sessions go in through index.DB.ImportSessions, 500 a transaction,
// which also counts them for reports; without review documents: the result
// is for measuring reports, not for reviewing. It returns EINVALID for no
// sessions and ECONFLICT when the index already has the batch.
func Reports(ctx context.Context, db *index.DB, cfg Config) (*Stats, error) {
	if cfg.Sessions <= 0 {
		return nil, hark.Errorf(hark.EINVALID, "seed: the number of sessions must be positive")
	}
	if cfg.Batch == "" {
		cfg.Batch = "bench-seed"
	}
	have, err := db.StatusCounts(ctx, hark.CountFilter{Batch: cfg.Batch})
	if err != nil {
		return nil, err
	}
	if len(have) > 0 {
		return nil, hark.Errorf(hark.ECONFLICT, "seed: the index already has a batch %q; seed a fresh index or name another batch", cfg.Batch)
	}
	start := time.Now()
	g := newSeeder(cfg)
	st := &Stats{}
	for done := 0; done < cfg.Sessions; {
		sessions := make([]index.ImportSession, min(txSessions, cfg.Sessions-done))
		for i := range sessions {
			sessions[i] = g.session(done + i)
		}
		if err := db.ImportSessions(ctx, sessions); err != nil {
			return nil, err
		}
		done += len(sessions)
		for _, s := range sessions {
			if s.Annotations != nil {
				st.Tags += len(s.Annotations.Tags)
			}
			if s.Transcript != nil {
				st.Segments += len(s.Transcript.Segments)
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(done)
		}
	}
	st.Sessions, st.Ready, st.Reviewed, st.Complete = cfg.Sessions, g.ready, g.reviewed, g.complete
	// Fresh statistics for the planner, so that the first reports are
	// planned for the rows there are.
	if err := db.Analyze(ctx); err != nil {
		return nil, err
	}
	st.Took = time.Since(start)
	return st, nil
}

// seeder draws the sessions.
type seeder struct {
	cfg Config
	rng *rand.Rand
	// frng draws the family lens and the moments, apart from rng so that
	// the sessions, tags and segments of a seed stay what they were
	// before hark measured them.
	frng                      *rand.Rand
	workers                   [][]worker // by team
	teamF                     []float64
	first                     time.Time
	ready, reviewed, complete int
}

type worker struct {
	id                string
	strength, concern float64 // rate multipliers
}

func newSeeder(cfg Config) *seeder {
	g := &seeder{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x6861726b)), frng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x66616d)),
		first: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)}
	for _, team := range teams {
		g.teamF = append(g.teamF, 0.7+0.6*g.rng.Float64())
		var ws []worker
		for w := range 8 + g.rng.IntN(23) {
			ws = append(ws, worker{id: fmt.Sprintf("w-%s-%02d", team[:3], w+1),
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

// session draws session i: its recording, and for a ready one its
// transcript (segments only when completely reviewed) and tags.
func (g *seeder) session(i int) index.ImportSession {
	rng := g.rng
	team := rng.IntN(len(teams))
	w := g.workers[team][rng.IntN(len(g.workers[team]))]
	mt := meetingTypes[len(meetingTypes)-1].name
	x, acc := rng.Float64(), 0.0
	for _, m := range meetingTypes {
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
	s := index.ImportSession{Recording: hark.Recording{Schema: hark.SchemaVersion, ID: hark.RecordingID("recordings", key, etag),
		Bucket: "recordings", Key: key, ETag: etag, Size: int64(seconds * 32000), DurationSeconds: seconds, Channels: 1, SampleRate: 16000,
		Team: teams[team], Worker: w.id, MeetingType: mt, RecordedOn: recordedOn, Batch: g.cfg.Batch,
		Status: status, Stage: stage, Reason: reason, Attempts: 1, CreatedAt: created, UpdatedAt: created.Add(3 * time.Minute)}}
	if status != hark.StatusReady {
		return s
	}
	r := &s.Recording
	g.ready++
	switch x := rng.IntN(100); {
	case x < 10:
		s.ReviewState = hark.ReviewComplete
		g.reviewed++
		g.complete++
	case x < 15:
		s.ReviewState = hark.ReviewInProgress
		g.reviewed++
	}
	s.Transcript = &hark.Transcript{RecordingID: r.ID, Engine: "bench", Language: "en"}
	a := &hark.Annotations{Schema: hark.SchemaVersion, RecordingID: r.ID, Codebook: "hark-practice", CodebookVersion: version, Tagger: "rules"}
	s.Annotations = a
	nseg := int(minutes * 5) // a turn every 12 seconds
	at := created.Add(72 * time.Hour)
	coach := fmt.Sprintf("coach-%s", teams[team])
	for _, c := range codes {
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
			t := hark.Tag{Key: hark.TagKey(seg, start, end, c.id), Segment: seg, Code: c.id, Start: start, End: end,
				Evidence: "bench evidence", Source: hark.SourceRules, Review: hark.ReviewPending}
			judged := s.ReviewState == hark.ReviewComplete || s.ReviewState == hark.ReviewInProgress && rng.IntN(2) == 0
			if judged {
				t.Review, t.ReviewedBy, t.ReviewedAt = hark.ReviewAccepted, coach, &at
				if rng.Float64() >= prec {
					if rng.IntN(5) == 0 { // a fifth of the machine's mistakes are the wrong code
						t.OrigCode, t.Code = c.id, codes[rng.IntN(len(codes))].id
						if t.Code == t.OrigCode {
							t.Review, t.OrigCode = hark.ReviewRejected, ""
						}
					} else {
						t.Review = hark.ReviewRejected
					}
				}
			}
			t.Confidence = 0.5 + rng.Float64()/2
			a.Tags = append(a.Tags, t)
		}
		if s.ReviewState != "" {
			for k := range g.poisson(float64(n) * c.missed) {
				a.Tags = append(a.Tags, hark.Tag{Key: fmt.Sprintf("c:%s:%d", c.id, k), Segment: rng.IntN(nseg), Code: c.id, End: 20,
					Evidence: "bench evidence", Confidence: 1.0, Source: hark.SourceCoach, Review: hark.ReviewAccepted,
					ReviewedBy: coach, ReviewedAt: &at})
			}
		}
	}
	a.Family, a.Moments = g.family(nseg)
	if s.ReviewState == hark.ReviewComplete {
		for k := range nseg {
			role := hark.RoleWorker
			if k%2 == 1 {
				role = hark.RoleParent
			}
			s.Transcript.Segments = append(s.Transcript.Segments, hark.Segment{Index: k, Start: float64(k) * 12, End: float64(k)*12 + 11,
				Speaker: "S" + strconv.Itoa(k%2), Role: role, Text: "…", Confidence: 0.9})
		}
	}
	return s
}

// familyCues are the kinds of moment the seeder suggests.
var familyCues = []string{hark.CueThreat, hark.CueFearUnmet, hark.CueDismissal, hark.CueQuestionUnanswered, hark.CueFearMet,
	hark.CueReflectionLanded, hark.CueExplainedFirst, hark.CueMonologue, hark.CuePermission, hark.CueAffirmed}

// family draws a session's family lens and five to ten suggested moments
// for a meeting of nseg turns, as the annotate stage writes them.
func (g *seeder) family(nseg int) (*hark.FamilyLens, []hark.Moment) {
	rng := g.frng
	parentTurns := nseg / 2
	questions := rng.IntN(15)
	fears := rng.IntN(6)
	f := &hark.FamilyLens{ParentTalkShare: 0.2 + 0.35*rng.Float64(), ParentTurnShare: 0.4 + 0.15*rng.Float64(), ParentTurns: parentTurns,
		ParentInterrupted: rng.IntN(parentTurns/10 + 1), ParentQuestions: questions, ParentQuestionsAnswered: rng.IntN(questions + 1),
		RightsExplained: rng.IntN(3) == 0, NextStepsExplained: rng.IntN(4) != 0, ParentFears: fears, ParentFearsMet: rng.IntN(fears + 1)}
	if rng.IntN(2) == 0 {
		b := rng.IntN(2) == 0
		f.ExplainedBeforeDecision = &b
	}
	if rng.IntN(3) != 0 {
		b := rng.IntN(3) != 0
		f.PermissionBeforeAdvice = &b
	}
	var ms []hark.Moment
	for k := range 5 + rng.IntN(6) {
		c := familyCues[rng.IntN(len(familyCues))]
		seg := rng.IntN(nseg)
		ms = append(ms, hark.Moment{Key: hark.MomentKey(c, seg), Rank: k + 1, Kind: hark.CueKind(c), Cue: c,
			Start: float64(seg) * 12, End: float64(seg)*12 + 36, Segments: []int{seg, min(seg+1, nseg-1), min(seg+2, nseg-1)},
			Reason: "bench reason", Score: 10 - float64(k)})
	}
	return f, ms
}
