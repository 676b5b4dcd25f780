-- name: unknown-event-types
-- description: Event type codes that are not in the event_types table: new Auth0 features, or a gap in this tool's catalogue.
-- doc: Event type codes that are not in `event_types`: a feature Auth0 added after
-- doc: this tool's catalogue, worth a look and a catalogue update.
-- doc: Columns: `type`, `events`, `first_seen`, `last_seen`.
-- doc: ```
-- doc: type,events,first_seen,last_seen
-- doc: brand_new_type,2,2026-10-01T10:26:40.000Z,2026-10-02T10:00:00.000Z
-- doc: ```
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    e.type,
    count(*) AS events,
    epoch_iso(min(e.ts)) AS first_seen,
    epoch_iso(max(e.ts)) AS last_seen
FROM events e
WHERE NOT EXISTS (SELECT 1 FROM event_types t WHERE t.code = e.type)
  AND e.ts >= :since AND e.ts < :until AND (:tenant = '*' OR e.tenant = :tenant)
GROUP BY e.type
ORDER BY events DESC, e.type
