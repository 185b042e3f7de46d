//! `corsair audit URL...`: sends each target the probes of `corsair_core::audit` (many targets
//! at once, bounded in flight over all and per host, optionally rate-limited), assesses the
//! answers, and reports every finding as text, JSON, JSON lines (as targets complete) or SARIF.

use crate::cli::{AuditArgs, AuditFormat, FailOn};
use crate::client::Client;
use crate::style::{BAD, DIM, HEAD, WARN};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, println};
use corsair_core::audit::{assess, probes, Class, Finding, Probe, Severity, Subject};
use corsair_core::ResponseHead;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Mutex, Semaphore};

pub fn run(args: AuditArgs) -> u8 {
    match run_inner(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}

/// One target's result.
#[derive(Serialize)]
struct TargetResult {
    url: String,
    trusted_origin: String,
    findings: Vec<Finding>,
    /// Probes that got no answer (`net::ERR_...: detail`).
    errors: Vec<String>,
    requests: usize,
}

fn targets(args: &AuditArgs) -> Result<Vec<String>, String> {
    let mut urls: Vec<String> = args.urls.clone();
    if let Some(input) = &args.input {
        let lines: Vec<String> = if input == "-" {
            std::io::stdin()
                .lock()
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|e| format!("cannot read the URLs from stdin: {e}"))?
        } else {
            std::fs::read_to_string(input)
                .map_err(|e| format!("cannot read --input {input}: {e}"))?
                .lines()
                .map(str::to_string)
                .collect()
        };
        urls.extend(
            lines
                .into_iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty() && !l.starts_with('#')),
        );
    }
    if urls.is_empty() {
        return Err(
            "no target: give URLs as arguments or with --input FILE (one a line, '-' for stdin)"
                .into(),
        );
    }
    Ok(urls)
}

fn run_inner(args: &AuditArgs) -> Result<u8, String> {
    let (headers, resolve) = super::connection_options(&args.headers, &args.resolve, args.timeout)?;
    if args.concurrency == 0 || args.per_host == 0 {
        return Err("--concurrency and --per-host must be at least 1".into());
    }
    if !(args.rate >= 0.0 && args.rate.is_finite()) {
        return Err(format!(
            "--rate {} must be a number of requests a second (0: no limit)",
            args.rate
        ));
    }
    let subjects = targets(args)?
        .iter()
        .map(|u| Subject::new(u, args.origin.as_deref(), headers.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut client = Client::new(
        resolve,
        args.cacert.as_deref(),
        args.insecure,
        Duration::from_secs_f64(args.timeout),
    )?
    .with_keep_alive();
    if let Some(p) = &args.proxy {
        client = client.with_proxy(p)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let started = Instant::now();
    let results = runtime.block_on(scan(args, Arc::new(client), subjects));
    let elapsed = started.elapsed();
    Ok(report(args, &results, elapsed))
}

/// Spaces requests `1/rate` seconds apart over all targets.
struct Pacer {
    interval: Option<Duration>,
    next: Mutex<tokio::time::Instant>,
}

impl Pacer {
    async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

async fn scan(args: &AuditArgs, client: Arc<Client>, subjects: Vec<Subject>) -> Vec<TargetResult> {
    let global = Arc::new(Semaphore::new(args.concurrency));
    let mut per_host: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let pacer = Arc::new(Pacer {
        interval: (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate)),
        next: Mutex::new(tokio::time::Instant::now()),
    });
    let bar = progress(args, subjects.len());
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, TargetResult)>();
    for (i, subject) in subjects.into_iter().enumerate() {
        let host_key = format!(
            "{}:{}",
            subject.url.host_str().unwrap_or_default(),
            subject.url.port_or_known_default().unwrap_or(0)
        );
        let host = per_host
            .entry(host_key)
            .or_insert_with(|| Arc::new(Semaphore::new(args.per_host)))
            .clone();
        let (client, global, pacer, tx) =
            (client.clone(), global.clone(), pacer.clone(), tx.clone());
        tokio::spawn(async move {
            let mut subject = subject;
            subject.target_space = client.space_of(&subject.url).await;
            let subject = Arc::new(subject);
            let list = probes(&subject);
            let mut tasks = Vec::with_capacity(list.len());
            for probe in list {
                let (client, global, host, pacer, subject) = (
                    client.clone(),
                    global.clone(),
                    host.clone(),
                    pacer.clone(),
                    subject.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let _g = global.acquire_owned().await;
                    let _h = host.acquire_owned().await;
                    pacer.wait().await;
                    let out = probe.request(&subject);
                    let r: Result<ResponseHead, String> = client
                        .send(&out)
                        .await
                        .map_err(|e| format!("net::{}: {}", e.code, e.detail));
                    (probe, r)
                }));
            }
            let mut answers: Vec<(Probe, Result<ResponseHead, String>)> = Vec::new();
            for t in tasks {
                if let Ok(a) = t.await {
                    answers.push(a);
                }
            }
            let mut errors: Vec<String> = answers
                .iter()
                .filter_map(|(p, r)| {
                    r.as_ref()
                        .err()
                        .map(|e| format!("{} {}: {e}", p.request(&subject).method, p.origin))
                })
                .collect();
            errors.dedup();
            let result = TargetResult {
                url: subject.url.to_string(),
                trusted_origin: subject.trusted.clone(),
                findings: assess(&subject, &answers),
                errors,
                requests: answers.len(),
            };
            let _ = tx.send((i, result));
        });
    }
    drop(tx);
    let mut results: Vec<(usize, TargetResult)> = Vec::new();
    while let Some((i, r)) = rx.recv().await {
        if args.format == AuditFormat::Jsonl {
            stream_line(&r);
        }
        if let Some(b) = &bar {
            b.inc(1);
            if !r.findings.is_empty() {
                b.set_message(format!(
                    "{} findings so far",
                    results.iter().map(|(_, r)| r.findings.len()).sum::<usize>() + r.findings.len()
                ));
            }
        }
        results.push((i, r));
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn progress(args: &AuditArgs, total: usize) -> Option<indicatif::ProgressBar> {
    if args.no_progress || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} auditing [{bar:30}] {pos}/{len} targets {msg} ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(bar)
}

/// JSON lines: one line a finding, and one a target that could not be probed fully.
fn stream_line(r: &TargetResult) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for f in &r.findings {
        let _ = writeln!(out, "{}", serde_json::to_string(f).unwrap_or_default());
    }
    if !r.errors.is_empty() {
        let _ = writeln!(out, "{}", json!({"url": r.url, "errors": r.errors}));
    }
    let _ = out.flush();
}

