-- What the family-lens report reads of each session, kept short and apart
-- from the documents it comes from (index/lens.go), written with the
-- annotations and the review: report_sessions.family_lens is the
-- session's family lens as a line of numbers ('' when it has none), read
-- for every session in scope; family_moments holds its suggested
-- moments' keys and cues and the coaches' answers to them, read for the
-- reviewed sessions only.
ALTER TABLE report_sessions ADD COLUMN family_lens TEXT NOT NULL DEFAULT '';
CREATE TABLE family_moments (
	recording_id TEXT COLLATE "C" PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
	moment_keys TEXT NOT NULL DEFAULT '',
	answers TEXT NOT NULL DEFAULT ''
);

-- The sessions written before these: the next family report fills them
-- in from the sessions' annotations and reviews, a thousand at a time,
-- and takes them off this list.
CREATE TABLE family_pending (
	recording_id TEXT COLLATE "C" PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE
);
INSERT INTO family_pending (recording_id)
	SELECT id FROM recordings WHERE annotations_doc <> ''
	UNION SELECT recording_id FROM reviews;
