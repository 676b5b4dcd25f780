//! Rate-limit pacing, read from what the server's answers show:
//! `x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset` (a Unix
//! time in whole seconds, or seconds from now as some proxies send it),
//! `Retry-After`, and which requests succeeded.
//!
//! Why it works the way it does:
//!
//! - **The headers are a contract only in part.** Auth0 documents token
//!   buckets; proxies, other deployments and older policies count requests
//!   in fixed windows, aligned on the clock or starting at the first request
//!   after the last one ended. A reset is a whole second, so up to a second
//!   late; `remaining` is a whole number, so a bucket of 2 says 0 after
//!   every second request although a token returns every half second; the
//!   tenant's clock is not ours (the client reads resets on the tenant's
//!   clock, from its `Date` headers). What holds for every limiter: no more
//!   than `remaining` is certain before the reset. The pacer starts from
//!   that rule and loosens it only on evidence from answers.
//! - **The shape is learned, not assumed.** `remaining` rising by half the
//!   limit or more at once (and by at least 3, more than a bucket of 2 can)
//!   is a window coming back whole; rising by a token or so before the
//!   announced reset, or our spending pushing the reset later (a window's
//!   stays put), is a bucket. Until the answers show either, the rule
//!   above is kept.
//! - **A window: what remains is spread evenly until its end**, the end
//!   itself being the slot after the last one: the next request leaves
//!   `(end - last) / (allowance + 1)` after the previous. A window is then
//!   spent whole, and not beyond, by its end. After the end one request
//!   goes alone, a short margin after it: its answer gives the new
//!   allowance, spread like any other (a reset is not permission to burst:
//!   all at once can trip a limiter that counts over a shorter span).
//!   The end is the announced reset, or earlier when answers bound it
//!   better: a window began after our last request counted in the one
//!   before and ends by its reset, so it lasts less than the time between
//!   the two; and when a new window is seen before the previous one's
//!   announced reset (a window starting at the first request after the
//!   last one ended, its reset rounded up) and no other client is seen,
//!   the window started with our request that saw `remaining` jump back
//!   up, and lasts at most until its announced reset and until our first
//!   request in the next. The shortest of these over many windows, whose
//!   resets fall at varying fractions of a second, is close to the true
//!   length; a window's end is then our first request in it plus that.
//!   Should a request sent that early be refused, the learned ends move
//!   later, and after a few such refusals announced resets are trusted
//!   again. A request refused just after an announced reset (our reading
//!   of the tenant's clock is off) moves the first request after each
//!   reset later.
//! - **A bucket: an even pace just under its refill rate.** That pace is
//!   safe for any bucket and never spends its burst, which the tenant's own
//!   applications need as much as we do. The rate is found from `remaining`:
//!   while the bucket stays full (give or take an eighth of the limit,
//!   what another client keeping it near full takes between our requests)
//!   the pace grows, by half each second until it first proves too fast
//!   (small buckets excepted), then by a tenth; when `remaining` falls by
//!   two or reaches 0, the bucket is being
//!   drained, and what it granted meanwhile (our requests plus the change
//!   in `remaining`) is its refill rate less what other clients spend, so
//!   the pace drops just under that, and growth stays under the pace that
//!   proved too fast (rising slowly, in case the limit was raised). With
//!   `remaining` of 0 the next request waits one and a half paces (a
//!   refill's worth at any pace up to 1.5 times the rate), or the reset,
//!   whichever is first.
//! - **Parallel workers share one pacer and one allowance.** The allowance
//!   is the newest answer's `remaining` less the requests sent after the
//!   one it answered (the server had not counted them yet); an answer that
//!   overtook a newer one is ignored for it. Each worker asks again when
//!   its wait is over, so answers arriving meanwhile decide, not a slot
//!   handed out earlier.
//! - **Other clients spending the same budget** make `remaining` fall
//!   faster than our requests explain. A bucket's pace accounts for them by
//!   itself (what the bucket granted us is what they left). In a window,
//!   spreading what remains down to zero by the end means whoever comes
//!   last in the window is refused, and with an evenly paced other client
//!   that is often them. So their rate is estimated from pairs of answers
//!   with the same reset (one window, whatever the clocks say; a bucket's
//!   refill makes it negative, so ignored), and what they will spend before
//!   the end is left to them. A client whose requests are all refused
//!   leaves no trace in our answers, so this is no guarantee.
//! - **No rate-limit headers at all, only 429 with `Retry-After`:** nothing
//!   is paced until a 429; then the pace is what the server granted since
//!   the previous one, less a margin, growing slowly and never back to the
//!   pace that was refused.
//! - **A 429 still happens** (another client, a limiter that changed):
//!   nothing leaves before `Retry-After` or the reset, plus jitter so that
//!   separate processes told the same time do not return in lockstep, and
//!   the pace drops.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// Longest a single 429 makes us wait; a reset further out is treated as this.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Wait after a 429 that says nothing about when to come back.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// The first request after a reset leaves this long after it: the reset is
/// a whole second of the server's clock, compared with ours.
const RESET_MARGIN: Duration = Duration::from_millis(30);
/// A request refused just after an announced reset moves later the first
/// request after each reset by this much, up to `MAX_RESET_LAG`.
const RESET_LAG_STEP: Duration = Duration::from_millis(50);
const MAX_RESET_LAG: Duration = Duration::from_secs(1);
const MAX_WINDOW_END_SLACK: Duration = Duration::from_millis(150);
/// How often a request held back until the answer to the first request
/// after a reset asks again.
const PROBE_POLL: Duration = Duration::from_millis(5);
/// How quickly the estimate of other clients' spending forgets (seconds).
const OTHERS_MEMORY: f64 = 5.0;
/// A window seen starting this long before the previous one's announced
/// reset shows the resets to be late (more than clock error explains).
const LATE_RESET_EVIDENCE: Duration = Duration::from_millis(100);
/// The first request after a window's learned end leaves this long after
/// it: the end is measured between our own sending times, so this covers
/// only how much the delay before the server counts a request varies.
const WINDOW_END_MARGIN: Duration = Duration::from_millis(5);
/// The pace stays this far under what a bucket was seen to grant.
const PACE_MARGIN: f64 = 0.97;
/// While a bucket stays full, the pace grows by this share per second.
const PACE_GROWTH: f64 = 0.10;
/// With a bucket's `remaining` at 0, the next request waits this many
/// paces: a refill's worth at any pace up to 1.5 times the rate, which the
/// pace is kept well under.
const EMPTY_HOLD: f64 = 1.5;
/// The ceiling a pace that proved too fast sets rises by this share per
/// second.
const CEILING_RISE: f64 = 0.002;
/// Without rate-limit headers, the pace grows by this share per second
/// between 429s.
const BLIND_GROWTH: f64 = 0.03;
/// A bucket's trend is judged over at least this long...
const TREND_MIN: Duration = Duration::from_millis(500);
/// ...and at most this long.
const TREND_MAX: Duration = Duration::from_secs(3);
/// Values of `x-ratelimit-reset` below this are seconds from now, not a
/// Unix time (which passed it in 2001).
const EPOCH_FLOOR: u64 = 1_000_000_000;

