package diarize_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/harkworks/hark/diarize"
	"github.com/harkworks/hark/transcribe"
)

// rolePlay is one of testdata/speakers' meetings: its 16 kHz samples, the
// reference turns and the worker's label.
type rolePlay struct {
	name    string
	samples []float32
	ref     []diarize.Turn
	worker  string
}

func loadRolePlay(t *testing.T) []rolePlay {
	t.Helper()
	dir := filepath.Join("..", "testdata", "speakers")
	f, err := os.Open(filepath.Join(dir, "roles.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	workers := map[string]string{}
	for _, r := range rows[1:] {
		if r[2] == "worker" {
			workers[r[0]] = r[1]
		}
	}
	var out []rolePlay
	for name, w := range workers {
		m := rolePlay{name: name, worker: w}
		audio, err := os.Open(filepath.Join(dir, name+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := transcribe.Prepare(context.Background(), name, audio, transcribe.PrepareConfig{Dir: t.TempDir(),
			Listen: func(x []float32) { m.samples = append(m.samples, x...) }})
		audio.Close()
		if err != nil {
			t.Fatal(err)
		}
		p.Remove()
		refs, err := diarize.ReadRTTMFile(filepath.Join(dir, name+".rttm"))
		if err != nil {
			t.Fatal(err)
		}
		m.ref = refs[name]
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// clip is the worker's own speech in the meeting's first turns, at least
// enough to learn a voice from, as a coach would cut an enrolment clip.
func (m rolePlay) clip() []float32 {
	var x []float32
	for _, r := range m.ref {
		if r.Speaker != m.worker {
			continue
		}
		x = append(x, m.samples[int(r.Start*diarize.SampleRate):min(len(m.samples), int(r.End*diarize.SampleRate))]...)
		if len(x) > 20*diarize.SampleRate {
			break
		}
	}
	return x
}

// A worker's voice, learned from a clip of their own turns, picks them
// out among the speakers hark finds in the whole meeting, and matches no
// one in the other meetings (other people's voices).
func TestVoiceRolePlay(t *testing.T) {
	meetings := loadRolePlay(t)
	results := make([]*diarize.Diarization, len(meetings))
	for i, o := range meetings {
		dz := diarize.New(diarize.Config{})
		dz.Write(o.samples)
		res, err := dz.Result()
		if err != nil {
			t.Fatal(err)
		}
		results[i] = res
	}
	found, strays := 0, 0
	for _, m := range meetings {
		d := diarize.New(diarize.Config{})
		d.Write(m.clip())
		voice, err := d.Voice()
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		for i, o := range meetings {
			res := results[i]
			who, conf := diarize.MatchVoice(voice, res.Voices)
			if o.name == m.name {
				mapped := diarize.MapSpeakers(o.ref, res.Turns, nil, 0)
				if who != "" && mapped[who] == m.worker {
					found++
				} else {
					t.Logf("%s: the worker's voice matched %q (%s) with confidence %.2f", m.name, who, mapped[who], conf)
				}
			} else if who != "" && conf > 0.5 {
				strays++
				t.Logf("%s's worker matched %q in %s with confidence %.2f", m.name, who, o.name, conf)
			}
		}
	}
	t.Logf("the worker found by voice in %d of %d meetings; %d confident matches in other meetings", found, len(meetings), strays)
	if found < 9 || strays > 0 {
		t.Errorf("the worker found by voice in %d of %d meetings (want at least 9), %d confident matches of a voice in a meeting it is not in (want none)", found, len(meetings), strays)
	}
}
