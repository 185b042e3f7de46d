//! The access log of `corsair serve`: one line per request, cheap enough to leave on.
//!
//! A request's line is formatted into a buffer of the worker thread that served it (each worker
//! is a current-thread runtime, so no lock is taken); the buffer goes to a writer thread as one
//! chunk when it passes 16 KiB or every 100 ms, whichever comes first. The channel to the writer
//! is bounded: when the writer cannot keep up (a blocked terminal or pipe), chunks are dropped,
//! not queued without end, and `corsair_access_log_dropped_total` counts their lines.
//!
//! Formats ([`Format`]): `text` (the default), `json` (one object a line) and `combined`
//! (nginx's and Apache's `combined`, for the tools that read it).

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `[gateway] access_log_format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `TIME CLIENT METHOD PATH STATUS MSms` and the CORS decision as `key=value`.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
    /// nginx's `combined`: `CLIENT - - [TIME] "METHOD PATH PROTOCOL" STATUS BYTES "REFERER" "UA"`.
    Combined,
}

/// A chunk is sent once the thread's buffer passes this size.
const CHUNK: usize = 16 * 1024;
/// Chunks waiting for the writer, at most (16 MiB of lines).
const QUEUE: usize = 1024;
/// How often a worker hands over what it has.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

enum Message {
    Lines(Vec<u8>),
    /// Flush, then say so on the channel given.
    Sync(SyncSender<()>),
}

struct Sink {
    tx: SyncSender<Message>,
    format: Format,
    dropped: AtomicU64,
}

static SINK: OnceLock<Sink> = OnceLock::new();

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(CHUNK + 1024));
    /// The second the cached timestamps are for, and the two spellings of it.
    static NOW: RefCell<(u64, String, String)> = const { RefCell::new((u64::MAX, String::new(), String::new())) };
}

/// Starts the writer, to `path` or to standard error. Called once, before the workers start;
/// without it nothing is logged.
pub(crate) fn init(
    format: Format,
    path: Option<&std::path::Path>,
) -> Result<(), crate::StartError> {
    let mut out: Box<dyn Write + Send> = match path {
        Some(p) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|source| crate::StartError::AccessLog {
                    path: p.to_path_buf(),
                    source,
                })?,
        ),
        None => Box::new(std::io::stderr()),
    };
    let (tx, rx) = sync_channel::<Message>(QUEUE);
    std::thread::Builder::new()
        .name("corsair-access-log".into())
        .spawn(move || {
            for m in rx {
                match m {
                    Message::Lines(chunk) => {
                        let _ = out.write_all(&chunk);
                    }
                    Message::Sync(done) => {
                        let _ = out.flush();
                        let _ = done.send(());
                    }
                }
            }
        })?;
    let _ = SINK.set(Sink {
        tx,
        format,
        dropped: AtomicU64::new(0),
    });
    Ok(())
}

/// Whether lines are written at all.
pub fn enabled() -> bool {
    SINK.get().is_some()
}

/// Lines dropped because the writer could not keep up.
pub fn dropped() -> u64 {
    SINK.get().map_or(0, |s| s.dropped.load(Ordering::Relaxed))
}

/// One request, as the log sees it.
pub struct Entry<'a> {
    pub client: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    /// `HTTP/1.1`, `HTTP/2.0` (as nginx spells it) or `HTTP/1.0`.
    pub protocol: &'a str,
    pub status: u16,
    /// Body bytes sent to the client, when known.
    pub bytes: Option<u64>,
    /// Time from the request's head to its answer, in microseconds.
    pub micros: u64,
    /// `preflight` or `actual`; `None` for a request without `Origin`.
    pub cors: Option<&'static str>,
    pub origin: Option<&'a str>,
    pub allowed: bool,
    pub reason: &'a str,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// Whether the format needs the request's `Referer` and `User-Agent` (`combined`).
pub fn wants_agent() -> bool {
    SINK.get().is_some_and(|s| s.format == Format::Combined)
}

/// Adds `e`'s line to this thread's buffer, handing the buffer over when it is full.
pub fn record(e: &Entry<'_>) {
    let Some(sink) = SINK.get() else {
        return;
    };
    let full = BUF.with(|b| {
        let mut b = b.borrow_mut();
        format_into(&mut b, sink.format, e);
        b.len() >= CHUNK
    });
    if full {
        flush_thread();
    }
}

/// Hands this thread's buffered lines to the writer.
pub fn flush_thread() {
    hand_over(Duration::ZERO);
}

/// Hands this thread's lines to the writer at shutdown: waits (up to 5 s) for room in the
/// queue rather than dropping them.
pub fn flush_thread_at_exit() {
    hand_over(Duration::from_secs(5));
}

/// Sends this thread's buffer to the writer, waiting up to `patience` for room in the queue;
/// lines that still find none are dropped and counted.
fn hand_over(patience: Duration) {
    let Some(sink) = SINK.get() else {
        return;
    };
    let Some(mut chunk) = BUF.with(|b| {
        let mut b = b.borrow_mut();
        (!b.is_empty()).then(|| std::mem::replace(&mut *b, Vec::with_capacity(CHUNK + 1024)))
    }) else {
        return;
    };
    let deadline = std::time::Instant::now() + patience;
    loop {
        match sink.tx.try_send(Message::Lines(chunk)) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => return,
            Err(TrySendError::Full(Message::Lines(c))) if std::time::Instant::now() < deadline => {
                chunk = c;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(TrySendError::Full(m)) => {
                if let Message::Lines(c) = m {
                    let lines = c.iter().filter(|&&b| b == b'\n').count() as u64;
                    sink.dropped.fetch_add(lines, Ordering::Relaxed);
                }
                return;
            }
        }
    }
}

/// Hands this worker's lines over every [`FLUSH_EVERY`]; runs until the worker's runtime ends.
pub async fn flusher() {
    loop {
        tokio::time::sleep(FLUSH_EVERY).await;
        flush_thread();
    }
}

/// Waits until every line handed over so far is written (at shutdown). Each worker flushes
/// its own buffer first.
pub fn sync() {
    let Some(sink) = SINK.get() else {
        return;
    };
    let (done_tx, done_rx) = sync_channel(1);
    if sink.tx.send(Message::Sync(done_tx)).is_ok() {
        let _ = done_rx.recv_timeout(Duration::from_secs(5));
    }
}

fn format_into(b: &mut Vec<u8>, format: Format, e: &Entry<'_>) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    NOW.with(|n| {
        let mut n = n.borrow_mut();
        if n.0 != secs {
            *n = (secs, iso8601(secs), clf_time(secs));
        }
        match format {
            Format::Text => {
                // Written piece by piece (no formatting machinery): the default format is on
                // every request's path.
                let mut num = itoa::Buffer::new();
                b.extend_from_slice(n.1.as_bytes());
                // The client is an address corsair wrote and the method an HTTP token (no
                // space, quote, backslash or control byte): only the path needs escaping.
                for part in [e.client, e.method] {
                    b.push(b' ');
                    b.extend_from_slice(part.as_bytes());
                }
                b.push(b' ');
                escape_into(b, e.path, Quoting::Bare);
                b.push(b' ');
                b.extend_from_slice(num.format(e.status).as_bytes());
                b.push(b' ');
                b.extend_from_slice(num.format(e.micros / 1000).as_bytes());
                let frac = e.micros % 1000;
                b.extend_from_slice(&[
                    b'.',
                    b'0' + (frac / 100) as u8,
                    b'0' + (frac / 10 % 10) as u8,
                    b'0' + (frac % 10) as u8,
                ]);
                b.extend_from_slice(b"ms");
                if let Some(kind) = e.cors {
                    b.extend_from_slice(b" cors=");
                    b.extend_from_slice(kind.as_bytes());
                    b.extend_from_slice(b" origin=");
                    escape_into(b, e.origin.unwrap_or("-"), Quoting::Bare);
                    b.extend_from_slice(if e.allowed {
                        b" allowed=true reason="
                    } else {
                        b" allowed=false reason="
                    });
                    b.extend_from_slice(e.reason.as_bytes());
                }
                b.push(b'\n');
            }
            Format::Json => {
                let v = serde_json::json!({
                    "time": n.1,
                    "client": e.client,
                    "method": e.method,
                    "path": e.path,
                    "protocol": e.protocol,
                    "status": e.status,
                    "bytes": e.bytes,
                    "ms": e.micros as f64 / 1000.0,
                    "cors": e.cors,
                    "origin": e.origin,
                    "allowed": e.cors.map(|_| e.allowed),
                    "reason": e.cors.map(|_| e.reason),
                });
                let _ = serde_json::to_writer(&mut *b, &v);
                b.push(b'\n');
            }
            Format::Combined => {
                // As nginx writes it: a quoted field escapes `"`, `\` and control bytes as
                // `\xHH`; an unknown size is `-` (Apache's `%b`).
                escape_into(b, e.client, Quoting::Bare);
                b.extend_from_slice(b" - - [");
                b.extend_from_slice(n.2.as_bytes());
                b.extend_from_slice(b"] \"");
                escape_into(b, e.method, Quoting::Quoted);
                b.push(b' ');
                escape_into(b, e.path, Quoting::Quoted);
                b.push(b' ');
                escape_into(b, e.protocol, Quoting::Quoted);
                let _ = write!(b, "\" {} ", e.status);
                match e.bytes {
                    Some(n) => {
                        let _ = write!(b, "{n}");
                    }
                    None => b.push(b'-'),
                }
                b.extend_from_slice(b" \"");
                escape_into(b, e.referer.unwrap_or("-"), Quoting::Quoted);
                b.extend_from_slice(b"\" \"");
                escape_into(b, e.user_agent.unwrap_or("-"), Quoting::Quoted);
                b.extend_from_slice(b"\"\n");
            }
        }
    });
}

