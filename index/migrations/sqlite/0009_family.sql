-- A family's (case's) pseudonymous reference, given at upload (--family):
-- what a subject access export and an erasure of one family's data find
-- its recordings by.
ALTER TABLE recordings ADD COLUMN family TEXT NOT NULL DEFAULT '';
CREATE INDEX recordings_family ON recordings(family) WHERE family <> '';
