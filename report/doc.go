// Package report counts practice markers across sessions for analysts:
// counts and rates per hour of recording by team, worker, meeting type,
// month and code, with per-session distributions; agreement between the
// machine's tags and coaches' judgements per code and codebook version
// (precision, missed tags, Cohen's kappa); small-number suppression; and the
// CSV, JSON, text and SVG renderings the CLI, the API and the reports page
// share.
//
// The package does no I/O of its own. It asks a Source (the index) for one
// row per session in scope, or for agreement counts, and does in Go what
// SQL cannot do the same way on SQLite and PostgreSQL: medians and
// quartiles, kappa, and suppression. Everything it returns is an aggregate:
// no transcript text, no recording ids.
//
// What each number means is documented for analysts in docs/reports.md.
package report
