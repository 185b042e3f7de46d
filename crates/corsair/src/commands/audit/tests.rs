//! Unit tests of the audit's journal and scheduler.

use super::journal::{journal_done, options_fingerprint};
use super::schedule::Pacer;
use std::time::Duration;

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_fingerprint_follows_the_options_and_never_shows_a_secret() {
    let a = options_fingerprint(
        Some("https://app.test"),
        &headers(&[("Cookie", "s=secret")]),
        &[],
    );
    assert!(
        a.starts_with("sha256:") && a.len() == "sha256:".len() + 16,
        "{a}"
    );
    assert!(!a.contains("secret"));
    // The same options, spelled otherwise: the same fingerprint.
    let b = options_fingerprint(
        Some(" https://app.test "),
        &headers(&[("cookie", "s=secret ")]),
        &[],
    );
    assert_eq!(a, b);
    // Another origin, header value or resolve entry: another fingerprint.
    assert_ne!(
        a,
        options_fingerprint(
            Some("https://other.test"),
            &headers(&[("Cookie", "s=secret")]),
            &[]
        )
    );
    assert_ne!(
        a,
        options_fingerprint(
            Some("https://app.test"),
            &headers(&[("Cookie", "s=other")]),
            &[]
        )
    );
    let resolve = ["api.test:443:127.0.0.1".parse().unwrap()];
    assert_ne!(
        a,
        options_fingerprint(
            Some("https://app.test"),
            &headers(&[("Cookie", "s=secret")]),
            &resolve
        )
    );
}

#[test]
fn a_journal_gives_its_done_targets_skips_a_torn_line_and_refuses_other_options() {
    let dir = std::env::temp_dir().join(format!("corsair-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.jsonl");
    // No journal yet: nothing done.
    assert!(journal_done(&path, "sha256:aa").unwrap().is_empty());
    std::fs::write(
        &path,
        concat!(
            r#"{"url":"https://a.test/","done":true,"options":"sha256:aa"}"#,
            "\n",
            r#"{"url":"https://b.test/","class":"reflect-origin","options":"sha256:aa"}"#,
            "\n",
            r#"{"url":"https://c.test/","done":tr"#,
        ),
    )
    .unwrap();
    let done = journal_done(&path, "sha256:aa").unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    assert!(done.contains("https://a.test/"));
    let err = journal_done(&path, "sha256:bb").unwrap_err();
    assert!(
        err.contains("other --origin, -H or --resolve") && err.contains("sha256:aa"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(start_paused = true)]
async fn the_pacer_spaces_requests_one_over_the_rate_apart() {
    let pacer = Pacer::new(4.0);
    let start = tokio::time::Instant::now();
    for _ in 0..5 {
        pacer.wait().await;
    }
    // The first at once, then one each 250 ms.
    assert_eq!(start.elapsed(), Duration::from_millis(1000));
    // No rate: no wait.
    let free = Pacer::new(0.0);
    let start = tokio::time::Instant::now();
    free.wait().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}
