//! The Management API client: one place that sends requests, paces them,
//! retries what is worth retrying, renews the token on a 401 and turns every
//! failure into a readable error without leaking a secret.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, DATE};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use super::answer::{
    BodyError, Verdict, describe_transport, never_reached, read_body, refused_token, retry_or_fail,
    server_message,
};
use super::pacing::{Pacer, RateLimit, Ticket, backoff};
use super::server_clock::{ServerClock, epoch_now};
use super::token::jwt_scopes;
use super::{Auth, HttpPolicy, default_audience};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Auth0 returns at most this many events per request.
pub const MAX_TAKE: u32 = 100;
/// Consecutive 429 answers tolerated for one request before giving up.
const MAX_RATE_LIMITED_IN_A_ROW: u32 = 50;
/// Renew a minted token this long before it expires.
const TOKEN_RENEW_MARGIN: Duration = Duration::from_secs(60);
/// Attempts at a host that has never answered before giving up: a refused
/// connection or a name that does not resolve is most often a wrong URL, and
/// a minute of retries would only hide that.
const ATTEMPTS_BEFORE_FIRST_ANSWER: u32 = 3;
/// Renewals one request may ask for when tokens that had worked expire
/// under it (parallel workers can see several in a row).
const MAX_RENEWALS_PER_REQUEST: u32 = 5;

/// Requests sent, retried and answered 429 by one client (all clones),
/// copied into the run history as pages commit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RequestCounters {
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
}

/// A cheap-to-clone handle: clones share the token, the pacer and the
/// counters, so parallel workers stay within one rate-limit allowance.
#[derive(Clone)]
pub struct Auth0Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
    policy: HttpPolicy,
    token: tokio::sync::Mutex<Option<Token>>,
    pacer: Mutex<Pacer>,
    clock: Mutex<ServerClock>,
    /// Failed attempts since the last answer, over all workers: one retry
    /// budget for the client, not one per worker.
    failures_in_row: AtomicU32,
    /// Whether the server has answered anything yet.
    answered: AtomicBool,
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

#[derive(Clone)]
struct Token {
    value: Secret,
    renew_at: Option<Instant>,
    /// Whether a request succeeded with it: a 401 to a token that worked
    /// means it expired; to one that never worked, that it is refused.
    worked: Arc<AtomicBool>,
}

