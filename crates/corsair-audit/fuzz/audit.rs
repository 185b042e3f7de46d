//! An audit never panics, whatever the target URL and trusted origin and whatever each probe's
//! answer: hostile servers get a report, not a crash.
#![no_main]

use corsair_core::audit::{assess, probes, Reply, Subject};
use corsair_core::ResponseHead;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Line 1: the target URL; line 2: the trusted origin (empty: inferred); the rest: answers,
    // one block per probe, each a status line then header lines (and, after a line `body:`, the
    // body), blocks split by blank lines.
    let mut parts = text.splitn(3, '\n');
    let url = parts.next().unwrap_or("");
    let trusted = parts.next().filter(|t| !t.is_empty());
    let rest = parts.next().unwrap_or("");
    let url = if url.is_empty() { "https://api.example.com/me" } else { url };
    let Ok(subject) = Subject::new(url, trusted, vec![("Authorization".into(), "x".into())]) else {
        return;
    };
    let mut blocks = rest.split("\n\n").cycle();
    let answers: Vec<_> = probes(&subject)
        .into_iter()
        .map(|p| {
            let block = blocks.next().unwrap_or("");
            let _ = p.request(&subject);
            if block.starts_with('!') {
                let reset = corsair_core::fetch::NetError {
                    code: "ERR_CONNECTION_RESET".into(),
                    detail: "fuzz".into(),
                };
                return (p, Err(reset));
            }
            let (head, body) = block.split_once("\nbody:").unwrap_or((block, ""));
            let mut lines = head.lines();
            let status = lines.next().and_then(|l| l.trim().parse().ok()).unwrap_or(200);
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.to_string(), v.trim().as_bytes().to_vec()))
                .collect();
            let head = ResponseHead { status, headers };
            (p, Ok(Reply { head, body: body.as_bytes().to_vec() }))
        })
        .collect();
    let findings = assess(&subject, &answers);
    // Each class is reported once (never also as implied by another finding), and the report
    // is stable.
    for (i, f) in findings.iter().enumerate() {
        assert!(findings[..i].iter().all(|g| g.class != f.class));
        assert!(findings.iter().all(|g| !g.implied.contains(&f.class)));
    }
    assert_eq!(findings, assess(&subject, &answers));
});
