-- name: rate-limit-events
-- description: Rate limits and attack-protection blocks Auth0 applied (api_limit, limit_*, MFA code rate limits), per type, IP and user, in bursts: each is Auth0's attack protection tripping.
-- doc: Rate limits and attack-protection blocks that Auth0 applied, per type, IP and
-- doc: user: `api_limit`, `limit_wc`, `limit_mu`, `limit_sul`, `limit_ui`,
-- doc: `limit_delegation`, `limit_signup_otp`, `gd_otp_rate_limit_exceed`,
-- doc: `gd_recovery_rate_limit_exceed`. Warnings (`api_limit_warning`) are not
-- doc: limits and are not listed. A single block is a finding (Auth0's attack
-- doc: protection tripped: someone hammered a login, a sign-up or the API);
-- doc: blocks of one type, IP and user less than `gap_seconds` apart are one burst.
-- doc: Columns: `type`, `name`, `ip`, `user_id`, `user_name`, `events`, `first_seen`,
-- doc: `last_seen`, `log_ids`.
-- doc: ```
-- doc: type,name,ip,user_id,user_name,events,first_seen,last_seen,log_ids
-- doc: limit_wc,IP blocked after repeated failed logins to one account (brute force),203.0.113.10,auth0|alice,alice@example.com,1,2026-10-01T10:15:00.000Z,2026-10-01T10:15:00.000Z,90020261001101500000000000000000000000000000000000000001
-- doc: ```
-- detection: medium
-- key: type, ip, user_id, user_name
-- window: 3600
-- param: gap_seconds | integer | 3600 | blocks of one type, IP and user closer together than this belong to the same burst
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH blocks AS (
    SELECT log_id, date, ts, type, ip, user_id, user_name,
        lag(ts) OVER (PARTITION BY type, ip, user_id, user_name ORDER BY ts, log_id) AS prev_ts
    FROM events
    WHERE type IN ('api_limit', 'limit_wc', 'limit_mu', 'limit_sul', 'limit_ui', 'limit_delegation',
                   'limit_signup_otp', 'gd_otp_rate_limit_exceed', 'gd_recovery_rate_limit_exceed')
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
bursts AS (
    SELECT *,
        sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > :gap_seconds * 1000 THEN 1 ELSE 0 END)
            OVER (PARTITION BY type, ip, user_id, user_name ORDER BY ts, log_id
                  ROWS UNBOUNDED PRECEDING) AS burst
    FROM blocks
)
SELECT
    b.type,
    t.description AS name,
    b.ip,
    b.user_id,
    b.user_name,
    count(*) AS events,
    min(b.date) AS first_seen,
    max(b.date) AS last_seen,
    group_concat(b.log_id, ' ' ORDER BY b.log_id) AS log_ids
FROM bursts b
LEFT JOIN event_types t ON t.code = b.type
GROUP BY b.type, t.description, b.ip, b.user_id, b.user_name, b.burst
ORDER BY events DESC, first_seen, b.type, b.ip, b.user_id, b.user_name
