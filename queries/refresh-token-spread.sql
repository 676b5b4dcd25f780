-- name: refresh-token-spread
-- description: One refresh-token family (details.familyId of seacft and sertft exchanges) used from at least `min_ips` IP addresses or `min_agents` user agents: a hijacked token replayed from elsewhere.
-- doc: One refresh-token family (`details.familyId` of `seacft` and `sertft`, set
-- doc: when rotation is on) used from at least `min_ips` IP addresses or
-- doc: `min_agents` user agents. Exchanges without a family are not considered.
-- doc: Columns: `user_id`, `user_name`, `client_id`, `family_id`, `distinct_ips`,
-- doc: `distinct_agents`, `first_seen`, `last_seen`, `events`, `log_ids`.
-- detection: medium
-- key: user_id, client_id, family_id
-- window: 2592000
-- param: min_ips | integer | 5 | fewest distinct IP addresses of one family to report
-- param: min_agents | integer | 3 | fewest distinct user agents of one family to report
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
WITH exchanges AS (
    SELECT log_id, date, ts, ip, user_agent, user_id, user_name, client_id,
        details ->> '$.familyId' AS family_id
    FROM events
    WHERE type IN ('seacft', 'sertft')
      AND details IS NOT NULL AND json_valid(details)
      AND ts >= :since AND ts < :until AND (:tenant = '*' OR tenant = :tenant)
)
SELECT
    user_id,
    max(user_name) AS user_name,
    client_id,
    family_id,
    count(DISTINCT ip) AS distinct_ips,
    count(DISTINCT user_agent) AS distinct_agents,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM exchanges
WHERE family_id IS NOT NULL
GROUP BY user_id, client_id, family_id
HAVING count(DISTINCT ip) >= :min_ips OR count(DISTINCT user_agent) >= :min_agents
ORDER BY first_seen, user_id, family_id
