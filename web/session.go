package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/eaf"
	"github.com/harkworks/hark/qda"
	"github.com/harkworks/hark/redact"
)

// visibleSession loads a session the user may read, and answers ENOTFOUND
// for one of a team they may not see, exactly as for one that does not exist.
func (s *Server) visibleSession(r *http.Request, u *hark.User) (*hark.Session, error) {
	sess, err := s.sessionFor(context.WithValue(r.Context(), routeKey{}, r.Method+" "+r.URL.Path), r.PathValue("id"), u)
	if err != nil {
		return nil, err
	}
	if sess, err = s.ownView(r.Context(), sess, u); err != nil {
		return nil, err
	}
	return s.displayed(r.Context(), sess)
}

// redactionIndex is an index that keeps the teams' redaction policies.
type redactionIndex interface {
	Redaction(ctx context.Context, team string) (hark.Redaction, error)
}

// displayed is the session as pages, the API and exports show it: with the
// identifiers in its turns and in its tags' evidence masked when the team's
// redaction is "display" (offsets kept, so tags stay on their words).
func (s *Server) displayed(ctx context.Context, sess *hark.Session) (*hark.Session, error) {
	ri, ok := s.cfg.Index.(redactionIndex)
	if !ok || sess.Transcript == nil {
		return sess, nil
	}
	pol, err := ri.Redaction(ctx, sess.Recording.Team)
	if err != nil {
		return nil, err
	}
	if pol.Mode != hark.RedactDisplay {
		return sess, nil
	}
	texts := make([]string, len(sess.Transcript.Segments))
	for i, sg := range sess.Transcript.Segments {
		texts[i] = sg.Text
	}
	rd := redact.New(redact.Config{Names: pol.Names}).Learn(texts...)
	c := *sess
	t := *sess.Transcript
	t.Segments = slices.Clone(t.Segments)
	masked := make(map[int]string, len(t.Segments))
	for i := range t.Segments {
		t.Segments[i].Text, _ = rd.Redact(t.Segments[i].Text)
		masked[t.Segments[i].Index] = t.Segments[i].Text
	}
	c.Transcript = &t
	if sess.Annotations != nil {
		a := *sess.Annotations
		a.Tags = slices.Clone(a.Tags)
		for i := range a.Tags {
			tag := &a.Tags[i]
			if text, ok := masked[tag.Segment]; ok && tag.Start >= 0 && tag.End <= len(text) && tag.Start < tag.End {
				tag.Evidence = text[tag.Start:tag.End]
			} else {
				tag.Evidence, _ = rd.Redact(tag.Evidence)
			}
		}
		c.Annotations = &a
	}
	return &c, nil
}

// routeKey holds, in a request's context, the route that asked for a
// session, for the audit entry of a refusal.
type routeKey struct{}

// sessionFor is the session of recording id, if u may read it. A refusal
// of a well-formed id is audited ("denied", with the id and the route):
// another team's recording, and, so that the time taken does not tell
// them apart, one that does not exist; the log says which it was, the
// answer does not.
func (s *Server) sessionFor(ctx context.Context, id string, u *hark.User) (*hark.Session, error) {
	notFound := hark.Errorf(hark.ENOTFOUND, "recording %q not found", id)
	if !hark.ValidRecordingID(id) {
		return nil, notFound
	}
	route, _ := ctx.Value(routeKey{}).(string)
	if route == "" {
		route = "review change"
	}
	sess, err := s.cfg.Index.Session(ctx, id)
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		s.audit(ctx, u, "denied", id, route+": no such recording")
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if !u.CanReadTranscripts(sess.Recording.Team) {
		why := "another team's recording"
		if u.Role == hark.RoleAnalyst {
			why = "analysts read reports only"
		}
		s.audit(ctx, u, "denied", id, route+": "+why)
		return nil, notFound
	}
	return sess, nil
}

func (s *Server) handleRecordingAPI(w http.ResponseWriter, r *http.Request, u *hark.User) {
	sess, err := s.visibleSession(r, u)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.audit(r.Context(), u, "view", sess.Recording.ID, "api")
	writeJSON(w, http.StatusOK, apiSession(sess))
}

// turn is one segment with its tags and notes, for the pages.
type turn struct {
	hark.Segment
	Tags  []hark.Tag
	Notes []hark.Note
}

