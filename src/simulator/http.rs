//! A minimal HTTP/1.1 server, hand-written so that faults can be injected at
//! the byte level (a body that breaks off, a connection dropped before the
//! status line) where a framework would not allow it. What each request is
//! answered is `api`'s business.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::api::route;
use super::{Fault, TenantState};

pub(super) struct Request {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Request {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back, decided under the state lock, written after it.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) fault: Option<Fault>,
    pub(super) delay: Duration,
    /// A body generated while it is written, instead of `body`.
    pub(super) stream: Option<Streamed>,
}

/// Bodies no test could hold in memory (`hostile`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Streamed {
    /// `[` and then spaces, chunked, this many bytes in all.
    Chunked(u64),
    /// A `Content-Length` of this many bytes, and then the connection closes.
    PromisedLength(u64),
}

impl Answer {
    pub(super) fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Answer {
            status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body: body.into(),
            fault: None,
            delay: Duration::ZERO,
            stream: None,
        }
    }
    pub(super) fn error(status: u16, error: &str, message: &str) -> Self {
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

pub(super) fn parse_query(q: &str) -> Vec<(String, String)> {
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
    let length = match a.stream {
        Some(Streamed::Chunked(_)) => "transfer-encoding: chunked".to_string(),
        Some(Streamed::PromisedLength(n)) => format!("content-length: {n}"),
        None => format!("content-length: {}", a.body.len()),
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: {}\r\n{length}\r\n",
        a.status, a.content_type,
    );
    for (k, v) in &a.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if sock.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    match a.stream {
        Some(Streamed::Chunked(total)) => return write_chunked(sock, total).await,
        Some(Streamed::PromisedLength(_)) => {
            let _ = sock.flush().await;
            return false;
        }
        None => {}
    }
    if a.fault == Some(Fault::DropMidBody) {
        let _ = sock.write_all(&a.body[..a.body.len() / 2]).await;
        let _ = sock.flush().await;
        return false;
    }
    sock.write_all(&a.body).await.is_ok() && sock.flush().await.is_ok()
}

/// `[` and spaces in 64 KiB chunks until `total` bytes are sent or the
/// client hangs up.
async fn write_chunked(sock: &mut TcpStream, total: u64) -> bool {
    const CHUNK: usize = 64 * 1024;
    let mut data = vec![b' '; CHUNK];
    data[0] = b'[';
    let mut sent = 0u64;
    while sent < total {
        let n = (total - sent).min(CHUNK as u64) as usize;
        let head = format!("{n:x}\r\n");
        let ok = sock.write_all(head.as_bytes()).await.is_ok()
            && sock.write_all(&data[..n]).await.is_ok()
            && sock.write_all(b"\r\n").await.is_ok();
        if !ok {
            return false;
        }
        data[0] = b' ';
        sent += n as u64;
    }
    sock.write_all(b"0\r\n\r\n").await.is_ok() && sock.flush().await.is_ok()
}
