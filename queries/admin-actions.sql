-- name: admin-actions
-- description: Management API writes (sapi, fapi) and tenant changes (MFA settings, encryption keys).
-- detection: info
-- key: type, client_id
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
SELECT
    date,
    type,
    description,
    client_id,
    client_name,
    ip,
    user_id,
    user_name,
    date AS first_seen,
    date AS last_seen,
    1 AS events,
    log_id AS log_ids
FROM events
WHERE type IN ('sapi', 'fapi', 'gd_tenant_update', 'gd_module_switch',
               'kms_key_management_success', 'kms_key_management_failure', 'kms_key_state_changed')
  AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
ORDER BY ts, log_id
