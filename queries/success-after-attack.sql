-- name: success-after-attack
-- description: Successful logins or sign-ups (s, scoa, ss) from an IP address that earlier, within `lookback_hours`, produced breached-password detections, brute-force or throttling blocks, a bot-detection challenge (pla requiring verification) or failed logins against at least `min_users` users.
-- detection: high
-- key: ip
-- window: 432000
-- param: lookback_hours | integer | 120 | how long before a success an attack signal from the same IP still counts
-- param: min_users | integer | 10 | fewest distinct users failing from one IP that make it an attacking IP
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH scope AS MATERIALIZED (
    SELECT log_id, date, ts, ip, type, user_id, user_name, details
    FROM events
    WHERE ip IS NOT NULL
      AND type IN ('s', 'scoa', 'ss', 'pwd_leak', 'signup_pwd_leak', 'reset_pwd_leak',
                   'limit_wc', 'limit_sul', 'limit_mu', 'pla', 'f', 'fp', 'fu', 'fcoa')
      -- a success at `since` still sees the signals before it
      AND ts + :lookback_hours * 3600000 >= :since AND ts < :until
      AND (:tenant = '*' OR tenant = :tenant)
),
stuffers AS MATERIALIZED (
    SELECT ip
    FROM scope
    WHERE type IN ('f', 'fp', 'fu', 'fcoa')
    GROUP BY ip
    HAVING count(DISTINCT coalesce(user_id, user_name)) >= :min_users
),
signals AS MATERIALIZED (
    SELECT log_id, date, ts, ip, type
    FROM scope
    WHERE type IN ('pwd_leak', 'signup_pwd_leak', 'reset_pwd_leak', 'limit_wc', 'limit_sul', 'limit_mu')
       OR (type = 'pla' AND details IS NOT NULL AND json_valid(details)
           AND CAST(details -> '$.requiresVerification' AS TEXT) = 'true')
       OR (type IN ('f', 'fp', 'fu', 'fcoa') AND ip IN (SELECT ip FROM stuffers))
),
successes AS MATERIALIZED (
    SELECT s.log_id, s.date, s.ts, s.ip, s.type, s.user_id, s.user_name
    FROM scope s
    WHERE s.type IN ('s', 'scoa', 'ss')
      AND s.ts >= :since
      AND EXISTS (SELECT 1 FROM signals g
                  WHERE g.ip = s.ip AND g.ts < s.ts AND g.ts >= s.ts - :lookback_hours * 3600000)
),
evidence AS (
    SELECT log_id, date, ts, ip, type FROM successes
    UNION
    SELECT g.log_id, g.date, g.ts, g.ip, g.type
    FROM signals g
    WHERE g.ip IN (SELECT ip FROM successes)
      AND g.ts < (SELECT max(s.ts) FROM successes s WHERE s.ip = g.ip)
)
SELECT
    e.ip,
    (SELECT group_concat(DISTINCT g.type ORDER BY g.type) FROM signals g WHERE g.ip = e.ip) AS signals,
    (SELECT count(*) FROM successes s WHERE s.ip = e.ip) AS successes,
    (SELECT group_concat(DISTINCT coalesce(s.user_id, s.user_name) ORDER BY coalesce(s.user_id, s.user_name))
     FROM successes s WHERE s.ip = e.ip) AS users,
    min(e.date) AS first_seen,
    max(e.date) AS last_seen,
    count(*) AS events,
    group_concat(e.log_id, ' ' ORDER BY e.log_id) AS log_ids
FROM evidence e
GROUP BY e.ip
ORDER BY first_seen, e.ip
