-- name: authorize-probing
-- description: Bursts of failed /authorize requests with wrong parameters from one IP (f: callback URL mismatch, unknown client, unsupported response type or code challenge, unknown audience, invalid redirect_uri): probing for open redirects and misconfigured applications.
-- doc: Bursts of failed `/authorize` requests with wrong parameters from one IP
-- doc: (`f` whose description is a callback URL mismatch, an unsupported code
-- doc: challenge, an unknown client, an unsupported response type, an unknown
-- doc: audience or an invalid `redirect_uri`). Wrong passwords do not count.
-- doc: Columns: `ip`, `distinct_errors`, `distinct_clients`, `first_seen`,
-- doc: `last_seen`, `events`, `log_ids`.
-- detection: medium
-- key: ip
-- window: 3600
-- param: min_failures | integer | 10 | fewest parameter errors in one burst to report
-- param: gap_seconds | integer | 600 | errors closer together than this belong to the same burst
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH probes AS (
    SELECT log_id, date, ts, ip, client_id, description,
        lag(ts) OVER (PARTITION BY ip ORDER BY ts, log_id) AS prev_ts
    FROM events
    WHERE type = 'f'
      AND ip IS NOT NULL
      AND (description LIKE '%Callback URL mismatch%'
           OR description LIKE '%is not supported by this server%'
           OR description LIKE '%Unknown client%'
           OR description LIKE '%Unsupported response type%'
           OR description LIKE '%Service not found%'
           OR description LIKE '%The redirect_uri parameter is not valid%')
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
bursts AS (
    SELECT *,
        sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > :gap_seconds * 1000 THEN 1 ELSE 0 END)
            OVER (PARTITION BY ip ORDER BY ts, log_id ROWS UNBOUNDED PRECEDING) AS burst
    FROM probes
)
SELECT
    ip,
    count(DISTINCT description) AS distinct_errors,
    count(DISTINCT client_id) AS distinct_clients,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM bursts
GROUP BY ip, burst
HAVING count(*) >= :min_failures
ORDER BY first_seen, ip
