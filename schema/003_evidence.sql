-- Schema version 3: a chain that seals every column and every prune, and
-- conflicting copies of an event kept for review.

-- Links of version 2 seal the tenant and the link's kind besides the events,
-- and may be keyed (HMAC-SHA-256 under a key that is never stored; key_id
-- tells which key without revealing it). Version 1 links keep their meaning.
-- A `prune` link records, in `detail`, which links a prune emptied, how many
-- events went and a digest of their seals, so `pruned_at` cannot be set, or
-- events deleted, without it.
ALTER TABLE chain ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE chain ADD COLUMN kind TEXT NOT NULL DEFAULT 'events';
ALTER TABLE chain ADD COLUMN detail TEXT;
ALTER TABLE chain ADD COLUMN key_id TEXT;

-- A log_id that arrived again with different content (sync or import): the
-- first copy stays in `events`; each different later copy waits here.
CREATE TABLE conflicts (
    id          INTEGER PRIMARY KEY,
    log_id      TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    source      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    raw_sha256  TEXT NOT NULL,
    raw         TEXT NOT NULL,
    UNIQUE (log_id, raw_sha256)
);

-- Conflicts a sync met, beside its duplicates.
ALTER TABLE sync_runs ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0;
