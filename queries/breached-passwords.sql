-- name: breached-passwords
-- description: Logins, sign-ups and password resets attempted with a password known to be breached (pwd_leak, signup_pwd_leak, reset_pwd_leak).
-- doc: Breached-password detections: `pwd_leak` (login), `signup_pwd_leak`,
-- doc: `reset_pwd_leak`.
-- doc: Columns: `date`, `type`, `user_id`, `user_name`, `ip`, `country_code`,
-- doc: `connection`, `client_name`.
-- doc: ```
-- doc: date,type,user_id,user_name,ip,country_code,connection,client_name
-- doc: 2026-10-01T10:03:20.000Z,pwd_leak,auth0|leaky,leaky@example.com,192.0.2.1,,,
-- doc: ```
-- detection: medium
-- key: type, ip
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    date,
    type,
    user_id,
    user_name,
    ip,
    country_code,
    connection,
    client_name,
    date AS first_seen,
    date AS last_seen,
    1 AS events,
    log_id AS log_ids
FROM events
WHERE type IN ('pwd_leak', 'signup_pwd_leak', 'reset_pwd_leak')
  AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
ORDER BY ts, log_id
