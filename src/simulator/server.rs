//! A minimal HTTP/1.1 server, hand-written so that faults can be injected at
//! the byte level (a body that breaks off, a connection dropped before the
//! status line) where a framework would not allow it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Fault, TenantState};
use crate::auth0::event::compare_log_ids;

struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back, decided under the state lock, written after it.
struct Answer {
    status: u16,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    fault: Option<Fault>,
    delay: Duration,
}

impl Answer {
    fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Answer {
            status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: body.into(),
            fault: None,
            delay: Duration::ZERO,
        }
    }
    fn error(status: u16, error: &str, message: &str) -> Self {
        Answer::json(
            status,
            serde_json::json!({"statusCode": status, "error": error, "message": message})
                .to_string(),
        )
    }
}

pub(super) async fn serve(
    listener: TcpListener,
    state: Arc<Mutex<TenantState>>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                if let Ok((sock, _)) = accepted {
                    tokio::spawn(connection(sock, state.clone()));
                }
            }
        }
    }
}

async fn connection(mut sock: TcpStream, state: Arc<Mutex<TenantState>>) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut sock, &mut buf).await {
        let answer = {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            route(&mut st, &req)
        };
        if !answer.delay.is_zero() {
            tokio::time::sleep(answer.delay).await;
        }
        if !write_answer(&mut sock, answer).await {
            return;
        }
    }
}

async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 8192];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + len {
        let mut chunk = [0u8; 8192];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[body_start..body_start + len].to_vec();
    buf.drain(..body_start + len);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), parse_query(q)),
        None => (target, Vec::new()),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).to_string()
}

fn route(st: &mut TenantState, req: &Request) -> Answer {
    st.stats.requests += 1;
    let mut answer = match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/oauth/token") => token(st, req),
        ("GET", "/api/v2/logs") => logs(st, req),
        ("GET", p) if p.starts_with("/api/v2/logs/") => {
            one_log(st, req, &p["/api/v2/logs/".len()..])
        }
        _ => Answer::error(404, "Not Found", "no such endpoint"),
    };
    answer.delay += st.latency;
    answer
}

fn token(st: &mut TenantState, req: &Request) -> Answer {
    st.stats.token_requests += 1;
    if st.token_endpoint_down {
        return Answer::error(503, "Service Unavailable", "token endpoint unavailable");
    }
    let form: serde_json::Value = if req
        .header("content-type")
        .is_some_and(|c| c.contains("application/x-www-form-urlencoded"))
    {
        let pairs = parse_query(&String::from_utf8_lossy(&req.body));
        serde_json::Value::Object(pairs.into_iter().map(|(k, v)| (k, v.into())).collect())
    } else {
        serde_json::from_slice(&req.body).unwrap_or_default()
    };
    let field = |k: &str| {
        form.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    if field("grant_type") != "client_credentials" {
        return Answer::json(
            400,
            r#"{"error":"unsupported_grant_type","error_description":"Unsupported grant type"}"#,
        );
    }
    if field("client_id") != st.client_id || field("client_secret") != st.client_secret {
        return Answer::json(
            401,
            r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
        );
    }
    let audience = field("audience");
    let expected = st
        .audience
        .clone()
        .unwrap_or_else(|| format!("http://{}/api/v2/", req.header("host").unwrap_or_default()));
    if audience != expected {
        return Answer::json(
            403,
            serde_json::json!({"error":"access_denied","error_description": format!("Service not enabled within domain: {audience}")}).to_string(),
        );
    }
    let token = st.mint();
    Answer::json(
        200,
        serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 86400, "scope": st.minted_scope}).to_string(),
    )
}

