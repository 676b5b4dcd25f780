-- name: credential-stuffing
-- description: One IP address failing logins against many distinct users (f, fp, fu, fcoa).
-- doc: One IP failing logins (`f`, `fp`, `fu`, `fcoa`) against many distinct users
-- doc: (counted by `user_id`, or `user_name` when the id is absent, as it is for
-- doc: unknown users).
-- doc: Columns: `ip`, `distinct_users`, `failures`, `first_seen`, `last_seen`.
-- doc: ```
-- doc: ip,distinct_users,failures,first_seen,last_seen
-- doc: 198.51.100.7,12,12,2026-10-01T10:01:40.000Z,2026-10-01T10:01:51.000Z
-- doc: ```
-- detection: high
-- key: ip
-- window: 3600
-- param: min_users | integer | 10 | fewest distinct users one IP must fail against
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    ip,
    count(DISTINCT coalesce(user_id, user_name)) AS distinct_users,
    count(*) AS failures,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM events
WHERE type IN ('f', 'fp', 'fu', 'fcoa')
  AND ip IS NOT NULL
  AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
GROUP BY ip
HAVING count(DISTINCT coalesce(user_id, user_name)) >= :min_users
ORDER BY distinct_users DESC, failures DESC, ip
