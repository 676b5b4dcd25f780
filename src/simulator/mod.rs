//! A simulated Auth0 tenant served on loopback: the token endpoint and
//! `GET /api/v2/logs` with Auth0's `from`/`take` semantics, rate-limit headers
//! and switchable faults. `demo` runs the whole flow against it, and the
//! tests use it as the fake tenant (it is part of the library so both share
//! one implementation of Auth0's behaviour).

mod api;
pub mod attacks;
mod clock;
pub mod generator;
pub mod hostile;
mod http;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::auth0::log_id;

pub use clock::TenantClock;

/// One event as the tenant holds it: `key` orders it for `from` (the
/// `log_id`, or a stand-in for an event that has none), `raw` is what is sent.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub key: String,
    pub raw: String,
}

impl StoredEvent {
    /// An event whose `log_id` field is its key.
    pub fn from_json(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let key = serde_json::from_str::<serde_json::Value>(&raw)
            .ok()
            .and_then(|v| {
                v.get("log_id")
                    .and_then(|id| id.as_str().map(str::to_string))
            })
            .unwrap_or_default();
        StoredEvent { key, raw }
    }
}

/// Something that can go wrong with one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 with a JSON error body.
    ServerError,
    /// HTTP 503 with an HTML page.
    Html502,
    /// HTTP 200 with an HTML page (a captive proxy, a CDN error page).
    Html200,
    /// The connection closes before any answer.
    DropBeforeResponse,
    /// The headers promise a body that breaks off half way.
    DropMidBody,
    /// A complete HTTP answer whose JSON is cut short.
    TruncatedBody,
    /// HTTP 200 with something that is not JSON.
    InvalidJson,
    /// The answer comes after this many milliseconds.
    Slow(u64),
    /// HTTP 429 with rate-limit headers and Retry-After.
    RateLimited,
}

/// A token bucket like Auth0's per-tenant limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_second: f64,
    pub burst: f64,
}

/// How the tenant limits log requests. Either way every answer carries
/// `x-ratelimit-limit`, `x-ratelimit-remaining` (what is left after this
/// request) and `x-ratelimit-reset` (a Unix time in whole seconds, rounded
/// up; see `RateLimitHeaders` for other styles), each as true as whole
/// numbers allow about its own limiter, on the tenant's clock
/// (`TenantState::clock`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limiter {
    /// `burst` tokens, full at start, refilled continuously at
    /// `per_second`; a request takes one. The reset is the first whole
    /// second by which the bucket is full again; the limit is `burst`.
    TokenBucket(RateLimit),
    /// At most `limit` requests in each window of `window_secs` seconds:
    /// the whole allowance comes back at once when a window ends. Where
    /// windows begin is `TenantState::window_phase`.
    FixedWindow { limit: u64, window_secs: u64 },
}

/// Where a fixed window's windows begin: what a pacer may not rely on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WindowPhase {
    /// On multiples of the window length in Unix time, the reset being
    /// exactly a window's end.
    #[default]
    UnixAligned,
    /// At the first request after the previous window ended, so a window
    /// ends anywhere within a second and its reset, a whole second rounded
    /// up, is up to a second late.
    FromFirstRequest,
}

/// How the tenant tells its limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RateLimitHeaders {
    /// `x-ratelimit-limit`, `-remaining` and `-reset` as a Unix second
    /// (rounded up), as Auth0 sends them.
    #[default]
    ResetEpoch,
    /// The same, `x-ratelimit-reset` in whole seconds from now (rounded
    /// up), as some proxies send it.
    ResetSecondsFromNow,
    /// No rate-limit headers: a 429 says `Retry-After` and nothing else.
    None,
}

/// Counters of what the tenant served.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub requests: u64,
    pub log_requests: u64,
    pub token_requests: u64,
    pub served_events: u64,
    /// 429 answers to log requests (the archiver's; the other client's are
    /// counted apart).
    pub rate_limited: u64,
    /// Requests the simulated other client spent from the same allowance,
    /// and how many of them the limiter refused.
    pub other_requests: u64,
    pub other_rate_limited: u64,
    pub faults: u64,
    pub unauthorized: u64,
    /// The fewest requests the limiter had left after any log request
    /// (`None` before the first, or without a limiter): a client that
    /// drains a bucket's burst leaves none for the tenant's own
    /// applications.
    pub lowest_remaining: Option<u64>,
    /// Log requests that arrived after a 429 had told the client to retry
    /// later (beyond the latency of requests already on their way) and
    /// before that time.
    pub retry_after_ignored: u64,
}

/// Everything the tenant knows and how it misbehaves. Tests change it
/// through `FakeTenant::with`.
#[derive(Debug)]
pub struct TenantState {
    events: Vec<StoredEvent>,
    pub client_id: String,
    pub client_secret: String,
    /// The audience the grant must name; `None` accepts `<base>/api/v2/`.
    pub audience: Option<String>,
    /// The scope minted tokens carry.
    pub minted_scope: String,
    /// Ready tokens that are accepted, with whether they hold read:logs.
    pub static_tokens: HashMap<String, bool>,
    /// Minted tokens and how many log requests each has left.
    minted: HashMap<String, Option<u64>>,
    /// Each minted token is good for this many log requests (`None`: forever).
    pub token_lifetime_requests: Option<u64>,
    /// The token endpoint answers 503 while set.
    pub token_endpoint_down: bool,
    limiter: Option<api::LimiterState>,
    other_client: Option<api::OtherClient>,
    /// Also send `Retry-After` on 429s (always sent without rate-limit
    /// headers).
    pub send_retry_after: bool,
    /// Where fixed windows begin.
    pub window_phase: WindowPhase,
    /// How limits are told.
    pub rate_limit_headers: RateLimitHeaders,
    /// Probability per log request of a random fault from `fault_kinds`.
    pub fault_rate: f64,
    pub fault_kinds: Vec<Fault>,
    /// Faults applied to the next log requests, in order, before random ones.
    pub scripted: VecDeque<Fault>,
    /// Added to every answer.
    pub latency: Duration,
    /// Serve each page in a scrambled order (Auth0 promises no order).
    pub shuffle_pages: bool,
    /// Answer `GET /api/v2/logs/{id}`.
    pub single_event_endpoint: bool,
    pub max_take: usize,
    /// The tenant's wall clock: its `Date` header, its rate-limit resets
    /// and its windows. Tests set it; it is never assumed to be ours.
    pub clock: TenantClock,
    pub stats: Stats,
    /// Attacks on the archiver, off by default (`hostile`).
    pub hostile: hostile::Hostile,
    /// The last 429 that said `Retry-After`: when it was sent and until
    /// when (tenant clock).
    retry_after: Option<(f64, f64)>,
    rng: generator::Rng,
    next_token: u64,
}

