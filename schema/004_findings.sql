-- Schema version 4: what `detect` found, and how far it has looked.

-- One row per finding: a detection (a saved report marked `-- detection:`,
-- or a Sigma rule) firing for one key (an IP, a user, ...) over a span of
-- events. A later run that sees the same key again within the detection's
-- window extends the finding instead of adding another.
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    detection   TEXT NOT NULL,
    source      TEXT NOT NULL,              -- report | sigma
    severity    TEXT NOT NULL,              -- info | low | medium | high
    scope       TEXT NOT NULL,              -- the tenant examined, or * for all
    key         TEXT NOT NULL,              -- JSON object of the key columns
    summary     TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    events      INTEGER NOT NULL,
    log_ids     TEXT NOT NULL,              -- JSON array, at most 100
    details     TEXT,                       -- JSON object of the other columns
    found_at    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    run_id      INTEGER
);
CREATE INDEX findings_identity ON findings (detection, scope, key, last_seen);

-- Per detection and scope: the greatest events.rowid examined. Moved in the
-- transaction that records the findings it led to.
CREATE TABLE detect_watermarks (
    detection   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    examined_to INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (detection, scope)
);

-- One row per `detect` invocation.
CREATE TABLE detect_runs (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    outcome      TEXT,
    scope        TEXT NOT NULL,
    detections   INTEGER NOT NULL DEFAULT 0,
    new_findings INTEGER NOT NULL DEFAULT 0,
    error        TEXT
);
