-- name: refresh-token-reuse
-- description: Rotated refresh tokens presented again (ferrt with a reuse description): a stolen token, or a client replaying one.
-- doc: A rotated refresh token presented again (`ferrt` whose description mentions
-- doc: reuse): a stolen token or a client replaying one. Other refresh failures
-- doc: (expired, invalid) are not listed.
-- doc: Columns: `date`, `user_id`, `user_name`, `client_id`, `client_name`, `ip`,
-- doc: `country_code`, `description`.
-- doc: ```
-- doc: date,user_id,user_name,client_id,client_name,ip,country_code,description
-- doc: 2026-10-01T10:16:40.000Z,auth0|replayed,replayed@example.com,,,,,"Unsuccessful Refresh Token exchange, reused refresh token detected"
-- doc: ```
-- detection: high
-- key: user_id
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    date,
    user_id,
    user_name,
    client_id,
    client_name,
    ip,
    country_code,
    description,
    date AS first_seen,
    date AS last_seen,
    1 AS events,
    log_id AS log_ids
FROM events
WHERE type = 'ferrt'
  AND lower(description) LIKE '%reuse%'
  AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
ORDER BY ts, log_id