impl Default for TenantState {
    fn default() -> Self {
        TenantState {
            events: Vec::new(),
            client_id: "test-client-id".into(),
            client_secret: "test-client-secret".into(),
            audience: None,
            minted_scope: "read:logs".into(),
            static_tokens: HashMap::new(),
            minted: HashMap::new(),
            token_lifetime_requests: None,
            token_endpoint_down: false,
            limiter: None,
            other_client: None,
            send_retry_after: false,
            window_phase: WindowPhase::default(),
            rate_limit_headers: RateLimitHeaders::default(),
            fault_rate: 0.0,
            fault_kinds: Vec::new(),
            scripted: VecDeque::new(),
            latency: Duration::ZERO,
            shuffle_pages: false,
            single_event_endpoint: true,
            max_take: 100,
            clock: TenantClock::default(),
            stats: Stats::default(),
            hostile: hostile::Hostile::default(),
            retry_after: None,
            rng: generator::Rng(0x9E37_79B9_7F4A_7C15),
            next_token: 1,
        }
    }
}

impl TenantState {
    /// Adds events, keeping the `log_id` order Auth0 pages in.
    pub fn push_events(&mut self, events: impl IntoIterator<Item = StoredEvent>) {
        self.events.extend(events);
        self.events.sort_by(|a, b| log_id::compare(&a.key, &b.key));
    }

    pub fn events(&self) -> &[StoredEvent] {
        &self.events
    }

    /// The newest event's time, from its id: where a tenant that is in use
    /// has its clock.
    pub fn newest_event_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.events
            .iter()
            .rev()
            .find_map(|e| log_id::embedded_time(&e.key))
    }

    /// Retention: drops every event whose key sorts before `key`.
    pub fn expire_before(&mut self, key: &str) {
        self.events
            .retain(|e| log_id::compare(&e.key, key) != std::cmp::Ordering::Less);
    }

    /// Limits log requests with a token bucket that starts full.
    pub fn set_rate_limit(&mut self, limit: Option<RateLimit>) {
        self.set_limiter(limit.map(Limiter::TokenBucket));
    }

    /// Limits log requests with `limiter`, starting with its whole allowance.
    pub fn set_limiter(&mut self, limiter: Option<Limiter>) {
        let now = self.clock.epoch();
        self.limiter = limiter.map(|l| api::LimiterState::new(l, now));
    }

    /// Another client sharing the allowance: from now on it sends
    /// `per_second` requests a second, evenly spaced, each taking its share
    /// of the limit as a request of ours would (`None` stops it). Its
    /// requests and 429s are counted in `Stats::other_*`.
    pub fn set_other_client(&mut self, per_second: Option<f64>) {
        let now = self.clock.epoch();
        self.other_client = per_second
            .filter(|r| *r > 0.0)
            .map(|r| api::OtherClient::starting_at(r, now));
    }

    /// Invalidates every minted token (as if they expired).
    pub fn expire_minted_tokens(&mut self) {
        self.minted.clear();
    }

    fn random(&mut self) -> f64 {
        self.rng.unit()
    }

    fn mint(&mut self) -> String {
        let salt = (self.random() * 1e12) as u64;
        let token = format!("sim-token-{}-{salt:x}", self.next_token);
        self.next_token += 1;
        self.minted
            .insert(token.clone(), self.token_lifetime_requests);
        token
    }
}

/// A running simulated tenant. Dropping it stops the server.
pub struct FakeTenant {
    addr: SocketAddr,
    state: Arc<Mutex<TenantState>>,
    _runtime: Option<tokio::runtime::Runtime>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeTenant {
    /// Starts the tenant on 127.0.0.1 on its own runtime thread, so it can
    /// serve a separate process (the binary under test) or this one.
    pub fn start(state: TenantState) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let mut tenant = runtime.block_on(Self::start_on_current(state))?;
        tenant._runtime = Some(runtime);
        Ok(tenant)
    }

    /// Starts the tenant on the current tokio runtime.
    pub async fn start_on_current(state: TenantState) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(state));
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(http::serve(listener, state.clone(), rx));
        Ok(FakeTenant {
            addr,
            state,
            _runtime: None,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:<port>`: what `--base-url` should be.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Locks the state to read or change it.
    pub fn state(&self) -> MutexGuard<'_, TenantState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the locked state.
    pub fn with<R>(&self, f: impl FnOnce(&mut TenantState) -> R) -> R {
        f(&mut self.state())
    }

    pub fn stats(&self) -> Stats {
        self.state().stats.clone()
    }
}

impl Drop for FakeTenant {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(rt) = self._runtime.take() {
            rt.shutdown_background();
        }
    }
}
