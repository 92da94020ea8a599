package qda

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/harkworks/hark"
)

// Include says which tags a project holds, by what coaches made of them.
type Include struct {
	Accepted bool // machine tags a coach accepted (or recoded)
	Pending  bool // machine tags nobody has judged yet
	Rejected bool // machine tags a coach rejected
	Added    bool // tags coaches added
}

// DefaultInclude is what a project holds unless the team chooses: every
// tag but the rejected ones.
func DefaultInclude() Include { return Include{Accepted: true, Pending: true, Added: true} }

// ParseInclude reads a comma-separated list of accepted, pending, rejected
// and added (or all).
func ParseInclude(s string) (Include, error) {
	var in Include
	for _, w := range strings.Split(s, ",") {
		switch strings.TrimSpace(w) {
		case "accepted":
			in.Accepted = true
		case "pending":
			in.Pending = true
		case "rejected":
			in.Rejected = true
		case "added":
			in.Added = true
		case "all":
			in = Include{true, true, true, true}
		case "":
		default:
			return in, hark.Errorf(hark.EINVALID, "unknown tag status %q: use accepted, pending, rejected, added or all", w)
		}
	}
	if in == (Include{}) {
		return in, hark.Errorf(hark.EINVALID, "include at least one of accepted, pending, rejected, added")
	}
	return in, nil
}

// String lists the statuses included, comma-separated.
func (in Include) String() string {
	var s []string
	for _, x := range []struct {
		on   bool
		name string
	}{{in.Accepted, "accepted"}, {in.Pending, "pending"}, {in.Rejected, "rejected"}, {in.Added, "added"}} {
		if x.on {
			s = append(s, x.name)
		}
	}
	return strings.Join(s, ",")
}

// Status is what coaches made of a tag: added (a coach's own tag),
// accepted, pending or rejected.
func Status(t hark.Tag) string {
	if t.Source == hark.SourceCoach {
		return "added"
	}
	if t.Review == "" {
		return string(hark.ReviewPending)
	}
	return string(t.Review)
}

// Has reports whether the project holds t.
func (in Include) Has(t hark.Tag) bool {
	switch Status(t) {
	case "added":
		return in.Added
	case "accepted":
		return in.Accepted
	case "rejected":
		return in.Rejected
	}
	return in.Pending
}

// AudioFunc opens a recording's audio. It returns ENOTFOUND when the audio
// is not there.
type AudioFunc func(ctx context.Context, r *hark.Recording) (io.ReadCloser, error)

// LoadFunc loads one session as coaches see it (the tags with their
// decisions applied). WriteProject calls it more than once per recording,
// so that only one session is in memory at a time.
type LoadFunc func(ctx context.Context, id string) (*hark.Session, error)

// ProjectConfig says what a project holds.
type ProjectConfig struct {
	// Name is the project's name.
	Name string
	// User is the account that exports: the project's creating user.
	User string
	// Codebook gives the codes their labels, definitions and groups.
	Codebook *hark.Codebook
	// Include says which tags are written; zero means DefaultInclude.
	Include Include
	// Audio, when set, puts each recording's audio in Sources/; without it
	// the project refers to the audio by its object key
	// (relative://<key>), for a team that keeps the audio elsewhere.
	Audio AudioFunc
	// Created is the project's creation time; zero means the latest change
	// in the data, so that the same data gives the same file.
	Created time.Time
}

// Stats counts what a project holds.
type Stats struct {
	Recordings int
	Codings    int
	Notes      int
	Audio      int // audio files put in Sources/
}

// Variables of sources and of cases.
const (
	varRecording   = "Recording"
	varTeam        = "Team"
	varWorker      = "Worker"
	varMeetingType = "Meeting type"
	varRecordedOn  = "Recorded on"
	varReview      = "Review state"
	varSpeaker     = "Speaker"
	varRole        = "Role"
)

