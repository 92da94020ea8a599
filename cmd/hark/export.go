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
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/index"
	"github.com/harkworks/hark/ingest"
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
		c                          conn
		db, family, team, out, why string
	)
	cmd := &cobra.Command{
		Use:   "export --family REF --out FILE.zip --reason WHY",
		Short: "Export everything hark holds about one family, as one zip with a manifest (subject access)",
		Long: `export --family gathers everything hark holds about one family (the recordings
uploaded with that --family reference): the audio, any transcript uploaded
with it, the machine's transcripts and every annotations version as stored,
the session as the coaches corrected and reviewed it (transcript, tags,
decisions, notes, corrections), and the audit entries about each recording.
It writes them to one zip with manifest.json (every file with its SHA-256)
and README.txt. The export itself is audited, with the reason.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if family == "" || out == "" {
				return hark.Errorf(hark.EINVALID, "give the family's reference and the file to write: --family REF --out FILE.zip")
			}
			if err := hark.CheckReference("family", family); err != nil {
				return err
			}
			reason := strings.TrimSpace(why)
			if reason == "" || len(reason) > 200 {
				return hark.Errorf(hark.EINVALID, "give the reason with --reason (1 to 200 characters, e.g. \"subject access request 2026-114\"): it goes in the audit log")
			}
			c.storeOnly = true
			sc, _, err := c.resolve(g)
			if err != nil {
				return err
			}
			store, err := ingest.NewStore(sc)
			if err != nil {
				return err
			}
			defer closeWithin(store, queueCloseTimeout)
			idx, err := openIndex(cmd.Context(), g, db)
			if err != nil {
				return err
			}
			defer idx.Close()
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
	f.StringVar(&family, "family", "", "the family's reference, as given at upload (required)")
	f.StringVar(&team, "team", "", "only this team's recordings of the family")
	f.StringVar(&out, "out", "", "the zip file to write (required)")
	f.StringVar(&why, "reason", "", "why it is exported, for the audit log (required; no names)")
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
			if _, err := addObject(name, "as hark stored it (the machine's transcript, each annotations version, the review)", k); err != nil {
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
