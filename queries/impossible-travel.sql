-- name: impossible-travel
-- description: Consecutive successful logins of one user farther apart than a plane could fly in the time between them (haversine on the stored coordinates).
-- doc: Consecutive successful logins of one user whose great-circle distance
-- doc: (haversine on the stored `latitude`/`longitude`, Earth radius 6371 km) is
-- doc: larger than a plane could fly in the time between them. Logins without
-- doc: coordinates are skipped; failed logins never count as a position.
-- doc: Columns: `user_id`, `user_name`, `from_date`, `to_date`, `from_city`,
-- doc: `to_city`, `from_country`, `to_country`, `from_ip`, `to_ip`, `km`, `minutes`,
-- doc: `kmh` (`kmh` is empty when both logins have the same millisecond).
-- doc: ```
-- doc: user_id,user_name,from_date,to_date,from_city,to_city,from_country,to_country,from_ip,to_ip,km,minutes,kmh
-- doc: auth0|traveler,traveler@example.com,2026-10-01T10:00:00.000Z,2026-10-01T11:00:00.000Z,Berlin,New York,DE,US,,,6385.4,60.0,6385.0
-- doc: ```
-- detection: high
-- key: user_id
-- window: 86400
-- param: max_kmh | number | 900 | fastest believable travel speed in km/h (about airliner speed)
-- param: min_km | number | 100 | shortest distance worth reporting (ignores geolocation jitter)
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
-- Reads only the `events_login_user` index until the final rows: the login
-- filter below repeats that index's WHERE clause verbatim (CAST(type AS TEXT),
-- and `ts + 0` so no time index is preferred), users who always logged in from
-- one place are skipped, and the rows' details are looked up by rowid for the
-- reported legs only. The tenant filter applies to the reported legs (user ids
-- belong to one tenant). Ties in time are ordered by the index columns, then rowid.
-- `movers` is MATERIALIZED so DuckDB builds its semi-join on those few users
-- rather than on the logins.
WITH movers AS MATERIALIZED (
    SELECT user_id
    FROM events
    WHERE CAST(type AS TEXT) IN ('s', 'ssa', 'scoa', 'sens', 'scv')
      AND user_id IS NOT NULL
      AND latitude IS NOT NULL AND longitude IS NOT NULL
      AND ts + 0 >= :since AND ts + 0 < :until
    GROUP BY user_id
    HAVING min(latitude) <> max(latitude) OR min(longitude) <> max(longitude) OR :min_km <= 0
),
logins AS (
    SELECT
        rowid AS rid, ts, latitude, longitude,
        lag(rowid) OVER w AS prev_rid,
        lag(ts) OVER w AS prev_ts,
        lag(latitude) OVER w AS prev_lat,
        lag(longitude) OVER w AS prev_lon
    FROM events
    WHERE CAST(type AS TEXT) IN ('s', 'ssa', 'scoa', 'sens', 'scv')
      AND user_id IN (SELECT user_id FROM movers)
      AND latitude IS NOT NULL AND longitude IS NOT NULL
      AND ts + 0 >= :since AND ts + 0 < :until
    WINDOW w AS (PARTITION BY user_id ORDER BY ts, latitude, longitude, country_code, type, rowid)
),
legs AS MATERIALIZED (
    -- Staying put is never a reportable leg (0 km), unless min_km <= 0.
    SELECT
        rid, prev_rid, ts, prev_ts, latitude, longitude, prev_lat, prev_lon,
        sin(radians(latitude - prev_lat) / 2) AS half_dlat,
        sin(radians(longitude - prev_lon) / 2) AS half_dlon
    FROM logins
    WHERE prev_ts IS NOT NULL
      AND (latitude <> prev_lat OR longitude <> prev_lon OR :min_km <= 0)
),
distances AS (
    SELECT
        rid, prev_rid,
        2 * 6371.0088 * asin(sqrt(
            half_dlat * half_dlat
            + cos(radians(prev_lat)) * cos(radians(latitude)) * half_dlon * half_dlon
        )) AS raw_km,
        (ts - prev_ts) / 60000.0 AS raw_minutes
    FROM legs
)
SELECT
    cur.user_id,
    cur.user_name,
    prv.date AS from_date,
    cur.date AS to_date,
    prv.city_name AS from_city,
    cur.city_name AS to_city,
    prv.country_code AS from_country,
    cur.country_code AS to_country,
    prv.ip AS from_ip,
    cur.ip AS to_ip,
    round(d.raw_km, 1) AS km,
    round(d.raw_minutes, 1) AS minutes,
    CASE WHEN d.raw_minutes > 0 THEN round(d.raw_km / (d.raw_minutes / 60.0), 0) END AS kmh,
    prv.date AS first_seen,
    cur.date AS last_seen,
    2 AS events,
    prv.log_id || ' ' || cur.log_id AS log_ids
FROM distances d
JOIN events prv ON prv.rowid = d.prev_rid
JOIN events cur ON cur.rowid = d.rid
WHERE d.raw_km >= :min_km
  AND (:tenant = '*' OR cur.tenant = :tenant)
  AND (d.raw_minutes <= 0 OR d.raw_km / (d.raw_minutes / 60.0) > :max_kmh)
ORDER BY to_date, cur.user_id, from_date
