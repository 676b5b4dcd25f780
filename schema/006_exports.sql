-- Schema version 6: where the archive's events went before `prune` deleted
-- them, so a prune can refuse to delete what no export holds.

-- Each directory a `query export` completed, and the days its manifest
-- listed then (row count and fingerprint, as in `_manifest.json`).
CREATE TABLE exports (
    dir          TEXT PRIMARY KEY,       -- absolute path
    format       INTEGER NOT NULL,       -- the manifest format written
    completed_at TEXT NOT NULL
);
CREATE TABLE export_days (
    dir          TEXT NOT NULL REFERENCES exports (dir) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD (UTC)
    rows         INTEGER NOT NULL,
    fingerprint  TEXT NOT NULL,
    PRIMARY KEY (dir, day)
) WITHOUT ROWID;

-- Each UTC day whose events `prune` deleted. An export never rewrites or
-- removes such a day's file: the archive no longer holds what it contains.
CREATE TABLE pruned_days (
    day          TEXT PRIMARY KEY,       -- YYYY-MM-DD (UTC)
    rows         INTEGER NOT NULL,       -- events of the day deleted
    export_dir   TEXT,                   -- the export that held them; NULL under --without-export
    pruned_at    TEXT NOT NULL
) WITHOUT ROWID;
