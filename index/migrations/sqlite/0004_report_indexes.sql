-- Reports (package report) over 100,000 sessions and millions of tags in
-- under half a second. Counting tags when a report is asked for reads every
-- tag, which takes seconds, so the index keeps what reports read ready, one
-- row per session:
--
-- report_sessions: the columns reports filter and group on (copied from
-- recordings by triggers), the number of transcript segments, the tag
-- counts per code under each tag status and, for reviewed sessions, the
-- counts behind the agreement report.
--
-- report_codes: small numbers for code ids, so that the count lists are
-- short and hold nothing but digits, ':' and ' ' (a code id is text from
-- outside and could hold anything).
--
-- The count lists (machine, unrejected, confirmed) are "ID:N ID:N …", code
-- number and count, for the codes with a count:
--   machine     every machine tag (source rules or llm), under the code the
--               machine gave it (orig_code when a coach changed it);
--   unrejected  machine tags not rejected, under their current code;
--   confirmed   tags not rejected that a coach accepted or added, under
--               their current code.
-- agreement is '' for sessions nobody has reviewed, else, per code,
-- "ID:A:R:C:P:ADD:CT:MC:MO:CO": machine tags of the code (by the machine's
-- code) accepted as they were (A), rejected (R), accepted under another code
-- (C), pending (P); tags of the code coaches added (ADD) and machine tags
-- coaches changed to it (CT); segments where the machine and the coaches'
-- final tags (every tag not rejected) both have the code (MC), only the
-- machine does (MO), only the coaches do (CO).
--
-- The counts are refreshed lazily: a change to a recording's tags or
-- segments only marks its row stale (SQLite has row triggers only, and a
-- recount per row written would recount a recording's tags once per tag),
-- and a report first recounts the stale rows, in a write transaction, then
-- reads. Writers pay almost nothing; a report pays for the sessions changed
-- since the last one.

CREATE TABLE report_codes (
	id INTEGER PRIMARY KEY,
	code TEXT NOT NULL UNIQUE
);

CREATE TABLE report_sessions (
	recording_id TEXT PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
	status TEXT NOT NULL,
	team TEXT NOT NULL,
	worker TEXT NOT NULL,
	meeting_type TEXT NOT NULL,
	recorded_on TEXT NOT NULL,
	duration REAL NOT NULL,
	review_state TEXT NOT NULL,
	codebook_version TEXT NOT NULL,
	segments INTEGER NOT NULL DEFAULT 0,
	machine TEXT NOT NULL DEFAULT '',
	unrejected TEXT NOT NULL DEFAULT '',
	confirmed TEXT NOT NULL DEFAULT '',
	agreement TEXT NOT NULL DEFAULT '',
	stale INTEGER NOT NULL DEFAULT 1
);
-- The agreement report reads reviewed sessions only, a refresh the
-- stale ones.
-- (Reports read every row in scope; an index on the team, say, would
-- only make them read rows in random order.)
CREATE INDEX report_sessions_reviewed ON report_sessions(review_state) WHERE review_state <> '';
CREATE INDEX report_sessions_stale ON report_sessions(recording_id) WHERE stale = 1;

-- A procedure: inserting a recording id into report_refresh recounts that
-- recording's row.
CREATE VIEW report_refresh AS SELECT '' AS recording_id WHERE 0;
CREATE TRIGGER report_refresh INSTEAD OF INSERT ON report_refresh BEGIN
	INSERT INTO report_codes (code)
	SELECT DISTINCT x.code FROM (
		SELECT code FROM tags WHERE recording_id = NEW.recording_id
		UNION SELECT orig_code FROM tags WHERE recording_id = NEW.recording_id AND orig_code <> ''
	) x WHERE NOT EXISTS (SELECT 1 FROM report_codes c WHERE c.code = x.code);
	UPDATE report_sessions SET
		segments = (SELECT COUNT(*) FROM segments WHERE recording_id = NEW.recording_id),
		(machine, unrejected, confirmed) = (
			SELECT
				COALESCE(group_concat(CASE WHEN x.m > 0 THEN c.id || ':' || x.m END, ' '), ''),
				COALESCE(group_concat(CASE WHEN x.u > 0 THEN c.id || ':' || x.u END, ' '), ''),
				COALESCE(group_concat(CASE WHEN x.c > 0 THEN c.id || ':' || x.c END, ' '), '')
			FROM (
				SELECT code, SUM(m) AS m, SUM(u) AS u, SUM(c) AS c FROM (
					SELECT CASE WHEN orig_code <> '' THEN orig_code ELSE code END AS code, 1 AS m, 0 AS u, 0 AS c
					FROM tags WHERE recording_id = NEW.recording_id AND source <> 'coach'
					UNION ALL
					SELECT code, 0,
						CASE WHEN source <> 'coach' THEN 1 ELSE 0 END,
						CASE WHEN review = 'accepted' OR source = 'coach' THEN 1 ELSE 0 END
					FROM tags WHERE recording_id = NEW.recording_id AND review <> 'rejected'
				) GROUP BY code
			) x JOIN report_codes c ON c.code = x.code
		),
		agreement = '',
		stale = 0
	WHERE recording_id = NEW.recording_id;
	UPDATE report_sessions SET agreement = (
		SELECT COALESCE(group_concat(
			c.id || ':' || x.acc || ':' || x.rej || ':' || x.chg || ':' || x.pend || ':' || x.added || ':' ||
			x.chgto || ':' || x.mc || ':' || x.mo || ':' || x.co, ' '), '')
		FROM (
			SELECT code, SUM(acc) AS acc, SUM(rej) AS rej, SUM(chg) AS chg, SUM(pend) AS pend, SUM(added) AS added,
				SUM(chgto) AS chgto, SUM(mc) AS mc, SUM(mo) AS mo, SUM(co) AS co
			FROM (
				SELECT CASE WHEN orig_code <> '' THEN orig_code ELSE code END AS code,
					CASE WHEN review = 'accepted' AND orig_code = '' THEN 1 ELSE 0 END AS acc,
					CASE WHEN review = 'rejected' THEN 1 ELSE 0 END AS rej,
					CASE WHEN review = 'accepted' AND orig_code <> '' THEN 1 ELSE 0 END AS chg,
					CASE WHEN review = 'pending' THEN 1 ELSE 0 END AS pend,
					0 AS added, 0 AS chgto, 0 AS mc, 0 AS mo, 0 AS co
				FROM tags WHERE recording_id = NEW.recording_id AND source <> 'coach'
				UNION ALL
				SELECT code, 0, 0, 0, 0,
					CASE WHEN source = 'coach' THEN 1 ELSE 0 END,
					CASE WHEN source <> 'coach' AND orig_code <> '' AND review = 'accepted' THEN 1 ELSE 0 END,
					0, 0, 0
				FROM tags WHERE recording_id = NEW.recording_id AND review <> 'rejected' AND (source = 'coach' OR orig_code <> '')
				UNION ALL
				SELECT code, 0, 0, 0, 0, 0, 0, pm * pc, pm * (1 - pc), (1 - pm) * pc
				FROM (
					SELECT segment, code, MAX(pm) AS pm, MAX(pc) AS pc FROM (
						SELECT segment, CASE WHEN orig_code <> '' THEN orig_code ELSE code END AS code, 1 AS pm, 0 AS pc
						FROM tags WHERE recording_id = NEW.recording_id AND source <> 'coach'
						UNION ALL
						SELECT segment, code, 0, 1 FROM tags WHERE recording_id = NEW.recording_id AND review <> 'rejected'
					) GROUP BY segment, code
				)
			) GROUP BY code
		) x JOIN report_codes c ON c.code = x.code
	)
	WHERE recording_id = NEW.recording_id AND review_state <> '';
END;

-- Rows for what is there already; the first report counts them.
INSERT INTO report_sessions (recording_id, status, team, worker, meeting_type, recorded_on, duration, review_state, codebook_version)
SELECT id, status, team, worker, meeting_type, recorded_on, duration, review_state,
	CASE WHEN json_valid(annotations_doc) THEN COALESCE(json_extract(annotations_doc, '$.CodebookVersion'), '') ELSE '' END
FROM recordings;

-- Keeping it up to date: the report columns at once, the counts marked
-- stale.
CREATE TRIGGER report_recordings_insert AFTER INSERT ON recordings BEGIN
	INSERT INTO report_sessions (recording_id, status, team, worker, meeting_type, recorded_on, duration, review_state, codebook_version)
	VALUES (NEW.id, NEW.status, NEW.team, NEW.worker, NEW.meeting_type, NEW.recorded_on, NEW.duration, NEW.review_state,
		CASE WHEN json_valid(NEW.annotations_doc) THEN COALESCE(json_extract(NEW.annotations_doc, '$.CodebookVersion'), '') ELSE '' END);
END;
CREATE TRIGGER report_recordings_update
AFTER UPDATE OF status, team, worker, meeting_type, recorded_on, duration, review_state, annotations_doc ON recordings BEGIN
	UPDATE report_sessions SET status = NEW.status, team = NEW.team, worker = NEW.worker, meeting_type = NEW.meeting_type,
		recorded_on = NEW.recorded_on, duration = NEW.duration, review_state = NEW.review_state,
		codebook_version = CASE WHEN json_valid(NEW.annotations_doc) THEN COALESCE(json_extract(NEW.annotations_doc, '$.CodebookVersion'), '') ELSE '' END,
		stale = CASE WHEN NEW.review_state <> OLD.review_state THEN 1 ELSE stale END
	WHERE recording_id = NEW.id;
END;
CREATE TRIGGER report_segments_insert AFTER INSERT ON segments BEGIN
	UPDATE report_sessions SET stale = 1 WHERE recording_id = NEW.recording_id AND stale = 0;
END;
CREATE TRIGGER report_segments_delete AFTER DELETE ON segments BEGIN
	UPDATE report_sessions SET stale = 1 WHERE recording_id = OLD.recording_id AND stale = 0;
END;
CREATE TRIGGER report_tags_insert AFTER INSERT ON tags BEGIN
	UPDATE report_sessions SET stale = 1 WHERE recording_id = NEW.recording_id AND stale = 0;
END;
CREATE TRIGGER report_tags_delete AFTER DELETE ON tags BEGIN
	UPDATE report_sessions SET stale = 1 WHERE recording_id = OLD.recording_id AND stale = 0;
END;
CREATE TRIGGER report_tags_update AFTER UPDATE ON tags BEGIN
	UPDATE report_sessions SET stale = 1 WHERE recording_id IN (OLD.recording_id, NEW.recording_id) AND stale = 0;
END;
