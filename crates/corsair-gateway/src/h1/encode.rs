//! The heads this path writes itself: its own answers (a preflight's, 400, 431, 502, 504), with
//! the policy's headers and a `Date` formatted once a second.

use corsair_http1::encode::{canonical_reason, content_length, line, status_line};
use corsair_policy::Decision;

/// Appends `date: ...`, formatted once a second per thread.
pub fn date(out: &mut Vec<u8>) {
    thread_local! {
        static CACHE: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((0, String::new())) };
    }
    let now = std::time::SystemTime::now();
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != secs || c.1.is_empty() {
            *c = (secs, httpdate::fmt_http_date(now));
        }
        line(out, b"date", c.1.as_bytes());
    });
}

/// Appends a decision's headers for an actual response: all of them but `Vary`, which the
/// caller merges. Returns whether the decision wants `Vary: Origin`.
pub fn cors(out: &mut Vec<u8>, d: &Decision<'_>) -> bool {
    let mut vary = false;
    for (n, v) in d.headers.iter() {
        if n == "vary" {
            vary = true;
        } else {
            line(out, n.as_bytes(), v.as_bytes());
        }
    }
    vary
}

/// Writes the gateway's own short answer into `out` (400, 431, 502, 504), with the policy's
/// headers when a decision was made.
pub fn plain(out: &mut Vec<u8>, status: u16, text: &str, d: Option<&Decision<'_>>, close: bool) {
    out.clear();
    status_line(out, status, canonical_reason(status));
    date(out);
    line(out, b"content-type", b"text/plain; charset=utf-8");
    content_length(out, text.len() as u64);
    if let Some(d) = d {
        if cors(out, d) {
            line(out, b"vary", b"Origin");
        }
    }
    if close {
        line(out, b"connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(text.as_bytes());
}

/// Writes the answer to a preflight into `out`: the decision's status and headers, no body.
pub fn preflight(out: &mut Vec<u8>, d: &Decision<'_>, close: bool) {
    out.clear();
    status_line(out, d.status, canonical_reason(d.status));
    date(out);
    if d.status != 204 {
        line(out, b"content-length", b"0");
    }
    for (n, v) in d.headers.iter() {
        line(out, n.as_bytes(), v.as_bytes());
    }
    if close {
        line(out, b"connection", b"close");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsair_policy::{decide, PolicySpec, RequestView};

    fn head_lines(out: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(out)
            .split("\r\n")
            .filter(|l| !l.starts_with("date: "))
            .map(str::to_string)
            .collect()
    }

    fn policy() -> corsair_policy::Policy {
        PolicySpec {
            origins: vec!["https://app.example".into()],
            methods: vec!["PUT".into()],
            credentials: true,
            ..Default::default()
        }
        .build()
        .unwrap()
        .0
    }

    #[test]
    fn a_preflight_answer_carries_the_decision() {
        let p = policy();
        let d = decide(
            &p,
            &RequestView {
                method: "OPTIONS",
                origin: Some(b"https://app.example"),
                request_method: Some(b"PUT"),
                request_headers: None,
            },
        );
        let mut out = b"left over".to_vec();
        preflight(&mut out, &d, true);
        let lines = head_lines(&out);
        assert_eq!(lines[0], "HTTP/1.1 204 No Content");
        assert!(lines.contains(&"access-control-allow-origin: https://app.example".into()));
        assert!(lines.contains(&"access-control-allow-methods: PUT".into()));
        assert!(
            !lines.iter().any(|l| l.starts_with("content-length")),
            "204 has no length"
        );
        assert_eq!(lines[lines.len() - 3..], ["connection: close", "", ""]);
        assert!(String::from_utf8_lossy(&out).contains("\r\ndate: "));
    }

    #[test]
    fn an_error_answer_has_a_body_and_the_policy_headers() {
        let p = policy();
        let d = decide(
            &p,
            &RequestView {
                method: "GET",
                origin: Some(b"https://app.example"),
                request_method: None,
                request_headers: None,
            },
        );
        let mut out = Vec::new();
        plain(&mut out, 502, "down\n", Some(&d), false);
        let lines = head_lines(&out);
        assert_eq!(lines[0], "HTTP/1.1 502 Bad Gateway");
        assert!(lines.contains(&"content-length: 5".into()));
        assert!(lines.contains(&"access-control-allow-credentials: true".into()));
        assert!(lines.contains(&"vary: Origin".into()));
        assert!(!lines.contains(&"connection: close".into()));
        assert!(out.ends_with(b"\r\n\r\ndown\n"));
        plain(&mut out, 431, "too large\n", None, true);
        let lines = head_lines(&out);
        assert!(!lines.iter().any(|l| l.starts_with("access-control-")));
        assert!(lines.contains(&"connection: close".into()));
    }
}
