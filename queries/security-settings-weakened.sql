-- name: security-settings-weakened
-- description: Attack protection weakened through the Management API (sapi): brute-force protection, suspicious IP throttling or breached password detection turned off or left without `block` (monitor only), bot detection or a captcha policy set to off, and allowlist entries not in `known_allowlist`.
-- doc: Attack protection weakened through the Management API (`sapi` on
-- doc: `/attack-protection/...` and the anomaly-detection captcha): brute-force
-- doc: protection, suspicious IP throttling or breached password detection turned
-- doc: off (`enabled: false`) or left without `block` in `shields` (monitor only;
-- doc: for breached passwords also the sign-up stage), bot detection set to `off`
-- doc: or a captcha policy (`policy`, `passwordless_policy`,
-- doc: `password_reset_policy`) set to `off`, and allowlist entries not in
-- doc: `known_allowlist`. The response body (the settings in force) is read first,
-- doc: the request body otherwise. One row per change.
-- doc: Columns: `change`, `actor`, `path`, `ip`, `first_seen`, `last_seen`,
-- doc: `events`, `log_ids`.
-- doc: ```
-- doc: change,actor,path,ip,first_seen,last_seen,events,log_ids
-- doc: brute-force protection disabled,mallory@acme.example,/api/v2/attack-protection/brute-force-protection,192.0.2.90,2026-10-06T10:00:00.000Z,2026-10-06T10:00:00.000Z,1,900...
-- doc: ```
-- detection: high
-- key: change, actor
-- param: known_allowlist | text | - | comma-separated allowlist entries (IPs or CIDRs) you expect; any other entry is reported
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH changes AS (
    SELECT
        log_id, date, ts, ip,
        details ->> '$.request.path' AS path,
        coalesce(details ->> '$.request.auth.user.email',
                 details ->> '$.request.auth.user.user_id', client_id) AS actor,
        -- The response carries the settings in force after the change; the
        -- request only what was sent.
        coalesce(CAST(details -> '$.response.body.enabled' AS TEXT),
                 CAST(details -> '$.request.body.enabled' AS TEXT)) AS enabled,
        coalesce(CAST(details -> '$.response.body.shields' AS TEXT),
                 CAST(details -> '$.request.body.shields' AS TEXT)) AS shields,
        coalesce(CAST(details -> '$.response.body.stage."pre-user-registration".shields' AS TEXT),
                 CAST(details -> '$.request.body.stage."pre-user-registration".shields' AS TEXT)) AS signup_shields,
        coalesce(details ->> '$.response.body.bot_detection_level',
                 details ->> '$.request.body.bot_detection_level') AS bot_level,
        coalesce(details ->> '$.response.body.policy', details ->> '$.request.body.policy') AS policy,
        coalesce(details ->> '$.response.body.passwordless_policy',
                 details ->> '$.request.body.passwordless_policy') AS passwordless_policy,
        coalesce(details ->> '$.response.body.password_reset_policy',
                 details ->> '$.request.body.password_reset_policy') AS password_reset_policy,
        details
    FROM events
    WHERE type = 'sapi'
      AND details IS NOT NULL AND json_valid(details)
      AND (details ->> '$.request.path' LIKE '%/attack-protection/%'
           OR details ->> '$.request.path' LIKE '%/anomaly/captchas%'
           OR description = 'Create or update the anomaly detection captcha')
      AND coalesce(CAST(details ->> '$.response.statusCode' AS INTEGER), 200) < 300
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
findings AS (
    SELECT log_id, date, ts, ip, actor, path,
        CASE
            WHEN path LIKE '%/brute-force-protection%' THEN 'brute-force protection'
            WHEN path LIKE '%/suspicious-ip-throttling%' THEN 'suspicious IP throttling'
            ELSE 'breached password detection'
        END || CASE WHEN enabled = 'false' THEN ' disabled' ELSE ' set to monitor only' END AS change
    FROM changes
    WHERE (path LIKE '%/brute-force-protection%' OR path LIKE '%/suspicious-ip-throttling%'
           OR path LIKE '%/breached-password-detection%')
      AND (enabled = 'false'
           OR (shields IS NOT NULL AND shields NOT LIKE '%"block"%')
           OR (signup_shields IS NOT NULL AND signup_shields NOT LIKE '%"block"%'))
    UNION ALL
    SELECT log_id, date, ts, ip, actor, path,
        CASE WHEN bot_level = 'off' THEN 'bot detection off'
             ELSE 'bot detection captcha policy off' END
    FROM changes
    WHERE bot_level = 'off' OR policy = 'off' OR passwordless_policy = 'off'
       OR password_reset_policy = 'off'
    UNION ALL
    SELECT DISTINCT c.log_id, c.date, c.ts, c.ip, c.actor, c.path,
        'unknown allowlist entry ' || trim(CAST(j.value AS TEXT), '"')
    FROM changes c, json_each(c.details, '$.request.body.allowlist') j
    WHERE instr(',' || replace(:known_allowlist, ' ', '') || ',',
                ',' || trim(CAST(j.value AS TEXT), '"') || ',') = 0
)
SELECT
    change,
    actor,
    max(path) AS path,
    max(ip) AS ip,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM findings
GROUP BY change, actor, log_id
ORDER BY first_seen, change, actor
