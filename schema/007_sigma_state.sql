-- Schema version 7: what Sigma correlations carry from one `detect` run to
-- the next, so a burst that straddles two runs is counted whole.

-- One row per tenant scope (the tenant examined, or * for all): rsigma's
-- exported correlation state (the open windows, per correlation and
-- group-by value, with the events they rest on), valid only for the rule
-- files it was made with. Written in the transaction that files the
-- findings and moves the `sigma` watermark.
CREATE TABLE sigma_state (
    scope       TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,      -- SHA-256 of the rule files, in load order
    frontier    INTEGER NOT NULL,   -- newest event time fed to the windows (epoch ms)
    state       TEXT NOT NULL,      -- JSON: rsigma-eval's CorrelationSnapshot
    updated_at  TEXT NOT NULL
);
