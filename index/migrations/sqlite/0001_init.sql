-- The index as hark created it before migrations were tracked. Every
-- statement is IF NOT EXISTS so that such an index is adopted as it is.
-- Timestamps are text (see 0002); doc is the Recording's JSON, byte for byte.
CREATE TABLE IF NOT EXISTS recordings (
	id TEXT PRIMARY KEY,
	bucket TEXT NOT NULL,
	key TEXT NOT NULL,
	etag TEXT NOT NULL,
	size INTEGER NOT NULL DEFAULT 0,
	duration REAL NOT NULL DEFAULT 0,
	channels INTEGER NOT NULL DEFAULT 0,
	sample_rate INTEGER NOT NULL DEFAULT 0,
	team TEXT NOT NULL DEFAULT '',
	worker TEXT NOT NULL DEFAULT '',
	meeting_type TEXT NOT NULL DEFAULT '',
	recorded_on TEXT NOT NULL DEFAULT '',
	batch TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL,
	stage TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0,
	doc TEXT NOT NULL,
	transcript_doc TEXT NOT NULL DEFAULT '',
	annotations_doc TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_batch ON recordings(batch, status);
CREATE INDEX IF NOT EXISTS recordings_team ON recordings(team, recorded_on);

CREATE TABLE IF NOT EXISTS segments (
	recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
	idx INTEGER NOT NULL,
	start_s REAL NOT NULL,
	end_s REAL NOT NULL,
	speaker TEXT NOT NULL,
	role TEXT NOT NULL,
	text TEXT NOT NULL,
	confidence REAL NOT NULL,
	PRIMARY KEY (recording_id, idx)
);

CREATE TABLE IF NOT EXISTS tags (
	recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
	segment INTEGER NOT NULL,
	code TEXT NOT NULL,
	start_off INTEGER NOT NULL,
	end_off INTEGER NOT NULL,
	evidence TEXT NOT NULL,
	confidence REAL NOT NULL,
	source TEXT NOT NULL,
	review TEXT NOT NULL,
	codebook TEXT NOT NULL,
	codebook_version TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_recording ON tags(recording_id, segment);
CREATE INDEX IF NOT EXISTS tags_code ON tags(code);
