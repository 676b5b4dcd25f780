-- name: mfa-push-bombing
-- description: Bursts of MFA push notifications (gd_send_pn) to one user, a sign of MFA fatigue attacks.
-- doc: Bursts of MFA push notifications (`gd_send_pn`) to one user, the "MFA
-- doc: fatigue" attack. Pushes closer together than `gap_seconds` form one burst; a
-- doc: burst of at least `min_pushes` is reported.
-- doc: Columns: `user_id`, `user_name`, `pushes`, `first_seen`, `last_seen`,
-- doc: `seconds`, `distinct_ips`.
-- doc: ```
-- doc: user_id,user_name,pushes,first_seen,last_seen,seconds,distinct_ips
-- doc: auth0|bombed,bombed@example.com,6,2026-10-01T10:00:00.000Z,2026-10-01T10:00:50.000Z,50.0,0
-- doc: ```
-- detection: high
-- key: user_id
-- window: 3600
-- param: min_pushes | integer | 5 | fewest pushes in one burst to report
-- param: gap_seconds | integer | 60 | pushes closer together than this belong to the same burst
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH pushes AS (
    SELECT
        user_id, user_name, date, ts, log_id, ip,
        lag(ts) OVER (PARTITION BY user_id ORDER BY ts, log_id) AS prev_ts
    FROM events
    WHERE type = 'gd_send_pn'
      AND user_id IS NOT NULL
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
bursts AS (
    SELECT
        *,
        sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > :gap_seconds * 1000 THEN 1 ELSE 0 END)
            OVER (PARTITION BY user_id ORDER BY ts, log_id ROWS UNBOUNDED PRECEDING) AS burst
    FROM pushes
)
SELECT
    user_id,
    max(user_name) AS user_name,
    count(*) AS pushes,
    min(date) AS first_seen,
    max(date) AS last_seen,
    round((max(ts) - min(ts)) / 1000.0, 1) AS seconds,
    count(DISTINCT ip) AS distinct_ips,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM bursts
GROUP BY user_id, burst
HAVING count(*) >= :min_pushes
ORDER BY first_seen, user_id
