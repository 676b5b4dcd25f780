-- name: admin-actions
-- description: Management API writes (sapi, fapi) and tenant changes (MFA settings, encryption keys), one row per actor (client and user) and day with the calls counted.
-- doc: Management API writes and tenant changes: `sapi`, `fapi`, `gd_tenant_update`,
-- doc: `gd_module_switch`, `kms_key_management_success`,
-- doc: `kms_key_management_failure`, `kms_key_state_changed`. (`mgmt_api_read`, a
-- doc: read, is not listed.) One row per actor (`client_id` and `user_id`) and UTC
-- doc: day: a tenant managed through the API makes one call after another, and
-- doc: each is routine; the day's calls together say who changed what.
-- doc: Columns: `day`, `date` (the first call), `type` (the types, most calls
-- doc: first), `description` (each description, with its count when above one),
-- doc: `client_id`, `client_name`, `ip` (the addresses, most calls first),
-- doc: `user_id`, `user_name`, `first_seen`, `last_seen`, `events` (calls),
-- doc: `log_ids`.
-- doc: ```
-- doc: day,date,type,description,client_id,client_name,ip,user_id,user_name,first_seen,last_seen,events,log_ids
-- doc: 2026-10-01,2026-10-01T10:08:20.000Z,sapi,Update a client (2); Update tenant settings,mgmt1,app mgmt1,192.0.2.9,,,2026-10-01T10:08:20.000Z,2026-10-01T10:30:00.000Z,3,90020261001100820000000000000000000000000000000000000001 ...
-- doc: ```
-- detection: info
-- key: day, client_id, user_id
-- window: 86400
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
-- The window of a day lets a later run see the whole day again, so the
-- day's finding grows instead of a second one starting. Empty strings stand
-- in for a missing client or user so the parts join on them.
WITH calls AS (
    SELECT log_id, date, ts, type, description, ip, client_name, user_name,
        substr(date, 1, 10) AS day,
        coalesce(client_id, '') AS c,
        coalesce(user_id, '') AS u
    FROM events
    WHERE type IN ('sapi', 'fapi', 'gd_tenant_update', 'gd_module_switch',
                   'kms_key_management_success', 'kms_key_management_failure', 'kms_key_state_changed')
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
by_type AS (
    SELECT day, c, u, type, count(*) AS n FROM calls GROUP BY day, c, u, type
),
by_description AS (
    SELECT day, c, u, coalesce(description, '') AS description, count(*) AS n
    FROM calls GROUP BY day, c, u, coalesce(description, '')
),
by_ip AS (
    SELECT day, c, u, ip, count(*) AS n FROM calls WHERE ip IS NOT NULL GROUP BY day, c, u, ip
),
types AS (
    SELECT day, c, u, group_concat(type, ', ' ORDER BY n DESC, type) AS type
    FROM by_type GROUP BY day, c, u
),
descriptions AS (
    SELECT day, c, u,
        group_concat(description || CASE WHEN n > 1 THEN ' (' || CAST(n AS TEXT) || ')' ELSE '' END,
                     '; ' ORDER BY n DESC, description) AS description
    FROM by_description GROUP BY day, c, u
),
ips AS (
    SELECT day, c, u, group_concat(ip, ', ' ORDER BY n DESC, ip) AS ip
    FROM by_ip GROUP BY day, c, u
),
actors AS (
    SELECT day, c, u,
        max(client_name) AS client_name,
        max(user_name) AS user_name,
        min(date) AS first_seen,
        max(date) AS last_seen,
        count(*) AS events,
        group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
    FROM calls GROUP BY day, c, u
)
SELECT
    a.day,
    a.first_seen AS date,
    t.type,
    nullif(d.description, '') AS description,
    nullif(a.c, '') AS client_id,
    a.client_name,
    i.ip,
    nullif(a.u, '') AS user_id,
    a.user_name,
    a.first_seen,
    a.last_seen,
    a.events,
    a.log_ids
FROM actors a
JOIN types t ON t.day = a.day AND t.c = a.c AND t.u = a.u
JOIN descriptions d ON d.day = a.day AND d.c = a.c AND d.u = a.u
LEFT JOIN ips i ON i.day = a.day AND i.c = a.c AND i.u = a.u
ORDER BY a.first_seen, a.c, a.u
