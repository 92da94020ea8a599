-- How long a team's data is kept (hark retention), in days; 0 keeps it.
-- team '' is the deployment's default, for teams without their own.
CREATE TABLE retention (
	team TEXT PRIMARY KEY,
	audio_days INTEGER NOT NULL DEFAULT 0,
	results_days INTEGER NOT NULL DEFAULT 0,
	review_days INTEGER NOT NULL DEFAULT 0,
	audit_days INTEGER NOT NULL DEFAULT 0
);
