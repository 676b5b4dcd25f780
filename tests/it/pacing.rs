//! Pacing against limiters that differ in what a pacer may not rely on:
//! where windows begin, how resets are rounded and told, the tenant's
//! clock, whether there are rate-limit headers at all. What is asserted
//! are the rules (no 429 storm, the burst not drained, `Retry-After`
//! honoured, every event archived), never speeds: `bench_sync -- pacing`
//! measures those.

use std::time::Duration;

use auth0_archive::simulator::{
    FakeTenant, Limiter, RateLimit, RateLimitHeaders, Stats, TenantClock, TenantState, WindowPhase,
};

use crate::common::*;

/// A tenant of `n` events behind `limiter`, answering after 20 ms, set up
/// further by `setup`.
fn limited(
    n: usize,
    seed: u64,
    limiter: Limiter,
    setup: impl FnOnce(&mut TenantState),
) -> FakeTenant {
    let tenant = tenant_with(events(n, seed));
    tenant.with(|st| {
        st.latency = Duration::from_millis(20);
        setup(st);
        st.set_limiter(Some(limiter));
    });
    tenant
}

fn window(limit: u64) -> Limiter {
    Limiter::FixedWindow {
        limit,
        window_secs: 1,
    }
}

fn bucket(per_second: f64, burst: f64) -> Limiter {
    Limiter::TokenBucket(RateLimit { per_second, burst })
}

/// Syncs the whole tenant and checks the archive is exact; returns what
/// the tenant counted.
fn sync_all(tenant: &FakeTenant) -> Stats {
    let env = Env::new();
    let out = sync(tenant, &env.db);
    assert_ok(&out);
    assert_exact(&env.db, tenant);
    tenant.stats()
}

/// At most 1% of log requests answered 429 (none when there are fewer
/// than a hundred).
fn assert_no_429_storm(stats: &Stats) {
    assert!(
        stats.rate_limited * 100 <= stats.log_requests,
        "{} of {} requests answered 429: {stats:?}",
        stats.rate_limited,
        stats.log_requests
    );
}

#[test]
fn a_bucket_of_two_is_paced_without_a_429_storm() {
    // The Free plan: `remaining` is 0 after every other request.
    let tenant = limited(800, 81, bucket(2.0, 2.0), |_| {});
    let stats = sync_all(&tenant);
    assert!(stats.rate_limited <= 1, "{stats:?}");
}

#[test]
fn windows_from_the_first_request_with_resets_rounded_up_are_not_hammered() {
    // Each window ends within a second of its announced reset: a request
    // sent after the true end succeeds, one sent before it is refused.
    let tenant = limited(4_000, 82, window(10), |st| {
        st.window_phase = WindowPhase::FromFirstRequest;
    });
    assert_no_429_storm(&sync_all(&tenant));
}

#[test]
fn a_reset_in_seconds_from_now_is_understood() {
    for phase in [WindowPhase::UnixAligned, WindowPhase::FromFirstRequest] {
        let tenant = limited(3_000, 83, window(10), |st| {
            st.window_phase = phase;
            st.rate_limit_headers = RateLimitHeaders::ResetSecondsFromNow;
        });
        let stats = sync_all(&tenant);
        assert!(
            stats.rate_limited * 100 <= stats.log_requests,
            "{phase:?}: {stats:?}"
        );
    }
}

#[test]
fn a_tenant_clock_two_seconds_off_ours_is_read_from_its_date_headers() {
    // Events of the hour before now, so the tenant's clock can be ours
    // give or take two seconds (whatever today is).
    let end = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    for skew in [2.0, -2.0] {
        let tenant = FakeTenant::start({
            let mut st = TenantState::default();
            st.push_events(events_ending(3_000, 84, &end));
            st.clock = TenantClock::skewed(skew);
            st.latency = Duration::from_millis(20);
            st.set_limiter(Some(window(10)));
            st
        })
        .unwrap();
        let stats = sync_all(&tenant);
        // A storm, not a single 429 when the first Date headers still leave
        // the offset in doubt (a loaded machine widens it).
        assert!(
            stats.rate_limited <= (stats.log_requests / 100).max(2),
            "{skew}: {stats:?}"
        );
    }
}

#[test]
fn a_large_burst_is_left_to_the_tenant() {
    // 120 tokens would hold the whole sync; the tenant's own applications
    // need them as much as we do.
    let tenant = limited(6_000, 85, bucket(10.0, 120.0), |_| {});
    let stats = sync_all(&tenant);
    assert_no_429_storm(&stats);
    let lowest = stats.lowest_remaining.unwrap();
    assert!(lowest >= 60, "the bucket went down to {lowest}: {stats:?}");
}

#[test]
fn without_rate_limit_headers_retry_after_is_honoured() {
    // Only a 429 says anything, with Retry-After: the first ones cannot be
    // avoided, a storm can.
    let tenant = limited(3_000, 86, bucket(5.0, 5.0), |st| {
        st.rate_limit_headers = RateLimitHeaders::None;
    });
    let stats = sync_all(&tenant);
    assert_eq!(stats.retry_after_ignored, 0, "{stats:?}");
    assert!(
        stats.rate_limited >= 1,
        "the limit was never reached: {stats:?}"
    );
    assert!(stats.rate_limited <= 8, "{stats:?}");
}
