-- Double coding (hark.DoubleCoding): sessions marked to be coded
-- independently by several coders, and each coder's own review of them,
-- kept apart from the session's review (reviews) and its tags until the
-- disagreements are settled. doc is the JSON document whole.
CREATE TABLE double_coding (
	recording_id TEXT COLLATE "C" PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
	doc TEXT NOT NULL
);

CREATE TABLE coder_reviews (
	recording_id TEXT COLLATE "C" NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
	coder TEXT COLLATE "C" NOT NULL,
	version INTEGER NOT NULL,
	state TEXT COLLATE "C" NOT NULL DEFAULT '',
	doc TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (recording_id, coder)
);
