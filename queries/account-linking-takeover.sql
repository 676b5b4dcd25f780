-- name: account-linking-takeover
-- description: Accounts linked (sapi POST /api/v2/users/{id}/identities) to an identity whose email is not verified or differs from the primary account's: an attacker who signed up with a victim's address taking over the victim's account through automatic linking.
-- doc: Accounts linked through the Management API (POST
-- doc: `/api/v2/users/{id}/identities`) to an identity whose email is not verified
-- doc: (`profileData.email_verified: false` in the response's identities) or
-- doc: differs from the primary account's (the `user_name` of its latest earlier
-- doc: event): someone who signed up with a victim's address taking the account
-- doc: over through automatic linking.
-- doc: Columns: `user_id`, `primary_email`, `linked`, `linked_emails`, `reason`,
-- doc: `actor`, `ip`, `first_seen`, `last_seen`, `events`, `log_ids`.
-- detection: high
-- key: user_id
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH links AS (
    SELECT
        log_id, date, ts, ip,
        replace(replace(replace(replace(details ->> '$.request.path', '/api/v2/users/', ''),
                                '/identities', ''), '%7C', '|'), '%7c', '|') AS user_id,
        coalesce(details ->> '$.request.auth.user.email',
                 details ->> '$.request.auth.user.user_id', client_id) AS actor,
        CAST(details -> '$.response.body' AS TEXT) AS identities,
        coalesce(details ->> '$.request.body.provider', '') || '|'
            || coalesce(details ->> '$.request.body.user_id', '') AS linked
    FROM events
    WHERE type = 'sapi'
      AND details IS NOT NULL AND json_valid(details)
      AND details ->> '$.request.path' LIKE '%/users/%/identities'
      AND lower(coalesce(details ->> '$.request.method', 'post')) = 'post'
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
linked_emails AS (
    -- The response lists every identity of the primary account after the link;
    -- linked ones carry their profile (email, email_verified).
    SELECT l.log_id,
        max(CASE WHEN CAST(j.value -> '$.profileData.email_verified' AS TEXT) = 'false'
                 THEN 1 ELSE 0 END) AS unverified,
        group_concat(DISTINCT lower(j.value ->> '$.profileData.email')) AS emails,
        count(DISTINCT lower(j.value ->> '$.profileData.email')) AS distinct_emails
    FROM links l, json_each(l.identities) j
    GROUP BY l.log_id
),
primaries AS (
    -- The primary account's own address, from its latest event before the link.
    SELECT l.log_id,
        (SELECT lower(e.user_name) FROM events e
         WHERE e.user_id = l.user_id AND e.ts < l.ts AND e.user_name LIKE '%@%'
         ORDER BY e.ts DESC, e.log_id DESC LIMIT 1) AS email
    FROM links l
)
SELECT
    l.user_id,
    p.email AS primary_email,
    l.linked,
    m.emails AS linked_emails,
    CASE WHEN m.unverified = 1 THEN 'unverified email' ELSE 'different email' END AS reason,
    l.actor,
    l.ip,
    l.date AS first_seen,
    l.date AS last_seen,
    1 AS events,
    l.log_id AS log_ids
FROM links l
JOIN linked_emails m ON m.log_id = l.log_id
JOIN primaries p ON p.log_id = l.log_id
WHERE m.unverified = 1
   OR m.distinct_emails > 1
   OR (p.email IS NOT NULL AND m.emails IS NOT NULL
       AND instr(',' || m.emails || ',', ',' || p.email || ',') = 0)
ORDER BY l.ts, l.log_id