var variables = []struct{ name, kind, about string }{
	{varRecording, "Text", "hark's recording id"},
	{varTeam, "Text", "the team the recording belongs to"},
	{varWorker, "Text", "the worker's pseudonymous id"},
	{varMeetingType, "Text", "the kind of meeting, as given at upload"},
	{varRecordedOn, "Date", "the day of the meeting"},
	{varReview, "Text", "how far coaches got with the review: in_progress, complete or none"},
	{varSpeaker, "Text", "the speaker's name in the transcript (a case is one speaker of one recording)"},
	{varRole, "Text", "the speaker's role: worker, parent, child, other or unknown"},
}

// zipEpoch is the time of zip entries when the config gives none.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// project is one export in progress.
type project struct {
	cfg     ProjectConfig
	load    LoadFunc
	zw      *zip.Writer
	modTime time.Time

	users    []string
	userSeen map[string]bool
	extra    []string          // codes the tags use that the codebook lacks
	audioIn  map[string]string // recording id → internal path of its audio
	latest   time.Time
	cases    int
	notes    int
	stats    Stats
}

// WriteProject writes a REFI-QDA project (.qdpx) of the recordings ids to
// w. Files in Sources/ come first (each transcript's text, and the audio),
// then project.qde, written token by token: memory stays flat however many
// recordings and tags there are.
func WriteProject(ctx context.Context, w io.Writer, cfg ProjectConfig, ids []string, load LoadFunc) (Stats, error) {
	if len(ids) == 0 {
		return Stats{}, hark.Errorf(hark.EINVALID, "no recordings to export")
	}
	if cfg.Codebook == nil {
		cfg.Codebook = &hark.Codebook{}
	}
	if cfg.Include == (Include{}) {
		cfg.Include = DefaultInclude()
	}
	if cfg.User == "" {
		cfg.User = "hark"
	}
	if cfg.Name == "" {
		cfg.Name = "hark export"
	}
	p := &project{cfg: cfg, load: load, zw: zip.NewWriter(w), modTime: zipEpoch, userSeen: map[string]bool{}, audioIn: map[string]string{}}
	if !cfg.Created.IsZero() {
		p.modTime = cfg.Created.UTC()
	}
	p.user(cfg.User)
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return p.stats, err
		}
		if err := p.sources(ctx, id); err != nil {
			return p.stats, err
		}
	}
	if err := p.document(ctx, ids); err != nil {
		return p.stats, err
	}
	if err := p.zw.Close(); err != nil {
		return p.stats, fmt.Errorf("write project zip: %w", err)
	}
	return p.stats, nil
}

func (p *project) user(name string) {
	if name != "" && !p.userSeen[name] {
		p.userSeen[name] = true
		p.users = append(p.users, name)
	}
}

func (p *project) seen(t time.Time) {
	if t.After(p.latest) {
		p.latest = t
	}
}

// taggerUser is the user a machine tag is credited to.
func taggerUser(src hark.Source) string { return "hark " + string(src) + " tagger" }

func userGUID(name string) string { return GUID("user", name) }

// tags returns the session's tags the project includes.
func (p *project) tags(sess *hark.Session) []hark.Tag {
	if sess.Annotations == nil {
		return nil
	}
	var out []hark.Tag
	for _, t := range sess.Annotations.Tags {
		if p.cfg.Include.Has(t) {
			out = append(out, t)
		}
	}
	return out
}

func segments(sess *hark.Session) []hark.Segment {
	if sess.Transcript == nil {
		return nil
	}
	return sess.Transcript.Segments
}

func speakerName(sg hark.Segment) string {
	if s := strings.TrimSpace(sg.Speaker); s != "" {
		return s
	}
	return "Unknown"
}

// linePrefix is what the transcript's text puts before a turn's words.
func linePrefix(sg hark.Segment) string { return speakerName(sg) + ": " }

func (p *project) create(name string, method uint16) (io.Writer, error) {
	w, err := p.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: p.modTime})
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return w, nil
}

