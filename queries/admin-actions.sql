-- name: admin-actions
-- description: Management API writes (sapi, fapi) and tenant changes (MFA settings, encryption keys).
-- doc: Management API writes and tenant changes: `sapi`, `fapi`, `gd_tenant_update`,
-- doc: `gd_module_switch`, `kms_key_management_success`,
-- doc: `kms_key_management_failure`, `kms_key_state_changed`. (`mgmt_api_read`, a
-- doc: read, is not listed.)
-- doc: Columns: `date`, `type`, `description`, `client_id`, `client_name`, `ip`,
-- doc: `user_id`, `user_name`.
-- doc: ```
-- doc: date,type,description,client_id,client_name,ip,user_id,user_name
-- doc: 2026-10-01T10:08:20.000Z,sapi,Update tenant settings,mgmt1,app mgmt1,192.0.2.9,,
-- doc: ```
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
