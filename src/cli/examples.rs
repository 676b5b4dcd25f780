//! The `Examples:` that end each command's `--help`: real command lines, so
//! a first-time user can copy one and go.

pub const TOP: &str = "\
Examples:
  auth0-archive demo                                  # try it with no Auth0 account
  auth0-archive sync                                  # AUTH0_BASE_URL, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET set
  auth0-archive detect
  auth0-archive query run brute-force --param since=2026-11-01";

pub const SYNC: &str = "\
Examples:
  AUTH0_BASE_URL=acme.us.auth0.com AUTH0_CLIENT_ID=abc AUTH0_CLIENT_SECRET_FILE=secret.txt auth0-archive sync
  auth0-archive sync --json --quiet                   # for cron: one JSON summary on stdout
  auth0-archive sync --follow --detect --webhook-file hooks.txt   # keep polling; detect and alert
  auth0-archive sync --config tenants.toml --tenant prod";

pub const STATUS: &str = "\
Examples:
  auth0-archive status
  auth0-archive status --json --retention-days 7      # warn before the tenant's retention opens a gap";

pub const QUERY: &str = "\
Examples:
  auth0-archive query list
  auth0-archive query run credential-stuffing --param min_users=5
  auth0-archive query sql \"SELECT type, count(*) FROM events GROUP BY 1\" --format json
  auth0-archive query export --out ./parquet";

pub const QUERY_LIST: &str = "\
Examples:
  auth0-archive query list
  auth0-archive query list --format json";

pub const QUERY_RUN: &str = "\
Examples:
  auth0-archive query run brute-force --param threshold=20 --param since=2026-11-01
  auth0-archive query run user-timeline --param 'user=auth0|64f1c2' --format json
  auth0-archive query run impossible-travel --engine duckdb
  auth0-archive query run brute-force --parquet ./parquet";

pub const QUERY_SQL: &str = "\
Examples:
  auth0-archive query sql \"SELECT type, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC\"
  auth0-archive query sql \"SELECT json_extract(raw, '$.details') FROM events LIMIT 5\" --format ndjson
  auth0-archive query sql \"SELECT ip, count(*) FROM events GROUP BY ip\" --engine duckdb";

pub const QUERY_EXPORT: &str = "\
Examples:
  auth0-archive query export --out ./parquet
  auth0-archive query export --out ./parquet --since 2026-11-01 --until 2026-11-30";

pub const DEMO: &str = "\
Examples:
  auth0-archive demo
  auth0-archive demo --fresh --events 20000
  auth0-archive --db auth0-demo.db detect";

pub const VERIFY: &str = "\
Examples:
  auth0-archive verify
  auth0-archive verify --json
  auth0-archive verify --expect-head 1742:9f86d081884c7d659a2feaa0c55ad015";

pub const IMPORT: &str = "\
Examples:
  auth0-archive import export-2026-11.ndjson.gz
  auth0-archive import pages/*.json --tenant prod --json";

pub const PRUNE: &str = "\
Examples:
  auth0-archive prune --before 2026-06-01 --dry-run
  auth0-archive query export --out ./parquet && auth0-archive prune --before 2026-06-01 --yes";

pub const DETECT: &str = "\
Examples:
  auth0-archive detect
  auth0-archive detect --fail-on high --format ndjson # exit 7 on a new high finding
  auth0-archive detect --sigma ./rules --since 2026-11-01";

pub const REPORT: &str = "\
Examples:
  auth0-archive report --out incident.html
  auth0-archive report --out user.html --user 'auth0|64f1c2' --since 2026-11-01
  auth0-archive --db /evidence/copy.db report --out copy.html   # a read-only copy: findings shown, not filed";

pub const COMPLETIONS: &str = "\
Examples:
  auth0-archive completions bash > ~/.local/share/bash-completion/completions/auth0-archive
  auth0-archive completions zsh > ~/.zfunc/_auth0-archive
  auth0-archive completions fish > ~/.config/fish/completions/auth0-archive.fish";

pub const MAN: &str = "\
Examples:
  auth0-archive man > ~/.local/share/man/man1/auth0-archive.1
  auth0-archive man | man -l -";
