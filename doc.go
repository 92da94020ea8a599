// Package hark is the domain of hark: the recordings of meetings between
// child and family social workers and parents, their transcripts, the
// practice-marker tags on those transcripts, and the small interfaces the
// pipeline's stages meet through.
//
// Nothing here depends on NATS, S3, SQL or HTTP. The stages live in their own
// packages (ingest, transcribe, annotate, index, web) and meet through these
// types and the messages on NATS; cmd/hark wires them together.
package hark

// SchemaVersion is written into every JSON document hark stores, so that a
// reader can tell which shape it holds. It changes only when a document's
// shape changes incompatibly.
const SchemaVersion = 1
