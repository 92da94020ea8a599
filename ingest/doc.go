// Package ingest is where work enters hark and moves between stages: it
// uploads recordings with their metadata and transcripts (Upload, the Meta
// keys), decodes S3 event notifications from every store hark supports,
// speaks to the object store through minio-go, runs and talks to NATS
// JetStream (the streams, the durable pull consumers, publishing with
// Nats-Msg-Id), and can run a NATS server in-process for the embedded
// default.
package ingest
