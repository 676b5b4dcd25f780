-- Schema version 5: zstd dictionaries for `events.raw`.
-- `raw` keeps its declared type: a TEXT value is the event's JSON as
-- received (rows written before the archive had a dictionary, and archives
-- made before this version); a BLOB value is a standard zstd frame
-- compressed with the dictionary whose `id` its frame header names. Decode
-- one outside auth0-archive with `zstd -D dict.bin -d` (README, Storage).
CREATE TABLE raw_dictionaries (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    -- How many archived events it was trained on.
    samples     INTEGER NOT NULL,
    dictionary  BLOB NOT NULL
);
