package main

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/eaf"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/qda"
	"github.com/harkworks/hark/redact"
	"github.com/harkworks/hark/transcribe"
)

// FamilyManifest is manifest.json of a family's export: what the zip holds
// and where it came from.
type FamilyManifest struct {
	Schema     int               `json:"schema"`
	Family     string            `json:"family"`
	ExportedAt time.Time         `json:"exported_at"`
	Reason     string            `json:"reason"`
	Recordings []FamilyRecording `json:"recordings"`
	Files      []FamilyFile      `json:"files"`
}

// FamilyRecording is one recording of the family in the export.
type FamilyRecording struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	Team       string `json:"team"`
	RecordedOn string `json:"recorded_on,omitempty"`
	Status     string `json:"status"`
	AudioNote  string `json:"audio_note,omitempty"` // why the audio is not there
}

// FamilyFile is one file of the export, with its SHA-256.
type FamilyFile struct {
	Path   string `json:"path"`
	What   string `json:"what"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

func newExportCmd(g *globals) *cobra.Command {
	var (
		c                                       conn
		db, family, team, out, why              string
		format, batch, from, to, include, audio string
		codebook                                string
	)
	cmd := &cobra.Command{
		Use:   "export (--family REF --out FILE.zip --reason WHY | --format qdpx (--batch ID | --team T [--from D --to D] | RECORDING...) --out FILE.qdpx | --format eaf RECORDING --out FILE.eaf)",
		Short: "Export a family's data (subject access), or sessions for research tools: REFI-QDA (.qdpx) or ELAN (.eaf)",
		Long: `export --family gathers everything hark holds about one family (the recordings
uploaded with that --family reference): the audio, any transcript uploaded
with it, the machine's transcripts and every annotations version as stored,
the session as the coaches corrected and reviewed it (transcript, tags,
decisions, notes, corrections), and the audit entries about each recording.
It writes them to one zip with manifest.json (every file with its SHA-256)
and README.txt. The export itself is audited, with the reason.

export --format qdpx writes one REFI-QDA project (QDA-XML 1.0), which NVivo,
ATLAS.ti, MAXQDA and QualCoder open: the recordings of a batch, of a team
(between --from and --to, recorded dates), or the recordings named, each an
audio source with its transcript, the codebook, every tag as a coding, the
speakers as cases, the metadata as variables, the coaches' notes. --include
chooses the tags by what coaches made of them (default accepted,pending,added);
--audio reference leaves the audio out and names its key instead.

export --format eaf writes one recording as an ELAN document (EAF 3.0): a tier
per speaker, a tier per code. --audio include writes the audio next to it.

docs/formats.md says what maps to what. Every export is audited.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				if family == "" {
					return hark.Errorf(hark.EINVALID, "say what to export: --family REF (a family's data), or --format qdpx or eaf")
				}
				format = "family"
			}
			if out == "" {
				return hark.Errorf(hark.EINVALID, "give the file to write with --out FILE")
			}
			switch format {
			case "family":
				if len(args) > 0 {
					return hark.Errorf(hark.EINVALID, "a family's export takes no recordings: --family REF selects them")
				}
			case "qdpx", "eaf":
				if family != "" {
					return hark.Errorf(hark.EINVALID, "--family is for the family export (--format family), not %s", format)
				}
			default:
				return hark.Errorf(hark.EINVALID, "unknown format %q: use family, qdpx or eaf", format)
			}
			if format == "family" {
				if family == "" {
					return hark.Errorf(hark.EINVALID, "give the family's reference and the file to write: --family REF --out FILE.zip")
				}
				if err := hark.CheckReference("family", family); err != nil {
					return err
				}
			}
			reason := strings.TrimSpace(why)
			if format == "family" && (reason == "" || len(reason) > 200) {
				return hark.Errorf(hark.EINVALID, "give the reason with --reason (1 to 200 characters, e.g. \"subject access request 2026-114\"): it goes in the audit log")
			}
			if len(reason) > 200 {
				return hark.Errorf(hark.EINVALID, "--reason is at most 200 characters")
			}
			store, err := c.openStore(g)
			if err != nil {
				return err
			}
			defer closeWithin(store, queueCloseTimeout)
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
			if format != "family" {
				cb, err := loadCodebook(codebook)
				if err != nil {
					return err
				}
				in, err := qda.ParseInclude(include)
				if err != nil {
					return err
				}
				ex := &researchExport{idx: idx, store: store, codebook: cb, include: in, audio: audio, reason: reason, out: out}
				if format == "eaf" {
					return ex.eaf(cmd.Context(), g, args)
				}
				return ex.qdpx(cmd.Context(), g, hark.RecordingFilter{Batch: batch, Team: team, From: from, To: to}, args)
			}
			m, err := exportFamily(cmd.Context(), idx, store, family, team, reason, out)
			if err != nil {
				return err
			}
			if err := idx.Audit(cmd.Context(), &hark.AuditEntry{At: time.Now(), User: "cli", Action: "export-family",
				Detail: fmt.Sprintf("family %s: %d recording(s), %d file(s): %s", family, len(m.Recordings), len(m.Files), reason)}); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "family %s: %d recording(s), %d file(s) written to %s\n", family, len(m.Recordings), len(m.Files), out)
			return nil
		},
	}
	c.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "index database (default: HARK_DB, else <data-dir>/index.db)")
	f.StringVar(&format, "format", "", "family (the default with --family), qdpx (REFI-QDA project) or eaf (ELAN)")
	f.StringVar(&family, "family", "", "the family's reference, as given at upload (the family export)")
	f.StringVar(&team, "team", "", "only this team's recordings (family, qdpx)")
	f.StringVar(&batch, "batch", "", "qdpx: the recordings of this batch")
	f.StringVar(&from, "from", "", "qdpx with --team: recorded on or after this day (YYYY-MM-DD)")
	f.StringVar(&to, "to", "", "qdpx with --team: recorded on or before this day (YYYY-MM-DD)")
	f.StringVar(&include, "include", "accepted,pending,added", "qdpx, eaf: the tags to export by review status: accepted, pending, rejected, added, all")
	f.StringVar(&audio, "audio", "", "qdpx: include (default) or reference; eaf: reference (default) or include (written next to the .eaf)")
	f.StringVar(&codebook, "codebook", env("HARK_CODEBOOK", ""), "qdpx, eaf: codebook YAML file for the codes' labels (default: the built-in one)")
	f.StringVarP(&out, "out", "o", "", "the file to write (required)")
	f.StringVar(&why, "reason", "", "why it is exported, for the audit log (required for a family's export; no names)")
	return cmd
}