// view is a session prepared for the pages.
type view struct {
	Session   *hark.Session
	Turns     []turn
	Notes     []hark.Note // on the whole session
	Counts    []codeCount
	Codes     []hark.Code
	Progress  progress
	Timeline  []mark
	CanReview bool
	Duration  float64
	// Coding, when set, says the session is being double-coded and what
	// that means for the user (codingNotice).
	Coding string
	// Speakers says how the speakers were told apart and their roles,
	// when the transcript says; WorkerDoubt, when set, is why the coach
	// should check which speaker is the worker before trusting the
	// worker's tags.
	Speakers    *speakersView
	WorkerDoubt string
	// Roles are the roles a coach can give a speaker.
	Roles []hark.Role
	// SpeakerNames are the speakers of the transcript, in the order they
	// first speak: the speakers a coach can give a turn to.
	SpeakerNames []string
	// Start is the "Start here" panel: the suggested moments with the
	// coaches' answers, and the family lens; nil before the session is
	// tagged.
	Start *startHere
}

// speakersView is the transcript's SpeakerInfo, in words for the page.
type speakersView struct {
	How   string
	Roles []hark.SpeakerRole
}

// workerDoubtBelow is the confidence under which the page says the worker
// may be the wrong speaker.
const workerDoubtBelow = 0.7

// speakersOf puts the transcript's SpeakerInfo in words, and says whether
// the worker is in doubt.
func speakersOf(info *hark.SpeakerInfo) (*speakersView, string) {
	if info == nil {
		return nil, ""
	}
	v := &speakersView{Roles: info.Roles}
	switch info.Source {
	case hark.SpeakersChannels:
		v.How = "One microphone a speaker: the worker's channel was named at upload."
	case hark.SpeakersTranscript:
		v.How = "From the transcript uploaded with the recording."
	case hark.SpeakersEngine:
		v.How = fmt.Sprintf("From the speech engine: %d speakers.", info.Count)
	case hark.SpeakersDiarization:
		if info.Estimated {
			v.How = fmt.Sprintf("Told apart in the audio by hark: %d speakers (an estimate, %.0f%% sure).", info.Count, 100*info.Confidence)
		} else {
			v.How = fmt.Sprintf("Told apart in the audio by hark: %d speakers, as the upload said.", info.Count)
		}
	default:
		v.How = "The speakers were not told apart."
	}
	if info.Problem != "" {
		v.How += " " + info.Problem + "."
	}
	var worker *hark.SpeakerRole
	for i := range info.Roles {
		if info.Roles[i].Role == hark.RoleWorker {
			worker = &info.Roles[i]
		}
	}
	switch {
	case worker == nil && len(info.Roles) > 0:
		return v, "No speaker was taken for the worker, so there are no worker tags. A coach can give the worker's role to the right speaker under Speakers."
	case worker != nil && worker.Confidence < workerDoubtBelow:
		return v, fmt.Sprintf("hark is not sure %s is the worker (%.0f%%, %s). Check a few turns before relying on the worker's tags; if it is wrong, a coach can give the worker's role to the right speaker under Speakers.",
			worker.Speaker, 100*worker.Confidence, roleSource(worker.Source))
	}
	return v, ""
}

// roleSource says in words where a role came from.
func roleSource(source string) string {
	switch source {
	case hark.RoleFromMetadata:
		return "named at upload"
	case hark.RoleFromLabel:
		return "named in the transcript"
	case hark.RoleFromVoice:
		return "by the worker's learned voice"
	case hark.RoleFromWords:
		return "guessed from what each speaker says"
	case hark.RoleFromCoach:
		return "set by a coach"
	}
	return source
}

type codeCount struct {
	Code string
	N    int
}

type progress struct {
	Reviewed int `json:"reviewed"`
	Total    int `json:"total"`
}

// mark is a tag's place on the timeline strip, as a percentage.
type mark struct {
	Key      string
	Code     string
	Percent  float64
	Start    float64
	Polarity string
}

