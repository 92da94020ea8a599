-- Recordings erased with `hark forget`: the SHA-256 of each id, never the
-- id, so that a worker still busy with one cannot write it back and
-- nothing of it is left to read. Only the hash and when.
CREATE TABLE forgotten (
	id_hash TEXT PRIMARY KEY,
	at TEXT NOT NULL
);