/// What the rate-limit headers of one answer said.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Time left until the reset (a bucket full again, a window's end).
    pub reset_in: Option<Duration>,
    /// The reset as sent when it was a Unix time: equal values mean one
    /// reset period.
    pub reset: Option<u64>,
    pub retry_after: Option<Duration>,
}

impl RateLimit {
    /// Reads the headers of an answer; `server_now` is now on the server's
    /// clock (Unix seconds), which a reset sent as a Unix time is a time of.
    pub fn from_headers(headers: &HeaderMap, server_now: f64) -> Self {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let now = Duration::from_secs_f64(server_now.max(0.0));
        let sent = num("x-ratelimit-reset");
        let (reset_in, reset) = match sent {
            Some(secs) if secs < EPOCH_FLOOR => (Some(Duration::from_secs(secs)), None),
            Some(epoch) => (
                Some(Duration::from_secs(epoch).saturating_sub(now)),
                Some(epoch),
            ),
            None => (None, None),
        };
        RateLimit {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset_in,
            reset,
            retry_after: num("retry-after").map(Duration::from_secs),
        }
    }
}

/// A request the pacer let go. Hand it back with the answer (`observe`,
/// `rate_limited`) or the failure (`failed`).
#[derive(Debug)]
#[must_use = "a ticket must be handed back to the pacer"]
pub struct Ticket {
    seq: u64,
    sent_at: Instant,
}

/// The newest word from the server: after counting request `seq` (sent at
/// `sent_at`), it had `remaining` requests left until `reset_at`.
#[derive(Debug, Clone, Copy)]
struct Reading {
    seq: u64,
    sent_at: Instant,
    remaining: u64,
    reset_at: Instant,
    /// The reset as sent (Unix seconds), when known: equal values mean one
    /// reset period.
    reset: Option<u64>,
    limit: Option<u64>,
    /// Our requests the server had counted with this one (sent less
    /// refused): with `remaining`, what it had granted us so far.
    granted: u64,
}

/// What kind of limiter the answers have shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Shape {
    /// Not yet known: `remaining` is not spent before the reset.
    #[default]
    Unknown,
    /// The allowance comes back whole at once.
    Window,
    /// The allowance comes back a little at a time.
    Bucket,
}

/// One point of a bucket's trend.
#[derive(Debug, Clone, Copy)]
struct Point {
    at: Instant,
    remaining: u64,
    /// Our requests counted plus `remaining`: grows at the refill rate
    /// (less other clients' spending) while the bucket is not full.
    granted_total: f64,
}

/// Decides when each request may leave. One pacer serves every worker of a
/// client, so together they stay within the allowance.
#[derive(Debug, Default)]
pub struct Pacer {
    /// Requests let go so far; the last one's ticket is this number.
    sent: u64,
    last_sent: Option<Instant>,
    first_sent: Option<Instant>,
    /// Requests let go whose answers have not arrived.
    in_flight: u64,
    /// Requests answered 429 so far.
    refused: u64,
    /// Requests answered otherwise so far.
    answered: u64,
    /// `None` until an answer carries rate-limit headers: until then the
    /// server is not known to limit anything.
    reading: Option<Reading>,
    /// Nothing leaves before this (a 429 said so).
    blocked_until: Option<Instant>,
    /// Whether any answer has arrived: until one has, it is not known
    /// whether the server limits at all, and one request goes at a time.
    heard: bool,
    /// The last answer that counts for the estimate of other clients.
    sample: Option<Reading>,
    /// What `remaining` fell by between answers within one reset period
    /// beyond our own requests (other clients' spending, less any refill),
    /// and over how many seconds, exponentially forgotten.
    others_spent: f64,
    others_secs: f64,
    /// Answers that showed a window coming back whole, and a bucket
    /// refilling.
    window_votes: u32,
    bucket_votes: u32,
    /// The current window started when this request (seq, sent at) was
    /// counted, and the earliest reset any answer in it announced.
    window_start: Option<(u64, Instant)>,
    window_reset: Option<Instant>,
    /// The longest a window can last, measured from our first request in
    /// it: from what any window shows, and from what windows show that
    /// start at their first request (theirs when other clients are seen).
    window_span: Option<Duration>,
    window_span_alone: Option<Duration>,
    /// A window was seen starting before the previous one's announced
    /// reset.
    late_resets: bool,
    /// Requests sent before an announced reset, relying on the learned
    /// window length, were refused: the learned ends move later by this,
    /// and beyond `MAX_WINDOW_END_SLACK` announced resets are trusted
    /// again.
    window_end_slack: Duration,
    early_end_refused: bool,
    /// Added to announced resets after requests sent just after them were
    /// refused.
    reset_lag: Duration,
    /// Requests per second, evenly spaced (buckets, and a server that
    /// sends no rate-limit headers).
    pace: Option<f64>,
    /// Under the pace that last proved too fast (refused, or a bucket
    /// draining), and since when: growth stays under it.
    refused_pace: Option<(f64, Instant)>,
    /// A bucket's recent points, oldest first.
    trend: VecDeque<Point>,
    last_growth: Option<Instant>,
    /// When a 429 last lowered the pace.
    last_slowdown: Option<Instant>,
    /// Without headers: when the pace was last measured from a 429, and
    /// how many requests had been answered by then.
    blind_since: Option<(Instant, u64)>,
}

impl Pacer {
    /// Lets a request go now, or says when to ask again.
    pub fn request(&mut self, now: Instant) -> Result<Ticket, Instant> {
        if let Some(until) = self.blocked_until.filter(|&u| now < u) {
            return Err(until);
        }
        if !self.heard && self.in_flight > 0 {
            return Err(now + PROBE_POLL);
        }
        if let (Some(pace), Some(last)) = (self.pace, self.last_sent) {
            let next = last + Duration::from_secs_f64(1.0 / pace);
            if now < next {
                return Err(next);
            }
        }
        if let Some(r) = self.reading {
            match self.shape() {
                Shape::Bucket => self.bucket_hold(r, now)?,
                Shape::Window | Shape::Unknown => self.window_hold(r, now)?,
            }
        }
        self.sent += 1;
        self.in_flight += 1;
        self.last_sent = Some(now);
        self.first_sent.get_or_insert(now);
        Ok(Ticket {
            seq: self.sent,
            sent_at: now,
        })
    }

