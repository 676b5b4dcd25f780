-- name: impossible-travel
-- description: Consecutive successful logins of one user farther apart than a plane could fly in the time between them (haversine on the stored coordinates).
-- param: max_kmh | number | 900 | fastest believable travel speed in km/h (about airliner speed)
-- param: min_km | number | 100 | shortest distance worth reporting (ignores geolocation jitter)
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
WITH logins AS (
    SELECT
        user_id, user_name, date, ts, ip, city_name, country_code, latitude, longitude,
        lag(date) OVER w AS prev_date,
        lag(ts) OVER w AS prev_ts,
        lag(ip) OVER w AS prev_ip,
        lag(city_name) OVER w AS prev_city,
        lag(country_code) OVER w AS prev_country,
        lag(latitude) OVER w AS prev_lat,
        lag(longitude) OVER w AS prev_lon
    FROM events
    WHERE type IN ('s', 'ssa', 'scoa', 'sens', 'scv')
      AND user_id IS NOT NULL
      AND latitude IS NOT NULL AND longitude IS NOT NULL
      AND ts >= :since AND ts < :until
    WINDOW w AS (PARTITION BY user_id ORDER BY ts, log_id)
),
legs AS (
    SELECT
        *,
        sin(radians(latitude - prev_lat) / 2) AS half_dlat,
        sin(radians(longitude - prev_lon) / 2) AS half_dlon
    FROM logins
    WHERE prev_ts IS NOT NULL
),
distances AS (
    SELECT
        *,
        2 * 6371.0088 * asin(sqrt(
            half_dlat * half_dlat
            + cos(radians(prev_lat)) * cos(radians(latitude)) * half_dlon * half_dlon
        )) AS raw_km,
        (ts - prev_ts) / 60000.0 AS raw_minutes
    FROM legs
)
SELECT
    user_id,
    user_name,
    prev_date AS from_date,
    date AS to_date,
    prev_city AS from_city,
    city_name AS to_city,
    prev_country AS from_country,
    country_code AS to_country,
    prev_ip AS from_ip,
    ip AS to_ip,
    round(raw_km, 1) AS km,
    round(raw_minutes, 1) AS minutes,
    CASE WHEN raw_minutes > 0 THEN round(raw_km / (raw_minutes / 60.0), 0) END AS kmh
FROM distances
WHERE raw_km >= :min_km
  AND (raw_minutes <= 0 OR raw_km / (raw_minutes / 60.0) > :max_kmh)
ORDER BY to_date, user_id, from_date