// exportFamily writes the family's export to out, whole or not at all.
func exportFamily(ctx context.Context, idx *index.DB, store *ingest.Store, family, team, reason, out string) (*FamilyManifest, error) {
	list, err := idx.Recordings(ctx, hark.RecordingFilter{Family: family, Team: team, Limit: 10_000_000})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, hark.Errorf(hark.ENOTFOUND, "no recordings of family %q: the reference is given at upload with --family", family)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".hark-export-*.zip")
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "write %s", out)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	zw := zip.NewWriter(tmp)
	m := &FamilyManifest{Schema: hark.SchemaVersion, Family: family, ExportedAt: time.Now().UTC(), Reason: reason}
	add := func(name, what string, r io.Reader) error {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), r)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, FamilyFile{Path: name, What: what, Bytes: n, SHA256: hexSum(h)})
		return nil
	}
	addJSON := func(name, what string, v any) error {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return add(name, what, strings.NewReader(string(data)))
	}
	addObject := func(name, what, key string) (bool, error) {
		rd, _, err := store.Get(ctx, key)
		if hark.ErrorCode(err) == hark.ENOTFOUND {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		defer rd.Close()
		return true, add(name, what, rd)
	}
	for _, s := range list {
		sess, err := idx.Session(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		r := sess.Recording
		fr := FamilyRecording{ID: r.ID, Key: r.Key, Team: r.Team, RecordedOn: r.RecordedOn, Status: string(r.Status)}
		dir := "recordings/" + r.ID + "/"
		if r.AudioRemoved != nil {
			fr.AudioNote = "removed on " + r.AudioRemoved.Format(time.DateOnly) + " under the team's retention policy"
		} else if ok, err := addObject(dir+"audio"+path.Ext(r.Key), "the recording's audio as uploaded", r.Key); err != nil {
			return nil, err
		} else if !ok {
			fr.AudioNote = "not in the object store"
		}
		base := strings.TrimSuffix(r.Key, path.Ext(r.Key))
		for _, ext := range transcribe.SidecarExtensions {
			if _, err := addObject(dir+"uploaded-transcript"+ext, "the transcript uploaded with the recording", base+ext); err != nil {
				return nil, err
			}
		}
		var keys []string
		if err := store.List(ctx, hark.ResultsPrefix+r.ID+"/", func(o hark.ObjectInfo) error {
			keys = append(keys, o.Key)
			return nil
		}); err != nil {
			return nil, err
		}
		for _, k := range keys {
			name := dir + "stored/" + strings.TrimPrefix(k, hark.ResultsPrefix+r.ID+"/")
			if _, err := addObject(name, "as hark stored it (the machine's transcript, each annotations version, the review, a double-coded session's mark and its coders' reviews)", k); err != nil {
				return nil, err
			}
		}
		if err := addJSON(dir+"session.json", "the session as the coaches see it: the corrected transcript, the tags as reviewed, the review with notes and corrections", sess); err != nil {
			return nil, err
		}
		entries, err := idx.AuditLog(ctx, hark.AuditFilter{RecordingID: r.ID})
		if err != nil {
			return nil, err
		}
		if err := addJSON(dir+"audit.json", "who viewed, played, exported or changed it, and when", entries); err != nil {
			return nil, err
		}
		m.Recordings = append(m.Recordings, fr)
	}
	readme := fmt.Sprintf(`Everything hark held about family %s on %s.

recordings/<id>/ holds, for each recording: the audio as uploaded (unless
it was removed under the team's retention policy: manifest.json says so), a
transcript uploaded with it, stored/ (the machine's transcript, every
annotations version and the coaches' review, as hark stored them),
session.json (the session as coaches see it: the transcript as they
corrected it, the tags as they reviewed them, their notes) and audit.json
(who viewed, played, exported or changed it, and when).

manifest.json lists every file with its SHA-256.
`, family, m.ExportedAt.Format(time.RFC3339))
	if err := add("README.txt", "what this export holds", strings.NewReader(readme)); err != nil {
		return nil, err
	}
	if err := addJSON("manifest.json", "this list", m); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "write %s", out)
	}
	if err := tmp.Close(); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "write %s", out)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "write %s", out)
	}
	return m, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// researchExport writes sessions for research tools: a REFI-QDA project or
