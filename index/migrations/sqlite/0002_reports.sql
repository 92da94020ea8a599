-- Timestamps used to be stored as RFC 3339 with trailing zeros trimmed
-- ("…:05Z", "…:05.5Z"), which does not sort as text. They are now fixed-width
-- UTC with microseconds ("2006-01-02T15:04:05.000000Z"), the precision
-- PostgreSQL keeps, so "newest first" means the same on both databases.
-- Rows written before keep millisecond precision here; `hark reindex`
-- restores the rest from the object store. The Recording document itself
-- was never touched.
UPDATE recordings
SET created_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%f', created_at) || '000Z', created_at)
WHERE created_at NOT LIKE '____-__-__T__:__:__.______Z';
UPDATE recordings
SET updated_at = COALESCE(strftime('%Y-%m-%dT%H:%M:%f', updated_at) || '000Z', updated_at)
WHERE updated_at NOT LIKE '____-__-__T__:__:__.______Z';

-- Lists are newest first; StatusCounts and TagCounts without a batch start
-- from the status.
CREATE INDEX IF NOT EXISTS recordings_created ON recordings(created_at DESC, key, id);
CREATE INDEX IF NOT EXISTS recordings_status ON recordings(status, batch);

-- Tag counts per recording (lists, TagCounts for a batch) read only this
-- index, not the tags.
DROP INDEX IF EXISTS tags_recording;
CREATE INDEX tags_recording ON tags(recording_id, segment, code, review);
