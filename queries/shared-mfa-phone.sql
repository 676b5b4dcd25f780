-- name: shared-mfa-phone
-- description: One phone number enrolled as an MFA factor (gd_enrollment_complete) by several users.
-- doc: One phone number enrolled as an MFA factor (`gd_enrollment_complete`) by
-- doc: several users. The phone is read from `details` at
-- doc: `authenticator.phone_number`, `phone_number` or `enrollment.phone_number`.
-- doc: Columns: `phone`, `users`, `enrollments`, `first_user`, `last_user`,
-- doc: `first_seen`, `last_seen`.
-- doc: ```
-- doc: phone,users,enrollments,first_user,last_user,first_seen,last_seen
-- doc: +15550100,2,2,auth0|p1,auth0|p2,2026-10-01T10:20:00.000Z,2026-10-01T10:21:40.000Z
-- doc: ```
-- detection: high
-- key: phone
-- window: 2592000
-- param: min_users | integer | 2 | fewest distinct users sharing one phone number
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH enrollments AS (
    SELECT
        user_id, date, ts, log_id,
        coalesce(
            details ->> '$.authenticator.phone_number',
            details ->> '$.phone_number',
            details ->> '$.enrollment.phone_number'
        ) AS phone
    FROM events
    WHERE type = 'gd_enrollment_complete'
      AND details IS NOT NULL AND json_valid(details)
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
)
SELECT
    phone,
    count(DISTINCT user_id) AS users,
    count(*) AS enrollments,
    min(user_id) AS first_user,
    max(user_id) AS last_user,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM enrollments
WHERE phone IS NOT NULL
GROUP BY phone
HAVING count(DISTINCT user_id) >= :min_users
ORDER BY users DESC, phone
