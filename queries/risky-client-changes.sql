-- name: risky-client-changes
-- description: Risky application and extensibility changes through the Management API (sapi): cross-origin authentication or the implicit or password grant enabled on a client, Management API write scopes or more than `max_scopes` scopes granted to a client, custom roles created, post-login action bindings changed, integrations installed, error page templates with unescaped LiquidJS variables, and bursts of dynamic client registration.
-- doc: Risky application and extensibility changes through the Management API: on
-- doc: a client, `cross_origin_authentication` (or the older `cross_origin_auth`)
-- doc: set to true or `grant_types` including `implicit` or `password`; a client
-- doc: grant on the Management API (audience ending `/api/v2/`) with `create:`,
-- doc: `update:` or `delete:` scopes, or any grant with more than `max_scopes`
-- doc: scopes; a role created; the post-login trigger bindings changed; an
-- doc: integration installed; a tenant error page template whose `{{ }}` variables
-- doc: are not all piped through `escape` (`escape_once`, `html_escape`, `h`) — the
-- doc: LiquidJS XSS advisory; and bursts of dynamic client registration (at least
-- doc: `min_registrations`, each within `gap_seconds` of the previous).
-- doc: Columns: `change`, `target` (the client path, granted client, role or
-- doc: integration name), `actor`, `ip`, `first_seen`, `last_seen`, `events`,
-- doc: `log_ids`.
-- detection: medium
-- key: change, target
-- window: 3600
-- param: max_scopes | integer | 20 | most scopes one client grant may hold before it is reported as over-permissive
-- param: min_registrations | integer | 10 | fewest dynamic client registrations in one burst to report
-- param: gap_seconds | integer | 600 | registrations closer together than this belong to the same burst
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH writes AS (
    SELECT
        log_id, date, ts, ip, description,
        details ->> '$.request.path' AS path,
        lower(coalesce(details ->> '$.request.method', '')) AS method,
        coalesce(details ->> '$.request.auth.user.email',
                 details ->> '$.request.auth.user.user_id', client_id) AS actor,
        CAST(details -> '$.request.body' AS TEXT) AS body,
        CAST(details -> '$.request.body.cross_origin_authentication' AS TEXT) AS coa,
        CAST(details -> '$.request.body.cross_origin_auth' AS TEXT) AS coa_legacy,
        CAST(details -> '$.request.body.grant_types' AS TEXT) AS grant_types,
        CAST(details -> '$.request.body.scope' AS TEXT) AS scope,
        coalesce(details ->> '$.request.body.audience',
                 details ->> '$.response.body.audience') AS audience,
        coalesce(details ->> '$.request.body.client_id',
                 details ->> '$.response.body.client_id') AS body_client,
        details ->> '$.request.body.name' AS body_name,
        replace(replace(coalesce(details ->> '$.request.body.error_page.html', ''), ' ', ''),
                '
', '') AS error_html,
        json_array_length(details, '$.request.body.scope') AS scopes
    FROM events
    WHERE type = 'sapi'
      AND details IS NOT NULL AND json_valid(details)
      AND coalesce(CAST(details ->> '$.response.statusCode' AS INTEGER), 200) < 300
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
findings AS (
    SELECT log_id, date, ts, ip, actor, 'cross-origin authentication enabled' AS change,
           path AS target
    FROM writes
    WHERE path LIKE '%/clients%' AND (coa = 'true' OR coa_legacy = 'true')
    UNION ALL
    SELECT log_id, date, ts, ip, actor,
           CASE WHEN grant_types LIKE '%"implicit"%' THEN 'implicit grant enabled'
                ELSE 'password grant enabled' END, path
    FROM writes
    WHERE path LIKE '%/clients%'
      AND (grant_types LIKE '%"implicit"%' OR grant_types LIKE '%"password"%')
    UNION ALL
    SELECT log_id, date, ts, ip, actor, 'Management API write scopes granted',
           coalesce(body_client, path)
    FROM writes
    WHERE path LIKE '%/client-grants%' AND audience LIKE '%/api/v2/'
      AND (scope LIKE '%"create:%' OR scope LIKE '%"update:%' OR scope LIKE '%"delete:%')
    UNION ALL
    SELECT log_id, date, ts, ip, actor, 'over-permissive client grant', coalesce(body_client, path)
    FROM writes
    WHERE path LIKE '%/client-grants%' AND scopes > :max_scopes
    UNION ALL
    SELECT log_id, date, ts, ip, actor, 'custom role created', coalesce(body_name, path)
    FROM writes
    WHERE (description = 'Create a role' OR (path LIKE '%/roles' AND method = 'post'))
    UNION ALL
    SELECT log_id, date, ts, ip, actor, 'post-login action bindings changed', path
    FROM writes
    WHERE path LIKE '%/actions/triggers/post-login/bindings%'
    UNION ALL
    SELECT log_id, date, ts, ip, actor, 'integration installed', coalesce(body_name, path)
    FROM writes
    WHERE path LIKE '%/integrations/installed%' AND method = 'post'
    UNION ALL
    -- Every {{ variable }} must pass through escape (or escape_once,
    -- html_escape, h) before the template is safe; counted with spaces and
    -- newlines removed.
    SELECT log_id, date, ts, ip, actor, 'error page template with unescaped variables', path
    FROM writes
    WHERE path LIKE '%/tenants/settings%'
      AND (length(error_html) - length(replace(error_html, '{{', ''))) / 2
        > (length(error_html) - length(replace(error_html, '|escape', ''))) / 7
        + (length(error_html) - length(replace(error_html, '|html_escape', ''))) / 12
        + (length(error_html) - length(replace(error_html, '|h}}', ''))) / 4
),
registrations AS (
    SELECT log_id, date, ts, ip, actor,
        lag(ts) OVER (ORDER BY ts, log_id) AS prev_ts
    FROM writes
    WHERE description = 'Dynamic client registration' OR path LIKE '%/oidc/register%'
),
bursts AS (
    SELECT *,
        sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > :gap_seconds * 1000 THEN 1 ELSE 0 END)
            OVER (ORDER BY ts, log_id ROWS UNBOUNDED PRECEDING) AS burst
    FROM registrations
)
SELECT change, target, actor, ip, first_seen, last_seen, events, log_ids
FROM (
    SELECT change, target, actor, ip, date AS first_seen, date AS last_seen, 1 AS events,
           log_id AS log_ids, ts
    FROM findings
    UNION ALL
    SELECT 'dynamic client registration burst', '/oidc/register', max(actor), max(ip),
           min(date), max(date), count(*), group_concat(log_id, ' ' ORDER BY log_id), min(ts)
    FROM bursts
    GROUP BY burst
    HAVING count(*) >= :min_registrations
) f
ORDER BY ts, change, target