/// Checks the bearer token; `Some(answer)` when it is refused.
fn authorize(st: &mut TenantState, req: &Request) -> Option<Answer> {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    if let Some(&has_scope) = st.static_tokens.get(&token) {
        return (!has_scope).then(|| {
            Answer::error(
                403,
                "Forbidden",
                "Insufficient scope, expected any of: read:logs",
            )
        });
    }
    match st.minted.get_mut(&token) {
        Some(Some(0)) | None => {
            st.stats.unauthorized += 1;
            Some(Answer::error(401, "Unauthorized", "Invalid token"))
        }
        Some(left) => {
            if let Some(n) = left {
                *n -= 1;
            }
            (!st.minted_scope.split(' ').any(|s| s == "read:logs")).then(|| {
                Answer::error(
                    403,
                    "Forbidden",
                    "Insufficient scope, expected any of: read:logs",
                )
            })
        }
    }
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Takes a token from the bucket; `Err` carries the 429 answer.
fn rate_limit(st: &mut TenantState) -> Result<Vec<(String, String)>, Answer> {
    let Some(rl) = st.rate_limit else {
        return Ok(Vec::new());
    };
    let now = Instant::now();
    st.bucket =
        (st.bucket + now.duration_since(st.bucket_at).as_secs_f64() * rl.per_second).min(rl.burst);
    st.bucket_at = now;
    let allowed = st.bucket >= 1.0;
    if allowed {
        st.bucket -= 1.0;
    }
    let to_full = ((rl.burst - st.bucket) / rl.per_second).ceil() as u64;
    let headers = vec![
        (
            "x-ratelimit-limit".to_string(),
            format!("{}", rl.burst as u64),
        ),
        (
            "x-ratelimit-remaining".to_string(),
            format!("{}", st.bucket.floor() as u64),
        ),
        (
            "x-ratelimit-reset".to_string(),
            format!("{}", epoch_secs() + to_full.max(1)),
        ),
    ];
    if allowed {
        Ok(headers)
    } else {
        st.stats.rate_limited += 1;
        let mut a = Answer::error(429, "Too Many Requests", "Global limit has been reached");
        let wait = ((1.0 - st.bucket) / rl.per_second).ceil().max(1.0) as u64;
        a.headers = headers;
        if st.send_retry_after {
            a.headers.push(("retry-after".into(), wait.to_string()));
        }
        Err(a)
    }
}

fn next_fault(st: &mut TenantState) -> Option<Fault> {
    if let Some(f) = st.scripted.pop_front() {
        return Some(f);
    }
    if st.fault_rate > 0.0 && !st.fault_kinds.is_empty() && st.random() < st.fault_rate {
        let i = (st.random() * st.fault_kinds.len() as f64) as usize;
        return st.fault_kinds.get(i).copied();
    }
    None
}

fn logs(st: &mut TenantState, req: &Request) -> Answer {
    st.stats.log_requests += 1;
    if let Some(refused) = authorize(st, req) {
        return refused;
    }
    let headers = match rate_limit(st) {
        Ok(h) => h,
        Err(a) => return a,
    };
    if let Some(fault) = next_fault(st) {
        st.stats.faults += 1;
        let mut a = match fault {
            Fault::RateLimited => {
                st.stats.rate_limited += 1;
                let mut a =
                    Answer::error(429, "Too Many Requests", "Global limit has been reached");
                a.headers.push(("x-ratelimit-limit".into(), "10".into()));
                a.headers.push(("x-ratelimit-remaining".into(), "0".into()));
                a.headers
                    .push(("x-ratelimit-reset".into(), (epoch_secs() + 1).to_string()));
                a.headers.push(("retry-after".into(), "1".into()));
                return a;
            }
            Fault::ServerError => Answer::error(500, "Internal Server Error", "simulated failure"),
            Fault::Html502 => {
                let mut a = Answer::json(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
                a.content_type = "text/html";
                a
            }
            Fault::Html200 => {
                let mut a = Answer::json(200, "<html><body>Please wait...</body></html>");
                a.content_type = "text/html";
                a
            }
            Fault::InvalidJson => Answer::json(200, "[{\"log_id\": \"90020"),
            _ => {
                // Faults that need a real page to damage.
                let mut a = page(st, req);
                a.fault = Some(fault);
                if let Fault::Slow(ms) = fault {
                    a.delay = Duration::from_millis(ms);
                }
                if fault == Fault::TruncatedBody {
                    let keep = a.body.len() * 2 / 3;
                    a.body.truncate(keep);
                }
                a
            }
        };
        a.headers.extend(headers);
        return a;
    }
    let mut a = page(st, req);
    a.headers.extend(headers);
    a
}

fn page(st: &mut TenantState, req: &Request) -> Answer {
    let take = req
        .param("take")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(50)
        .min(st.max_take);
    let start = match req.param("from") {
        Some(from) => st
            .events
            .partition_point(|e| compare_log_ids(&e.key, from) != std::cmp::Ordering::Greater),
        None => 0,
    };
    let end = (start + take).min(st.events.len());
    let mut order: Vec<usize> = (start..end).collect();
    if st.shuffle_pages {
        for i in (1..order.len()).rev() {
            let j = (st.random() * (i + 1) as f64) as usize;
            order.swap(i, j.min(i));
        }
    }
    let mut body = Vec::with_capacity(order.len() * 1200 + 2);
    body.push(b'[');
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(st.events[i].raw.as_bytes());
    }
    body.push(b']');
    st.stats.served_events += order.len() as u64;
    let next_from = if end > start {
        st.events[end - 1].key.clone()
    } else {
        req.param("from").unwrap_or_default().to_string()
    };
    let mut a = Answer::json(200, body);
    a.headers.push((
        "link".into(),
        format!("<{}?from={next_from}&take={take}>; rel=\"next\"", req.path),
    ));
    a
}

fn one_log(st: &mut TenantState, req: &Request, id: &str) -> Answer {
    if let Some(refused) = authorize(st, req) {
        return refused;
    }
    if !st.single_event_endpoint {
        return Answer::error(404, "Not Found", "no such endpoint");
    }
    match st.events.iter().find(|e| e.key == id) {
        Some(e) => Answer::json(200, e.raw.clone()),
        None => Answer::error(404, "Not Found", "The log does not exist."),
    }
}

/// Writes the answer, damaged as its fault says. `false` closes the connection.
async fn write_answer(sock: &mut TcpStream, a: Answer) -> bool {
    if a.fault == Some(Fault::DropBeforeResponse) {
        return false;
    }
    let reason = match a.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\ncontent-length: {}\r\n",
        a.status,
        a.content_type,
        a.body.len()
    );
    for (k, v) in &a.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if sock.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    if a.fault == Some(Fault::DropMidBody) {
        let _ = sock.write_all(&a.body[..a.body.len() / 2]).await;
        let _ = sock.flush().await;
        return false;
    }
    sock.write_all(&a.body).await.is_ok() && sock.flush().await.is_ok()
}
