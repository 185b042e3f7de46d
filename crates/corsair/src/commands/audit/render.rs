//! The audit's renderings: text, JSON, JSON lines as targets complete, SARIF, and the exit
//! status --fail-on asks for.

use super::schedule::Outcome;
#[allow(unused_imports)]
use super::*;
use anstream::{eprintln, println};

/// The progress bar (on a terminal only); its length grows as --input is read.
pub(super) fn progress(args: &AuditArgs) -> Option<indicatif::ProgressBar> {
    if args.no_progress || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} auditing [{bar:30}] {pos}/{len} targets {msg} ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(bar)
}

/// JSON lines: one line a finding, then the target's own line (its URL, `done`, counts and
/// errors), written as the target finishes. `done` is false when a probe got no answer (a
/// network error, worth retrying: --resume does), true otherwise.
pub(super) fn stream_lines(out: &mut impl std::io::Write, r: &TargetResult, options: &str) {
    let mut buf = Vec::new();
    for f in &r.findings {
        let _ = serde_json::to_writer(&mut buf, f);
        buf.push(b'\n');
    }
    let _ = serde_json::to_writer(
        &mut buf,
        &json!({"url": r.url, "done": r.errors.is_empty() || r.requests == 0, "trusted_origin": r.trusted_origin, "findings": r.findings.len(), "requests": r.requests, "errors": r.errors, "options": options}),
    );
    buf.push(b'\n');
    // One write a target, so a line is never split between two targets.
    let _ = out.write_all(&buf);
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

pub(super) fn report(args: &AuditArgs, outcome: &Outcome, elapsed: Duration) -> u8 {
    let results = &outcome.results;
    let c = &outcome.counts;
    let findings: Vec<&Finding> = results.iter().flat_map(|r| &r.findings).collect();
    let count = |s: Severity| c.by_severity[s as usize];
    let summary = json!({
        "targets": c.targets,
        "skipped": c.skipped,
        "requests": c.requests,
        "seconds": elapsed.as_secs_f64(),
        "findings": c.findings,
        "critical": count(Severity::Critical),
        "high": count(Severity::High),
        "medium": count(Severity::Medium),
        "low": count(Severity::Low),
        "info": count(Severity::Info),
        "targets_with_errors": c.targets_with_errors,
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
        // The lines were written as targets finished; the summary goes to stderr.
        AuditFormat::Jsonl => eprintln!("{}", json!({ "summary": summary })),
        AuditFormat::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&sarif(&findings)).unwrap_or_default()
        ),
    }
    if let Some(level) = args.fail_on {
        let level = fail_level(level);
        if Severity::ALL.iter().any(|&s| s >= level && count(s) > 0) {
            return EXIT_BLOCKED;
        }
    }
    if c.targets_with_errors == 0 {
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
            if !f.implied.is_empty() {
                let ids: Vec<&str> = f.implied.iter().map(|c| c.id()).collect();
                println!("           implies: {}", ids.join(", "));
            }
            if !f.exposed.is_empty() {
                let fields: Vec<String> = f
                    .exposed
                    .iter()
                    .map(|e| format!("{} ({})", e.field, e.detector))
                    .collect();
                println!(
                    "           exposed (values not shown): {}",
                    fields.join(", ")
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
        "{} targets, {} requests in {:.2} s: {} findings ({} critical, {} high, {} medium, {} low, \
            {} info){}",
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
    crate::commands::curl(
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
                    "implied": f.implied,
                    "exposed": f.exposed,
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
