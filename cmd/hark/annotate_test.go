package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/harkworks/hark"
	"github.com/harkworks/hark/annotate"
	"github.com/harkworks/hark/transcribe"
)

// runCommand runs one of hark's commands in process with the given
// arguments and returns what it printed.
func runCommand(t *testing.T, newCmd func(*globals) *cobra.Command, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &globals{dataDir: t.TempDir(), logLevel: "error", stdout: &out, stderr: &errOut}
	cmd := newCmd(g)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

// objectKeys returns the keys of a JSON object in the order they appear.
func objectKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// The JSON of `hark annotate` is a contract scripts depend on: these
// field names, in this order, one segment per cue in input order.
func TestAnnotateJSONContract(t *testing.T) {
	path := filepath.Join(meetingsDir, "mixed.vtt")
	stdout, stderr, err := runCommand(t, newAnnotateCmd, path, "--format", "json")
	if err != nil {
		t.Fatalf("annotate: %v\n%s", err, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
	raw := json.RawMessage(stdout)
	if got := objectKeys(t, raw); !slices.Equal(got, []string{"segments", "metrics", "moments", "family"}) {
		t.Fatalf("top-level keys %v", got)
	}
	var out struct {
		Segments []json.RawMessage `json:"segments"`
		Metrics  json.RawMessage   `json:"metrics"`
		Moments  []json.RawMessage `json:"moments"`
		Family   json.RawMessage   `json:"family"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	// The mixed meeting's threat ("we'll have to go to court") is a moment.
	if len(out.Moments) == 0 {
		t.Fatal("no moments")
	}
	for i, m := range out.Moments {
		if got := objectKeys(t, m); !slices.Equal(got, []string{"key", "rank", "kind", "cue", "start", "end", "segments", "reason", "score"}) {
			t.Fatalf("moment %d keys %v", i, got)
		}
		var mo hark.Moment
		json.Unmarshal(m, &mo)
		if mo.Rank != i+1 || (mo.Kind != hark.MomentStrength && mo.Kind != hark.MomentReflect) || mo.Reason == "" || len(mo.Segments) == 0 || mo.End <= mo.Start {
			t.Errorf("moment %d: %+v", i, mo)
		}
	}
	if got := objectKeys(t, out.Family); !slices.Contains(got, "parent_talk_share") || !slices.Contains(got, "parent_questions_answered_share") || !slices.Contains(got, "parent_fears_met_share") {
		t.Errorf("family keys %v", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cues, err := transcribe.ParseVTT("mixed.vtt", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Segments) != len(cues) {
		t.Fatalf("%d segments for %d cues", len(out.Segments), len(cues))
	}
	tags := 0
	for i, rawSeg := range out.Segments {
		if got := objectKeys(t, rawSeg); !slices.Equal(got, []string{"index", "start", "end", "speaker", "role", "text", "tags"}) {
			t.Fatalf("segment %d keys %v", i, got)
		}
		var seg struct {
			Index   int               `json:"index"`
			Start   float64           `json:"start"`
			End     float64           `json:"end"`
			Speaker string            `json:"speaker"`
			Role    string            `json:"role"`
			Text    string            `json:"text"`
			Tags    []json.RawMessage `json:"tags"`
		}
		if err := json.Unmarshal(rawSeg, &seg); err != nil {
			t.Fatal(err)
		}
		c := cues[i]
		if seg.Index != i || seg.Start != c.Start || seg.End != c.End || seg.Speaker != c.Speaker || seg.Text != c.Text {
			t.Errorf("segment %d is %+v, cue %+v", i, seg, c)
		}
		if want := strings.ToLower(c.Speaker); seg.Role != want {
			t.Errorf("segment %d: role %q, want %q", i, seg.Role, want)
		}
		if seg.Tags == nil {
			t.Errorf("segment %d: tags is null, want a list", i)
		}
		for _, rawTag := range seg.Tags {
			tags++
			if got := objectKeys(t, rawTag); !slices.Equal(got, []string{"code", "start", "end", "evidence", "confidence", "source"}) {
				t.Fatalf("tag keys %v", got)
			}
			var tag struct {
				Code       string  `json:"code"`
				Start      int     `json:"start"`
				End        int     `json:"end"`
				Evidence   string  `json:"evidence"`
				Confidence float64 `json:"confidence"`
				Source     string  `json:"source"`
			}
			json.Unmarshal(rawTag, &tag)
			if tag.Start < 0 || tag.End > len(seg.Text) || seg.Text[tag.Start:tag.End] != tag.Evidence || tag.Source != "rules" || tag.Confidence <= 0 {
				t.Errorf("segment %d: tag %+v", i, tag)
			}
		}
	}
	if tags < 6 {
		t.Errorf("only %d tags in the mixed meeting", tags)
	}
	if got := objectKeys(t, out.Metrics); !slices.Equal(got, []string{"recording_id", "codebook", "codebook_version", "duration_seconds", "worker_turns", "codes", "reflections", "open_questions", "closed_questions", "reflection_to_question", "roles"}) {
		t.Errorf("metrics keys %v", got)
	}
	var m struct {
		RecordingID string                    `json:"recording_id"`
		Codebook    string                    `json:"codebook"`
		Codes       map[string]map[string]any `json:"codes"`
		Roles       map[string]any            `json:"roles"`
	}
	json.Unmarshal(out.Metrics, &m)
	if m.RecordingID != "mixed" || m.Codebook != "hark-practice" || m.Codes["threat_of_escalation"]["count"] != 1.0 || m.Roles["worker"] == nil || m.Roles["parent"] == nil {
		t.Errorf("metrics %s", out.Metrics)
	}
}

// --worker names the worker's speakers; everyone else is a parent.
func TestAnnotateWorkerFlag(t *testing.T) {
	dir := t.TempDir()
	srt := filepath.Join(dir, "visit.srt")
	os.WriteFile(srt, []byte(`1
00:00:01,000 --> 00:00:04,000
Jo: What would you like to talk about today?

2
00:00:04,500 --> 00:00:08,000
Sam: The school keep ringing me about Leo.

3
00:00:08,500 --> 00:00:11,000
Nan: He's fine with me, mind.

4
00:00:11,500 --> 00:00:14,000
Jo: It sounds like the calls from school wear you down.
`), 0o644)
	stdout, stderr, err := runCommand(t, newAnnotateCmd, srt, "--worker", "jo", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
	var out AnnotateOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	var roles []string
	codes := map[int][]string{}
	for _, s := range out.Segments {
		roles = append(roles, s.Speaker+"="+string(s.Role))
		for _, tag := range s.Tags {
			codes[s.Index] = append(codes[s.Index], tag.Code)
		}
	}
	if want := []string{"Jo=worker", "Sam=parent", "Nan=parent", "Jo=worker"}; !slices.Equal(roles, want) {
		t.Errorf("roles %v, want %v", roles, want)
	}
	if !slices.Contains(codes[0], "open_question") || !slices.Contains(codes[3], "reflective_listening") {
		t.Errorf("codes %v", codes)
	}

	// Without --worker nobody is the worker: a warning names the speakers.
	stdout, stderr, err = runCommand(t, newAnnotateCmd, srt, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "--worker") || !strings.Contains(stderr, `"Jo", "Sam", "Nan"`) {
		t.Errorf("stderr %q: want a warning naming the speakers", stderr)
	}
	json.Unmarshal([]byte(stdout), &out)
	for _, s := range out.Segments {
		if s.Role != hark.RoleUnknown || len(s.Tags) != 0 {
			t.Errorf("segment %+v: want an unknown role and no worker codes", s)
		}
	}

	// A name that is not a speaker is a mistake worth a warning.
	_, stderr, _ = runCommand(t, newAnnotateCmd, srt, "--worker", "Joe")
	if !strings.Contains(stderr, `no speaker is called "Joe"`) {
		t.Errorf("stderr %q", stderr)
	}
}

// A hark transcript JSON keeps its roles and its recording id.
func TestAnnotateHarkJSON(t *testing.T) {
	tr := hark.Transcript{Schema: 1, RecordingID: "rec_42", Engine: "openai", Segments: []hark.Segment{
		{Index: 7, Start: 0, End: 3, Speaker: "SPEAKER_00", Role: hark.RoleWorker, Text: "How has this week been for you both?"},
		{Index: 8, Start: 3, End: 6, Speaker: "SPEAKER_01", Role: hark.RoleParent, Text: "Long. Really long."},
	}}
	path := filepath.Join(t.TempDir(), "rec_42.transcript.json")
	data, _ := json.Marshal(tr)
	os.WriteFile(path, data, 0o644)
	stdout, _, err := runCommand(t, newAnnotateCmd, path, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var out AnnotateOutput
	json.Unmarshal([]byte(stdout), &out)
	if len(out.Segments) != 2 || out.Segments[0].Index != 0 || out.Segments[1].Index != 1 || out.Segments[0].Role != hark.RoleWorker || out.Metrics.RecordingID != "rec_42" {
		t.Fatalf("output %+v", out)
	}
	if len(out.Segments[0].Tags) != 1 || out.Segments[0].Tags[0].Code != "open_question" {
		t.Errorf("tags %+v", out.Segments[0].Tags)
	}
}

func TestAnnotateText(t *testing.T) {
	stdout, _, err := runCommand(t, newAnnotateCmd, filepath.Join(meetingsDir, "partnership.vtt"), "--tagger", "rules")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"partnership.vtt: 20 segments",
		"tagger rules)",
		"[0] 00:00:00.400  Worker (worker)\n    Hello Sam, thanks for seeing me. What would you like us to talk about today?\n",
		`+ open_question            "What would you like us to talk about today?"  0.85 rules`,
		"metrics (",
		"reflection-to-question",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestAnnotateErrors(t *testing.T) {
	t.Setenv("HARK_LLM_MODEL", "")
	t.Setenv("HARK_LLM_BASE_URL", "")
	vtt := filepath.Join(meetingsDir, "mixed.vtt")
	bad := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(bad, []byte("Worker: hello\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code string
		msg  string
	}{
		{[]string{"no-such-file.vtt"}, hark.ENOTFOUND, "transcript no-such-file.vtt does not exist"},
		{[]string{bad}, hark.EINVALID, "unknown transcript format"},
		{[]string{vtt, "--format", "xml"}, hark.EINVALID, "use text or json"},
		{[]string{vtt, "--tagger", "magic"}, hark.EINVALID, "use rules, llm, rules+llm or rules+model"},
		{[]string{vtt, "--tagger", "llm"}, hark.EINVALID, "HARK_LLM_MODEL"},
		{[]string{vtt, "--codebook", "missing.yaml"}, hark.ENOTFOUND, "missing.yaml"},
	} {
		_, _, err := runCommand(t, newAnnotateCmd, tc.args...)
		if hark.ErrorCode(err) != tc.code || !strings.Contains(hark.ErrorMessage(err), tc.msg) {
			t.Errorf("annotate %v: %v, want %s with %q", tc.args, err, tc.code, tc.msg)
		}
	}
	t.Setenv("HARK_LLM_MODEL", "gpt-4o-mini")
	t.Setenv("HARK_LLM_API_KEY", "")
	t.Setenv("HARK_LLM_API_KEY_FILE", "")
	_, _, err := runCommand(t, newAnnotateCmd, vtt, "--tagger", "rules+llm")
	if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), "HARK_LLM_API_KEY") {
		t.Errorf("OpenAI without a key: %v", err)
	}
	t.Setenv("HARK_LLM_API_KEY_FILE", filepath.Join(t.TempDir(), "nope"))
	_, _, err = runCommand(t, newAnnotateCmd, vtt, "--tagger", "llm")
	if hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(err.Error(), "HARK_LLM_API_KEY_FILE") {
		t.Errorf("unreadable key file: %v", err)
	}
}

// --tagger rules+llm reads the LLM's settings from the environment, the
// key from a file, and reports the tokens it used on stderr.
func TestAnnotateRulesLLM(t *testing.T) {
	var gotAuth, gotModel string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		var body struct {
			Model string `json:"model"`
		}
		data, _ := io.ReadAll(r.Body)
		json.Unmarshal(data, &body)
		gotModel = body.Model
		// The model confirms the open question, rejects the directive,
		// adds an affirmation and invents a quote.
		content := `{"tags":[` +
			`{"segment":0,"code":"open_question","evidence":"Hi Jordan, how have things been with Ava since I last saw you?"},` +
			`{"segment":12,"code":"affirmation","evidence":"Yes, your views will be written into the notes."},` +
			`{"segment":6,"code":"affirmation","evidence":"You are doing a brilliant job."}` +
			`],"rejected":[{"segment":8,"code":"directive"}]}`
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1767225600,"model":"coder-1","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":80,"total_tokens":1280}}`, content)
	}))
	defer srv.Close()
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("sk-from-file\n"), 0o600)
	t.Setenv("HARK_LLM_BASE_URL", srv.URL+"/v1")
	t.Setenv("HARK_LLM_MODEL", "coder-1")
	t.Setenv("HARK_LLM_API_KEY", "")
	t.Setenv("HARK_LLM_API_KEY_FILE", keyFile)
	stdout, stderr, err := runCommand(t, newAnnotateCmd, filepath.Join(meetingsDir, "mixed.vtt"), "--tagger", "rules+llm", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer sk-from-file" || gotModel != "coder-1" {
		t.Errorf("request: auth %q model %q", gotAuth, gotModel)
	}
	for _, want := range []string{"1 requests", "1200 prompt + 80 completion = 1280 tokens", "3 tags returned, 1 dropped (span_not_found 1)", "1 rule tags confirmed, 1 rejected, 1 added"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	var out AnnotateOutput
	json.Unmarshal([]byte(stdout), &out)
	src := map[string]hark.Source{}
	for _, s := range out.Segments {
		for _, tag := range s.Tags {
			src[fmt.Sprintf("%d %s", s.Index, tag.Code)] = tag.Source
		}
	}
	if src["0 open_question"] != hark.SourceRules || src["12 affirmation"] != hark.SourceLLM || src["8 directive"] != "" || src["6 affirmation"] != "" {
		t.Errorf("tags %v", src)
	}
}

