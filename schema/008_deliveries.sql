-- Schema version 8: findings told at least once, on standard output and to
-- webhooks (the transactional outbox). The trigger below queues a finding in
-- the transaction that files it, so no crash can file a finding and lose
-- its announcement. Every statement may run twice harmlessly (an archive
-- whose user_version was set back is migrated again).

-- Findings filed and not yet printed by a detection pass. A pass prints
-- them, then deletes their rows: a crash between prints them again.
CREATE TABLE IF NOT EXISTS finding_queue (
    finding_id INTEGER PRIMARY KEY
);

-- Webhooks a pass has been given, by fingerprint only: a keyed hash of the
-- URL (which carries the receiver's token), never the URL itself.
CREATE TABLE IF NOT EXISTS delivery_destinations (
    fingerprint  TEXT PRIMARY KEY,
    min_rank     INTEGER NOT NULL,           -- 0 info, 1 low, 2 medium, 3 high
    last_used_at TEXT NOT NULL
);

-- One row per finding and destination; pending while delivered_at is NULL.
CREATE TABLE IF NOT EXISTS deliveries (
    finding_id      INTEGER NOT NULL,
    destination     TEXT NOT NULL,           -- delivery_destinations.fingerprint
    queued_at       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error      TEXT,                    -- never names the URL
    delivered_at    TEXT,
    PRIMARY KEY (finding_id, destination)
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (destination, finding_id)
    WHERE delivered_at IS NULL;

-- The key of the destination fingerprints, made once per archive.
CREATE TABLE IF NOT EXISTS delivery_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL
);
INSERT OR IGNORE INTO delivery_key (id, key) VALUES (1, randomblob(32));

-- A new finding is queued for printing and for every destination used in
-- the last 7 days whose minimum severity it meets, whichever process filed
-- it: a `detect` run by hand queues for the webhooks of a running follow.
CREATE TRIGGER IF NOT EXISTS findings_outbox AFTER INSERT ON findings
BEGIN
    INSERT OR IGNORE INTO finding_queue (finding_id) VALUES (new.id);
    INSERT OR IGNORE INTO deliveries (finding_id, destination, queued_at)
    SELECT new.id, d.fingerprint, new.found_at
    FROM delivery_destinations d
    WHERE d.last_used_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
      AND (CASE new.severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END)
          >= d.min_rank;
END;
