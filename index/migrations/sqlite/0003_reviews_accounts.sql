-- Coaches' reviews, accounts, sign-in sessions and the audit log.
--
-- tags: tag_key identifies a machine tag across re-annotations
-- (hark.TagKey); orig_code is the machine's code when a coach changed it;
-- coach-added tags have source 'coach'. The review document itself (the
-- source of these columns) is kept whole in reviews.doc.
ALTER TABLE tags ADD COLUMN tag_key TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN orig_code TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN reviewed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE tags ADD COLUMN reviewed_at TEXT;
ALTER TABLE tags ADD COLUMN moment INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recordings ADD COLUMN review_state TEXT NOT NULL DEFAULT '';

CREATE TABLE reviews (
	recording_id TEXT PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	doc TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE users (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	display TEXT NOT NULL DEFAULT '',
	role TEXT NOT NULL,
	password_hash TEXT NOT NULL DEFAULT '',
	disabled INTEGER NOT NULL DEFAULT 0,
	oidc_subject TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);
CREATE INDEX users_oidc ON users(oidc_subject);

CREATE TABLE teams (
	name TEXT PRIMARY KEY,
	created_at TEXT NOT NULL
);

CREATE TABLE user_teams (
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	team TEXT NOT NULL,
	PRIMARY KEY (user_id, team)
);

CREATE TABLE web_sessions (
	token_hash TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);

CREATE TABLE audit (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	at TEXT NOT NULL,
	user_name TEXT NOT NULL,
	action TEXT NOT NULL,
	recording_id TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_recording ON audit(recording_id, at);