// sources writes the recording's files in Sources/ and learns what the
// document needs to know before it starts: users, codes, counts.
func (p *project) sources(ctx context.Context, id string) error {
	sess, err := p.load(ctx, id)
	if err != nil {
		return err
	}
	r := sess.Recording
	p.stats.Recordings++
	p.seen(r.UpdatedAt)
	w, err := p.create("Sources/"+GUID("transcript", r.ID)+".txt", zip.Deflate)
	if err != nil {
		return err
	}
	speakers := map[string]bool{}
	for _, sg := range segments(sess) {
		speakers[speakerName(sg)] = true
		if _, err := io.WriteString(w, linePrefix(sg)+sg.Text+"\n"); err != nil {
			return fmt.Errorf("write transcript of %s: %w", r.ID, err)
		}
	}
	p.cases += len(speakers)
	for _, t := range p.tags(sess) {
		if t.Source == hark.SourceCoach {
			p.user(t.ReviewedBy)
		} else {
			p.user(taggerUser(t.Source))
			if t.Review != hark.ReviewPending {
				p.user(t.ReviewedBy)
			}
		}
		if t.ReviewedAt != nil {
			p.seen(*t.ReviewedAt)
		}
		if p.cfg.Codebook.Code(t.Code) == nil && !slices.Contains(p.extra, t.Code) {
			p.extra = append(p.extra, t.Code)
		}
	}
	if sess.Review != nil {
		p.seen(sess.Review.UpdatedAt)
		for _, n := range sess.Review.Notes {
			p.user(n.By)
			p.notes++
		}
	}
	if p.cfg.Audio == nil || r.AudioRemoved != nil {
		return nil
	}
	rd, err := p.cfg.Audio(ctx, r)
	if hark.ErrorCode(err) == hark.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	defer rd.Close()
	ext := strings.ToLower(path.Ext(r.Key))
	if ext == "" {
		ext = ".wav"
	}
	name := GUID("source", r.ID) + ext
	aw, err := p.create("Sources/"+name, zip.Store)
	if err != nil {
		return err
	}
	if _, err := io.Copy(aw, rd); err != nil {
		return fmt.Errorf("copy audio of %s: %w", r.ID, err)
	}
	p.audioIn[r.ID] = "internal://" + name
	p.stats.Audio++
	return nil
}

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// document writes project.qde.
func (p *project) document(ctx context.Context, ids []string) error {
	w, err := p.create("project.qde", zip.Deflate)
	if err != nil {
		return err
	}
	created := p.cfg.Created
	if created.IsZero() {
		created = p.latest
	}
	x := newXW(w)
	me := userGUID(p.cfg.User)
	x.start("Project", "xmlns", ProjectNS, "name", p.cfg.Name, "origin", "hark",
		"creatingUserGUID", me, "creationDateTime", iso(created), "modifyingUserGUID", me, "modifiedDateTime", iso(created))
	x.start("Users")
	for _, u := range p.users {
		x.empty("User", "guid", userGUID(u), "name", u)
	}
	x.end("Users")
	sort.Strings(p.extra)
	if len(p.cfg.Codebook.Codes) > 0 || len(p.extra) > 0 {
		x.start("CodeBook")
		writeCodes(x, p.cfg.Codebook, p.extra)
		x.end("CodeBook")
	}
	x.start("Variables")
	for _, v := range variables {
		x.start("Variable", "guid", GUID("variable", v.name), "name", v.name, "typeOfVariable", v.kind)
		x.text("Description", v.about)
		x.end("Variable")
	}
	x.end("Variables")
	each := func(fn func(sess *hark.Session)) error {
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			sess, err := p.load(ctx, id)
			if err != nil {
				return err
			}
			fn(sess)
			if x.err != nil {
				return fmt.Errorf("write project.qde: %w", x.err)
			}
		}
		return nil
	}
	if p.cases > 0 {
		x.start("Cases")
		if err := each(func(sess *hark.Session) { p.writeCases(x, sess) }); err != nil {
			return err
		}
		x.end("Cases")
	}
	x.start("Sources")
	if err := each(func(sess *hark.Session) { p.writeSource(x, sess) }); err != nil {
		return err
	}
	x.end("Sources")
	if p.notes > 0 {
		x.start("Notes")
		if err := each(func(sess *hark.Session) { p.writeNotes(x, sess) }); err != nil {
			return err
		}
		x.end("Notes")
	}
	x.text("Description", fmt.Sprintf("Exported by hark: %d recording(s); tags included: %s.", p.stats.Recordings, p.cfg.Include))
	x.end("Project")
	if err := x.close(); err != nil {
		return fmt.Errorf("write project.qde: %w", err)
	}
	return nil
}

