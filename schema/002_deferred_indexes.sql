-- Schema version 2: secondary indexes set aside during a long backfill.
-- Indexes whose keys arrive in random order (ip, user) rewrite a leaf page
-- per event once they outgrow the page cache; a long backfill drops them and
-- builds them again by sorting when it completes. Their definitions wait here
-- meanwhile, so a crash or an interrupted run never loses one.
CREATE TABLE deferred_indexes (
    name        TEXT PRIMARY KEY NOT NULL,
    sql         TEXT NOT NULL,
    deferred_at TEXT NOT NULL
);
