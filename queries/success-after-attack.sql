-- name: success-after-attack
-- description: Successful logins or sign-ups (s, scoa, ss) from an IP address that earlier, within `lookback_hours`, produced breached-password detections, brute-force or throttling blocks, a bot-detection challenge (pla requiring verification) or failed logins against at least `min_users` users.
-- doc: A successful login or sign-up (`s`, `scoa`, `ss`) from an IP that, within
-- doc: `lookback_hours` before it, produced breached-password detections
-- doc: (`pwd_leak`, `signup_pwd_leak`, `reset_pwd_leak`), brute-force or throttling
-- doc: blocks (`limit_wc`, `limit_sul`, `limit_mu`), a bot-detection challenge
-- doc: (`pla` with `details.requiresVerification` true) or failed logins against at
-- doc: least `min_users` users. One row per IP; `log_ids` holds the successes and
-- doc: the signals before them.
-- doc: Columns: `ip`, `signals` (the signal types), `successes`, `users`,
-- doc: `first_seen`, `last_seen`, `events`, `log_ids`.
-- doc: ```
-- doc: ip,signals,successes,users,first_seen,last_seen,events,log_ids
-- doc: 203.0.113.200,pwd_leak,1,auth0|victim,2026-10-06T21:00:00.000Z,2026-10-06T21:30:00.000Z,2,900... 900...
-- doc: ```
-- detection: high
-- key: ip
-- window: 432000
-- param: lookback_hours | integer | 120 | how long before a success an attack signal from the same IP still counts
-- param: min_users | integer | 10 | fewest distinct users failing from one IP that make it an attacking IP
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH attempts AS MATERIALIZED (
    -- Everything but the successes: the signals come from these.
    SELECT log_id, date, ts, ip, type, user_id, user_name, details
    FROM events
    WHERE ip IS NOT NULL
      AND type IN ('pwd_leak', 'signup_pwd_leak', 'reset_pwd_leak',
                   'limit_wc', 'limit_sul', 'limit_mu', 'pla', 'f', 'fp', 'fu', 'fcoa')
      -- a success at `since` still sees the signals before it
      AND ts + :lookback_hours * 3600000 >= :since AND ts < :until
      AND (:tenant = '*' OR tenant = :tenant)
),
stuffers AS MATERIALIZED (
    SELECT ip
    FROM attempts
    WHERE type IN ('f', 'fp', 'fu', 'fcoa')
    GROUP BY ip
    HAVING count(DISTINCT coalesce(user_id, user_name)) >= :min_users
),
signals AS MATERIALIZED (
    SELECT log_id, date, ts, ip, type
    FROM attempts
    WHERE type IN ('pwd_leak', 'signup_pwd_leak', 'reset_pwd_leak', 'limit_wc', 'limit_sul', 'limit_mu')
       OR (type = 'pla' AND details IS NOT NULL AND json_valid(details)
           AND CAST(details -> '$.requiresVerification' AS TEXT) = 'true')
       OR (type IN ('f', 'fp', 'fu', 'fcoa') AND ip IN (SELECT ip FROM stuffers))
),
-- Successes and signals of each IP in time order; a success counts when
-- the latest signal before it lies within the lookback. (A window, not a
-- correlated EXISTS: behind NAT one IP carries thousands of each.) At equal
-- times successes sort first, so only strictly earlier signals count.
-- Only the successes of IPs that sent a signal can count, so only those
-- are read: through the ip index on SQLite (`CAST(type AS TEXT)` keeps the
-- planner off the type index, which would visit every success of the
-- archive), and as a semi-join on DuckDB.
timeline AS MATERIALIZED (
    SELECT log_id, date, ts, ip, type, user_id, user_name, 0 AS is_signal
    FROM events
    WHERE ip IN (SELECT ip FROM signals)
      AND CAST(type AS TEXT) IN ('s', 'scoa', 'ss')
      AND ts >= :since AND ts < :until
      AND (:tenant = '*' OR tenant = :tenant)
    UNION ALL
    SELECT log_id, date, ts, ip, type, NULL, NULL, 1 AS is_signal
    FROM signals
),
marked AS (
    SELECT
        *,
        max(CASE WHEN is_signal = 1 THEN ts END) OVER (
            PARTITION BY ip ORDER BY ts, is_signal, log_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS last_signal
    FROM timeline
),
successes AS MATERIALIZED (
    SELECT log_id, date, ts, ip, type, user_id, user_name
    FROM marked
    WHERE is_signal = 0
      AND last_signal IS NOT NULL
      AND last_signal < ts
      AND last_signal >= ts - :lookback_hours * 3600000
),
last_success AS MATERIALIZED (
    SELECT ip, max(ts) AS last_ts, count(*) AS successes,
           group_concat(DISTINCT coalesce(user_id, user_name) ORDER BY coalesce(user_id, user_name)) AS users
    FROM successes
    GROUP BY ip
),
signal_types AS MATERIALIZED (
    SELECT g.ip, group_concat(DISTINCT g.type ORDER BY g.type) AS signals
    FROM signals g JOIN last_success l ON l.ip = g.ip
    GROUP BY g.ip
),
evidence AS (
    SELECT log_id, date, ts, ip, type FROM successes
    UNION
    SELECT g.log_id, g.date, g.ts, g.ip, g.type
    FROM signals g JOIN last_success l ON l.ip = g.ip
    WHERE g.ts < l.last_ts
)
SELECT
    e.ip,
    t.signals,
    l.successes,
    l.users,
    min(e.date) AS first_seen,
    max(e.date) AS last_seen,
    count(*) AS events,
    group_concat(e.log_id, ' ' ORDER BY e.log_id) AS log_ids
FROM evidence e
JOIN last_success l ON l.ip = e.ip
JOIN signal_types t ON t.ip = e.ip
GROUP BY e.ip, t.signals, l.successes, l.users
ORDER BY first_seen, e.ip
