-- name: credential-stuffing
-- description: One IP address failing logins against many distinct users (f, fp, fu, fcoa).
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
