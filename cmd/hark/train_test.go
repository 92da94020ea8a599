package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/harkworks/hark"
)

// practiceFile is a file of the project's practice corpus, absolute (the
// embedded S3 server of other tests changes the working directory).
func practiceFile(name string) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "practice", name))
	if err != nil {
		panic(err)
	}
	return p
}

// hark train on the practice corpus: the model is written, measured on the
// dev split against the rules alone, and hark eval tags with it; the same
// data gives the same model; bad requests say what to do.
func TestTrainCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "model.json.gz")
	stdout, stderr, err := runCommand(t, newTrainCmd, "--gold", practiceFile("train.csv"), "--dev", practiceFile("dev.csv"), "--out", out, "--version", "t1")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "model t1: 11 codes") || !strings.Contains(stdout, "on "+practiceFile("dev.csv")+": rules alone → rules with the model") {
		t.Fatalf("train printed:\n%s", stdout)
	}
	m := regexp.MustCompile(`macro F1 +([0-9.]+) → ([0-9.]+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no macro F1 in:\n%s", stdout)
	}
	before, _ := strconv.ParseFloat(m[1], 64)
	after, _ := strconv.ParseFloat(m[2], 64)
	if after < before+0.1 {
		t.Errorf("macro F1 on the dev split %.3f → %.3f: the model does not add what it should", before, after)
	}
	again := filepath.Join(t.TempDir(), "again.json.gz")
	if _, stderr, err := runCommand(t, newTrainCmd, "--gold", practiceFile("train.csv"), "--out", again, "--version", "t1"); err != nil {
		t.Fatalf("train again: %v\n%s", err, stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if len(a) == 0 || string(a) != string(b) {
		t.Error("two trainings on the same data wrote different models")
	}

	stdout, stderr, err = runCommand(t, newEvalCmd, "--gold", practiceFile("test.csv"), "--tagger", "rules+model", "--model", out, "--format", "json")
	if err != nil {
		t.Fatalf("eval with the model: %v\n%s", err, stderr)
	}
	var r EvalReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || r.Tagger != "rules+model" || r.Transcripts != 36 {
		t.Errorf("eval: %v %+v", err, r)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--gold", practiceFile("train.csv")}, "--out MODEL.json"},
		{[]string{"--out", out}, "one of the two"},
		{[]string{"--gold", practiceFile("train.csv"), "--from-reviews", "--out", out}, "one of the two"},
		{[]string{"--gold", "/nonexistent/gold.csv", "--out", out}, "does not exist"},
	} {
		if _, _, err := runCommand(t, newTrainCmd, bad.args...); err == nil || !strings.Contains(hark.ErrorMessage(err), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
	if _, _, err := runCommand(t, newEvalCmd, "--gold", practiceFile("test.csv"), "--tagger", "rules+model", "--model", "/nonexistent/m.json"); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("a missing model: %v", err)
	}
}

// hark eval coders on the corpus's test split and its independent second
// coding: the figures the README of testdata/practice quotes.
func TestEvalCoders(t *testing.T) {
	stdout, stderr, err := runCommand(t, newEvalCmd, "coders", "--gold", practiceFile("test.csv"), "--second", practiceFile("test-second.csv"), "--format", "json")
	if err != nil {
		t.Fatalf("coders: %v\n%s", err, stderr)
	}
	var r CodersReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r.Transcripts != 36 || r.Turns != 1469 || len(r.Codes) != 11 {
		t.Fatalf("report %+v", r)
	}
	for _, c := range r.Codes {
		if c.Kappa == nil || *c.Kappa < 0.6 {
			t.Errorf("%s: kappa %v between the coders", c.Code, c.Kappa)
		}
	}
	if _, _, err := runCommand(t, newEvalCmd, "coders", "--gold", practiceFile("test.csv"), "--second", practiceFile("dev.csv")); hark.ErrorCode(err) != hark.EINVALID {
		t.Errorf("codings of different transcripts: %v", err)
	}
}

// hark train --from-reviews: the sessions a coach has completed the
// review of are the training data; too few sessions are refused with the
// count; the model is written and measured before and after, and nothing
// tags with it by itself.
func TestTrainFromReviews(t *testing.T) {
	data := t.TempDir()
	b := startUp(t, data)
	dir := t.TempDir()
	var wavs []string
	for _, name := range []string{"partnership", "authoritarian", "mixed"} {
		for k := range 2 {
			wav := filepath.Join(dir, name+strconv.Itoa(k)+".wav")
			copyFile(t, filepath.Join(meetingsDir, name+".wav"), wav)
			copyFile(t, filepath.Join(meetingsDir, name+".vtt"), strings.TrimSuffix(wav, ".wav")+".vtt")
			wavs = append(wavs, wav)
		}
	}
	batch, err := b.upload(uploadMeta{Team: "North"}, "", wavs...)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, b.out)
	}
	b.waitBatch(batch, len(wavs))
	out := filepath.Join(t.TempDir(), "north.json")
	train := func(args ...string) (string, error) {
		return runHark(t, data, "", append([]string{"train", "--from-reviews", "--team", "North", "--out", out}, args...)...)
	}
	if _, err := train("--folds", "3"); err == nil || !strings.Contains(hark.ErrorMessage(err), "team North has 0 sessions with a complete review") {
		t.Fatalf("no reviews yet: %v", err)
	}
	coach := b.client("coach", hark.RoleCoach, "North")
	for _, w := range wavs {
		sess := b.session("North/" + filepath.Base(w))
		version := 0
		for _, tag := range sess.Annotations.Tags {
			act := "accept"
			if tag.Code == "directive" && strings.Contains(w, "authoritarian") {
				act = "reject" // the coach disagrees with the rules
			}
			st, resp := postReview(t, coach, b.up.Endpoints.HTTP, sess.Recording.ID, map[string]any{"version": version, "action": act, "key": tag.Key})
			if st != http.StatusOK {
				t.Fatalf("%s %s: %d", act, tag.Key, st)
			}
			version = resp.Version
		}
		// and finds what they missed: the worker's first turn is an
		// affirmation.
		for _, sg := range sess.Transcript.Segments {
			if sg.Role == hark.RoleWorker {
				st, resp := postReview(t, coach, b.up.Endpoints.HTTP, sess.Recording.ID, map[string]any{"version": version, "action": "add",
					"code": "affirmation", "segment": sg.Index, "start": 0, "end": len(sg.Text)})
				if st != http.StatusOK {
					t.Fatalf("add: %d", st)
				}
				version = resp.Version
				break
			}
		}
		if st, _ := postReview(t, coach, b.up.Endpoints.HTTP, sess.Recording.ID, map[string]any{"version": version, "action": "state", "state": "complete"}); st != http.StatusOK {
			t.Fatalf("complete: %d", st)
		}
	}
	stdout, err := train("--folds", "3", "--version", "north-1", "--min-positives", "3")
	if err != nil {
		t.Fatalf("train: %v\n%s", err, stdout)
	}
	t.Log(stdout)
	for _, want := range []string{"model north-1:", "6 reviewed sessions of team North", "the coaches' reviews, 3-fold", "macro F1", "Nothing tags with it yet"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train lacks %q:\n%s", want, stdout)
		}
	}
	// The coaches rejected the rules' directives in three sessions and
	// added affirmations the rules missed: the rules alone no longer agree
	// with them perfectly.
	for _, code := range []string{"directive", "affirmation"} {
		if m := regexp.MustCompile(`(?m)^` + code + ` .* 1\.000 → [0-9.]+ +[0-9.]+ → [0-9.]+ +1\.000 →`).FindString(stdout); m != "" {
			t.Errorf("the rules agree with the coaches on %s perfectly: %s", code, m)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("no model written: %v", err)
	}
	if _, err := train("--folds", "7"); err == nil || !strings.Contains(hark.ErrorMessage(err), "needs at least 7") {
		t.Errorf("7 folds of 6 sessions: %v", err)
	}
}
