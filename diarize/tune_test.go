package diarize_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harkworks/hark/diarize"
	"github.com/harkworks/hark/transcribe"
)

// amiFile is one of the AMI excerpts in ../shared/speakers.
type amiFile struct {
	name    string
	samples []float32
	ref     []diarize.Turn
	uem     []diarize.Span
}

func loadAMI(t *testing.T, dir string) []amiFile {
	t.Helper()
	var out []amiFile
	for _, set := range []string{"train", "development"} {
		refs, err := diarize.ReadRTTMFile(filepath.Join(dir, set+".rttm"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, set+".uem"))
		if err != nil {
			t.Fatal(err)
		}
		uems, err := diarize.ReadUEM(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		names, _ := filepath.Glob(filepath.Join(dir, map[string]string{"train": "trn", "development": "dev"}[set]+"*.wav"))
		for _, path := range names {
			id := strings.TrimSuffix(filepath.Base(path), ".wav")
			m := amiFile{name: id, ref: refs[id], uem: uems[id]}
			audio, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := transcribe.Prepare(context.Background(), id, audio, transcribe.PrepareConfig{Dir: t.TempDir(),
				Listen: func(x []float32) { m.samples = append(m.samples, x...) }})
			audio.Close()
			if err != nil {
				t.Fatal(err)
			}
			p.Remove()
			out = append(out, m)
		}
	}
	return out
}

// TestTuneSplits is not a test: with HARK_TUNE=1 it prints the diarization
// error on two halves of the AMI excerpts (trn01–05; trn06–09 with dev00–01)
// and on the role-play meetings, for the Config in HARK_TUNE_CFG (JSON), to
// tune on one half and check on the other.
func TestTuneSplits(t *testing.T) {
	if os.Getenv("HARK_TUNE") == "" {
		t.Skip("set HARK_TUNE=1 to print the figures on the AMI excerpts and the role-play meetings")
	}
	var cfg diarize.Config
	if s := os.Getenv("HARK_TUNE_CFG"); s != "" {
		if err := json.Unmarshal([]byte(s), &cfg); err != nil {
			t.Fatal(err)
		}
	}
	verbose := os.Getenv("HARK_TUNE_V") != ""
	row := func(name string, r diarize.Result) string {
		return fmt.Sprintf("%-8s scored %6.1f  miss %5.1f  fa %5.1f  conf %5.1f  DER %5.1f", name, r.Scored,
			100*r.Miss/r.Scored, 100*r.FalseAlarm/r.Scored, 100*r.Confusion/r.Scored, 100*r.DER())
	}
	var a, b, all diarize.Result
	for _, m := range loadAMI(t, filepath.Join("..", "..", "shared", "speakers")) {
		d := diarize.New(cfg)
		d.Write(m.samples)
		res, err := d.Result()
		if err != nil {
			t.Fatal(err)
		}
		sc := diarize.Score(m.ref, res.Turns, m.uem, 0.25)
		if verbose {
			fmt.Println(row(m.name, sc), " speakers", res.Speakers)
		}
		if m.name < "trn06" && strings.HasPrefix(m.name, "trn") {
			a.Add(sc)
		} else {
			b.Add(sc)
		}
		all.Add(sc)
	}
	var rp diarize.Result
	if os.Getenv("HARK_TUNE_RP") != "" {
		for _, m := range loadRolePlay(t) {
			d := diarize.New(cfg)
			d.Write(m.samples)
			res, err := d.Result()
			if err != nil {
				t.Fatal(err)
			}
			sc := diarize.Score(m.ref, res.Turns, nil, 0.25)
			if verbose {
				fmt.Println(row(m.name, sc), " speakers", res.Speakers)
			}
			rp.Add(sc)
		}
	}
	fmt.Println(row("A", a))
	fmt.Println(row("B", b))
	fmt.Println(row("AMI", all))
	if rp.Scored > 0 {
		fmt.Println(row("roleplay", rp))
	}
}

func oneSpeaker(ts []diarize.Turn) []diarize.Turn {
	out := make([]diarize.Turn, len(ts))
	for i, t := range ts {
		out[i] = diarize.Turn{Start: t.Start, End: t.End, Speaker: "X"}
	}
	return out
}

// TestTuneVAD prints the speech detection error alone (speakers ignored).
func TestTuneVAD(t *testing.T) {
	if os.Getenv("HARK_TUNE") == "" {
		t.Skip("set HARK_TUNE=1")
	}
	var cfg diarize.Config
	if s := os.Getenv("HARK_TUNE_CFG"); s != "" {
		if err := json.Unmarshal([]byte(s), &cfg); err != nil {
			t.Fatal(err)
		}
	}
	var all, vad diarize.Result
	for _, m := range loadAMI(t, filepath.Join("..", "..", "shared", "speakers")) {
		d := diarize.New(cfg)
		d.Write(m.samples)
		res, _ := d.Result()
		sc := diarize.Score(m.ref, res.Turns, m.uem, 0.25)
		v := diarize.Score(oneSpeaker(m.ref), oneSpeaker(res.Turns), m.uem, 0.25)
		fmt.Printf("%s scored %.1f miss %.1f fa %.1f conf %.1f | speech %.1f vadmiss %.1f vadfa %.1f\n", m.name, sc.Scored, sc.Miss, sc.FalseAlarm, sc.Confusion, v.Scored, v.Miss, v.FalseAlarm)
		all.Add(sc)
		vad.Add(v)
	}
	fmt.Printf("ALL scored %.1f miss %.1f fa %.1f conf %.1f | speech %.1f vadmiss %.1f vadfa %.1f\n", all.Scored, all.Miss, all.FalseAlarm, all.Confusion, vad.Scored, vad.Miss, vad.FalseAlarm)
}
