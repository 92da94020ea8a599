-- Double coding (hark.DoubleCoding): sessions marked to be coded
-- independently by several coders, and each coder's own review of them,
-- kept apart from the session's review (reviews) and its tags until the
-- disagreements are settled. doc is the JSON document whole.
CREATE TABLE double_coding (
	recording_id TEXT PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
	doc TEXT NOT NULL
);

CREATE TABLE coder_reviews (
	recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
	coder TEXT NOT NULL,
	version INTEGER NOT NULL,
	state TEXT NOT NULL DEFAULT '',
	doc TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (recording_id, coder)
);
