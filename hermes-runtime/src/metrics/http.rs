//! A tiny HTTP/1.1 server for `/metrics`, `/healthz` and `/readyz`: one thread, one connection
//! at a time, bounded requests, woken by the runtime's stop signal.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Metrics;
use crate::error::{Error, Result};
use crate::readiness::Readiness;
use crate::shutdown::Shutdown;

/// The largest request head read; a scraper's is a few hundred bytes.
const MAX_REQUEST: usize = 8 * 1024;

/// How long a client may take to send its request, and each write may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(1);

/// How much of a request that was not read is drained before closing, and for how long.
const MAX_DRAIN: usize = 256 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_millis(200);

/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What a request asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    /// Without the query string.
    pub(crate) path: &'a str,
}

/// Why a request head is not HTTP/1.x.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadRequest {
    /// The head does not end (`\r\n\r\n`) within [`MAX_REQUEST`] bytes, or the client stopped.
    Incomplete,
    /// The request line or a header line is malformed.
    Malformed,
}

/// Parses a request head: the request line (`METHOD SP TARGET SP HTTP/1.x`) and header lines
/// (`name: value`), which are checked but not used.
pub(crate) fn parse_request(head: &[u8]) -> std::result::Result<Request<'_>, BadRequest> {
    let end = find(head, b"\r\n\r\n").ok_or(BadRequest::Incomplete)?;
    let text = std::str::from_utf8(&head[..end]).map_err(|_| BadRequest::Malformed)?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BadRequest::Malformed);
    };
    let token = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_uppercase());
    if !token(method)
        || !target.starts_with('/')
        || target.bytes().any(|b| b.is_ascii_control())
        || !matches!(version, "HTTP/1.0" | "HTTP/1.1")
    {
        return Err(BadRequest::Malformed);
    }
    for header in lines {
        match header.split_once(':') {
            Some((name, _)) if !name.is_empty() && !name.contains([' ', '\t']) => {}
            _ => return Err(BadRequest::Malformed),
        }
    }
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    Ok(Request { method, path })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A response: status, content type and body.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{body}\n"),
        }
    }
}

/// The response to a request head.
pub(crate) fn respond(head: &[u8], metrics: &Metrics, readiness: &Readiness) -> Response {
    let request = match parse_request(head) {
        Ok(request) => request,
        Err(_) => return Response::text(400, "bad request"),
    };
    let known = matches!(request.path, "/metrics" | "/healthz" | "/readyz");
    if !known {
        return Response::text(404, "not found: try /metrics, /healthz or /readyz");
    }
    if !matches!(request.method, "GET" | "HEAD") {
        return Response::text(405, "method not allowed: GET or HEAD");
    }
    match request.path {
        "/metrics" => Response {
            status: 200,
            content_type: OPENMETRICS,
            body: metrics.encode(),
        },
        "/healthz" => Response::text(200, "ok"),
        _ if readiness.is_ready() => Response::text(200, "ready"),
        _ => Response::text(503, "not ready"),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Starts serving `listener` on a thread that ends when `shutdown` triggers.
pub(crate) fn spawn(
    listener: TcpListener,
    metrics: Metrics,
    readiness: Readiness,
    shutdown: &Shutdown,
) -> Result<JoinHandle<()>> {
    let name = "hermes-metrics".to_owned();
    // Never block in `accept`: the poll below says when a client is waiting.
    listener
        .set_nonblocking(true)
        .map_err(|source| Error::Metrics {
            address: listener
                .local_addr()
                .map_or_else(|_| "?".to_owned(), |address| address.to_string()),
            source,
        })?;
    let stop = shutdown.listener()?;
    let signal = shutdown.clone();
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            while !signal.is_triggered() {
                let mut items = [
                    stop.as_poll_item(zmq::POLLIN),
                    zmq::PollItem::from_fd(listener.as_raw_fd(), zmq::POLLIN),
                ];
                match zmq::poll(&mut items, -1) {
                    Ok(_) => {}
                    Err(zmq::Error::EINTR) => continue,
                    Err(err) => {
                        tracing::warn!(%err, "metrics server stops: cannot poll");
                        return;
                    }
                }
                if items[0].is_readable() {
                    return;
                }
                accept_waiting(&listener, &metrics, &readiness);
            }
        })
        .map_err(|source| Error::Thread { name, source })
}

