-- name: event-summary
-- description: Events per UTC day and event type, with the type's readable name and category.
-- doc: Events per UTC day and event type, with the readable name and category from
-- doc: `event_types` (empty for codes the catalogue does not know).
-- doc: Columns: `day`, `type`, `name`, `category`, `events`.
-- doc: ```
-- doc: day,type,name,category,events
-- doc: 2026-10-01,fp,Login failed because the password was wrong,login_failure,22
-- doc: ```
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- `ts + 0`: count from the covering (type, ts) index rather than the ts index
-- plus a table lookup per event.
WITH counts AS (
    SELECT ts - ts % 86400000 AS day_ms, type, count(*) AS events
    FROM events
    WHERE ts + 0 >= :since AND ts + 0 < :until
    GROUP BY type, ts - ts % 86400000
)
SELECT
    epoch_day(c.day_ms) AS day,
    c.type,
    t.description AS name,
    t.category,
    c.events
FROM counts c
LEFT JOIN event_types t ON t.code = c.type
ORDER BY c.day_ms, c.events DESC, c.type
