-- name: refresh-token-reuse
-- description: Rotated refresh tokens presented again (ferrt with a reuse description): a stolen token, or a client replaying one.
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
