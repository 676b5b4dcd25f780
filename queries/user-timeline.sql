-- name: user-timeline
-- description: Every event of one user, oldest first.
-- doc: Every event of one user, oldest first.
-- doc: Columns: `date`, `type`, `name`, `ip`, `city_name`, `country_code`,
-- doc: `client_name`, `description`, `log_id`.
-- doc: ```
-- doc: date,type,name,ip,city_name,country_code,client_name,description,log_id
-- doc: 2026-10-01T10:00:00.000Z,s,User logged in successfully,,Berlin,DE,,,90000000000000000000000000000000000000000000000000000040
-- doc: ```
-- param: user | text | | the user_id to follow, e.g. auth0|64f1c2 (required)
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    e.date,
    e.type,
    t.description AS name,
    e.ip,
    e.city_name,
    e.country_code,
    e.client_name,
    e.description,
    e.log_id
FROM events e
LEFT JOIN event_types t ON t.code = e.type
WHERE e.user_id = :user
  AND e.ts >= :since AND e.ts < :until AND (:tenant = '*' OR e.tenant = :tenant)
ORDER BY e.ts, e.log_id
