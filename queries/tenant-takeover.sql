-- name: tenant-takeover
-- description: Tenant administration changes through the Management API: owner or admin invitations, accepted invitations, member deletions, and the takeover pattern (an owner invitation followed by at least `min_deletions` member deletions by the same actor within `within_seconds`).
-- doc: Tenant membership changes: owner or admin invitations (`Create tenant
-- doc: invitations for a given client`, `roles` containing `owner` or `admin`),
-- doc: accepted invitations (`Update an invitation` with `state: accepted`), member
-- doc: deletions (`Delete tenant member`), and the takeover pattern: an owner
-- doc: invitation followed by at least `min_deletions` member deletions by the same
-- doc: actor within `within_seconds`, reported as one more row whose `log_ids` are
-- doc: the invitation and the deletions. Invitations with other roles are not
-- doc: listed.
-- doc: Columns: `finding`, `actor`, `subject` (the invited addresses), `ip`,
-- doc: `first_seen`, `last_seen`, `events`, `log_ids`.
-- doc: ```
-- doc: finding,actor,subject,ip,first_seen,last_seen,events,log_ids
-- doc: "takeover: owner invited, then members deleted",mallory@acme.example,"[""evil@gmail.com""]",192.0.2.90,2026-10-06T12:00:00.000Z,2026-10-06T12:20:00.000Z,3,900... 900... 900...
-- doc: ```
-- detection: high
-- key: finding, actor
-- window: 3600
-- param: min_deletions | integer | 2 | fewest member deletions after an owner invitation that make a takeover
-- param: within_seconds | integer | 3600 | how soon after the invitation the deletions must come
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH admin AS (
    SELECT
        log_id, date, ts, ip, description,
        details ->> '$.request.path' AS path,
        lower(coalesce(details ->> '$.request.method', '')) AS method,
        coalesce(details ->> '$.request.auth.user.email',
                 details ->> '$.request.auth.user.user_id', client_id) AS actor,
        CAST(details -> '$.request.body.roles' AS TEXT) AS roles,
        details ->> '$.request.body.state' AS state,
        coalesce(CAST(details -> '$.request.body.owners' AS TEXT),
                 details ->> '$.request.body.email',
                 details ->> '$.request.body.invitee.email') AS subject
    FROM events
    WHERE type = 'sapi'
      AND details IS NOT NULL AND json_valid(details)
      AND (description IN ('Create tenant invitations for a given client', 'Update an invitation',
                           'Delete tenant member')
           OR details ->> '$.request.path' LIKE '%/tenants/invitations%'
           OR details ->> '$.request.path' LIKE '%/tenants/members%')
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
),
kinds AS (
    SELECT *,
        CASE
            WHEN (description = 'Delete tenant member'
                  OR (path LIKE '%/tenants/members%' AND method = 'delete')) THEN 'member deleted'
            WHEN (description = 'Update an invitation' OR method IN ('patch', 'put'))
                 AND state = 'accepted' THEN 'invitation accepted'
            WHEN (description = 'Create tenant invitations for a given client' OR method = 'post')
                 AND roles LIKE '%"owner"%' THEN 'owner invited'
            WHEN (description = 'Create tenant invitations for a given client' OR method = 'post')
                 AND roles LIKE '%"admin"%' THEN 'admin invited'
        END AS finding
    FROM admin
),
takeovers AS (
    -- One row per owner invitation followed by enough deletions by its actor.
    SELECT i.log_id AS invite_id, i.actor, i.ts AS invite_ts, max(d.ts) AS last_ts
    FROM kinds i
    JOIN kinds d
      ON d.actor = i.actor AND d.finding = 'member deleted'
     AND d.ts > i.ts AND d.ts <= i.ts + :within_seconds * 1000
    WHERE i.finding = 'owner invited'
    GROUP BY i.log_id, i.actor, i.ts
    HAVING count(*) >= :min_deletions
),
takeover_events AS (
    SELECT t.invite_id, k.actor, k.subject, k.ip, k.date, k.log_id
    FROM takeovers t
    JOIN kinds k
      ON k.actor = t.actor
     AND (k.log_id = t.invite_id
          OR (k.finding = 'member deleted' AND k.ts > t.invite_ts
              AND k.ts <= t.invite_ts + :within_seconds * 1000))
)
SELECT
    finding,
    actor,
    max(subject) AS subject,
    max(ip) AS ip,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM (
    SELECT finding, log_id AS grp, actor, subject, ip, date, log_id FROM kinds
    WHERE finding IS NOT NULL
    UNION ALL
    SELECT 'takeover: owner invited, then members deleted', invite_id, actor, subject, ip,
           date, log_id
    FROM takeover_events
) f
GROUP BY finding, actor, grp
ORDER BY first_seen, finding, actor
