-- name: mfa-weakened
-- description: MFA weakened through the Management API (sapi): the MFA policy set to Never (an empty policy list), a factor disabled, or risk assessment (adaptive MFA) turned off.
-- doc: MFA weakened through the Management API: the MFA policy set to Never (PUT
-- doc: `/api/v2/guardian/policies` with the body `[]`), a factor disabled (PUT
-- doc: `/api/v2/guardian/factors/{name}` with `{"enabled": false}`), risk assessment
-- doc: (adaptive MFA) turned off (`/api/v2/risk-assessment/config` with
-- doc: `AfterAuthentication: false`). Turning things on is not reported
-- doc: (`admin-actions` lists it).
-- doc: Columns: `change`, `actor`, `path`, `ip`, `first_seen`, `last_seen`,
-- doc: `events`, `log_ids`.
-- detection: high
-- key: change, actor
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH changes AS (
    SELECT
        log_id, date, ts, ip,
        details ->> '$.request.path' AS path,
        lower(coalesce(details ->> '$.request.method', '')) AS method,
        coalesce(details ->> '$.request.auth.user.email',
                 details ->> '$.request.auth.user.user_id', client_id) AS actor,
        CAST(details -> '$.request.body' AS TEXT) AS body,
        CAST(details -> '$.request.body.enabled' AS TEXT) AS enabled,
        CAST(details -> '$.request.body.AfterAuthentication' AS TEXT) AS after_authentication
    FROM events
    WHERE type = 'sapi'
      AND details IS NOT NULL AND json_valid(details)
      AND (details ->> '$.request.path' LIKE '%/guardian/%'
           OR details ->> '$.request.path' LIKE '%/risk-assessment/%')
      AND coalesce(CAST(details ->> '$.response.statusCode' AS INTEGER), 200) < 300
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
findings AS (
    SELECT *,
        CASE
            WHEN path LIKE '%/guardian/policies' THEN 'MFA policy set to Never'
            WHEN path LIKE '%/risk-assessment/config%' THEN 'risk assessment disabled'
            ELSE 'MFA factor disabled: ' || substr(path, instr(path, '/factors/') + 9)
        END AS change
    FROM changes
    WHERE (path LIKE '%/guardian/policies' AND replace(body, ' ', '') = '[]')
       OR (path LIKE '%/guardian/factors/%' AND path NOT LIKE '%/guardian/factors/%/%'
           AND enabled = 'false')
       OR (path LIKE '%/risk-assessment/config%' AND after_authentication = 'false')
)
SELECT
    change,
    actor,
    path,
    ip,
    date AS first_seen,
    date AS last_seen,
    1 AS events,
    log_id AS log_ids
FROM findings
ORDER BY ts, log_id
