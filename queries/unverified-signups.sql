-- name: unverified-signups
-- description: Sign-ups (ss) never followed by an email verification (sv) by `until`, per email domain: a burst of at least `min_signups` from one domain, or any from a throw-away domain listed in `disposable_domains`. Fake-account and sign-up fraud campaigns.
-- doc: Sign-ups (`ss`) with no email verification (`sv`) of the same user before
-- doc: `until`, per email domain: a burst of at least `min_signups` from one domain,
-- doc: or any from a throw-away domain in `disposable_domains`. Run it some time
-- doc: after the sign-ups, or recent ones count as unverified.
-- doc: Columns: `domain`, `disposable` (1 or 0), `distinct_ips`, `first_seen`,
-- doc: `last_seen`, `events`, `log_ids`.
-- detection: medium
-- key: domain
-- window: 3600
-- param: min_signups | integer | 10 | fewest unverified sign-ups of one domain in one burst to report
-- param: gap_seconds | integer | 600 | sign-ups closer together than this belong to the same burst
-- param: disposable_domains | text | mailinator.com,yopmail.com,guerrillamail.com,sharklasers.com,10minutemail.com,temp-mail.org,getnada.com,mailnesia.com,dispostable.com,trashmail.com | comma-separated throw-away email domains, reported from the first sign-up
-- param: since | time | | first instant to consider (YYYY-MM-DD or RFC 3339; default: whole archive)
-- param: until | time | | last instant to consider (a bare date includes that whole day; default: whole archive)
-- param: tenant | text | * | only this tenant (the `tenant` column; default * = all tenants)
-- The verified users are read once into two sets (ids, and names for sign-ups
-- without an id) and each sign-up is looked up in them: cost grows with
-- sign-ups plus verifications, not their product (a correlated NOT EXISTS
-- with an OR on id or name re-read every verification for each sign-up).
WITH verified_ids AS (
    SELECT DISTINCT user_id FROM events
    WHERE type = 'sv' AND ts < :until AND user_id IS NOT NULL
),
verified_names AS (
    SELECT DISTINCT user_name FROM events
    WHERE type = 'sv' AND ts < :until AND user_name IS NOT NULL
),
signups AS (
    SELECT s.log_id, s.date, s.ts, s.ip, s.user_id,
        lower(substr(s.user_name, instr(s.user_name, '@') + 1)) AS domain
    FROM events s
    WHERE s.type = 'ss'
      AND s.user_name LIKE '%@%'
      AND s.ts >= :since AND s.ts < :until AND (:tenant = '*' OR s.tenant = :tenant)
      AND CASE WHEN s.user_id IS NOT NULL
               THEN s.user_id NOT IN (SELECT user_id FROM verified_ids)
               ELSE s.user_name NOT IN (SELECT user_name FROM verified_names) END
),
sequenced AS (
    SELECT *,
        lag(ts) OVER (PARTITION BY domain ORDER BY ts, log_id) AS prev_ts,
        CASE WHEN instr(',' || replace(lower(:disposable_domains), ' ', '') || ',',
                        ',' || domain || ',') > 0 THEN 1 ELSE 0 END AS disposable
    FROM signups
),
bursts AS (
    SELECT *,
        sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > :gap_seconds * 1000 THEN 1 ELSE 0 END)
            OVER (PARTITION BY domain ORDER BY ts, log_id ROWS UNBOUNDED PRECEDING) AS burst
    FROM sequenced
)
SELECT
    domain,
    max(disposable) AS disposable,
    count(DISTINCT ip) AS distinct_ips,
    min(date) AS first_seen,
    max(date) AS last_seen,
    count(*) AS events,
    group_concat(log_id, ' ' ORDER BY log_id) AS log_ids
FROM bursts
GROUP BY domain, burst
HAVING count(*) >= :min_signups OR max(disposable) = 1
ORDER BY first_seen, domain