    fn shape(&self) -> Shape {
        if self.window_votes > 0 && self.window_votes * 3 >= self.bucket_votes {
            Shape::Window
        } else if self.bucket_votes >= 2 {
            Shape::Bucket
        } else {
            Shape::Unknown
        }
    }

    /// A bucket: the pace decides, but with nothing left as of the newest
    /// answer the next request waits `EMPTY_HOLD` paces, or the reset.
    fn bucket_hold(&self, r: Reading, now: Instant) -> Result<(), Instant> {
        let allowance = r.remaining as f64 - (self.sent - r.seq) as f64;
        if allowance >= 1.0 || now >= r.reset_at {
            return Ok(());
        }
        let mut until = r.reset_at + RESET_MARGIN;
        if let (Some(pace), Some(last)) = (self.pace, self.last_sent) {
            until = until.min(last + Duration::from_secs_f64(EMPTY_HOLD / pace));
        }
        if now < until { Err(until) } else { Ok(()) }
    }

    /// When the window `r` was counted in ends, and the first request after
    /// it may leave: its announced reset and a margin, or earlier when
    /// answers showed resets to be late.
    fn window_end(&self, r: Reading) -> (Instant, Instant) {
        let reset = self.announced_reset(r);
        let announced = (reset, reset + RESET_MARGIN + self.reset_lag);
        let alone = self.window_span_alone.filter(|_| self.others_rate() < 0.1);
        let span = match (self.window_span, alone) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (self.window_start, span) {
            (Some((seq, start)), Some(span))
                if !self.early_end_refused && seq <= r.seq && self.shape() == Shape::Window =>
            {
                let learned = start + span + self.window_end_slack;
                if learned < reset {
                    (learned, learned + WINDOW_END_MARGIN)
                } else {
                    announced
                }
            }
            _ => announced,
        }
    }

    /// The reset of the window `r` was counted in: the earliest any answer
    /// in the window announced (resets in seconds from now, rounded up,
    /// vary from one answer to the next; each is late, none early).
    fn announced_reset(&self, r: Reading) -> Instant {
        match (self.window_start, self.window_reset) {
            (Some((seq, _)), Some(earliest)) if seq <= r.seq => r.reset_at.min(earliest),
            _ => r.reset_at,
        }
    }

    /// A window, or a limiter not known yet: what remains is spread evenly
    /// until the end; after it, one request goes alone.
    fn window_hold(&self, r: Reading, now: Instant) -> Result<(), Instant> {
        let (end, after) = self.window_end(r);
        if now < end {
            // Requests sent after the one this reading answered are not
            // counted in it yet, and other clients will spend some more
            // before the end.
            let others =
                self.others_rate() * end.saturating_duration_since(r.sent_at).as_secs_f64();
            let allowance = r.remaining as f64 - (self.sent - r.seq) as f64 - others;
            if allowance < 1.0 {
                return Err(after);
            }
            if let Some(last) = self.last_sent {
                let share = end.saturating_duration_since(last).as_secs_f64() / (allowance + 1.0);
                let next = last + Duration::from_secs_f64(share);
                if now < next {
                    return Err(next);
                }
            }
        } else if now < after {
            return Err(after);
        } else if self.in_flight > 0 && self.last_sent.is_some_and(|l| l >= end) {
            // The first request after the end is out: its answer tells
            // what the new allowance is.
            return Err(now + PROBE_POLL);
        }
        Ok(())
    }

    /// The request got an answer other than 429, read at `now`.
    pub fn observe(&mut self, ticket: Ticket, rl: &RateLimit, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.heard = true;
        self.answered += 1;
        if let Some(r) = self.learn(&ticket, rl.remaining, rl, now) {
            self.estimate_others(r);
            return;
        }
        // An answer without rate-limit headers after the reset of the last
        // one that had them (a 429's, say): they say nothing any more.
        if self.reading.is_some_and(|r| now >= r.reset_at) {
            self.reading = None;
        }
        if self.reading.is_none() {
            self.grow_blind(now);
        }
    }

    /// Requests per second other clients spend, as far as the answers show
    /// (zero when a bucket's refill outweighs them).
    fn others_rate(&self) -> f64 {
        if self.others_secs < 0.2 {
            return 0.0;
        }
        (self.others_spent / self.others_secs).max(0.0)
    }

    /// Between two answers within one reset period, `remaining` fell by our
    /// requests sent in between and other clients', less any refill. (Two
    /// answers with the same reset are in one window of a fixed window,
    /// whatever the clocks say.)
    fn estimate_others(&mut self, r: Reading) {
        if let Some(prev) = self.sample.filter(|p| p.seq < r.seq)
            && prev.reset.is_some()
            && prev.reset == r.reset
        {
            let ours = (r.seq - prev.seq) as f64;
            let theirs = prev.remaining as f64 - r.remaining as f64 - ours;
            let secs = r
                .sent_at
                .saturating_duration_since(prev.sent_at)
                .as_secs_f64();
            let keep = (-secs / OTHERS_MEMORY).exp();
            self.others_spent = self.others_spent * keep + theirs;
            self.others_secs = self.others_secs * keep + secs;
        }
        if self.sample.is_none_or(|p| p.seq < r.seq) {
            self.sample = Some(r);
        }
    }

    /// The request got no answer (network failure, timeout).
    pub fn failed(&mut self, ticket: Ticket) {
        let _ = ticket;
        self.in_flight = self.in_flight.saturating_sub(1);
        self.heard = true;
    }

