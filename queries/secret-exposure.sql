-- name: secret-exposure
-- description: Secrets leaving the tenant: a client secret read through the Management API (mgmt_api_read returning client_secret), and access tokens minted for the API Explorer application (seccft), the most powerful token of a tenant.
-- doc: A client secret read through the Management API (`mgmt_api_read` whose
-- doc: `details.accessedSecrets` lists `client_secret`) and access tokens minted for
-- doc: the API Explorer application (`seccft` by the client named `API Explorer
-- doc: Application`, or by `explorer_client_id`), the most powerful token of a
-- doc: tenant.
-- doc: Columns: `exposure`, `client_id`, `client_name`, `actor`, `target` (the
-- doc: client whose secret was read, or the token's audience), `ip`, `first_seen`,
-- doc: `last_seen`, `events`, `log_ids`.
-- detection: high
-- key: exposure, client_id
-- param: explorer_client_id | text | - | client id of the tenant's API Explorer application (by default it is recognised by its name)
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH exposures AS (
    SELECT log_id, date, ts, ip, client_id, client_name,
        'client secret read' AS exposure,
        coalesce(details ->> '$.request.auth.user.email',
                 details ->> '$.request.auth.user.user_id', client_id) AS actor,
        coalesce(details ->> '$.response.body.client_id', details ->> '$.request.path') AS target
    FROM events
    WHERE type = 'mgmt_api_read'
      AND details IS NOT NULL AND json_valid(details)
      AND CAST(details -> '$.accessedSecrets' AS TEXT) LIKE '%"client_secret"%'
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
    UNION ALL
    SELECT log_id, date, ts, ip, client_id, client_name,
        'API Explorer token minted',
        client_id,
        audience
    FROM events
    WHERE type = 'seccft'
      AND (client_id = :explorer_client_id OR client_name = 'API Explorer Application')
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
)
SELECT
    exposure,
    client_id,
    max(client_name) AS client_name,
    actor,
    target,
    max(ip) AS ip,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM exposures
GROUP BY exposure, client_id, actor, target, log_id
ORDER BY first_seen, exposure, client_id