func (s *Server) prepare(sess *hark.Session, u *hark.User) *view {
	v := &view{Session: sess, Codes: s.codeList(), CanReview: u.CanReview(sess.Recording.Team), Duration: sess.Recording.DurationSeconds,
		Roles: []hark.Role{hark.RoleWorker, hark.RoleParent, hark.RoleChild, hark.RoleOther, hark.RoleUnknown}}
	if sess.Transcript == nil {
		return v
	}
	if v.Duration == 0 {
		v.Duration = sess.Transcript.Duration()
	}
	v.Speakers, v.WorkerDoubt = speakersOf(sess.Transcript.Speakers)
	v.Start = startHereOf(sess)
	bySeg := map[int][]hark.Tag{}
	counts := map[string]int{}
	if sess.Annotations != nil {
		for _, t := range sess.Annotations.Tags {
			bySeg[t.Segment] = append(bySeg[t.Segment], t)
			if t.Review != hark.ReviewRejected {
				counts[t.Code]++
			}
			v.Progress.Total++
			if t.Review != hark.ReviewPending {
				v.Progress.Reviewed++
			}
		}
	}
	notes := map[int][]hark.Note{}
	if sess.Review != nil {
		for _, n := range sess.Review.Notes {
			if n.Segment < 0 {
				v.Notes = append(v.Notes, n)
			} else {
				notes[n.Segment] = append(notes[n.Segment], n)
			}
		}
	}
	seen := map[string]bool{}
	for _, sg := range sess.Transcript.Segments {
		if sg.Speaker != "" && !seen[sg.Speaker] {
			seen[sg.Speaker] = true
			v.SpeakerNames = append(v.SpeakerNames, sg.Speaker)
		}
		tags := bySeg[sg.Index]
		v.Turns = append(v.Turns, turn{Segment: sg, Tags: tags, Notes: notes[sg.Index]})
		for _, t := range tags {
			pct := 0.0
			if v.Duration > 0 {
				pct = 100 * sg.Start / v.Duration
			}
			v.Timeline = append(v.Timeline, mark{Key: t.Key, Code: t.Code, Percent: pct, Start: sg.Start, Polarity: s.polarity(t.Code)})
		}
	}
	for c, n := range counts {
		v.Counts = append(v.Counts, codeCount{c, n})
	}
	sort.Slice(v.Counts, func(i, j int) bool {
		return v.Counts[i].N > v.Counts[j].N || v.Counts[i].N == v.Counts[j].N && v.Counts[i].Code < v.Counts[j].Code
	})
	return v
}