fn fail_level(f: FailOn) -> Severity {
    match f {
        FailOn::Info => Severity::Info,
        FailOn::Low => Severity::Low,
        FailOn::Medium => Severity::Medium,
        FailOn::High => Severity::High,
        FailOn::Critical => Severity::Critical,
    }
}

fn report(args: &AuditArgs, results: &[TargetResult], elapsed: Duration) -> u8 {
    let findings: Vec<&Finding> = results.iter().flat_map(|r| &r.findings).collect();
    let requests: usize = results.iter().map(|r| r.requests).sum();
    let failed: Vec<&TargetResult> = results.iter().filter(|r| !r.errors.is_empty()).collect();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let summary = json!({
        "targets": results.len(),
        "requests": requests,
        "seconds": elapsed.as_secs_f64(),
        "findings": findings.len(),
        "critical": count(Severity::Critical),
        "high": count(Severity::High),
        "medium": count(Severity::Medium),
        "low": count(Severity::Low),
        "info": count(Severity::Info),
        "targets_with_errors": failed.len(),
    });
    match args.format {
        AuditFormat::Text => text(args, results, &summary),
        AuditFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "findings": findings,
                "targets": results.iter().map(|r| json!({"url": r.url, "trusted_origin": r.trusted_origin, "findings": r.findings.len(), "errors": r.errors})).collect::<Vec<_>>(),
                "summary": summary,
            }))
            .unwrap_or_default()
        ),
        AuditFormat::Jsonl => {}
        AuditFormat::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&sarif(&findings)).unwrap_or_default()
        ),
    }
    if let Some(level) = args.fail_on {
        if findings.iter().any(|f| f.severity >= fail_level(level)) {
            return EXIT_BLOCKED;
        }
    }
    if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    }
}

fn severity_style(s: Severity) -> anstyle::Style {
    match s {
        Severity::Critical | Severity::High => BAD,
        Severity::Medium | Severity::Low => WARN,
        Severity::Info => DIM,
    }
}