/// Serves every client waiting on `listener`, one after the other.
fn accept_waiting(listener: &TcpListener, metrics: &Metrics, readiness: &Readiness) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Err(err) = serve(stream, metrics, readiness) {
                    tracing::debug!(%err, "metrics client");
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => {
                // Out of file descriptors, say: back off rather than spin on a ready listener.
                tracing::warn!(%err, "metrics server cannot accept");
                std::thread::sleep(Duration::from_millis(100));
                return;
            }
        }
    }
}

/// Reads one request (bounded in size and time), answers it, and closes the connection.
fn serve(mut stream: TcpStream, metrics: &Metrics, readiness: &Readiness) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0; 1024];
    while head.len() < MAX_REQUEST && find(&head, b"\r\n\r\n").is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            Err(err) => return Err(err),
        }
    }
    if head.is_empty() {
        return Ok(());
    }
    head.truncate(MAX_REQUEST);
    let response = respond(&head, metrics, readiness);
    let head_only = head.starts_with(b"HEAD ");
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(response.body.as_bytes());
    }
    stream.write_all(&out)?;
    stream.flush()?;
    // Closing with unread bytes would reset the connection and could destroy the response
    // before the client reads it: say we are done, then drain a bounded amount.
    stream.shutdown(std::net::Shutdown::Write)?;
    stream.set_read_timeout(Some(DRAIN_TIMEOUT))?;
    let mut drained = 0;
    while drained < MAX_DRAIN {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => drained += read,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_with_headers_and_a_query_parses_to_its_method_and_path() {
        let head = b"GET /metrics?name=x HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
        assert_eq!(
            parse_request(head),
            Ok(Request {
                method: "GET",
                path: "/metrics"
            })
        );
    }

    #[test]
    fn http_1_0_without_headers_parses() {
        assert_eq!(
            parse_request(b"HEAD /healthz HTTP/1.0\r\n\r\n"),
            Ok(Request {
                method: "HEAD",
                path: "/healthz"
            })
        );
    }

    #[test]
    fn a_head_without_its_blank_line_is_incomplete() {
        assert_eq!(
            parse_request(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"),
            Err(BadRequest::Incomplete)
        );
        assert_eq!(parse_request(b""), Err(BadRequest::Incomplete));
    }

    #[test]
    fn malformed_request_lines_are_refused() {
        for head in [
            &b"GET /metrics\r\n\r\n"[..],
            b"GET /metrics HTTP/2\r\n\r\n",
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"get /metrics HTTP/1.1\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/1.1 extra\r\n\r\n",
            b"GET /m\x7fetrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nbad name: x\r\n\r\n",
            b"\xff\xfe /metrics HTTP/1.1\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert_eq!(
                parse_request(head),
                Err(BadRequest::Malformed),
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn routes_answer_as_documented() {
        let metrics = Metrics::new();
        let readiness = Readiness::new();
        let status = |head: &[u8]| respond(head, &metrics, &readiness).status;
        assert_eq!(status(b"GET /healthz HTTP/1.1\r\n\r\n"), 200);
        assert_eq!(status(b"GET /readyz HTTP/1.1\r\n\r\n"), 503);
        readiness.set_ready();
        assert_eq!(status(b"GET /readyz HTTP/1.1\r\n\r\n"), 200);
        assert_eq!(status(b"GET /nope HTTP/1.1\r\n\r\n"), 404);
        assert_eq!(status(b"POST /metrics HTTP/1.1\r\n\r\n"), 405);
        assert_eq!(status(b"nonsense\r\n\r\n"), 400);
        let response = respond(b"GET /metrics HTTP/1.1\r\n\r\n", &metrics, &readiness);
        assert_eq!(response.content_type, OPENMETRICS);
        assert!(response.body.ends_with("# EOF\n"));
    }
}