func (s *Server) handleSessionPage(w http.ResponseWriter, r *http.Request, u *hark.User) {
	sess, err := s.visibleSession(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.audit(r.Context(), u, "view", sess.Recording.ID, "")
	v := s.prepare(sess, u)
	dc, err := s.blindCoding(r.Context(), sess.Recording.ID)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if v.Coding = codingNotice(dc, u); dc != nil && !dc.Codes(u.Name) {
		v.CanReview = false // the review waits for the coders
	}
	s.render(w, r, http.StatusOK, "session.html", path.Base(sess.Recording.Key), v)
}

// moment is one item of the reflection sheet.
type moment struct {
	Start    float64
	Speaker  string
	Role     hark.Role
	Quote    string
	Code     string
	Evidence string
	Notes    []hark.Note
}

func (s *Server) handleSheet(w http.ResponseWriter, r *http.Request, u *hark.User) {
	sess, err := s.visibleSession(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := s.prepare(sess, u)
	var strengths, reflect []moment
	for _, t := range v.Turns {
		var tnotes []hark.Note
		for _, n := range t.Notes {
			if n.Moment {
				tnotes = append(tnotes, n)
			}
		}
		used := false
		for _, tag := range t.Tags {
			if !tag.Moment || tag.Review == hark.ReviewRejected {
				continue
			}
			m := moment{Start: t.Start, Speaker: t.Speaker, Role: t.Role, Quote: t.Text, Code: tag.Code, Evidence: tag.Evidence}
			if !used {
				m.Notes, used = tnotes, true
			}
			if s.polarity(tag.Code) == string(hark.PolarityStrength) {
				strengths = append(strengths, m)
			} else {
				reflect = append(reflect, m)
			}
		}
		if !used && len(tnotes) > 0 {
			reflect = append(reflect, moment{Start: t.Start, Speaker: t.Speaker, Role: t.Role, Quote: t.Text, Notes: tnotes})
		}
	}
	// The suggested moments a coach accepted, each with the turns of its
	// window as the page shows them (masked under display redaction).
	accepted := v.Start.Accepted()
	for i := range accepted {
		for _, t := range v.Turns {
			if slices.Contains(accepted[i].Segments, t.Index) {
				accepted[i].Turns = append(accepted[i].Turns, t)
			}
		}
	}
	s.audit(r.Context(), u, "view", sess.Recording.ID, "reflection sheet")
	s.render(w, r, http.StatusOK, "sheet.html", "Reflection sheet · "+path.Base(sess.Recording.Key), map[string]any{
		"View": v, "Strengths": strengths, "Reflect": reflect, "Suggested": accepted,
	})
}

// handleAudio streams the recording from the object store with HTTP Range
// support, so that seeking in a two-hour file fetches only what is played.
func (s *Server) handleAudio(w http.ResponseWriter, r *http.Request, u *hark.User) {
	sess, err := s.visibleSession(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if s.cfg.Store == nil {
		s.pageError(w, r, hark.Errorf(hark.EUNAVAILABLE, "audio is not available from this server"))
		return
	}
	if at := sess.Recording.AudioRemoved; at != nil {
		s.pageError(w, r, hark.Errorf(hark.ENOTFOUND, "the audio was removed on %s under the team's retention policy; the transcript and tags stay", at.Format(time.DateOnly)))
		return
	}
	obj, info, err := s.cfg.Store.Get(r.Context(), sess.Recording.Key)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	defer obj.Close()
	rs, ok := obj.(io.ReadSeeker)
	if !ok {
		s.pageError(w, r, hark.Errorf(hark.EINTERNAL, "the object store does not support ranges"))
		return
	}
	if rg := r.Header.Get("Range"); rg == "" || strings.HasPrefix(rg, "bytes=0-") {
		s.audit(r.Context(), u, "play", sess.Recording.ID, "")
	}
	// The type by the name, not the store's: recordings uploaded before
	// hark stored the real type are all labelled audio/wav there.
	w.Header().Set("Content-Type", hark.AudioContentType(sess.Recording.Key))
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, path.Base(sess.Recording.Key), info.LastModified, rs)
}

// handleExport writes one session as JSON, a CSV of its tags, WebVTT or
// SRT with the tags in the cue text, a REFI-QDA project (qdpx) or an ELAN
// document (eaf).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, u *hark.User) {
	sess, err := s.visibleSession(r, u)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	format := r.PathValue("format")
	base := strings.TrimSuffix(path.Base(sess.Recording.Key), path.Ext(sess.Recording.Key))
	attach := func(ext, ctype string) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, sanitizeFilename(base)+ext))
	}
	switch format {
	case "json":
		attach(".json", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sess)
	case "csv":
		attach("-tags.csv", "text/csv; charset=utf-8")
		_ = s.writeTagsCSV(w, sess)
	case "vtt":
		attach(".vtt", "text/vtt; charset=utf-8")
		s.writeVTT(w, sess)
	case "srt":
		attach(".srt", "application/x-subrip; charset=utf-8")
		s.writeSRT(w, sess)
	case "qdpx":
		// A REFI-QDA project of this one session, the audio in Sources/
		// unless ?audio=reference (or the server has no object store).
		cfg := qda.ProjectConfig{Name: base, User: u.Name, Codebook: s.cfg.Codebook}
		if s.cfg.Store != nil && r.URL.Query().Get("audio") != "reference" {
			cfg.Audio = func(ctx context.Context, rec *hark.Recording) (io.ReadCloser, error) {
				rd, _, err := s.cfg.Store.Get(ctx, rec.Key)
				return rd, err
			}
		}
		attach(".qdpx", "application/zip")
		load := func(context.Context, string) (*hark.Session, error) { return sess, nil }
		st, err := qda.WriteProject(r.Context(), w, cfg, []string{sess.Recording.ID}, load)
		if err != nil {
			s.log.Warn("export qdpx", "recording", sess.Recording.ID, "err", err)
			return
		}
		format = fmt.Sprintf("qdpx: 1 recording, %d coding(s), %d note(s)", st.Codings, st.Notes)
	case "eaf":
		attach(".eaf", "application/xml; charset=utf-8")
		st, err := eaf.Write(w, sess, eaf.Config{Author: u.Name, Codebook: s.cfg.Codebook, Keep: qda.DefaultInclude().Has})
		if err != nil {
			s.log.Warn("export eaf", "recording", sess.Recording.ID, "err", err)
			return
		}
		format = fmt.Sprintf("eaf: 1 recording, %d turn(s), %d tag(s)", st.Turns, st.Tags)
	case "wav-redacted":
		// The audio with the stretches silenced in which the identifiers
		// were said (names, numbers, addresses: as the team's redaction
		// finds them, or as masked before storing).
		if s.cfg.Store == nil {
			s.pageError(w, r, hark.Errorf(hark.EUNAVAILABLE, "audio is not available from this server"))
			return
		}
		if at := sess.Recording.AudioRemoved; at != nil {
			s.pageError(w, r, hark.Errorf(hark.ENOTFOUND, "the audio was removed on %s under the team's retention policy", at.Format(time.DateOnly)))
			return
		}
		var names []string
		if ri, ok := s.cfg.Index.(redactionIndex); ok {
			pol, err := ri.Redaction(r.Context(), sess.Recording.Team)
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			names = pol.Names
		}
		var spans []redact.TimeSpan
		if sess.Transcript != nil {
			spans = redact.TimeSpans(redact.New(redact.Config{Names: names}), sess.Transcript, 0.3)
		}
		obj, _, err := s.cfg.Store.Get(r.Context(), sess.Recording.Key)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		defer obj.Close()
		var rd io.Reader = obj
		if s.cfg.AudioPCM != nil {
			// An MP3, a µ-law call, …: decoded first, and what cannot
			// be is said before the download starts.
			pcm, err := s.cfg.AudioPCM(r.Context(), path.Base(sess.Recording.Key), obj)
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			defer pcm.Close()
			rd = pcm
		}
		attach("-redacted.wav", "audio/wav")
		if err := redact.SilenceWAV(w, rd, spans); err != nil {
			s.log.Warn("export wav-redacted", "recording", sess.Recording.ID, "err", err)
			return
		}
		format = fmt.Sprintf("wav-redacted: %d stretch(es) silenced", len(spans))
	default:
		s.pageError(w, r, hark.Errorf(hark.ENOTFOUND, "unknown export format %q: use json, csv, vtt, srt, qdpx, eaf or wav-redacted", format))
		return
	}
	s.audit(r.Context(), u, "export", sess.Recording.ID, format)
}

