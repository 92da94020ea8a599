// Package faults holds hark's fault-tolerance tests: the proof that a team
// deployment — several `hark worker` processes sharing one NATS JetStream
// queue, one S3 store and one index — finishes every recording exactly once
// through the failures it will meet in production.
//
// The package has no code of its own, only tests. TestMain builds the real
// hark binary once and the tests run it as separate worker processes, so a
// worker can be killed with SIGKILL, frozen with SIGSTOP or stopped with
// SIGTERM like a real one. The NATS server (JetStream on file storage) and
// the S3 server (versitygw, with the same upload hook as `hark store`) run
// inside the test process, so the tests can stop and restart them. The index
// is PostgreSQL when HARK_TEST_POSTGRES is set (a fresh schema per test), and
// otherwise an SQLite file that the test and the workers share.
//
// The faults covered: awkward keys, multipart uploads and metadata through
// the S3 API; MinIO- and versitygw-shaped events, malformed events and
// events for missing objects; a worker killed or frozen mid-transcription; a
// transcription longer than the ack wait; NATS, the S3 store and PostgreSQL
// restarted mid-batch; a connection dropped mid-download and a store
// refusing writes (through a faulty proxy in front of the S3 server);
// duplicate and out-of-order events; a worker restarted while a batch is
// queued; and no events at all (the reconciler). Every test
// ends by checking that each recording is ready, or failed with a reason,
// that none is lost or done twice, and that its transcript and tags equal a
// reference run of the same engine and tagger in the test process.
//
// Workers are slowed down with the HARK_FAULT_ENGINE_DELAY knob, which
// delays every transcription, so that a fault can land mid-work. See
// docs/TESTING.md for how to run the suite.
package faults