    /// The request was answered 429 (read at `now`): nothing may leave
    /// before the server said so. Returns how long that is.
    pub fn rate_limited(&mut self, ticket: Ticket, rl: &RateLimit, now: Instant) -> Duration {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.heard = true;
        self.refused += 1;
        // Refused although sent after what was taken for the end of the
        // window: a learned window length was wrong (the announced resets
        // are trusted again), or the announced reset was read early (our
        // idea of the server's clock is off: later from now on).
        if self.shape() != Shape::Bucket
            && let Some(r) = self.reading.filter(|r| r.seq < ticket.seq)
        {
            let (end, _) = self.window_end(r);
            let reset = self.announced_reset(r);
            if ticket.sent_at >= end && end < reset {
                self.window_end_slack += RESET_LAG_STEP;
                self.early_end_refused |= self.window_end_slack > MAX_WINDOW_END_SLACK;
            } else if ticket.sent_at >= reset {
                self.reset_lag = (self.reset_lag + RESET_LAG_STEP).min(MAX_RESET_LAG);
            }
        }
        let wait = rl
            .retry_after
            .or(rl.reset_in.filter(|d| !d.is_zero()))
            .unwrap_or(DEFAULT_RATE_LIMIT_WAIT)
            .clamp(Duration::from_millis(200), MAX_RATE_LIMIT_WAIT)
            + jitter(250);
        let until = now + wait;
        // Refused means nothing is left, whatever `remaining` says; and the
        // refused request spent nothing, so it breaks the estimate's pairs.
        let had_reading = self.reading.is_some();
        self.learn(&ticket, Some(0), rl, now);
        self.sample = None;
        // Requests already on their way when the last 429 came back say
        // nothing new about the pace.
        let news = self.last_slowdown.is_none_or(|at| ticket.sent_at > at);
        if news && (had_reading || self.reading.is_none()) {
            self.slow_down(until);
            self.last_slowdown = Some(now);
        }
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        wait
    }

    /// After a 429: the pace drops under the one refused. Without headers
    /// the pace is what the server granted since the previous 429 (or the
    /// first request), over that time and the wait.
    fn slow_down(&mut self, until: Instant) {
        let current = self.pace.or(self.observed_rate());
        if let Some(p) = current {
            self.lower_ceiling(p, until);
        }
        if self.reading.is_none() {
            let (since, answered) = self
                .blind_since
                .or(self.first_sent.map(|t| (t, 0)))
                .unwrap_or((until, self.answered));
            let secs = until.saturating_duration_since(since).as_secs_f64();
            if secs > 0.0 {
                let granted = (self.answered - answered) as f64 / secs;
                let p = current.map_or(granted, |c| c.min(granted)) * PACE_MARGIN;
                self.pace = Some(p.max(0.1));
            }
            self.blind_since = Some((until, self.answered));
        } else if let Some(p) = current {
            self.pace = Some((p * 0.9).max(0.1));
        }
        self.trend.clear();
        self.last_growth = Some(until);
    }

    /// A pace of `pace` proved too fast at `at`: growth stays under it.
    fn lower_ceiling(&mut self, pace: f64, at: Instant) {
        let under = pace * PACE_MARGIN;
        let current = self.ceiling(at).unwrap_or(f64::INFINITY);
        self.refused_pace = Some((under.min(current), at));
    }

    /// The ceiling on growth at `at`: under the last pace that proved too
    /// fast, rising slowly (the limiter, or others' use of it, changes).
    fn ceiling(&self, at: Instant) -> Option<f64> {
        // Without headers, each probe higher would cost a 429.
        let rise = if self.reading.is_some() {
            CEILING_RISE
        } else {
            0.0
        };
        self.refused_pace.map(|(pace, since)| {
            pace * (1.0 + rise * at.saturating_duration_since(since).as_secs_f64())
        })
    }

    /// The rate we have been sending at lately, for a first pace.
    fn observed_rate(&self) -> Option<f64> {
        let (first, last) = (self.first_sent?, self.last_sent?);
        let secs = last.saturating_duration_since(first).as_secs_f64();
        (secs > 0.5).then(|| self.sent as f64 / secs)
    }

    /// Without headers, the pace grows slowly between 429s, never back to
    /// one that was refused.
    fn grow_blind(&mut self, now: Instant) {
        let Some(p) = self.pace else { return };
        let since = self.last_growth.unwrap_or(now);
        let secs = now.saturating_duration_since(since).as_secs_f64();
        if secs < 0.25 {
            return;
        }
        self.last_growth = Some(now);
        let grown = p * (1.0 + BLIND_GROWTH * secs);
        let ceiling = self.ceiling(now).unwrap_or(f64::INFINITY);
        self.pace = Some(grown.min(ceiling).max(p));
    }

    /// Returns what an answer said, if it said enough, and keeps it if it
    /// answers the most recently sent request heard from: answers overtake
    /// each other, and an older one would not show requests spent since.
    fn learn(
        &mut self,
        ticket: &Ticket,
        remaining: Option<u64>,
        rl: &RateLimit,
        now: Instant,
    ) -> Option<Reading> {
        let (Some(remaining), Some(reset_in)) = (remaining, rl.reset_in) else {
            return None;
        };
        let r = Reading {
            seq: ticket.seq,
            sent_at: ticket.sent_at,
            remaining,
            reset_at: now + reset_in,
            reset: rl.reset,
            limit: rl.limit,
            granted: ticket.seq.saturating_sub(self.refused),
        };
        match self.reading {
            Some(newest) if newest.seq >= r.seq => {}
            previous => {
                if let Some(prev) = previous {
                    self.classify(prev, r);
                }
                if let Some(earliest) = self.window_reset.as_mut() {
                    *earliest = (*earliest).min(r.reset_at);
                }
                self.reading = Some(r);
                if self.shape() == Shape::Bucket {
                    self.follow_bucket(r);
                } else if self.shape() == Shape::Window {
                    self.pace = None;
                }
            }
        }
        Some(r)
    }

    /// Reads the shape of the limiter from how `remaining` moved between
    /// two answers in the order the requests were sent.
    fn classify(&mut self, prev: Reading, r: Reading) {
        let ours = (r.seq - prev.seq) as i64;
        let rise = r.remaining as i64 - (prev.remaining as i64 - ours);
        // A bucket of 2 refilled whole rises by 2: a window must show more.
        let whole = (r.limit.unwrap_or(2) as i64 / 2).max(3);
        if rise >= whole {
            self.window_votes += 1;
            // The window began after our last request counted in the one
            // before, and ends by its announced reset: it lasts less than
            // the time between the two, whoever started it.
            let loose = r.reset_at.saturating_duration_since(prev.sent_at);
            self.window_span = Some(self.window_span.map_or(loose, |s| s.min(loose)));
            // Windows that start at their first request and whose reset is
            // rounded up are seen starting before the announced reset;
            // windows on the clock never are. When no other client is seen,
            // such a window started with our request that saw it: it lasts
            // at most until its announced reset, and until our first
            // request in the next.
            // (Only resets sent as a Unix time show it: seconds from now
            // are late by their rounding whatever the window.)
            self.late_resets |= prev.reset.is_some()
                && r.reset.is_some()
                && r.sent_at + LATE_RESET_EVIDENCE < self.announced_reset(prev);
            if self.late_resets {
                let mut tight = r.reset_at.saturating_duration_since(r.sent_at);
                if let Some((_, start)) = self.window_start {
                    tight = tight.min(r.sent_at.saturating_duration_since(start));
                }
                self.window_span_alone =
                    Some(self.window_span_alone.map_or(tight, |s| s.min(tight)));
            }
            self.window_start = Some((r.seq, r.sent_at));
            self.window_reset = Some(r.reset_at);
        } else if rise >= 1 && r.sent_at < prev.reset_at {
            // Refilled before the reset.
            self.bucket_votes += 1;
        } else if rise <= 0 && r.remaining < prev.remaining && self.reset_moved(prev, r) {
            // Spending pushed the reset later: a window's stays put.
            self.bucket_votes += 1;
        }
    }