// an ELAN document.
type researchExport struct {
	idx      *index.DB
	store    *ingest.Store
	codebook *hark.Codebook
	include  qda.Include
	audio    string
	reason   string
	out      string
}

// load returns a session as coaches see it: with the team's display
// redaction applied, as the pages and their exports show it.
func (e *researchExport) load(ctx context.Context, id string) (*hark.Session, error) {
	sess, err := e.idx.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	return redactForDisplay(ctx, e.idx, sess)
}

// openAudio opens a recording's audio in the object store.
func (e *researchExport) openAudio(ctx context.Context, r *hark.Recording) (io.ReadCloser, error) {
	rd, _, err := e.store.Get(ctx, r.Key)
	return rd, err
}

// audit records an export of each recording, with the format and counts.
func (e *researchExport) audit(ctx context.Context, ids []string, detail string) error {
	if e.reason != "" {
		detail += ": " + e.reason
	}
	for _, id := range ids {
		if err := e.idx.Audit(ctx, &hark.AuditEntry{At: time.Now(), User: "cli", Action: "export", RecordingID: id, Detail: detail}); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes out whole or not at all.
func writeAtomic(out string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".hark-export-*")
	if err != nil {
		return hark.WrapError(hark.EINVALID, err, "write %s", out)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return hark.WrapError(hark.EINVALID, err, "write %s", out)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return hark.WrapError(hark.EINVALID, err, "write %s", out)
	}
	return nil
}

func (e *researchExport) qdpx(ctx context.Context, g *globals, f hark.RecordingFilter, args []string) error {
	var ids []string
	switch {
	case len(args) > 0:
		if f.Batch != "" || f.Team != "" || f.From != "" || f.To != "" {
			return hark.Errorf(hark.EINVALID, "name recordings, or select them with --batch or --team, not both")
		}
		for _, id := range args {
			if _, err := e.idx.Recording(ctx, id); err != nil {
				return err
			}
		}
		ids = args
	case f.Batch != "" || f.Team != "":
		if (f.From != "" || f.To != "") && f.Team == "" {
			return hark.Errorf(hark.EINVALID, "--from and --to go with --team")
		}
		f.Status, f.Limit = hark.StatusReady, 10_000_000
		list, err := e.idx.Recordings(ctx, f)
		if err != nil {
			return err
		}
		for _, s := range list {
			ids = append(ids, s.ID)
		}
		if len(ids) == 0 {
			return hark.Errorf(hark.ENOTFOUND, "no ready recordings match: check the batch id (hark status) or the team and dates")
		}
		sort.Strings(ids)
	default:
		return hark.Errorf(hark.EINVALID, "say which recordings: --batch ID, --team T [--from D --to D], or recording ids")
	}
	cfg := qda.ProjectConfig{Name: strings.TrimSuffix(filepath.Base(e.out), filepath.Ext(e.out)), User: "cli", Codebook: e.codebook, Include: e.include}
	switch e.audio {
	case "", "include":
		cfg.Audio = e.openAudio
	case "reference":
	default:
		return hark.Errorf(hark.EINVALID, "--audio is include or reference, not %q", e.audio)
	}
	var st qda.Stats
	if err := writeAtomic(e.out, func(w io.Writer) error {
		var err error
		st, err = qda.WriteProject(ctx, w, cfg, ids, e.load)
		return err
	}); err != nil {
		return err
	}
	if err := e.audit(ctx, ids, fmt.Sprintf("qdpx: %d recording(s), %d coding(s), %d note(s), tags %s", st.Recordings, st.Codings, st.Notes, e.include)); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%d recording(s), %d coding(s), %d note(s), %d audio file(s) written to %s\n", st.Recordings, st.Codings, st.Notes, st.Audio, e.out)
	return nil
}

func (e *researchExport) eaf(ctx context.Context, g *globals, args []string) error {
	if len(args) != 1 {
		return hark.Errorf(hark.EINVALID, "an ELAN export is of one recording: hark export --format eaf RECORDING --out FILE.eaf")
	}
	sess, err := e.load(ctx, args[0])
	if err != nil {
		return err
	}
	r := sess.Recording
	cfg := eaf.Config{Author: "cli", Codebook: e.codebook, Keep: e.include.Has}
	var audioOut string
	switch e.audio {
	case "", "reference":
	case "include":
		if r.AudioRemoved != nil {
			return hark.Errorf(hark.ENOTFOUND, "the audio of %s was removed on %s under the team's retention policy: export without --audio include", r.ID, r.AudioRemoved.Format(time.DateOnly))
		}
		ext := strings.ToLower(path.Ext(r.Key))
		if ext == "" {
			ext = ".wav"
		}
		audioOut = strings.TrimSuffix(e.out, filepath.Ext(e.out)) + ext
		cfg.MediaURL = "./" + eaf.MediaURL(filepath.Base(audioOut))
	default:
		return hark.Errorf(hark.EINVALID, "--audio is reference or include, not %q", e.audio)
	}
	if audioOut != "" {
		if err := writeAtomic(audioOut, func(w io.Writer) error {
			rd, err := e.openAudio(ctx, r)
			if err != nil {
				return err
			}
			defer rd.Close()
			if _, err := io.Copy(w, rd); err != nil {
				return hark.WrapError(hark.EUNAVAILABLE, err, "read the audio of %s", r.ID)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	var st eaf.Stats
	if err := writeAtomic(e.out, func(w io.Writer) error {
		var err error
		st, err = eaf.Write(w, sess, cfg)
		return err
	}); err != nil {
		return err
	}
	if err := e.audit(ctx, []string{r.ID}, fmt.Sprintf("eaf: 1 recording, %d turn(s), %d tag(s), tags %s", st.Turns, st.Tags, e.include)); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "%s: %d turn(s), %d tag(s) written to %s", r.ID, st.Turns, st.Tags, e.out)
	if audioOut != "" {
		fmt.Fprintf(g.stdout, ", the audio to %s", audioOut)
	}
	fmt.Fprintln(g.stdout)
	return nil
}

// redactForDisplay masks a session's identifiers as the team's display
// redaction says, as the web pages and their exports do (offsets kept, so
// tags stay on their words).
func redactForDisplay(ctx context.Context, idx *index.DB, sess *hark.Session) (*hark.Session, error) {
	if sess.Transcript == nil {
		return sess, nil
	}
	pol, err := idx.Redaction(ctx, sess.Recording.Team)
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
	if sess.Review != nil {
		rv := *sess.Review
		rv.Notes = slices.Clone(rv.Notes)
		for i := range rv.Notes {
			rv.Notes[i].Text, _ = rd.Redact(rv.Notes[i].Text)
		}
		c.Review = &rv
	}
	return &c, nil
}
