-- name: shared-guardian-device
-- description: One Guardian app installation (details.enrollment.identifier of gd_enrollment_complete) enrolled as the MFA device of several users: an attacker's phone approving pushes for the accounts it took over.
-- doc: One Guardian app installation (`details.enrollment.identifier` of
-- doc: `gd_enrollment_complete`) enrolled by at least `min_users` users.
-- doc: Columns: `device`, `users`, `first_user`, `last_user`, `first_seen`,
-- doc: `last_seen`, `events`, `log_ids`.
-- detection: medium
-- key: device
-- window: 2592000
-- param: min_users | integer | 2 | fewest distinct users sharing one device
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH enrollments AS (
    SELECT log_id, user_id, date, ts,
        coalesce(details ->> '$.enrollment.identifier',
                 details ->> '$.authenticator.identifier') AS device
    FROM events
    WHERE type = 'gd_enrollment_complete'
      AND user_id IS NOT NULL
      AND details IS NOT NULL AND json_valid(details)
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
)
SELECT
    device,
    count(DISTINCT user_id) AS users,
    min(user_id) AS first_user,
    max(user_id) AS last_user,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM enrollments
WHERE device IS NOT NULL
GROUP BY device
HAVING count(DISTINCT user_id) >= :min_users
ORDER BY first_seen, device