    /// Whether the reset moved later between two answers by more than its
    /// rounding explains.
    fn reset_moved(&self, prev: Reading, r: Reading) -> bool {
        match (prev.reset, r.reset) {
            (Some(a), Some(b)) => b > a,
            _ => r.reset_at > prev.reset_at + Duration::from_secs(1),
        }
    }

    /// A bucket's pace follows its trend: grows while it stays full, drops
    /// under what it granted while it drained.
    fn follow_bucket(&mut self, r: Reading) {
        let point = Point {
            at: r.sent_at,
            remaining: r.remaining,
            granted_total: r.granted as f64 + r.remaining as f64,
        };
        if self.pace.is_none() {
            // A first pace: what is missing from a full bucket over the
            // time until it is full, when enough is missing for the reset's
            // rounding not to dominate; else the whole limit per reset
            // period of at least a second (a limit of N is most often N a
            // second).
            let limit = r.limit.unwrap_or(r.remaining + 1);
            let missing = limit.saturating_sub(r.remaining) as f64;
            let until_full = r
                .reset_at
                .saturating_duration_since(r.sent_at)
                .as_secs_f64();
            let first = if missing >= 4.0 && until_full > 0.0 {
                missing / until_full
            } else {
                limit as f64 / until_full.max(1.0)
            };
            self.pace = Some(first.max(0.5));
            // The trend starts with the next answer: this one may show a
            // bucket drained before its shape was known.
            self.trend.clear();
            return;
        }
        while self
            .trend
            .front()
            .is_some_and(|p| point.at.saturating_duration_since(p.at) > TREND_MAX)
        {
            self.trend.pop_front();
        }
        self.trend.push_back(point);
        let (Some(&oldest), Some(pace)) = (self.trend.front(), self.pace) else {
            return;
        };
        let span = point.at.saturating_duration_since(oldest.at);
        if span < TREND_MIN {
            return;
        }
        let secs = span.as_secs_f64();
        // Full, give or take what another client keeping it near full
        // takes between our requests.
        let full = r.limit.map_or(r.remaining, |l| l.saturating_sub(1 + l / 8));
        let lowest = self.trend.iter().map(|p| p.remaining).min().unwrap_or(0);
        // Fallen by two (one is the rounding of a bucket kept near full by
        // us and another client), or to empty at any point.
        let fell = lowest == 0
            || (point.remaining < oldest.remaining && oldest.remaining - point.remaining >= 2);
        if fell {
            // Granted meanwhile: our requests and the change in
            // `remaining`, whole numbers, so up to one more.
            let granted = point.granted_total - oldest.granted_total + 1.0;
            let next = (pace * 0.95).min(granted / secs * PACE_MARGIN);
            self.pace = Some(next.max(0.1));
            self.lower_ceiling(pace, r.sent_at);
            self.trend.clear();
            self.trend.push_back(point);
        } else if lowest >= full {
            // Until a pace first proves too fast, it grows by half every
            // second,
            // unless the bucket is so small that a step too far empties it.
            let growth = match self.refused_pace {
                None if r.limit.is_some_and(|l| l >= 8) => 0.5,
                _ => PACE_GROWTH,
            };
            let grown = pace * (1.0 + growth * secs);
            let ceiling = self.ceiling(r.sent_at).unwrap_or(f64::INFINITY);
            self.pace = Some(grown.min(ceiling).max(pace));
            self.trend.clear();
            self.trend.push_back(point);
        }
    }
}

/// A random delay in `0..max_ms` milliseconds, so that several clients (or
/// slices) that were told the same reset time do not return in lockstep.
pub fn jitter(max_ms: u64) -> Duration {
    Duration::from_millis(rand::random_range(0..max_ms.max(1)))
}

