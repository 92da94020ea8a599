-- Whether a team's transcripts are redacted (hark redaction): mode is
-- 'store' (masked before they are stored: the clear text is never kept),
-- 'display' (kept, masked on pages, the API and exports) or 'off'; names
-- is the team's list of names to find, one a line. team '' is the
-- deployment's default.
CREATE TABLE redaction (
	team TEXT PRIMARY KEY,
	mode TEXT NOT NULL DEFAULT 'off',
	names TEXT NOT NULL DEFAULT ''
);
