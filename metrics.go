package hark

// SessionMetrics are the figures of one session that coaches and analysts read
// next to its tags: how often each practice marker occurs, the balance of
// reflections and questions, and who talks and for how long. Times are in
// seconds. Counts are of turns (segments), as tags are.
type SessionMetrics struct {
	RecordingID     string `json:"recording_id"`
	Codebook        string `json:"codebook"`
	CodebookVersion string `json:"codebook_version"`

	// DurationSeconds is the length of the session: the end of its last
	// segment.
	DurationSeconds float64 `json:"duration_seconds"`

	// WorkerTurns counts the worker's turns: runs of consecutive worker
	// segments that someone else's segment ends.
	WorkerTurns int `json:"worker_turns"`

	// Codes holds the count and rate per hour of each code that has at
	// least one tag. Tags a coach rejected are not counted.
	Codes map[string]CodeMetrics `json:"codes"`

	// Reflections, OpenQuestions and ClosedQuestions count the worker's
	// segments with a reflective_listening tag, with an open_question tag,
	// and with a closed question but no open one. Closed questions have no
	// code: they are found by the rule tagger's sentence analysis, whatever
	// tagger made the tags.
	Reflections     int `json:"reflections"`
	OpenQuestions   int `json:"open_questions"`
	ClosedQuestions int `json:"closed_questions"`

	// ReflectionToQuestion is Reflections / (OpenQuestions +
	// ClosedQuestions), the MITI ratio of reflections to questions (MITI 4
	// suggests at least 1 as fair and 2 as good practice). It is null when
	// the worker asked no questions.
	ReflectionToQuestion *float64 `json:"reflection_to_question"`

	// Roles holds the talk of each role that speaks in the session.
	Roles map[Role]RoleMetrics `json:"roles"`
}

// CodeMetrics are how often one code occurs in a session.
type CodeMetrics struct {
	Count   int     `json:"count"`
	PerHour float64 `json:"per_hour"` // Count per hour of the session; 0 for a session without duration
}

// RoleMetrics are how much one role talks in a session.
type RoleMetrics struct {
	// Turns counts runs of consecutive segments by this role.
	Turns int `json:"turns"`
	// TalkSeconds is the sum of the role's segment durations.
	TalkSeconds float64 `json:"talk_seconds"`
	// TalkShare is TalkSeconds as a share (0..1) of everyone's talk.
	TalkShare float64 `json:"talk_share"`
	// LongestMonologueSeconds is the longest turn: from the start of its
	// first segment to the end of its last, pauses within it included.
	LongestMonologueSeconds float64 `json:"longest_monologue_seconds"`
}