/// Capped exponential backoff with jitter for attempt `n` (1-based): a delay
/// drawn from the upper half of `first * 2^(n-1)`, capped at `max`.
pub fn backoff(n: u32, first: Duration, max: Duration) -> Duration {
    let exp = first.saturating_mul(1u32 << (n.saturating_sub(1)).min(20));
    let capped = exp.min(max);
    let half = capped / 2;
    half + Duration::from_millis(rand::random_range(0..=half.as_millis() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn headers_are_read_with_reset_as_epoch_seconds() {
        let mut h = HeaderMap::new();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("10"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&(now + 3).to_string()).unwrap(),
        );
        let rl = RateLimit::from_headers(&h, now as f64);
        assert_eq!(rl.limit, Some(10));
        assert_eq!(rl.remaining, Some(0));
        assert_eq!(rl.reset, Some(now + 3));
        let reset = rl.reset_in.unwrap();
        assert!(
            reset > Duration::from_secs(1) && reset <= Duration::from_secs(3),
            "{reset:?}"
        );
    }

    #[test]
    fn a_reset_in_seconds_from_now_is_read_as_such() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("4"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("2"));
        let rl = RateLimit::from_headers(&h, 1_796_644_800.5);
        assert_eq!(rl.reset_in, Some(Duration::from_secs(2)));
        assert_eq!(rl.reset, None, "not a Unix time: no window identity");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        assert!(backoff(1, first, max) <= first);
        assert!(backoff(3, first, max) >= Duration::from_millis(200));
        assert!(backoff(30, first, max) <= max);
    }

    #[test]
    fn a_429_waits_for_retry_after() {
        let mut p = Pacer::default();
        let now = Instant::now();
        let ticket = p.request(now).unwrap();
        let rl = RateLimit {
            retry_after: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        let w = p.rate_limited(ticket, &rl, now);
        assert!(w >= Duration::from_secs(2) && w < Duration::from_secs(3));
        let next = p.request(now).unwrap_err();
        assert_eq!(next, now + w);
    }

    #[test]
    fn one_request_goes_first_then_without_headers_none_is_held() {
        let mut p = Pacer::default();
        let now = Instant::now();
        let first = p.request(now).unwrap();
        assert!(p.request(now).is_err(), "nothing is known before an answer");
        p.observe(first, &RateLimit::default(), now);
        let tickets: Vec<Ticket> = (0..8).map(|_| p.request(now).unwrap()).collect();
        for t in tickets {
            p.observe(t, &RateLimit::default(), now);
        }
        assert!(p.request(now).is_ok());
    }

    /// Where a fixed window's windows begin.
    #[derive(Clone, Copy, Debug)]
    enum Phase {
        /// On multiples of the window length (Unix time).
        Aligned,
        /// At the first request after the previous window ended.
        FromFirst,
    }

    /// How the limiter tells its reset.
    #[derive(Clone, Copy, Debug)]
    enum Style {
        /// A Unix second, rounded up.
        Epoch,
        /// Whole seconds from now, rounded up.
        FromNow,
        /// No rate-limit headers; a 429 carries `Retry-After` alone.
        RetryAfterOnly,
    }

    enum Kind {
        Window {
            limit: u64,
            secs: f64,
            phase: Phase,
            start: f64,
            used: u64,
        },
        Bucket {
            rate: f64,
            burst: f64,
            tokens: f64,
            at: f64,
        },
    }

    /// A limiter on a virtual clock (seconds since an epoch that starts on
    /// a whole second), answering as a server would.
    struct Model {
        kind: Kind,
        style: Style,
        /// How far the pacer's idea of the server's clock is off.
        clock_error: f64,
        /// Fewest tokens a bucket held after any request.
        lowest: f64,
        /// Up to this long passes between sending and counting, varying.
        delay: f64,
        seed: u64,
    }

    /// What the limiter said about one request.
    struct Said {
        ok: bool,
        remaining: u64,
        /// The true reset (a window's end, a bucket full again).
        reset: f64,
        retry_after: u64,
    }

    impl Model {
        fn new(kind: Kind) -> Self {
            Model {
                kind,
                style: Style::Epoch,
                clock_error: 0.0,
                lowest: f64::INFINITY,
                delay: 0.0,
                seed: 0x2545_F491_4F6C_DD1D,
            }
        }
        fn window(limit: u64, secs: f64) -> Self {
            Model::new(Kind::Window {
                limit,
                secs,
                phase: Phase::Aligned,
                start: f64::NEG_INFINITY,
                used: 0,
            })
        }
        fn rolling_window(limit: u64, secs: f64) -> Self {
            Model::new(Kind::Window {
                limit,
                secs,
                phase: Phase::FromFirst,
                start: f64::NEG_INFINITY,
                used: 0,
            })
        }
        fn bucket(rate: f64, burst: f64) -> Self {
            Model::new(Kind::Bucket {
                rate,
                burst,
                tokens: burst,
                at: 0.0,
            })
        }
        fn style(mut self, style: Style) -> Self {
            self.style = style;
            self
        }
        fn clock_error(mut self, secs: f64) -> Self {
            self.clock_error = secs;
            self
        }
        fn delay(mut self, secs: f64) -> Self {
            self.delay = secs;
            self
        }

        /// When a request sent at `t` is counted.
        fn counted(&mut self, t: f64) -> f64 {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            t + self.delay * (self.seed % 1000) as f64 / 1000.0
        }

        /// Counts a request at `t`.
        fn take(&mut self, t: f64) -> Said {
            match &mut self.kind {
                Kind::Window {
                    limit,
                    secs,
                    phase,
                    start,
                    used,
                } => {
                    let begins = match phase {
                        Phase::Aligned => (t / *secs).floor() * *secs,
                        Phase::FromFirst if t >= *start + *secs => t,
                        Phase::FromFirst => *start,
                    };
                    if begins != *start {
                        (*start, *used) = (begins, 0);
                    }
                    let ok = *used < *limit;
                    *used += ok as u64;
                    let end = *start + *secs;
                    Said {
                        ok,
                        remaining: *limit - *used,
                        reset: end,
                        retry_after: (end - t).ceil().max(1.0) as u64,
                    }
                }
                Kind::Bucket {
                    rate,
                    burst,
                    tokens,
                    at,
                } => {
                    *tokens = (*tokens + (t - *at) * *rate).min(*burst);
                    *at = t;
                    let ok = *tokens >= 1.0;
                    *tokens -= ok as u8 as f64;
                    self.lowest = self.lowest.min(*tokens);
                    Said {
                        ok,
                        remaining: tokens.floor() as u64,
                        reset: t + (*burst - *tokens) / *rate,
                        retry_after: ((1.0 - *tokens) / *rate).ceil().max(1.0) as u64,
                    }
                }
            }
        }

        fn limit(&self) -> u64 {
            match self.kind {
                Kind::Window { limit, .. } => limit,
                Kind::Bucket { burst, .. } => burst as u64,
            }
        }

        /// The headers of an answer read at `t`, by a client whose idea of
        /// the server's clock is off by `clock_error`.
        fn headers(&self, said: &Said, t: f64) -> RateLimit {
            let seen = t + self.clock_error;
            let retry_after = (!said.ok).then(|| Duration::from_secs(said.retry_after));
            match self.style {
                Style::Epoch => {
                    let reset = said.reset.ceil() as u64;
                    RateLimit {
                        limit: Some(self.limit()),
                        remaining: Some(said.remaining),
                        reset_in: Some(Duration::from_secs_f64((reset as f64 - seen).max(0.0))),
                        reset: Some(reset),
                        retry_after,
                    }
                }
                Style::FromNow => RateLimit {
                    limit: Some(self.limit()),
                    remaining: Some(said.remaining),
                    reset_in: Some(Duration::from_secs((said.reset - t).ceil().max(0.0) as u64)),
                    reset: None,
                    retry_after,
                },
                Style::RetryAfterOnly => RateLimit {
                    retry_after,
                    ..Default::default()
                },
            }
        }
    }

    #[derive(Debug, Default)]
    struct Outcome {
        ours: u64,
        refused: u64,
        other: u64,
        other_refused: u64,
        /// Most of our requests the server counted within one second.
        busiest_second: usize,
        /// Fewest tokens a bucket held after any request.
        lowest: f64,
        /// Every 429 was waited out for its `Retry-After`.
        retry_after_honoured: bool,
    }

    impl Outcome {
        /// Our requests granted per second, as a share of `ceiling`.
        fn share(&self, secs: f64, ceiling: f64) -> f64 {
            self.ours as f64 / secs / ceiling
        }
        fn refused_share(&self) -> f64 {
            self.refused as f64 / (self.ours + self.refused).max(1) as f64
        }
    }

    /// `workers` requests in flight at most through one pacer, each answer
    /// `latency` seconds after the server counted it, for `secs` seconds
    /// from `start`; another client sends `other_rps` evenly meanwhile.
    fn drive(
        mut model: Model,
        workers: usize,
        latency: f64,
        other_rps: f64,
        start: f64,
        secs: f64,
    ) -> Outcome {
        enum Worker {
            Asks(f64),
            Waits(Ticket, f64, Said),
        }
        let origin = Instant::now();
        let at = |t: f64| origin + Duration::from_secs_f64(t);
        let mut p = Pacer::default();
        let mut out = Outcome {
            retry_after_honoured: true,
            ..Default::default()
        };
        let mut counted = Vec::new();
        let mut ws: Vec<Worker> = (0..workers).map(|_| Worker::Asks(start)).collect();
        let mut other_next = start;
        let mut not_before = f64::NEG_INFINITY;
        for _ in 0..1_000_000 {
            let (i, t) = ws
                .iter()
                .map(|w| match w {
                    Worker::Asks(t) | Worker::Waits(_, t, ..) => *t,
                })
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap();
            if t > start + secs {
                break;
            }
            while other_rps > 0.0 && other_next <= t {
                out.other += 1;
                out.other_refused += !model.take(other_next).ok as u64;
                other_next += 1.0 / other_rps;
            }
            ws[i] = match std::mem::replace(&mut ws[i], Worker::Asks(f64::INFINITY)) {
                Worker::Asks(_) => match p.request(at(t)) {
                    Ok(ticket) => {
                        if t < not_before {
                            out.retry_after_honoured = false;
                        }
                        let counted_at = model.counted(t);
                        let said = model.take(counted_at);
                        if said.ok {
                            counted.push(t);
                        }
                        Worker::Waits(ticket, t + latency, said)
                    }
                    Err(next) => {
                        let next = next.duration_since(origin).as_secs_f64();
                        assert!(next > t, "the pacer asks to be asked again now");
                        Worker::Asks(next)
                    }
                },
                Worker::Waits(ticket, _, said) => {
                    let rl = model.headers(&said, t);
                    if said.ok {
                        out.ours += 1;
                        p.observe(ticket, &rl, at(t));
                    } else {
                        out.refused += 1;
                        let retry = rl.retry_after.unwrap_or_default().as_secs_f64();
                        not_before = not_before.max(t + retry);
                        p.rate_limited(ticket, &rl, at(t));
                    }
                    Worker::Asks(t)
                }
            };
        }
        out.busiest_second = counted
            .iter()
            .enumerate()
            .map(|(i, &t)| counted[i..].iter().take_while(|&&u| u < t + 1.0).count())
            .max()
            .unwrap_or(0);
        out.lowest = model.lowest;
        out
    }

    /// The pacing goal on one limiter: at least 90% of `ceiling` requests
    /// a second of ours, at most 1% of them refused, for each start.
    fn meets_goal(make: impl Fn() -> Model, other_rps: f64, ceiling: f64) -> Vec<Outcome> {
        let secs = 60.0;
        [0.05, 0.37, 0.61, 0.93]
            .iter()
            .map(|&start| {
                let o = drive(make(), 4, 0.05, other_rps, start, secs);
                assert!(o.refused_share() <= 0.01, "{start}: {o:?}");
                assert!(
                    o.share(secs, ceiling) >= 0.90,
                    "{start}: {:.3} {o:?}",
                    o.share(secs, ceiling)
                );
                assert!(o.retry_after_honoured, "{start}: {o:?}");
                o
            })
            .collect()
    }

    /// Every limiter of the harness, with its figures:
    /// `cargo test --release --lib explore -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn explore() {
        /// A name, the limiter, another client's rate, our ceiling.
        type Case = (&'static str, Box<dyn Fn() -> Model>, f64, f64);
        let cases: Vec<Case> = vec![
            ("bucket 2/2", Box::new(|| Model::bucket(2.0, 2.0)), 0.0, 2.0),
            (
                "rolling window 10/1",
                Box::new(|| Model::rolling_window(10, 1.0)),
                0.0,
                10.0,
            ),
            (
                "aligned window 10/1",
                Box::new(|| Model::window(10, 1.0)),
                0.0,
                10.0,
            ),
            (
                "bucket 16/16",
                Box::new(|| Model::bucket(16.0, 16.0)),
                0.0,
                16.0,
            ),
            (
                "bucket 10/120",
                Box::new(|| Model::bucket(10.0, 120.0)),
                0.0,
                10.0,
            ),
            (
                "bucket 10/10",
                Box::new(|| Model::bucket(10.0, 10.0)),
                0.0,
                10.0,
            ),
            (
                "bucket 10 + 3",
                Box::new(|| Model::bucket(10.0, 10.0)),
                3.0,
                7.0,
            ),
            (
                "window 10 + 3",
                Box::new(|| Model::window(10, 1.0)),
                3.0,
                7.0,
            ),
            (
                "rolling 10 + 3",
                Box::new(|| Model::rolling_window(10, 1.0)),
                3.0,
                7.0,
            ),
            (
                "bucket from-now",
                Box::new(|| Model::bucket(10.0, 10.0).style(Style::FromNow)),
                0.0,
                10.0,
            ),
            (
                "aligned from-now",
                Box::new(|| Model::window(10, 1.0).style(Style::FromNow)),
                0.0,
                10.0,
            ),
            (
                "rolling from-now",
                Box::new(|| Model::rolling_window(10, 1.0).style(Style::FromNow)),
                0.0,
                10.0,
            ),
            (
                "bucket 2/2 from-now",
                Box::new(|| Model::bucket(2.0, 2.0).style(Style::FromNow)),
                0.0,
                2.0,
            ),
            (
                "bucket skew +",
                Box::new(|| Model::bucket(10.0, 10.0).clock_error(0.06)),
                0.0,
                10.0,
            ),
            (
                "window skew +",
                Box::new(|| Model::window(10, 1.0).clock_error(0.06)),
                0.0,
                10.0,
            ),
            (
                "window skew -",
                Box::new(|| Model::window(10, 1.0).clock_error(-0.06)),
                0.0,
                10.0,
            ),
            (
                "rolling skew -",
                Box::new(|| Model::rolling_window(10, 1.0).clock_error(-0.06)),
                0.0,
                10.0,
            ),
            (
                "rolling delay 5ms",
                Box::new(|| Model::rolling_window(10, 1.0).delay(0.005)),
                0.0,
                10.0,
            ),
            (
                "aligned delay 5ms",
                Box::new(|| Model::window(10, 1.0).delay(0.005)),
                0.0,
                10.0,
            ),
            (
                "bucket 2/2 delay 5ms",
                Box::new(|| Model::bucket(2.0, 2.0).delay(0.005)),
                0.0,
                2.0,
            ),
            (
                "bucket 16 delay 5ms",
                Box::new(|| Model::bucket(16.0, 16.0).delay(0.005)),
                0.0,
                16.0,
            ),
            (
                "rolling delay 20ms",
                Box::new(|| Model::rolling_window(10, 1.0).delay(0.02)),
                0.0,
                10.0,
            ),
            (
                "aligned + 3 delay 5ms",
                Box::new(|| Model::window(10, 1.0).delay(0.005)),
                3.0,
                7.0,
            ),
            (
                "blind bucket",
                Box::new(|| Model::bucket(10.0, 10.0).style(Style::RetryAfterOnly)),
                0.0,
                10.0,
            ),
            (
                "blind window",
                Box::new(|| Model::window(10, 1.0).style(Style::RetryAfterOnly)),
                0.0,
                10.0,
            ),
            (
                "blind 2/2",
                Box::new(|| Model::bucket(2.0, 2.0).style(Style::RetryAfterOnly)),
                0.0,
                2.0,
            ),
        ];
        for (name, make, other, ceiling) in cases {
            for start in [0.05, 0.37, 0.61, 0.93] {
                let o = drive(make(), 4, 0.05, other, start, 60.0);
                eprintln!(
                    "{name:>22} {start}: {:5.1}% refused {:.2}% other refused {} lowest {:.2}",
                    100.0 * o.share(60.0, ceiling),
                    100.0 * o.refused_share(),
                    o.other_refused,
                    o.lowest
                );
            }
        }
    }

    #[test]
    fn a_fixed_window_on_the_clock_is_spent_whole_without_a_429() {
        for o in meets_goal(|| Model::window(10, 1.0), 0.0, 10.0) {
            assert_eq!(o.refused, 0, "{o:?}");
        }
    }

    #[test]
    fn a_window_from_the_first_request_with_its_reset_rounded_up() {
        meets_goal(|| Model::rolling_window(10, 1.0), 0.0, 10.0);
    }

    #[test]
    fn a_token_bucket_is_spent_at_its_refill_rate_without_a_429() {
        for o in meets_goal(|| Model::bucket(10.0, 10.0), 0.0, 10.0) {
            assert_eq!(o.refused, 0, "{o:?}");
        }
        meets_goal(|| Model::bucket(16.0, 16.0), 0.0, 16.0);
    }

    #[test]
    fn a_small_bucket_is_paced_at_its_rate_not_its_reset() {
        // Burst 2: `remaining` is 0 after every other request although a
        // token comes back every half second.
        meets_goal(|| Model::bucket(2.0, 2.0), 0.0, 2.0);
        for workers in [1, 4] {
            let o = drive(Model::bucket(2.0, 2.0), workers, 0.05, 0.0, 0.37, 60.0);
            assert!(o.refused <= 1, "{workers}: {o:?}");
        }
    }

    #[test]
    fn a_large_burst_is_not_drained() {
        for o in meets_goal(|| Model::bucket(10.0, 120.0), 0.0, 10.0) {
            assert!(o.lowest >= 60.0, "half the burst stays the tenant's: {o:?}");
        }
    }

    #[test]
    fn a_long_window_is_spread_not_burst_at_its_reset() {
        // 600 per minute: the same average, but all of it at each reset.
        let o = drive(Model::window(600, 60.0), 4, 0.05, 0.0, 0.37, 180.0);
        assert_eq!(o.refused, 0, "{o:?}");
        assert!(o.ours >= 1700, "{o:?}");
        assert!(o.busiest_second <= 15, "{o:?}");
    }

    #[test]
    fn another_client_keeps_its_share_of_a_bucket() {
        for o in meets_goal(|| Model::bucket(10.0, 10.0), 3.0, 7.0) {
            assert_eq!(o.refused + o.other_refused, 0, "{o:?}");
        }
    }

    #[test]
    fn another_client_keeps_its_share_of_a_fixed_window() {
        // Its share is only estimated, from the answers between its
        // requests: how well depends on where they fall in the window.
        for start in [0.05, 0.37, 0.61, 0.8] {
            let o = drive(Model::window(10, 1.0), 4, 0.05, 3.0, start, 60.0);
            assert!(o.refused + o.other_refused <= 3, "{start}: {o:?}");
            assert!(o.ours >= 7 * 60 * 8 / 10, "{start}: {o:?}");
        }
    }

    #[test]
    fn a_skewed_clock_is_not_trusted_beyond_what_it_shows() {
        // What is left of a ±2 s offset once `Date` headers narrowed it.
        for error in [-0.06, 0.06] {
            meets_goal(|| Model::bucket(10.0, 10.0).clock_error(error), 0.0, 10.0);
            meets_goal(|| Model::window(10, 1.0).clock_error(error), 0.0, 10.0);
            meets_goal(
                || Model::rolling_window(10, 1.0).clock_error(error),
                0.0,
                10.0,
            );
        }
    }

    #[test]
    fn a_reset_in_seconds_from_now_paces_as_well() {
        meets_goal(
            || Model::bucket(10.0, 10.0).style(Style::FromNow),
            0.0,
            10.0,
        );
        meets_goal(|| Model::window(10, 1.0).style(Style::FromNow), 0.0, 10.0);
        meets_goal(
            || Model::rolling_window(10, 1.0).style(Style::FromNow),
            0.0,
            10.0,
        );
        meets_goal(|| Model::bucket(2.0, 2.0).style(Style::FromNow), 0.0, 2.0);
    }

    #[test]
    fn without_headers_the_pace_is_learned_from_429s() {
        for make in [
            || Model::bucket(10.0, 10.0).style(Style::RetryAfterOnly),
            || Model::window(10, 1.0).style(Style::RetryAfterOnly),
        ] {
            let o = drive(make(), 4, 0.05, 0.0, 0.61, 120.0);
            assert!(o.retry_after_honoured, "{o:?}");
            assert!(o.refused_share() <= 0.01, "{o:?}");
            assert!(o.share(120.0, 10.0) >= 0.85, "{o:?}");
        }
    }
}
