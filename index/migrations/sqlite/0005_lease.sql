-- The fencing token. A stage that takes a recording on (transcription or
-- annotation) bumps its lease with a compare-and-set; transcripts, tags and
-- states written under an older lease are refused, so a worker that stalled
-- past its ack wait cannot overwrite the work of the one that took over.
-- (attempts still counts how many times transcription started.)
ALTER TABLE recordings ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;
