-- name: rate-limit-events
-- description: Rate limits and attack-protection blocks Auth0 applied (api_limit, limit_*, MFA code rate limits), per type, IP and user.
-- doc: Rate limits and attack-protection blocks that Auth0 applied, per type, IP and
-- doc: user: `api_limit`, `limit_wc`, `limit_mu`, `limit_sul`, `limit_ui`,
-- doc: `limit_delegation`, `limit_signup_otp`, `gd_otp_rate_limit_exceed`,
-- doc: `gd_recovery_rate_limit_exceed`. Warnings (`api_limit_warning`) are not
-- doc: limits and are not listed.
-- doc: Columns: `type`, `name`, `ip`, `user_id`, `events`, `first_seen`, `last_seen`.
-- doc: ```
-- doc: type,name,ip,user_id,events,first_seen,last_seen
-- doc: limit_wc,IP blocked after repeated failed logins to one account (brute force),203.0.113.10,auth0|alice,1,2026-10-01T10:15:00.000Z,2026-10-01T10:15:00.000Z
-- doc: ```
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    e.type,
    t.description AS name,
    e.ip,
    e.user_id,
    count(*) AS events,
    min(e.date) AS first_seen,
    max(e.date) AS last_seen
FROM events e
LEFT JOIN event_types t ON t.code = e.type
WHERE e.type IN ('api_limit', 'limit_wc', 'limit_mu', 'limit_sul', 'limit_ui', 'limit_delegation',
                 'limit_signup_otp', 'gd_otp_rate_limit_exceed', 'gd_recovery_rate_limit_exceed')
  AND e.ts >= :since AND e.ts < :until AND (:tenant = '*' OR e.tenant = :tenant)
GROUP BY e.type, t.description, e.ip, e.user_id
ORDER BY events DESC, e.type, e.ip, e.user_id
