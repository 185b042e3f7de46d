//! `corsair audit` on a loopback fleet: every misconfiguration class is found on the server
//! that has it and nowhere else, the safe configurations give nothing (public `*` at most
//! informational), real peers misconfigured as users do it are caught, and CORScanner runs on
//! the same fleet side by side.

use crate::support::{free_port, wait_port, Proc};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

const AUTH: &str = "Authorization: Bearer fleet";

fn corsair(args: &[String], stdin: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_corsair"));
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

struct Fleet {
    plain: u16,
    tls: u16,
}

impl Fleet {
    fn start() -> Fleet {
        let (plain, tls) = crate::audit_fleet::start();
        Fleet { plain, tls }
    }
    /// (url, expected classes) for every case.
    fn targets(&self) -> Vec<(String, BTreeSet<String>)> {
        let mut t: Vec<(String, BTreeSet<String>)> = crate::audit_fleet::CASES
            .iter()
            .map(|(p, c)| {
                (
                    format!("http://api.fleet.test:{}{p}", self.plain),
                    c.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect();
        let (p, c) = crate::audit_fleet::TLS_CASE;
        t.push((
            format!("https://api.fleet.test:{}{p}", self.tls),
            c.iter().map(|s| s.to_string()).collect(),
        ));
        t
    }
    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = [
            "audit",
            "--resolve",
            &format!("api.fleet.test:{}:127.0.0.1", self.plain),
            "--resolve",
            &format!("api.fleet.test:{}:127.0.0.1", self.tls),
            "--insecure",
            "--timeout",
            "5",
            "-H",
            AUTH,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }
}

/// url → classes found, from `--format json`.
fn classes(v: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        m.entry(f["url"].as_str().unwrap().to_string())
            .or_default()
            .insert(f["class"].as_str().unwrap().to_string());
    }
    m
}

#[test]
fn every_class_is_found_where_it_is_and_nowhere_else() {
    let fleet = Fleet::start();
    let targets = fleet.targets();
    let mut args = fleet.args(&["--format", "json"]);
    args.extend(targets.iter().map(|(u, _)| u.clone()));
    let o = corsair(&args, None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert_eq!(o.status.code(), Some(0), "no --fail-on: exit 0\n{v:#}");
    let found = classes(&v);
    let mut wrong = Vec::new();
    for (url, want) in &targets {
        let got = found.get(url).cloned().unwrap_or_default();
        if &got != want {
            wrong.push(format!("{url}: found {got:?}, expected {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}\n{v:#}", wrong.join("\n"));
    // Every class id of the issue is exercised.
    let all: BTreeSet<&str> = found.values().flatten().map(String::as_str).collect();
    for c in corsair_core::audit::Class::ALL {
        assert!(all.contains(c.id()), "{} never found", c.id());
    }

    let by_class = |url_path: &str, class: &str| -> serde_json::Value {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["class"] == class && f["url"].as_str().unwrap().ends_with(url_path))
            .cloned()
            .unwrap()
    };
    // Severity from exploitability.
    assert_eq!(by_class("/reflect", "reflect-origin")["severity"], "high");
    assert_eq!(
        by_class("/reflect-anonymous", "reflect-origin")["severity"],
        "low"
    );
    assert_eq!(by_class("/null", "null-origin")["severity"], "high");
    assert_eq!(
        by_class("/subdomain", "any-subdomain")["severity"],
        "medium"
    );
    assert_eq!(
        by_class("/http", "http-origin-trusted")["severity"],
        "medium"
    );
    assert_eq!(by_class("/port", "port-ignored")["severity"], "low");
    assert_eq!(
        by_class("/wildcard-sensitive", "wildcard-sensitive")["severity"],
        "medium"
    );
    assert_eq!(
        by_class("/safe-public", "wildcard-public")["severity"],
        "info"
    );
    // Evidence, fix and folding.
    let r = by_class("/reflect", "reflect-origin");
    assert_eq!(r["probe"]["origin"], "https://corsair-attacker.example");
    assert!(r["probe"]["response_headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "access-control-allow-origin"));
    assert!(r["also_allowed"]
        .as_array()
        .unwrap()
        .contains(&"null".into()));
    assert!(r["fix"]
        .as_str()
        .unwrap()
        .contains("origins = [\"https://api.fleet.test\"]"));
    assert_eq!(r["cwe"], 942);
    assert_eq!(by_class("/prefix", "prefix-bypass")["cwe"], 346);
    // The user's header is shown by name only.
    assert!(!v.to_string().contains("Bearer fleet"));

    // --fail-on: 1 when something is at or above the level.
    let mut a = fleet.args(&["--format", "json", "--fail-on", "high"]);
    a.push(targets[0].0.clone());
    assert_eq!(corsair(&a, None).status.code(), Some(1));
    let mut a = fleet.args(&["--format", "json", "--fail-on", "low"]);
    a.push(format!("http://api.fleet.test:{}/safe-public", fleet.plain));
    assert_eq!(
        corsair(&a, None).status.code(),
        Some(0),
        "info stays under low"
    );
}

#[test]
fn sarif_jsonl_text_and_input_files() {
    let fleet = Fleet::start();
    let urls: Vec<String> = fleet.targets().into_iter().map(|(u, _)| u).collect();
    let list = format!("# the fleet\n\n{}\n", urls.join("\n"));

    // SARIF 2.1.0 with one rule a class and the CWE tags; URLs read from stdin.
    let o = corsair(
        &fleet.args(&["--format", "sarif", "--input", "-"]),
        Some(&list),
    );
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), corsair_core::audit::Class::ALL.len());
    assert!(rules.iter().any(|r| r["id"] == "prefix-bypass"
        && r["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&"external/cwe/cwe-346".into())));
    let results = run["results"].as_array().unwrap();
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "reflect-origin" && r["level"] == "error"));
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("http")
        );
    }

    // JSON lines: one finding a line, as many as the JSON report has, and one line a target
    // as it finishes.
    let dir = std::env::temp_dir().join(format!("corsair-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("targets.txt");
    std::fs::write(&file, &list).unwrap();
    let o = corsair(
        &fleet.args(&["--format", "jsonl", "--input", file.to_str().unwrap()]),
        None,
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (done, findings): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l["done"] == true);
    assert_eq!(findings.len(), results.len());
    assert!(findings
        .iter()
        .all(|l| l["class"].is_string() && l["severity"].is_string()));
    assert_eq!(done.len(), urls.len());
    for d in &done {
        assert!(
            urls.contains(&d["url"].as_str().unwrap().to_string()),
            "{d}"
        );
        let n = findings.iter().filter(|f| f["url"] == d["url"]).count() as u64;
        assert_eq!(d["findings"].as_u64(), Some(n), "{d}");
        // A target's line comes after its findings.
        let pos = |v: &serde_json::Value| lines.iter().position(|l| l == v).unwrap();
        assert!(findings
            .iter()
            .filter(|f| f["url"] == d["url"])
            .all(|f| pos(f) < pos(d)));
    }

    // Text: the finding, the evidence, the fix and a curl command that replays the probe.
    let mut a = fleet.args(&[]);
    a.push(format!("http://api.fleet.test:{}/null", fleet.plain));
    let o = corsair(&a, None);
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "The null origin is trusted",
        "null-origin",
        "Origin: null",
        "fix: Remove \"null\"",
        "curl -i --resolve",
        "-H 'Origin: null'",
        "1 targets",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_and_unreachable_targets_are_named() {
    for (args, want) in [
        (vec!["audit"], "no target"),
        (vec!["audit", "api.example.com"], "not a URL"),
        (vec!["audit", "ftp://x.example/"], "http:// or https://"),
        (
            vec!["audit", "http://127.0.0.1:9/", "--origin", "null"],
            "not null",
        ),
        (
            vec!["audit", "http://127.0.0.1:9/", "--proxy", "socks5://x"],
            "--proxy",
        ),
        (vec!["audit", "http://127.0.0.1:9/", "--rate=-1"], "--rate"),
        (
            vec!["audit", "http://127.0.0.1:9/", "-H", "nocolon"],
            "Name: value",
        ),
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let o = corsair(&args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // A closed port: reported, not a finding, exit 2.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = corsair(
        &[
            "audit".into(),
            format!("http://127.0.0.1:{port}/"),
            "--format".into(),
            "json".into(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert!(v["targets"][0]["errors"][0]
        .as_str()
        .unwrap()
        .contains("ERR_CONNECTION_REFUSED"));
}

/// A forward proxy on loopback that counts the connections it relays: absolute-form requests
/// for http targets (the first request's target is rewritten; later ones on the same
/// connection go as they are, which hyper's server accepts), CONNECT tunnels for https.
fn start_proxy() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let c = count.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((mut client, _)) = listener.accept().await {
                let c = c.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if client.read(&mut b).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(b[0]);
                    }
                    let text = String::from_utf8_lossy(&head).to_string();
                    let target = text
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                    c.fetch_add(1, Ordering::SeqCst);
                    // Only loopback fleet names are relayed.
                    let authority = target
                        .trim_start_matches("http://")
                        .split('/')
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let port: u16 = authority
                        .rsplit(':')
                        .next()
                        .unwrap_or("80")
                        .parse()
                        .unwrap_or(80);
                    let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                    else {
                        return;
                    };
                    if text.starts_with("CONNECT ") {
                        let _ = client
                            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                            .await;
                    } else {
                        let path = target.splitn(4, '/').nth(3).unwrap_or_default();
                        let rewritten = text.replacen(&target, &format!("/{path}"), 1);
                        let _ = up.write_all(rewritten.as_bytes()).await;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                });
            }
        });
    });
    (port, count)
}

mod peers;
