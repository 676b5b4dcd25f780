-- name: signup-surge
-- description: UTC hours with a burst of sign-up activity (ss, fs, signup_pwd_leak): fake-account campaigns and scripted sign-ups.
-- doc: UTC hours with a burst of sign-up activity (`ss`, `fs`, `signup_pwd_leak`):
-- doc: fake-account campaigns and scripted sign-ups.
-- doc: Columns: `hour`, `signups`, `succeeded`, `failed`, `breached`, `distinct_ips`.
-- doc: ```
-- doc: hour,signups,succeeded,failed,breached,distinct_ips
-- doc: 2026-10-03T14:00:00.000Z,25,25,0,0,1
-- doc: ```
-- detection: medium
-- key: hour
-- window: 3600
-- param: threshold | integer | 50 | fewest sign-up events in one hour to report
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH hours AS (
    SELECT
        ts - ts % 3600000 AS hour_ms,
        count(*) AS signups,
        sum(CASE WHEN type = 'ss' THEN 1 ELSE 0 END) AS succeeded,
        sum(CASE WHEN type = 'fs' THEN 1 ELSE 0 END) AS failed,
        sum(CASE WHEN type = 'signup_pwd_leak' THEN 1 ELSE 0 END) AS breached,
        count(DISTINCT ip) AS distinct_ips,
        min(date) AS first_seen,
        max(date) AS last_seen,
        group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
    FROM events
    WHERE type IN ('ss', 'fs', 'signup_pwd_leak')
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
    GROUP BY ts - ts % 3600000
)
SELECT
    epoch_iso(hour_ms) AS hour,
    signups,
    succeeded,
    failed,
    breached,
    distinct_ips,
    first_seen,
    last_seen,
    signups AS events,
    log_ids
FROM hours
WHERE signups >= :threshold
ORDER BY hour_ms
