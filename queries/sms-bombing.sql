-- name: sms-bombing
-- description: Bursts of MFA codes sent by SMS or voice call (gd_send_sms, gd_send_voice) to one user: bombing the victim, or toll fraud.
-- doc: Bursts of MFA codes sent by SMS or voice (`gd_send_sms`, `gd_send_voice`) to
-- doc: one user: bombing, or toll fraud. Messages within `gap_seconds` of each other
-- doc: form a burst; bursts of at least `min_messages` are reported.
-- doc: Columns: `user_id`, `user_name`, `sms`, `voice`, `distinct_ips`,
-- doc: `first_seen`, `last_seen`, `events`, `log_ids`.
-- detection: medium
-- key: user_id
-- window: 3600
-- param: min_messages | integer | 5 | fewest messages in one burst to report
-- param: gap_seconds | integer | 300 | messages closer together than this belong to the same burst
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH messages AS (
    SELECT
        user_id, user_name, date, ts, log_id, ip, type,
        lag(ts) OVER (PARTITION BY user_id ORDER BY ts, log_id) AS prev_ts
    FROM events
    WHERE type IN ('gd_send_sms', 'gd_send_voice')
      AND user_id IS NOT NULL
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
bursts AS (
    SELECT
        *,
        sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > :gap_seconds * 1000 THEN 1 ELSE 0 END)
            OVER (PARTITION BY user_id ORDER BY ts, log_id ROWS UNBOUNDED PRECEDING) AS burst
    FROM messages
)
SELECT
    user_id,
    max(user_name) AS user_name,
    sum(CASE WHEN type = 'gd_send_sms' THEN 1 ELSE 0 END) AS sms,
    sum(CASE WHEN type = 'gd_send_voice' THEN 1 ELSE 0 END) AS voice,
    count(DISTINCT ip) AS distinct_ips,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM bursts
GROUP BY user_id, burst
HAVING count(*) >= :min_messages
ORDER BY first_seen, user_id