fn text(args: &AuditArgs, results: &[TargetResult], summary: &serde_json::Value) {
    for r in results {
        println!(
            "{HEAD}{}{HEAD:#}  {DIM}(trusted origin {}){DIM:#}",
            r.url, r.trusted_origin
        );
        if r.findings.is_empty() && r.errors.is_empty() {
            println!("  no finding");
        }
        for f in &r.findings {
            let st = severity_style(f.severity);
            println!(
                "  {st}{:<8}{st:#} {HEAD}{}{HEAD:#}  {DIM}{}{DIM:#}",
                f.severity.name(),
                f.title,
                f.class.id()
            );
            println!("           {}", f.detail);
            if f.engines_differ() {
                // Each engine's own rules on reaching the target, where they differ; engines that
                // fare alike share a line.
                let mut lines: Vec<(&str, Vec<&str>, bool)> = Vec::new();
                for x in &f.engines {
                    match lines.iter_mut().find(|(how, ..)| *how == x.how) {
                        Some((_, names, _)) => names.push(x.browser.name()),
                        None => lines.push((&x.how, vec![x.browser.name()], x.direct)),
                    }
                }
                for (how, names, direct) in lines {
                    let st = if direct { DIM } else { WARN };
                    println!("           {st}in {}{st:#}: {how}", names.join(", "));
                }
            }
            let e = &f.probe;
            println!(
                "           probe: {} with Origin: {} → {}",
                e.method, e.origin, e.status
            );
            for (n, v) in &e.response_headers {
                println!("             {n}: {v}");
            }
            if !f.also_allowed.is_empty() {
                let shown: Vec<&str> = f.also_allowed.iter().take(6).map(String::as_str).collect();
                let more = f.also_allowed.len().saturating_sub(shown.len());
                println!(
                    "           also allowed: {}{}",
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                );
            }
            println!("           fix: {}", f.fix);
            println!("           {DIM}{}{DIM:#}", curl_for(args, f));
        }
        for e in &r.errors {
            println!("  {WARN}error{WARN:#}    {e}");
        }
        println!();
    }
    println!(
        "{} targets, {} requests in {:.2} s: {} findings ({} critical, {} high, {} medium, {} low, {} info){}",
        summary["targets"],
        summary["requests"],
        summary["seconds"].as_f64().unwrap_or_default(),
        summary["findings"],
        summary["critical"],
        summary["high"],
        summary["medium"],
        summary["low"],
        summary["info"],
        if summary["targets_with_errors"].as_u64().unwrap_or(0) > 0 {
            format!("; {} targets had errors", summary["targets_with_errors"])
        } else {
            String::new()
        }
    );
}

/// The curl command that replays a finding's probe (the user's headers shown by name only).
fn curl_for(args: &AuditArgs, f: &Finding) -> String {
    let out = corsair_core::fetch::Outgoing {
        kind: if f.probe.method == "OPTIONS" {
            corsair_core::fetch::ExchangeKind::Preflight
        } else {
            corsair_core::fetch::ExchangeKind::Actual
        },
        method: f.probe.method.clone(),
        url: url::Url::parse(&f.url).expect("the finding's URL was parsed before"),
        headers: f.probe.request_headers.clone(),
        body: None,
    };
    super::curl(
        &out,
        &args.resolve,
        args.cacert.as_deref(),
        args.insecure,
        args.proxy.as_deref(),
    )
}

/// SARIF 2.1.0: one rule a class (with its CWE), one result a finding, located at its URL.
fn sarif(findings: &[&Finding]) -> serde_json::Value {
    let level = |s: Severity| match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "note",
    };
    let score = |s: Severity| match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    };
    let rules: Vec<serde_json::Value> = Class::ALL
        .iter()
        .map(|c| {
            let mut tags = vec!["security".to_string(), "cors".to_string()];
            if let Some(cwe) = c.cwe() {
                tags.push(format!("external/cwe/cwe-{cwe}"));
            }
            json!({
                "id": c.id(),
                "name": c.id(),
                "shortDescription": {"text": c.title()},
                "helpUri": "https://fetch.spec.whatwg.org/#http-cors-protocol",
                "properties": {"tags": tags},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.class.id(),
                "ruleIndex": Class::ALL.iter().position(|c| *c == f.class),
                "level": level(f.severity),
                "message": {"text": format!("{} {} Fix: {}", f.title, f.detail, f.fix)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.url}}}],
                "partialFingerprints": {"corsair/v1": format!("{}|{}", f.class.id(), f.url)},
                "properties": {
                    "severity": f.severity.name(),
                    "security-severity": score(f.severity),
                    "probe": f.probe,
                    "also_allowed": f.also_allowed,
                    "engines": f.engines,
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "corsair",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://fetch.spec.whatwg.org/",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
