-- name: new-country-for-user
-- description: Successful logins from a country the user had never logged in from before (the user's very first login is not reported).
-- param: since | time | | first instant to report (earlier logins still count as history; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
WITH logins AS (
    SELECT
        user_id, user_name, date, ts, log_id, ip, country_code, country_name, city_name,
        row_number() OVER (PARTITION BY user_id ORDER BY ts, log_id) AS nth_login,
        row_number() OVER (PARTITION BY user_id, country_code ORDER BY ts, log_id) AS nth_in_country
    FROM events
    WHERE type IN ('s', 'ssa', 'scoa', 'sens', 'scv')
      AND user_id IS NOT NULL
      AND country_code IS NOT NULL
      AND ts < :until
)
SELECT
    user_id,
    user_name,
    date,
    country_code,
    country_name,
    city_name,
    ip,
    nth_login - 1 AS earlier_logins
FROM logins
WHERE nth_in_country = 1
  AND nth_login > 1
  AND ts >= :since
ORDER BY ts, log_id