func sanitizeFilename(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r == '/' || r < 32 {
			return '_'
		}
		return r
	}, s)
}

// writeTagsCSV writes one row per tag, with the turn it is in.
func (s *Server) writeTagsCSV(w io.Writer, sess *hark.Session) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"recording_id", "segment", "start_s", "end_s", "speaker", "role", "code", "label", "polarity",
		"source", "review", "machine_code", "evidence", "reviewed_by", "moment"})
	if sess.Transcript == nil || sess.Annotations == nil {
		cw.Flush()
		return cw.Error()
	}
	segs := map[int]hark.Segment{}
	for _, sg := range sess.Transcript.Segments {
		segs[sg.Index] = sg
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }
	for _, t := range sess.Annotations.Tags {
		sg := segs[t.Segment]
		_ = cw.Write([]string{sess.Recording.ID, strconv.Itoa(t.Segment), f(sg.Start), f(sg.End), sg.Speaker, string(sg.Role),
			t.Code, s.label(t.Code), s.polarity(t.Code), string(t.Source), string(t.Review), t.OrigCode, t.Evidence, t.ReviewedBy,
			strconv.FormatBool(t.Moment)})
	}
	cw.Flush()
	return cw.Error()
}

// cues calls cue for each turn of the transcript, numbered from 1, with
// the codes of its accepted or pending tags.
func cues(sess *hark.Session, cue func(n int, sg hark.Segment, codes []string)) {
	if sess.Transcript == nil {
		return
	}
	bySeg := map[int][]string{}
	if sess.Annotations != nil {
		for _, t := range sess.Annotations.Tags {
			if t.Review != hark.ReviewRejected {
				bySeg[t.Segment] = append(bySeg[t.Segment], t.Code)
			}
		}
	}
	for i, sg := range sess.Transcript.Segments {
		cue(i+1, sg, bySeg[sg.Index])
	}
}

// tagged is a cue's text with its codes after it in square brackets.
func tagged(text string, codes []string) string {
	if len(codes) > 0 {
		text += " [" + strings.Join(codes, ", ") + "]"
	}
	return text
}

// writeVTT writes the transcript as WebVTT, each cue's accepted or pending
// tags after its text in square brackets, its speaker as the cue's voice.
func (s *Server) writeVTT(w io.Writer, sess *hark.Session) {
	fmt.Fprintln(w, "WEBVTT")
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	cues(sess, func(n int, sg hark.Segment, codes []string) {
		fmt.Fprintf(w, "\n%d\n%s --> %s\n", n, vttTime(sg.Start), vttTime(sg.End))
		text := tagged(esc.Replace(sg.Text), codes)
		if sg.Speaker != "" {
			fmt.Fprintf(w, "<v %s>%s\n", esc.Replace(sg.Speaker), text)
		} else {
			fmt.Fprintln(w, text)
		}
	})
}

// writeSRT writes the transcript as SubRip subtitles: each cue "Speaker:
// text [codes]", the tags as in WebVTT.
func (s *Server) writeSRT(w io.Writer, sess *hark.Session) {
	first := true
	cues(sess, func(n int, sg hark.Segment, codes []string) {
		if !first {
			fmt.Fprint(w, "\r\n")
		}
		first = false
		srt := func(x float64) string { return strings.Replace(vttTime(x), ".", ",", 1) }
		text := tagged(strings.ReplaceAll(sg.Text, "\n", " "), codes)
		if sg.Speaker != "" {
			text = sg.Speaker + ": " + text
		}
		fmt.Fprintf(w, "%d\r\n%s --> %s\r\n%s\r\n", n, srt(sg.Start), srt(sg.End), text)
	})
}

func vttTime(secs float64) string {
	ms := int64(secs*1000 + 0.5)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
