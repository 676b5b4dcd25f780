-- name: cross-origin-auth
-- description: IP addresses with many cross-origin authentication failures (fcoa), with their successes (scoa): a credential-stuffing pattern tied to cross-origin login.
-- doc: IPs with many cross-origin authentication failures (`fcoa`), with their
-- doc: cross-origin successes (`scoa`) beside them; a success after many failures
-- doc: deserves a look. Tied to credential stuffing in a 2024 advisory.
-- doc: Columns: `ip`, `failures`, `successes`, `distinct_users`, `first_seen`,
-- doc: `last_seen`.
-- doc: ```
-- doc: ip,failures,successes,distinct_users,first_seen,last_seen
-- doc: 192.0.2.50,6,1,1,2026-10-01T10:18:20.000Z,2026-10-01T10:18:30.000Z
-- doc: ```
-- detection: medium
-- key: ip
-- window: 3600
-- param: min_failures | integer | 5 | fewest fcoa failures from one IP to report
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    ip,
    sum(CASE WHEN type = 'fcoa' THEN 1 ELSE 0 END) AS failures,
    sum(CASE WHEN type = 'scoa' THEN 1 ELSE 0 END) AS successes,
    count(DISTINCT coalesce(user_id, user_name)) AS distinct_users,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM events
WHERE type IN ('fcoa', 'scoa')
  AND ip IS NOT NULL
  AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
GROUP BY ip
HAVING sum(CASE WHEN type = 'fcoa' THEN 1 ELSE 0 END) >= :min_failures
ORDER BY failures DESC, ip