impl Token {
    fn new(value: Secret, renew_at: Option<Instant>) -> Self {
        Token {
            value,
            renew_at,
            worked: Arc::new(AtomicBool::new(false)),
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<u64>,
    scope: Option<String>,
}

impl Auth0Client {
    pub fn new(base: Url, auth: Auth, policy: HttpPolicy) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            // Never follow a redirect with a bearer token attached.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("auth0-archive/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::runtime(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Auth0Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                policy,
                token: tokio::sync::Mutex::new(None),
                pacer: Mutex::new(Pacer::default()),
                clock: Mutex::new(ServerClock::default()),
                failures_in_row: AtomicU32::new(0),
                answered: AtomicBool::new(false),
                requests: AtomicU64::new(0),
                retries: AtomicU64::new(0),
                rate_limited: AtomicU64::new(0),
            }),
        })
    }

    /// Requests, retries and 429s so far, over all clones.
    pub fn counters(&self) -> RequestCounters {
        RequestCounters {
            requests: self.inner.requests.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
            rate_limited: self.inner.rate_limited.load(Ordering::Relaxed),
        }
    }

    /// Now on the tenant's clock, as its `Date` headers show it; `None`
    /// before any answer carried one.
    pub fn tenant_now(&self) -> Option<DateTime<Utc>> {
        self.clock().now()
    }

    fn endpoint(&self, path: &str) -> Result<Url> {
        let joined = format!("{}{path}", self.inner.base.as_str().trim_end_matches('/'));
        Url::parse(&joined).map_err(|e| Error::usage(format!("bad URL {joined}: {e}")))
    }

    /// Makes sure a usable token is at hand: mints one for the
    /// client-credentials grant; checks a given token's scope when it can be
    /// read, so a token without `read:logs` fails before the first page.
    pub async fn authenticate(&self) -> Result<()> {
        let mut slot = self.inner.token.lock().await;
        self.authenticate_locked(&mut slot).await
    }

    async fn authenticate_locked(&self, slot: &mut Option<Token>) -> Result<()> {
        match &self.inner.auth {
            Auth::AccessToken(t) => {
                if let Some(scopes) = jwt_scopes(t.expose())
                    && !scopes.iter().any(|s| s == "read:logs")
                {
                    return Err(Error::Auth(
                        "the access token does not grant read:logs; issue a Management API token \
                         with the read:logs permission"
                            .into(),
                    ));
                }
                *slot = Some(Token::new(t.clone(), None));
                Ok(())
            }
            Auth::ClientCredentials { .. } => {
                *slot = Some(self.mint().await?);
                Ok(())
            }
        }
    }

    /// The current token, minted or renewed when needed. `refused` is a
    /// token the server just answered 401 to: it is replaced unless another
    /// worker already did.
    async fn current_token(&self, refused: Option<&Secret>) -> Result<Token> {
        let mut slot = self.inner.token.lock().await;
        let expired = slot
            .as_ref()
            .and_then(|t| t.renew_at)
            .is_some_and(|at| Instant::now() >= at);
        let rejected = refused.is_some_and(|r| slot.as_ref().is_some_and(|t| &t.value == r));
        if slot.is_none() || expired {
            self.authenticate_locked(&mut slot).await?;
        } else if rejected {
            match &self.inner.auth {
                Auth::ClientCredentials { .. } => *slot = Some(self.mint().await?),
                Auth::AccessToken(_) => return Err(refused_token(&self.inner.auth)),
            }
        }
        slot.clone()
            .ok_or_else(|| Error::runtime("no access token"))
    }

    /// The client-credentials grant: `POST {base}/oauth/token`.
    async fn mint(&self) -> Result<Token> {
        let Auth::ClientCredentials {
            client_id,
            client_secret,
            audience,
        } = self.inner.auth.clone()
        else {
            return Err(Error::Auth(
                "the access token was refused (401): it is expired or invalid; \
                 provide a fresh AUTH0_ACCESS_TOKEN or use client credentials"
                    .into(),
            ));
        };
        let url = self.endpoint("/oauth/token")?;
        let body = serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret.expose(),
            "audience": audience,
        });
        let default_aud = default_audience(&self.inner.base);
        let answer: TokenAnswer = self
            .send(
                || self.inner.http.post(url.clone()).json(&body),
                |status, body| match status {
                    s if s.is_success() => match serde_json::from_slice::<TokenAnswer>(body) {
                        Ok(a) => Verdict::Done(a),
                        Err(e) => Verdict::Retry(format!("token endpoint sent an unreadable answer: {e}")),
                    },
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST => {
                        let why = server_message(body);
                        let hint = if audience != default_aud || why.to_lowercase().contains("audience")
                            || why.contains("Service not enabled")
                        {
                            "check --audience (AUTH0_AUDIENCE) and that the application is authorized for the Management API"
                        } else {
                            "check AUTH0_CLIENT_ID / AUTH0_CLIENT_SECRET and that the application is authorized for the Management API"
                        };
                        Verdict::Fail(Error::Auth(format!(
                            "Auth0 refused the client-credentials grant ({status}{}): {hint}",
                            if why.is_empty() { String::new() } else { format!(": {why}") }
                        )))
                    }
                    s => retry_or_fail(s, body, "token endpoint"),
                },
            )
            .await?;
        let value = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::runtime("the token endpoint answered without an access_token"))?;
        if let Some(scope) = &answer.scope
            && !scope.split_whitespace().any(|s| s == "read:logs")
        {
            return Err(Error::Auth(
                "the minted token does not grant read:logs: authorize the application for the \
                 Management API with the read:logs permission"
                    .into(),
            ));
        }
        let ttl = Duration::from_secs(answer.expires_in.unwrap_or(86_400));
        Ok(Token::new(
            Secret::new(value),
            Some(Instant::now() + ttl.saturating_sub(TOKEN_RENEW_MARGIN)),
        ))
    }

    /// One page of `GET /api/v2/logs?from=<from>&take=<take>`, read by
    /// `parse`. A body `parse` refuses (truncated, HTML from a proxy) is
    /// retried like a server error. The client knows HTTP, not the event
    /// model: the caller brings the parser.
    pub async fn logs_page<P>(
        &self,
        from: &str,
        take: u32,
        parse: impl Fn(&[u8]) -> std::result::Result<P, String>,
    ) -> Result<P> {
        let mut url = self.endpoint("/api/v2/logs")?;
        url.query_pairs_mut()
            .append_pair("from", from)
            .append_pair("take", &take.min(MAX_TAKE).to_string());
        self.get(url, |status, body| match status {
            s if s.is_success() => match parse(body) {
                Ok(page) => Verdict::Done(page),
                Err(e) => Verdict::Retry(e),
            },
            s => retry_or_fail(s, body, "GET /api/v2/logs"),
        })
        .await
    }

    /// Whether `GET /api/v2/logs/{id}` still finds the event: used to tell a
    /// quiet period from events that expired before they were archived.
    /// The id comes from the server: one that does not look like Auth0's
    /// (letters, digits, `_`, `-`) is not sent, so a crafted id (`../..`,
    /// `?`, `#`) cannot aim the bearer token at another path of the host.
    pub async fn log_exists(&self, id: &str) -> Result<bool> {
        if id.is_empty()
            || id.len() > 256
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(Error::runtime(format!(
                "the log id {id:?} does not look like an Auth0 log id; not sent to the server"
            )));
        }
        let url = self.endpoint(&format!("/api/v2/logs/{id}"))?;
        self.get(url, |status, body| match status {
            s if s.is_success() => Verdict::Done(true),
            StatusCode::NOT_FOUND => Verdict::Done(false),
            s => retry_or_fail(s, body, "GET /api/v2/logs/{id}"),
        })
        .await
    }

    /// An authenticated GET; renews the token before expiry and on a 401.
    /// A token refused before it ever worked is renewed once: a second
    /// refusal of a fresh token is final.
    async fn get<T>(&self, url: Url, judge: impl Fn(StatusCode, &[u8]) -> Verdict<T>) -> Result<T> {
        let mut refused: Option<Secret> = None;
        let mut fresh_refused = 0u32;
        let mut renewals = 0u32;
        loop {
            let token = self.current_token(refused.as_ref()).await?;
            let result = self
                .send(
                    || {
                        self.inner
                            .http
                            .get(url.clone())
                            .bearer_auth(token.value.expose())
                            .header(ACCEPT, "application/json")
                    },
                    |status, body| match status {
                        StatusCode::UNAUTHORIZED => Verdict::Done(None),
                        StatusCode::FORBIDDEN => Verdict::Fail(Error::Auth(format!(
                            "Auth0 refused to read logs (403 Forbidden{}): the token lacks the read:logs \
                             permission; grant it to the application under APIs > Auth0 Management API",
                            match server_message(body) {
                                m if m.is_empty() => String::new(),
                                m => format!(": {m}"),
                            }
                        ))),
                        s => match judge(s, body) {
                            Verdict::Done(v) => Verdict::Done(Some(v)),
                            Verdict::Retry(e) => Verdict::Retry(e),
                            Verdict::Fail(e) => Verdict::Fail(e),
                        },
                    },
                )
                .await?;
            let Some(v) = result else {
                fresh_refused += !token.worked.load(Ordering::SeqCst) as u32;
                renewals += 1;
                if fresh_refused > 1 || renewals > MAX_RENEWALS_PER_REQUEST {
                    return Err(refused_token(&self.inner.auth));
                }
                refused = Some(token.value);
                continue;
            };
            token.worked.store(true, Ordering::SeqCst);
            return Ok(v);
        }
    }

    /// Sends a request until `judge` is satisfied: paces every attempt, waits
    /// out 429s, retries network failures, timeouts, 5xx and bad bodies with
    /// capped exponential backoff, then gives up naming the last error.
    async fn send<T>(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
        judge: impl Fn(StatusCode, &[u8]) -> Verdict<T>,
    ) -> Result<T> {
        let mut rate_limited_in_row = 0u32;
        loop {
            match self
                .attempt(&build, &judge, &mut rate_limited_in_row)
                .await?
            {
                Attempt::Done(v) => return Ok(v),
                Attempt::RateLimited => continue,
                Attempt::Failed {
                    problem,
                    unreachable,
                } => self.back_off(&problem, unreachable).await?,
            }
        }
    }

    /// One paced request. A 429 is counted here rather than as a failure:
    /// waiting it out is the pacer's job, not the retry budget's.
    async fn attempt<T>(
        &self,
        build: &impl Fn() -> reqwest::RequestBuilder,
        judge: &impl Fn(StatusCode, &[u8]) -> Verdict<T>,
        rate_limited_in_row: &mut u32,
    ) -> Result<Attempt<T>> {
        let mut turn = self.turn().await;
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let sent_at = epoch_now();
        let resp = match build().send().await {
            Err(e) => {
                self.pacer().failed(turn.hand_back());
                // Only a tenant that has never answered is called
                // unreachable: a later network failure is a blip.
                let unreachable = never_reached(&e) && !self.inner.answered.load(Ordering::SeqCst);
                return Ok(Attempt::Failed {
                    problem: describe_transport(&e),
                    unreachable,
                });
            }
            Ok(resp) => resp,
        };
        self.inner.answered.store(true, Ordering::SeqCst);
        let status = resp.status();
        let rl = RateLimit::from_headers(resp.headers(), self.server_now(&resp, sent_at));
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.inner.rate_limited.fetch_add(1, Ordering::Relaxed);
            *rate_limited_in_row += 1;
            let wait = self
                .pacer()
                .rate_limited(turn.hand_back(), &rl, Instant::now());
            if *rate_limited_in_row > MAX_RATE_LIMITED_IN_A_ROW {
                return Err(Error::runtime(format!(
                    "still rate limited (429) after {rate_limited_in_row} waits; \
                     another client may be using the whole allowance"
                )));
            }
            tracing::debug!(?wait, "rate limited");
            return Ok(Attempt::RateLimited);
        }
        *rate_limited_in_row = 0;
        self.pacer().observe(turn.hand_back(), &rl, Instant::now());
        let problem = match read_body(resp).await {
            Err(BodyError::TooLarge(e)) => return Err(Error::runtime(e)),
            Err(BodyError::Broke(e)) => format!("the answer broke off: {e}"),
            Ok(body) => match judge(status, &body) {
                Verdict::Done(v) => {
                    self.inner.failures_in_row.store(0, Ordering::SeqCst);
                    return Ok(Attempt::Done(v));
                }
                Verdict::Fail(e) => return Err(e),
                Verdict::Retry(why) => why,
            },
        };
        Ok(Attempt::Failed {
            problem,
            unreachable: false,
        })
    }

    /// The tenant's time when `resp` was made. Resets are read against the
    /// earliest the tenant's clock may read, so that none is taken for
    /// earlier than it is while `Date` headers still leave doubt.
    fn server_now(&self, resp: &reqwest::Response, sent_at: f64) -> f64 {
        let mut clock = self.clock();
        let date = resp.headers().get(DATE).and_then(|d| d.to_str().ok());
        clock.observe(date, sent_at, epoch_now());
        clock.earliest_epoch_now()
    }

    /// Counts a failed attempt and sleeps before the next, or gives up once
    /// the budget is spent. A tenant never reached gets a smaller budget, so
    /// a wrong domain fails fast instead of backing off for minutes.
    async fn back_off(&self, problem: &str, unreachable: bool) -> Result<()> {
        let failures = self.inner.failures_in_row.fetch_add(1, Ordering::SeqCst) + 1;
        let budget = if unreachable {
            self.inner
                .policy
                .max_retries
                .min(ATTEMPTS_BEFORE_FIRST_ANSWER - 1)
        } else {
            self.inner.policy.max_retries
        };
        if failures > budget {
            let message = format!("giving up after {failures} attempts; last error: {problem}");
            return Err(if unreachable {
                Error::Unreachable(message)
            } else {
                Error::Runtime(message)
            });
        }
        self.inner.retries.fetch_add(1, Ordering::Relaxed);
        let policy = &self.inner.policy;
        let delay = backoff(failures, policy.first_retry_delay, policy.max_retry_delay);
        tracing::warn!(attempt = failures, ?delay, error = %problem, "retrying");
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

/// What one attempt came to, short of an error that ends the request.
enum Attempt<T> {
    Done(T),
    /// A 429: the pacer now holds the next request back until the reset.
    RateLimited,
    Failed {
        problem: String,
        unreachable: bool,
    },
}

impl Auth0Client {
    fn pacer(&self) -> std::sync::MutexGuard<'_, Pacer> {
        self.inner.pacer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn clock(&self) -> std::sync::MutexGuard<'_, ServerClock> {
        self.inner.clock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the pacer lets a request go. It is asked again after
    /// each wait rather than handing out a slot in advance, so answers
    /// that arrive meanwhile decide it.
    async fn turn(&self) -> Turn<'_> {
        loop {
            let next = self.pacer().request(Instant::now());
            match next {
                Ok(ticket) => {
                    return Turn {
                        client: self,
                        ticket: Some(ticket),
                    };
                }
                Err(at) => tokio::time::sleep_until(at.into()).await,
            }
        }
    }
}

/// A request the pacer let go. Should its future be dropped before the
/// answer, the ticket still goes back (as a failure), so the pacer does
/// not wait for an answer that will never come.
struct Turn<'a> {
    client: &'a Auth0Client,
    ticket: Option<Ticket>,
}

impl Turn<'_> {
    fn hand_back(&mut self) -> Ticket {
        self.ticket.take().expect("a turn is handed back once")
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.client.pacer().failed(ticket);
        }
    }
}