func value(x *xw, name, kind, v string) {
	if v == "" {
		return
	}
	x.start("VariableValue")
	x.empty("VariableRef", "targetGUID", GUID("variable", name))
	x.text(kind+"Value", v)
	x.end("VariableValue")
}

// speakers returns the session's speakers in the order they first speak,
// with the role of their first turn.
func speakers(segs []hark.Segment) (names []string, roles map[string]hark.Role) {
	roles = map[string]hark.Role{}
	for _, sg := range segs {
		n := speakerName(sg)
		if _, ok := roles[n]; !ok {
			names = append(names, n)
			roles[n] = sg.Role
		}
	}
	return names, roles
}

func sourceName(r *hark.Recording) string {
	if r.Key != "" {
		return path.Base(r.Key)
	}
	return r.ID
}

func (p *project) writeCases(x *xw, sess *hark.Session) {
	r := sess.Recording
	segs := segments(sess)
	names, roles := speakers(segs)
	for _, n := range names {
		role := string(roles[n])
		if role == "" {
			role = string(hark.RoleUnknown)
		}
		x.start("Case", "guid", GUID("case", r.ID, n), "name", sourceName(r)+" · "+n)
		x.text("Description", fmt.Sprintf("%s (%s) in recording %s", n, role, r.ID))
		value(x, varRecording, "Text", r.ID)
		value(x, varSpeaker, "Text", n)
		value(x, varRole, "Text", role)
		x.empty("SourceRef", "targetGUID", GUID("source", r.ID))
		for _, sg := range segs {
			if speakerName(sg) == n {
				x.empty("SelectionRef", "targetGUID", GUID("turn", r.ID, strconv.Itoa(sg.Index)))
			}
		}
		x.end("Case")
	}
}

// tagSpan is where one tag sits in the transcript's text, in characters,
// and its GUIDs.
type tagSpan struct {
	tag      hark.Tag
	key      string
	from, to int
	fromMS   int64
	toMS     int64
}

func ms(sec float64) int64 { return int64(sec*1000 + 0.5) }

// clampRunes counts the characters of text before byte offset off.
func clampRunes(text string, off int) int {
	off = max(0, min(off, len(text)))
	return utf8.RuneCountInString(text[:off])
}

