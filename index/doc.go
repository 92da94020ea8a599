// Package index is the SQL index over the object store: recordings, their
// transcript segments and their tags, for the pages, the API and reports.
//
// It runs on SQLite (modernc.org/sqlite, no cgo) for one machine and on
// PostgreSQL (pgx) for a team deployment, with the same behaviour on both:
// one set of queries, a small dialect for what differs, migrations per
// dialect embedded in the binary, and one conformance suite run against
// both. Open picks the database from a DSN.
//
// The object store is the system of record, so the index can be dropped
// and rebuilt from it at any time (`hark reindex`).
package index