// The text output ends with where to start and the family lens.
func TestAnnotatePrintsMoments(t *testing.T) {
	stdout, stderr, err := runCommand(t, newAnnotateCmd, filepath.Join(meetingsDir, "authoritarian.vtt"))
	if err != nil {
		t.Fatalf("annotate: %v\n%s", err, stderr)
	}
	for _, want := range []string{"start here: to reflect on", "threat\n", "The worker warned the parent of escalation", "the family lens:",
		"parent's questions 1, answered in the next worker turn 1 (100%)", "fears voiced 3, met with a reflection or explanation 0 (0%)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "start here: strengths") {
		t.Errorf("strengths in the authoritarian meeting:\n%s", stdout)
	}
}

// With no tagger named, hark tags with the rules and its own model (or
// HARK_MODEL's) when the model fits the codebook, and with the rules
// alone, said in the log, for a codebook it was not trained for; a model
// file that cannot be read, or rules+model asked for with a model that
// does not fit, is an error.
func TestDefaultTagger(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	tg, err := newTaggerFromEnv("", "", annotate.DefaultCodebook(), log)
	if err != nil || tg.Mode() != annotate.ModeRulesModel {
		t.Fatalf("default with hark's codebook: %v, %v; want rules+model", tg, err)
	}
	if logs.Len() != 0 {
		t.Errorf("logged %q for the model that fits: hark's own model should be trained with the codebook version it ships with (docs/model.md)", logs.String())
	}
	own, err := annotate.ParseCodebook("team.yaml", []byte(`id: north-practice
version: "1"
codes:
  - id: praise
    label: Praise
    definition: The worker praises the parent.
    role: worker
    polarity: strength
    cues:
      - \bwell done\b
`))
	if err != nil {
		t.Fatal(err)
	}
	tg, err = newTaggerFromEnv("", "", own, log)
	if err != nil || tg.Mode() != annotate.ModeRules {
		t.Fatalf("default with a team's codebook: %v, %v; want rules", tg, err)
	}
	if !strings.Contains(logs.String(), "rules alone") || !strings.Contains(logs.String(), "north-practice") {
		t.Errorf("the fallback is not said in the log: %q", logs.String())
	}
	if _, err := newTaggerFromEnv("rules+model", "", own, log); hark.ErrorCode(err) != hark.EINVALID || !strings.Contains(hark.ErrorMessage(err), "hark train") {
		t.Errorf("rules+model with a team's codebook: %v, want EINVALID naming hark train", err)
	}
	if _, err := newTaggerFromEnv("", filepath.Join(t.TempDir(), "none.json"), annotate.DefaultCodebook(), log); err == nil {
		t.Error("default with a model file that does not exist: no error")
	}
	// A team's model file (here hark's own, written out) and a codebook
	// sent for re-annotation that it was not trained for.
	m, err := annotate.DefaultModel(annotate.DefaultCodebook())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "team-model.json")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Write(out); err != nil {
		t.Fatal(err)
	}
	out.Close()
	if tg, err := newTaggerFromEnv("", file, own, log); err != nil || tg.Mode() != annotate.ModeRules {
		t.Errorf("default, HARK_MODEL for another codebook: %v, %v; want the rules alone", tg, err)
	}
	if tg, err := newTaggerFromEnv("", file, annotate.DefaultCodebook(), log); err != nil || tg.Mode() != annotate.ModeRulesModel {
		t.Errorf("default, HARK_MODEL that fits: %v, %v; want rules+model", tg, err)
	}
	tg, err = newTaggerFromEnv("rules", "", annotate.DefaultCodebook(), log)
	if err != nil || tg.Mode() != annotate.ModeRules {
		t.Errorf("rules: %v, %v", tg, err)
	}

	// hark's codebook at another version still fits the model, which says
	// it was trained with another.
	logs.Reset()
	newer := *annotate.DefaultCodebook()
	newer.Version = "2099.1.1"
	if tg, err = newTaggerFromEnv("", "", &newer, log); err != nil || tg.Mode() != annotate.ModeRulesModel {
		t.Fatalf("default with a newer version of hark's codebook: %v, %v", tg, err)
	}
	if !strings.Contains(logs.String(), "another version of the codebook") || !strings.Contains(logs.String(), "2099.1.1") {
		t.Errorf("the version the model was trained with is not compared: %q", logs.String())
	}
}