/// Where a field stands in a line: on its own between spaces (text's `key=value`, a client
/// address), or inside double quotes (`combined`).
#[derive(Clone, Copy, PartialEq)]
enum Quoting {
    Bare,
    Quoted,
}

/// The bytes a field keeps as they are (a table: this runs on every field of every line).
const KEEP_BARE: [bool; 256] = keep_table(false);
const KEEP_QUOTED: [bool; 256] = keep_table(true);

const fn keep_table(space: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = (b > b' ' && b < 0x7f && b != b'"' && b != b'\\') || (space && b == b' ');
        c += 1;
    }
    t
}

/// Appends `s`, each byte a parser could misread written as `\xHH` as nginx does: `"`, `\`,
/// control bytes and bytes above 0x7e, and a space when the field is bare (an `Origin: a b
/// allowed=true` must not forge a field). Bytes from the request (path, Origin, Referer,
/// User-Agent) are the client's; nothing it sends can end a line or a field.
fn escape_into(b: &mut Vec<u8>, s: &str, quoting: Quoting) {
    let table = match quoting {
        Quoting::Bare => &KEEP_BARE,
        Quoting::Quoted => &KEEP_QUOTED,
    };
    let keep = |c: u8| table[c as usize];
    if s.bytes().all(keep) {
        b.extend_from_slice(s.as_bytes());
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for c in s.bytes() {
        if keep(c) {
            b.push(c);
        } else {
            b.extend_from_slice(&[b'\\', b'x', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
        }
    }
}

/// The civil date (UTC) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn split(secs: u64) -> ((i64, u32, u32), u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    (civil(days), rem / 3600, rem / 60 % 60, rem % 60)
}

/// `2026-11-26T20:59:22Z`.
fn iso8601(secs: u64) -> String {
    let ((y, mo, d), h, mi, s) = split(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `26/Nov/2026:20:59:22 +0000`, as nginx writes `$time_local` in UTC.
fn clf_time(secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let ((y, mo, d), h, mi, s) = split(secs);
    format!(
        "{d:02}/{}/{y:04}:{h:02}:{mi:02}:{s:02} +0000",
        MONTHS[(mo - 1) as usize]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_726_762), "2026-11-26T20:59:22Z");
        assert_eq!(clf_time(1_795_726_762), "26/Nov/2026:20:59:22 +0000");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn what_the_client_sends_cannot_forge_a_field() {
        let e = Entry {
            client: "127.0.0.1",
            method: "GET",
            path: "/a\"b\\c",
            protocol: "HTTP/2.0",
            status: 403,
            bytes: None,
            micros: 1,
            cors: Some("actual"),
            origin: Some("https://x allowed=true reason=allowed"),
            allowed: false,
            reason: "origin-not-allowed",
            referer: Some("x\\"),
            user_agent: Some("Mozilla/5.0 (X11) \u{7f}é"),
        };
        let line = |f| {
            let mut b = Vec::new();
            format_into(&mut b, f, &e);
            String::from_utf8(b).unwrap()
        };
        let text = line(Format::Text);
        assert!(
            text.ends_with(
                " 127.0.0.1 GET /a\\x22b\\x5Cc 403 0.001ms cors=actual \
                origin=https://x\\x20allowed=true\\x20reason=allowed allowed=false \
                reason=origin-not-allowed\n"
            ),
            "{text}"
        );
        assert_eq!(text.matches(" allowed=").count(), 1, "{text}");
        let combined = line(Format::Combined);
        assert!(
            combined.ends_with(
                "] \"GET /a\\x22b\\x5Cc HTTP/2.0\" 403 - \"x\\x5C\" \"Mozilla/5.0 \
                (X11) \\x7F\\xC3\\xA9\"\n"
            ),
            "{combined}"
        );
        // Every quote in the line is one of the six that delimit its fields.
        assert_eq!(combined.matches('"').count(), 6, "{combined}");
        let v: serde_json::Value = serde_json::from_str(&line(Format::Json)).unwrap();
        assert_eq!(v["path"], "/a\"b\\c");
        assert_eq!(v["protocol"], "HTTP/2.0");
        assert_eq!(v["bytes"], serde_json::Value::Null);
    }

    #[test]
    fn each_format_is_one_line() {
        let e = Entry {
            client: "127.0.0.1",
            method: "GET",
            path: "/items",
            status: 200,
            bytes: Some(12),
            micros: 413,
            cors: Some("actual"),
            origin: Some("https://app.example.com"),
            allowed: true,
            reason: "allowed",
            referer: Some("https://app.example.com/\"x\""),
            user_agent: None,
            protocol: "HTTP/1.1",
        };
        for f in [Format::Text, Format::Json, Format::Combined] {
            let mut b = Vec::new();
            format_into(&mut b, f, &e);
            let line = String::from_utf8(b).unwrap();
            assert_eq!(line.matches('\n').count(), 1, "{line}");
            match f {
                Format::Text => assert!(line.ends_with(
                    " 127.0.0.1 GET /items 200 0.413ms cors=actual origin=https://app.example.com \
                        allowed=true reason=allowed\n"
                )),
                Format::Json => {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                    assert_eq!(v["status"], 200);
                    assert_eq!(v["origin"], "https://app.example.com");
                }
                Format::Combined => assert!(
                    line.starts_with("127.0.0.1 - - [")
                        && line.ends_with(
                            "] \"GET /items HTTP/1.1\" 200 \
                            12 \"https://app.example.com/\\x22x\\x22\" \"-\"\n"
                        ),
                    "{line}"
                ),
            }
        }
    }
}
