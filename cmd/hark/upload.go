package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/ingest"
	"github.com/harkworks/hark/transcribe"
)

// uploadMeta is what the uploader records with one recording.
type uploadMeta = ingest.UploadMeta

type uploadOptions struct {
	conn
	meta     uploadMeta
	manifest string
	prefix   string
}

func newUploadCmd(g *globals) *cobra.Command {
	var o uploadOptions
	cmd := &cobra.Command{
		Use:   "upload PATH...",
		Short: "Upload WAV recordings (and their transcripts) and start the pipeline",
		Long: `upload stores each WAV file in the object store with its metadata, together
with a transcript of the same name next to it (.vtt, .srt or .json) if there is
one, and publishes the upload event that starts the pipeline. PATH may be a
directory: its recordings (.wav, .mp3, .m4a, .ogg, .opus, .flac, .wma, …) are uploaded. It prints the batch id; follow the
batch with ` + "`hark status --batch ID --watch`" + `.

A manifest CSV (--manifest) gives metadata per file, with a header row naming
any of: file, team, worker, family, meeting_type, recorded_on, worker_channel,
worker_speaker, engine, speakers. Values in the manifest override the flags.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUpload(cmd.Context(), g, &o, args)
		},
	}
	o.conn.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.meta.Team, "team", "", "team the recordings belong to (required unless the manifest says)")
	f.StringVar(&o.meta.Worker, "worker", "", "pseudonymous id of the worker (never a name)")
	f.StringVar(&o.meta.Family, "family", "", "the family's (case's) pseudonymous reference, never a name: hark export --family and hark forget --family find its recordings by it")
	f.StringVar(&o.meta.MeetingType, "meeting-type", "", "meeting type, e.g. home-visit, core-group, review")
	f.StringVar(&o.meta.RecordedOn, "recorded-on", "", "date of the meeting, YYYY-MM-DD")
	f.StringVar(&o.meta.WorkerChannel, "worker-channel", "", "which channel is the worker's microphone: left, right or a channel number")
	f.StringVar(&o.meta.WorkerSpeaker, "worker-speaker", "", "speaker name that is the worker in the uploaded transcripts")
	f.StringVar(&o.meta.Engine, "engine", "", "transcript engine for these recordings (default: the deployment's)")
	f.StringVar(&o.meta.Speakers, "speakers", "", "how many people speak in each recording, 1–10, when known (default: hark estimates it)")
	f.StringVar(&o.manifest, "manifest", "", "CSV file with metadata per recording")
	f.StringVar(&o.prefix, "prefix", "", "key prefix in the bucket, names separated by / (default: the team); never results/, codebooks/, voices/ or models/, where hark keeps its own objects")
	return cmd
}

var (
	safeSegment = regexp.MustCompile(`^[\p{L}\p{N} ._()+&-]+$`)
	dateRe      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// uploadItem is one recording to upload.
type uploadItem struct {
	path, sidecar string
	meta          uploadMeta
}

func runUpload(ctx context.Context, g *globals, o *uploadOptions, args []string) error {
	items, err := collectUploads(o, args)
	if err != nil {
		return err
	}
	store, q, err := o.conn.open(ctx, g)
	if err != nil {
		return err
	}
	defer closeWithin(q, queueCloseTimeout)
	defer closeWithin(store, queueCloseTimeout)
	batch := "b" + time.Now().UTC().Format("20060102-150405") + "-" + randomHex(3)
	fmt.Fprintf(g.stdout, "batch %s: %d recording(s)\n", batch, len(items))
	var failed int
	for i, it := range items {
		if err := uploadOne(ctx, g, store, q, o.prefix, batch, it, fmt.Sprintf("[%d/%d]", i+1, len(items))); err != nil {
			failed++
			fmt.Fprintf(g.stderr, "  %s: %s\n", it.path, hark.ErrorMessage(err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	fmt.Fprintf(g.stdout, "batch %s: %d uploaded, %d failed\n", batch, len(items)-failed, failed)
	fmt.Fprintf(g.stdout, "follow it with: hark status --batch %s --watch\n", batch)
	if failed > 0 {
		return hark.Errorf(hark.EINVALID, "%d of %d uploads failed (see above); the others are being processed", failed, len(items))
	}
	return nil
}

// collectUploads expands directories, reads the manifest and checks every
// item's metadata before anything is uploaded.
func collectUploads(o *uploadOptions, args []string) ([]uploadItem, error) {
	manifest := map[string]map[string]string{}
	if o.manifest != "" {
		var err error
		if manifest, err = readManifest(o.manifest); err != nil {
			return nil, err
		}
		if len(args) == 0 {
			dir := filepath.Dir(o.manifest)
			for f := range manifest {
				args = append(args, filepath.Join(dir, f))
			}
		}
	}
	if len(args) == 0 {
		return nil, hark.Errorf(hark.EINVALID, "nothing to upload: name WAV files or directories, or a --manifest")
	}
	// The prefix is checked before anything goes: one inside hark's own
	// areas (results/, …) would be stored and never seen.
	if o.prefix != "" {
		if err := hark.CheckKeyPrefix(o.prefix); err != nil {
			return nil, err
		}
	}
	var paths []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, hark.Errorf(hark.EINVALID, "%s: no such file", a)
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		all, _ := filepath.Glob(filepath.Join(a, "*"))
		var matches []string
		for _, m := range all {
			if transcribe.IsAudioName(m) {
				matches = append(matches, m)
			}
		}
		if len(matches) == 0 {
			return nil, hark.Errorf(hark.EINVALID, "%s: no recordings in this directory (.wav, .mp3, .m4a, .ogg, .opus, .flac, .wma or another audio or video file)", a)
		}
		paths = append(paths, matches...)
	}
	var items []uploadItem
	for _, p := range paths {
		it := uploadItem{path: p, meta: o.meta}
		if row, ok := manifest[filepath.Base(p)]; ok {
			set := func(dst *string, col string) {
				if v := row[col]; v != "" {
					*dst = v
				}
			}
			set(&it.meta.Team, "team")
			set(&it.meta.Worker, "worker")
			set(&it.meta.Family, "family")
			set(&it.meta.MeetingType, "meeting_type")
			set(&it.meta.RecordedOn, "recorded_on")
			set(&it.meta.WorkerChannel, "worker_channel")
			set(&it.meta.WorkerSpeaker, "worker_speaker")
			set(&it.meta.Engine, "engine")
			set(&it.meta.Speakers, "speakers")
		}
		if it.meta.Team == "" {
			return nil, hark.Errorf(hark.EINVALID, "%s: no team: give --team or a team column in the manifest", p)
		}
		if err := hark.CheckName("team", it.meta.Team); err != nil {
			return nil, hark.Errorf(hark.EINVALID, "%s: %s", p, hark.ErrorMessage(err))
		}
		if n, err := strconv.Atoi(it.meta.Speakers); it.meta.Speakers != "" && (err != nil || n < 1 || n > 10) {
			return nil, hark.Errorf(hark.EINVALID, "%s: speakers %q is not a number of people from 1 to 10", p, it.meta.Speakers)
		}
		if err := hark.CheckReference("family", it.meta.Family); err != nil {
			return nil, hark.Errorf(hark.EINVALID, "%s: %s", p, hark.ErrorMessage(err))
		}
		if it.meta.RecordedOn != "" && !dateRe.MatchString(it.meta.RecordedOn) {
			return nil, hark.Errorf(hark.EINVALID, "%s: recorded_on %q is not a date like 2026-11-26", p, it.meta.RecordedOn)
		}
		base := strings.TrimSuffix(p, filepath.Ext(p))
		for _, ext := range transcribe.SidecarExtensions {
			if _, err := os.Stat(base + ext); err == nil {
				it.sidecar = base + ext
				break
			}
		}
		items = append(items, it)
	}
	return items, nil
}

func readManifest(path string) (map[string]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, hark.Errorf(hark.EINVALID, "manifest %s: cannot open it", path)
	}
	defer f.Close()
	r := csv.NewReader(f)
	rows, err := r.ReadAll()
	if err != nil {
		return nil, hark.WrapError(hark.EINVALID, err, "manifest %s is not valid CSV", path)
	}
	if len(rows) < 2 {
		return nil, hark.Errorf(hark.EINVALID, "manifest %s: needs a header row and at least one recording", path)
	}
	known := map[string]bool{"file": true, "team": true, "worker": true, "family": true, "meeting_type": true, "recorded_on": true, "worker_channel": true, "worker_speaker": true, "engine": true, "speakers": true}
	header := rows[0]
	fileCol := -1
	for i, h := range header {
		h = strings.TrimSpace(strings.ToLower(h))
		header[i] = h
		if !known[h] {
			return nil, hark.Errorf(hark.EINVALID, "manifest %s: unknown column %q (known: file, team, worker, family, meeting_type, recorded_on, worker_channel, worker_speaker, engine, speakers)", path, h)
		}
		if h == "file" {
			fileCol = i
		}
	}
	if fileCol < 0 {
		return nil, hark.Errorf(hark.EINVALID, "manifest %s: no file column", path)
	}
	out := map[string]map[string]string{}
	for n, row := range rows[1:] {
		m := map[string]string{}
		for i, v := range row {
			m[header[i]] = strings.TrimSpace(v)
		}
		file := filepath.Base(m["file"])
		if file == "" || file == "." {
			return nil, hark.Errorf(hark.EINVALID, "manifest %s:%d: empty file name", path, n+2)
		}
		out[file] = m
	}
	return out, nil
}

// uploadOne uploads one recording under prefix (default: its team) and says
// how it went; a recording in the way gets the flag that gets round it.
func uploadOne(ctx context.Context, g *globals, store *ingest.Store, q *ingest.Queue, prefix, batch string, it uploadItem, counter string) error {
	if prefix == "" {
		prefix = it.meta.Team
	}
	name := filepath.Base(it.path)
	if !safeSegment.MatchString(name) {
		return hark.Errorf(hark.EINVALID, "file name %q: rename it with letters, digits, spaces and . _ ( ) + & - only", name)
	}
	res, err := ingest.Upload(ctx, ingest.UploadOptions{
		Store:     store,
		Publisher: q,
		Key:       strings.Trim(prefix, "/") + "/" + name,
		Path:      it.path,
		Sidecar:   it.sidecar,
		Meta:      it.meta,
		Batch:     batch,
		Progress:  newProgress(g.stderr, counter+" "+name),
	})
	if res.AlreadyStored {
		fmt.Fprintf(g.stdout, "%s %s: already uploaded, sending it through again\n", counter, name)
	}
	if hark.ErrorCode(err) == hark.ECONFLICT {
		return hark.Errorf(hark.ECONFLICT, "%s; rename the file or give --prefix", hark.ErrorMessage(err))
	}
	return err
}

// progress draws a progress bar for one upload on a terminal, and one line
// per file elsewhere.
type progress struct {
	w         io.Writer
	label     string
	total, n  int64
	tty       bool
	lastDrawn int
}

var _ ingest.UploadProgress = (*progress)(nil)

func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label, lastDrawn: -1}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// Start is told the size of the file about to go.
func (p *progress) Start(total int64) { p.total = total }

// Write counts the bytes that went and draws the bar on a terminal.
func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.tty && p.total > 0 {
		pct := int(p.n * 100 / p.total)
		if pct != p.lastDrawn {
			p.lastDrawn = pct
			bar := strings.Repeat("=", pct/4) + strings.Repeat(" ", 25-pct/4)
			fmt.Fprintf(p.w, "\r%s [%s] %3d%%", p.label, bar, pct)
		}
	}
	return len(b), nil
}

// Done draws the last state of the bar, or the file's one line.
func (p *progress) Done(ok bool) {
	state := "uploaded"
	if !ok {
		state = "failed"
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s [%s] %s\n", p.label, strings.Repeat("=", 25), state)
		return
	}
	fmt.Fprintf(p.w, "%s %s (%.1f MB)\n", p.label, state, float64(p.n)/1e6)
}
