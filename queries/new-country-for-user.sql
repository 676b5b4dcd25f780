-- name: new-country-for-user
-- description: Successful logins from a country the user had never logged in from before (the user's very first login is not reported).
-- doc: Successful logins from a country the user had never logged in from before.
-- doc: A user's very first login is not reported. With `since`, logins before it
-- doc: still count as the user's history; only new countries from `since` on are
-- doc: listed.
-- doc: Columns: `user_id`, `user_name`, `date`, `country_code`, `country_name`,
-- doc: `city_name`, `ip`, `earlier_logins`.
-- doc: ```
-- doc: user_id,user_name,date,country_code,country_name,city_name,ip,earlier_logins
-- doc: auth0|roamer,roamer@example.com,2026-10-03T10:00:00.000Z,FR,FR,,,2
-- doc: ```
-- detection: low
-- key: user_id, country_code
-- param: since | time | | first instant to report (earlier logins still count as history; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
-- No window functions: first logins per (user, country) by aggregation over
-- the `events_login_user` index (whose WHERE clause the login filters repeat
-- verbatim; `ts + 0` keeps the planner off the time indexes), for users seen
-- in more than one country only. Ties in time are ordered by rowid.
WITH movers AS (
    SELECT user_id
    FROM events
    WHERE CAST(type AS TEXT) IN ('s', 'ssa', 'scoa', 'sens', 'scv')
      AND user_id IS NOT NULL
      AND country_code IS NOT NULL
      AND ts + 0 < :until
    GROUP BY user_id
    HAVING min(country_code) <> max(country_code)
),
firsts AS (
    SELECT e.user_id, e.country_code, min(e.ts) AS ts
    FROM movers m
    JOIN events e ON e.user_id = m.user_id
    WHERE CAST(e.type AS TEXT) IN ('s', 'ssa', 'scoa', 'sens', 'scv')
      AND e.country_code IS NOT NULL
      AND e.ts + 0 < :until
    GROUP BY e.user_id, e.country_code
),
first_rows AS (
    SELECT f.user_id, f.ts, min(e.rowid) AS rid
    FROM firsts f
    JOIN events e
      ON e.user_id = f.user_id AND e.ts = f.ts AND e.country_code = f.country_code
    WHERE CAST(e.type AS TEXT) IN ('s', 'ssa', 'scoa', 'sens', 'scv')
    GROUP BY f.user_id, f.country_code, f.ts
),
counted AS (
    -- The user's logins before this one; the very first login has none and
    -- drops out of the join.
    SELECT r.rid, count(*) AS earlier_logins
    FROM first_rows r
    JOIN events e
      ON e.user_id = r.user_id AND e.ts <= r.ts
    WHERE CAST(e.type AS TEXT) IN ('s', 'ssa', 'scoa', 'sens', 'scv')
      AND e.country_code IS NOT NULL
      AND (e.ts < r.ts OR e.rowid < r.rid)
    GROUP BY r.rid
)
SELECT
    e.user_id,
    e.user_name,
    e.date,
    e.country_code,
    e.country_name,
    e.city_name,
    e.ip,
    c.earlier_logins,
    e.date AS first_seen,
    e.date AS last_seen,
    1 AS events,
    e.log_id AS log_ids
FROM counted c
JOIN events e ON e.rowid = c.rid
WHERE e.ts >= :since
  AND (:tenant = '*' OR e.tenant = :tenant)
ORDER BY e.ts, e.log_id
