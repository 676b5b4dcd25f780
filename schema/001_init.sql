-- Schema version 1: the event archive, its checkpoint and its history.
-- Applied once inside a transaction; PRAGMA user_version records it.

-- One row per Auth0 log event. Typed columns are normalized (empty strings and
-- JSON nulls become NULL); `raw` is the event object byte-for-byte as received.
CREATE TABLE events (
    log_id            TEXT PRIMARY KEY NOT NULL,
    tenant            TEXT NOT NULL,
    date              TEXT,
    ts                INTEGER,
    type              TEXT,
    description       TEXT,
    connection        TEXT,
    connection_id     TEXT,
    client_id         TEXT,
    client_name       TEXT,
    ip                TEXT,
    client_ip         TEXT,
    user_agent        TEXT,
    hostname          TEXT,
    user_id           TEXT,
    user_name         TEXT,
    audience          TEXT,
    scope             TEXT,
    strategy          TEXT,
    strategy_type     TEXT,
    is_mobile         INTEGER,
    tenant_name       TEXT,
    environment_name  TEXT,
    country_code      TEXT,
    country_code3     TEXT,
    country_name      TEXT,
    city_name         TEXT,
    subdivision_code  TEXT,
    subdivision_name  TEXT,
    latitude          REAL,
    longitude         REAL,
    time_zone         TEXT,
    continent_code    TEXT,
    details           TEXT,
    -- The event exactly as received: JSON text, or, once the archive has
    -- trained its dictionary (schema 5), a zstd BLOB of those bytes that
    -- the json_extract of sqlite3 cannot read: use `auth0-archive query sql`
    -- (which decodes it), the DuckDB copy or the Parquet export (docs/STORAGE.md).
    raw               TEXT NOT NULL,
    -- The integrity-chain link (chain.seq) that sealed this row.
    chain_seq         INTEGER
);

-- The indexes the saved reports filter and group on.
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_type_ts ON events (type, ts);
CREATE INDEX events_ip ON events (ip);
CREATE INDEX events_user_ts ON events (user_id, ts) WHERE user_id IS NOT NULL;
-- Successful logins per user in time order, covering what `impossible-travel`
-- and `new-country-for-user` read (about 35 bytes per archived event). The
-- reports repeat this WHERE clause verbatim, writing `CAST(type AS TEXT)` so
-- that the planner cannot pick `events_type_ts` (and look every login up in
-- the table) instead.
CREATE INDEX events_login_user ON events (user_id, ts, latitude, longitude, country_code, type)
    WHERE CAST(type AS TEXT) IN ('s', 'ssa', 'scoa', 'sens', 'scv') AND user_id IS NOT NULL;

-- Integrity chain: each committed batch of new events extends it with
-- link = SHA-256(previous link || for each event in log_id order:
-- log_id || 0x00 || SHA-256(raw) ), so `verify` can prove that no archived
-- event was altered, inserted or deleted after the fact.
CREATE TABLE chain (
    seq           INTEGER PRIMARY KEY,
    tenant        TEXT NOT NULL,
    events        INTEGER NOT NULL,
    first_log_id  TEXT,
    last_log_id   TEXT,
    link          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    -- Set when `prune` removed this link's events; the link itself stays so
    -- the chain after it still verifies.
    pruned_at     TEXT
);
CREATE INDEX events_chain ON events (chain_seq);

-- Readable names for event type codes, loaded from schema/event-types.tsv.
CREATE TABLE event_types (
    code        TEXT PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    category    TEXT NOT NULL
);

-- Where the next sync of each tenant resumes. Written in the same transaction
-- as the page of events it covers.
CREATE TABLE checkpoints (
    tenant     TEXT PRIMARY KEY NOT NULL,
    log_id     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Events that could not be archived under a log_id (for example, none was
-- sent). Kept verbatim so nothing is silently dropped; `raw_sha256` makes a
-- re-fetched reject idempotent.
CREATE TABLE rejects (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    reason      TEXT NOT NULL,
    raw_sha256  TEXT NOT NULL UNIQUE,
    raw         TEXT NOT NULL
);

-- One row per `sync` invocation, updated as pages commit.
CREATE TABLE sync_runs (
    id              INTEGER PRIMARY KEY,
    tenant          TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    outcome         TEXT NOT NULL DEFAULT 'running',
    fetched         INTEGER NOT NULL DEFAULT 0,
    inserted        INTEGER NOT NULL DEFAULT 0,
    duplicates      INTEGER NOT NULL DEFAULT 0,
    rejected        INTEGER NOT NULL DEFAULT 0,
    requests        INTEGER NOT NULL DEFAULT 0,
    retries         INTEGER NOT NULL DEFAULT 0,
    rate_limited    INTEGER NOT NULL DEFAULT 0,
    checkpoint_from TEXT,
    checkpoint_to   TEXT,
    error           TEXT
);

-- Parallel backfill: the time slices of one long backfill and how far each
-- got, so a crash resumes every slice where it stopped.
CREATE TABLE backfill_slices (
    tenant     TEXT NOT NULL,
    slice      INTEGER NOT NULL,
    start_id   TEXT NOT NULL,
    end_id     TEXT,
    cursor     TEXT NOT NULL,
    last_log_id TEXT,
    done       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, slice)
);

-- Spans where events may have expired from the tenant before they were
-- archived: the stored checkpoint was no longer retained when a sync resumed.
CREATE TABLE gaps (
    id             INTEGER PRIMARY KEY,
    tenant         TEXT NOT NULL,
    after_log_id   TEXT NOT NULL,
    after_date     TEXT,
    before_log_id  TEXT NOT NULL,
    before_date    TEXT,
    detected_at    TEXT NOT NULL,
    run_id         INTEGER REFERENCES sync_runs (id)
);
