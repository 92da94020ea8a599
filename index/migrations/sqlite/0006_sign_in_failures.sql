-- Failed sign-ins, counted here so that every `hark serve` of a deployment
-- shares the limit (5 per name and per address in 15 minutes), and a
-- restart does not reset it. key is "name:<lowercased name>" or
-- "addr:<address>".
CREATE TABLE sign_in_failures (
	key TEXT NOT NULL,
	at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_key_at ON sign_in_failures (key, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
