// Package annotate is hark's annotation stage without its plumbing: the
// practice codebook, the taggers that find practice markers in a transcript,
// the session metrics, and the tools that measure a tagger against expert
// labels. It knows nothing of NATS, S3 or SQL; the worker that moves
// transcripts in and annotations out wires it up.
//
// # Codebook
//
// A codebook (hark.Codebook) is versioned YAML: each code has a stable id, a
// label, a definition, the role it applies to (worker, parent or any), a
// polarity, cues (regular expressions) and positive and negative examples.
// DefaultCodebook returns hark's own, embedded from codebook.yaml, which
// covers the partnership and authoritarian practice markers of motivational
// interviewing (MITI 4.2.1) and of the research on child and family social
// work (Forrester et al.). A team can replace it with its own through
// LoadCodebook or ParseCodebook, which report every problem with its file
// and line.
//
// The examples are tests: CheckExamples runs any hark.Tagger on them, and
// ParseExample and ExampleTranscript describe the example syntax, which can
// give an example the turn it answers:
//
//	"Parent: I'm shattered, she was up all night. || Worker: You're exhausted."
//
// # Rule tagger
//
// RuleTagger is the default tagger: deterministic, fast (a one-hour meeting
// in a few milliseconds) and explainable, since every tag carries the
// sentence that triggered it as byte offsets into the segment's text. It
// reads the form of each sentence (statement, open or closed question,
// statement said as a question), the other speaker's previous turn
// (reflections give it back), conditions (a threat makes an escalation the
// consequence of not complying) and negation (a reassurance is not a
// threat), and adds the codebook's cues. A code applies only to the roles
// the codebook gives it, so segments whose speaker's role is unknown carry
// only codes for any role.
//
// # LLM tagger and modes
//
// LLMTagger asks a chat model on any OpenAI-compatible server to code a
// transcript, with structured output that follows a JSON schema built from
// the codebook. Segments go in batches with a few turns of context; every
// tag the model returns is checked against the codebook, the speaker's role
// and the batch, and its quoted evidence must be found in the segment's
// text, which gives its offsets. Tags that fail are dropped and counted.
// Tagger runs a deployment's Mode: the rule tagger, the LLM tagger, or the
// rules confirmed, rejected and added to by the LLM. TagStats reports the
// tokens used and what was dropped. docs/annotate.md describes both.
//
// # Metrics and evaluation
//
// MeasureSession turns a transcript and its tags into the figures of the
// design brief: counts and rates per hour per code, the ratio of
// reflections to questions, talk time and share per role, and the longest
// monologue.
//
// ReadAnnoMI, ScoreTagger and ScoreAnnoMI measure a tagger's precision,
// recall and F1 per code against labelled transcripts, such as the AnnoMI
// corpus of expert-annotated motivational-interviewing sessions; the
// program in bench/annomi prints them. ReadGold reads a team's own
// human-coded transcripts (docs/eval.md) and AgreementByCode adds Cohen's
// kappa; `hark eval` prints them.
package annotate