func (p *project) writeSource(x *xw, sess *hark.Session) {
	r := sess.Recording
	src := GUID("source", r.ID)
	me := userGUID(p.cfg.User)
	audioPath, ok := p.audioIn[r.ID]
	about := fmt.Sprintf("Recording %s: team %s", r.ID, r.Team)
	if r.MeetingType != "" {
		about += ", " + r.MeetingType
	}
	if r.RecordedOn != "" {
		about += ", recorded on " + r.RecordedOn
	}
	about += "."
	if !ok {
		audioPath = "relative://" + r.Key
		switch {
		case r.AudioRemoved != nil:
			about += " The audio was removed on " + r.AudioRemoved.Format(time.DateOnly) + " under the team's retention policy; the path is the key it had."
		case p.cfg.Audio != nil:
			about += " The audio was not in the object store; the path is its key."
		default:
			about += " The audio is not in this project: the path is its key in the object store."
		}
	}
	x.start("AudioSource", "guid", src, "name", sourceName(r), "path", audioPath,
		"creatingUser", me, "creationDateTime", iso(r.CreatedAt))
	x.text("Description", about)

	segs := segments(sess)
	byIndex := make(map[int]int, len(segs)) // segment index → position in segs
	for i, sg := range segs {
		byIndex[sg.Index] = i
	}
	// Where each turn's words begin and end in the text, in characters.
	textStart := make([]int, len(segs))
	textEnd := make([]int, len(segs))
	pos := 0
	for i, sg := range segs {
		textStart[i] = pos + utf8.RuneCountInString(linePrefix(sg))
		textEnd[i] = textStart[i] + utf8.RuneCountInString(sg.Text)
		pos = textEnd[i] + 1
	}
	keys := map[string]int{}
	var spans []tagSpan
	for _, t := range p.tags(sess) {
		i, ok := byIndex[t.Segment]
		if !ok {
			continue
		}
		sg := segs[i]
		k := t.Key
		if k == "" {
			k = hark.TagKey(t.Segment, t.Start, t.End, t.Code)
		}
		if n := keys[k]; n > 0 {
			keys[k]++
			k += "#" + strconv.Itoa(n)
		} else {
			keys[k] = 1
		}
		a, b := clampRunes(sg.Text, t.Start), clampRunes(sg.Text, t.End)
		if b < a {
			a, b = b, a
		}
		n := max(1, utf8.RuneCountInString(sg.Text))
		at := func(c int) int64 { return ms(sg.Start + (sg.End-sg.Start)*float64(c)/float64(n)) }
		spans = append(spans, tagSpan{tag: t, key: k, from: textStart[i] + a, to: textStart[i] + b, fromMS: at(a), toMS: at(b)})
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].from < spans[j].from })

	notesBySeg := map[int][]string{}
	var sessionNotes []string
	if sess.Review != nil {
		for _, n := range sess.Review.Notes {
			g := GUID("note", r.ID, n.ID)
			if _, ok := byIndex[n.Segment]; ok && n.Segment >= 0 {
				notesBySeg[n.Segment] = append(notesBySeg[n.Segment], g)
			} else {
				sessionNotes = append(sessionNotes, g)
			}
		}
	}

	x.start("Transcript", "guid", GUID("transcript", r.ID), "name", sourceName(r)+" transcript",
		"plainTextPath", "internal://"+GUID("transcript", r.ID)+".txt", "creatingUser", me, "creationDateTime", iso(r.CreatedAt))
	if sess.Transcript != nil {
		x.text("Description", fmt.Sprintf("Transcribed by %s; one line a turn, \"Speaker: words\"; a sync point at each turn's start and end.", sess.Transcript.Engine))
	}
	// Sync points: each turn's start and end, and each tag's.
	si := 0
	for i, sg := range segs {
		x.empty("SyncPoint", "guid", GUID("sync", r.ID, strconv.Itoa(sg.Index), "start"),
			"timeStamp", strconv.FormatInt(ms(sg.Start), 10), "position", strconv.Itoa(textStart[i]-utf8.RuneCountInString(linePrefix(sg))))
		for ; si < len(spans) && spans[si].from <= textEnd[i]; si++ {
			s := spans[si]
			x.empty("SyncPoint", "guid", GUID("sync", r.ID, s.key, "from"), "timeStamp", strconv.FormatInt(s.fromMS, 10), "position", strconv.Itoa(s.from))
			x.empty("SyncPoint", "guid", GUID("sync", r.ID, s.key, "to"), "timeStamp", strconv.FormatInt(s.toMS, 10), "position", strconv.Itoa(s.to))
		}
		x.empty("SyncPoint", "guid", GUID("sync", r.ID, strconv.Itoa(sg.Index), "end"),
			"timeStamp", strconv.FormatInt(ms(sg.End), 10), "position", strconv.Itoa(textEnd[i]))
	}
	// Selections: each turn (the cases' speakers point at them), then
	// each tag with its coding.
	for _, sg := range segs {
		idx := strconv.Itoa(sg.Index)
		x.start("TranscriptSelection", "guid", GUID("turn", r.ID, idx), "name", fmt.Sprintf("%s, turn %d", speakerName(sg), sg.Index),
			"fromSyncPoint", GUID("sync", r.ID, idx, "start"), "toSyncPoint", GUID("sync", r.ID, idx, "end"))
		for _, g := range notesBySeg[sg.Index] {
			x.empty("NoteRef", "targetGUID", g)
		}
		x.end("TranscriptSelection")
	}
	for _, s := range spans {
		p.writeCoding(x, r, s)
	}
	x.end("Transcript")
	for _, g := range sessionNotes {
		x.empty("NoteRef", "targetGUID", g)
	}
	value(x, varRecording, "Text", r.ID)
	value(x, varTeam, "Text", r.Team)
	value(x, varWorker, "Text", r.Worker)
	value(x, varMeetingType, "Text", r.MeetingType)
	if _, err := time.Parse(time.DateOnly, r.RecordedOn); err == nil {
		value(x, varRecordedOn, "Date", r.RecordedOn)
	}
	state := "none"
	if sess.Review != nil && sess.Review.State != hark.ReviewNone {
		state = string(sess.Review.State)
	}
	value(x, varReview, "Text", state)
	x.end("AudioSource")
}

