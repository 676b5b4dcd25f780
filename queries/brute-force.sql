-- name: brute-force
-- description: Many failed logins (f, fp, fu) from one IP address.
-- doc: Many failed logins (`f`, `fp`, `fu`) from one IP address.
-- doc: Columns: `ip`, `failures`, `distinct_users`, `first_seen`, `last_seen`.
-- doc: ```
-- doc: ip,failures,distinct_users,first_seen,last_seen
-- doc: 203.0.113.10,12,1,2026-10-01T10:00:00.000Z,2026-10-01T10:00:11.000Z
-- doc: ```
-- detection: high
-- key: ip
-- window: 3600
-- param: threshold | integer | 10 | fewest failed logins from one IP to report
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    ip,
    count(*) AS failures,
    count(DISTINCT coalesce(user_id, user_name)) AS distinct_users,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM events
WHERE type IN ('f', 'fp', 'fu')
  AND ip IS NOT NULL
  AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
GROUP BY ip
HAVING count(*) >= :threshold
ORDER BY failures DESC, ip