// label is a code's label, or its id when the codebook lacks it.
func (p *project) label(code string) string {
	if c := p.cfg.Codebook.Code(code); c != nil {
		return c.Label
	}
	return code
}

// describeTag says who made a tag and what coaches made of it.
func (p *project) describeTag(t hark.Tag) string {
	var b strings.Builder
	st := Status(t)
	when := ""
	if t.ReviewedAt != nil {
		when = " on " + iso(*t.ReviewedAt)
	}
	if st == "added" {
		fmt.Fprintf(&b, "Added by coach %s%s.", t.ReviewedBy, when)
	} else {
		fmt.Fprintf(&b, "Machine tag (%s, confidence %.2f), ", t.Source, t.Confidence)
		if st == "pending" {
			b.WriteString("not yet reviewed.")
		} else {
			fmt.Fprintf(&b, "%s by %s%s.", st, t.ReviewedBy, when)
		}
		if t.OrigCode != "" {
			fmt.Fprintf(&b, " Recoded from %s.", p.label(t.OrigCode))
		}
	}
	if t.Moment {
		b.WriteString(" Chosen for the reflection sheet.")
	}
	fmt.Fprintf(&b, " Review status: %s.", st)
	return b.String()
}

func (p *project) writeCoding(x *xw, r *hark.Recording, s tagSpan) {
	t := s.tag
	by, at := taggerUser(t.Source), iso(r.UpdatedAt)
	if t.Source == hark.SourceCoach {
		by = t.ReviewedBy
		if t.ReviewedAt != nil {
			at = iso(*t.ReviewedAt)
		}
	}
	var modBy, modAt string
	if Status(t) == "accepted" || Status(t) == "rejected" {
		modBy = userGUID(t.ReviewedBy)
		if t.ReviewedBy == "" {
			modBy = ""
		}
		if t.ReviewedAt != nil {
			modAt = iso(*t.ReviewedAt)
		}
	}
	byGUID := ""
	if by != "" {
		byGUID = userGUID(by)
	}
	x.start("TranscriptSelection", "guid", GUID("selection", r.ID, s.key), "name", p.label(t.Code)+" ("+Status(t)+")",
		"fromSyncPoint", GUID("sync", r.ID, s.key, "from"), "toSyncPoint", GUID("sync", r.ID, s.key, "to"),
		"creatingUser", byGUID, "creationDateTime", at, "modifyingUser", modBy, "modifiedDateTime", modAt)
	x.text("Description", p.describeTag(t))
	x.start("Coding", "guid", GUID("coding", r.ID, s.key), "creatingUser", byGUID, "creationDateTime", at)
	x.empty("CodeRef", "targetGUID", CodeGUID(t.Code))
	x.end("Coding")
	x.end("TranscriptSelection")
	p.stats.Codings++
}

func (p *project) writeNotes(x *xw, sess *hark.Session) {
	if sess.Review == nil {
		return
	}
	r := sess.Recording
	for _, n := range sess.Review.Notes {
		name := "Note on the session"
		if n.Segment >= 0 {
			name = fmt.Sprintf("Note on turn %d", n.Segment)
		}
		if n.By != "" {
			name += " by " + n.By
		}
		by := ""
		if n.By != "" {
			by = userGUID(n.By)
		}
		x.start("Note", "guid", GUID("note", r.ID, n.ID), "name", name+" ("+sourceName(r)+")", "creatingUser", by, "creationDateTime", iso(n.At))
		x.text("PlainTextContent", n.Text)
		x.end("Note")
		p.stats.Notes++
	}
}
