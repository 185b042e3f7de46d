//! `corsair audit URL...`: sends each target the probes of `corsair_core::audit` (many targets
//! at once, bounded in flight over all and per host, optionally rate-limited), assesses the
//! answers, and reports every finding as text, JSON, JSON lines (as targets complete) or SARIF.

use crate::cli::{AuditArgs, AuditFormat, FailOn};
use crate::style::{BAD, DIM, HEAD, WARN};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, println};
use corsair_core::audit::{
    assess, probes, Class, Finding, Probe, ProbeKind, Reply, Severity, Subject, BODY_SAMPLE,
};
use corsair_net::client::Client;
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
    /// Probes that got no answer (`net::ERR_...: detail`), or why the target could not be
    /// audited at all (a line of --input that is not a URL).
    errors: Vec<String>,
    requests: usize,
}

/// A target to audit: a checked subject, or an --input line that is not one.
enum Target {
    Subject(Box<Subject>),
    Bad { line: String, error: String },
}

impl Target {
    /// The key a --resume journal records it under.
    fn key(&self) -> &str {
        match self {
            Target::Subject(s) => s.url.as_str(),
            Target::Bad { line, .. } => line,
        }
    }
}

/// Targets in flight at once (each with its probes), and the queue of --input lines read
/// ahead: what bounds memory on a list of any length.
const INPUT_QUEUE: usize = 1024;

/// The URLs given as arguments (checked before anything is sent: a bad one is an error), then
/// --input's lines, read on their own thread as the audit goes.
fn targets(
    args: &AuditArgs,
    headers: &[(String, String)],
) -> Result<mpsc::Receiver<Target>, String> {
    let mut first = Vec::new();
    for u in &args.urls {
        first.push(Target::Subject(Box::new(Subject::new(
            u,
            args.origin.as_deref(),
            headers.to_vec(),
        )?)));
    }
    if first.is_empty() && args.input.is_none() {
        return Err(
            "no target: give URLs as arguments or with --input FILE (one a line, '-' for stdin)"
                .into(),
        );
    }
    let reader: Option<Box<dyn BufRead + Send>> = match args.input.as_deref() {
        None => None,
        Some("-") => Some(Box::new(std::io::BufReader::new(std::io::stdin()))),
        Some(path) => Some(Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(|e| format!("cannot read --input {path}: {e}"))?,
        ))),
    };
    let (tx, rx) = mpsc::channel(INPUT_QUEUE);
    let (origin, headers) = (args.origin.clone(), headers.to_vec());
    let input = args.input.clone().unwrap_or_default();
    std::thread::spawn(move || {
        for t in first {
            if tx.blocking_send(t).is_err() {
                return;
            }
        }
        let Some(reader) = reader else { return };
        for (n, line) in reader.lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    let _ = tx.blocking_send(Target::Bad {
                        line: format!("{input}:{}", n + 1),
                        error: format!("cannot read --input {input} line {}: {e}", n + 1),
                    });
                    return;
                }
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let t = match Subject::new(line, origin.as_deref(), headers.clone()) {
                Ok(s) => Target::Subject(Box::new(s)),
                Err(e) => Target::Bad {
                    line: line.to_string(),
                    error: format!("--input line {}: {e}", n + 1),
                },
            };
            if tx.blocking_send(t).is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// What a target's findings depend on besides its URL: `--origin`, the `-H` headers and the
/// `--resolve` entries. Each target's line carries it as a fingerprint (SHA-256, so a session
/// cookie given with -H is never written out), and a --resume journal written with other options
/// is refused rather than half reused.
fn options_fingerprint(
    origin: Option<&str>,
    headers: &[(String, String)],
    resolve: &[corsair_net::client::Resolve],
) -> String {
    let mut text = format!("origin {}\n", origin.map(str::trim).unwrap_or(""));
    for (name, value) in headers {
        text += &format!("header {}: {}\n", name.to_ascii_lowercase(), value.trim());
    }
    let mut entries: Vec<String> = resolve
        .iter()
        .map(|r| {
            format!(
                "resolve {}:{}:{}\n",
                r.host.to_ascii_lowercase(),
                r.port,
                r.addrs
                    .iter()
                    .map(std::net::IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    entries.sort();
    text.extend(entries);
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The targets a --resume journal records as done (lines with `"done": true`). A journal whose
/// lines record other options (`options`, see [`options_fingerprint`]) is an error.
fn journal_done(
    path: &std::path::Path,
    options: &str,
) -> Result<std::collections::HashSet<String>, String> {
    let mut done = std::collections::HashSet::new();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(format!("cannot read --resume {}: {e}", path.display())),
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("cannot read --resume {}: {e}", path.display()))?;
        // A line cut short by an interruption is ignored: its target is audited again.
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(theirs) = v["options"].as_str() {
            if theirs != options {
                return Err(format!(
                    "--resume {}: the journal records an audit with other --origin, -H or --resolve \
                     options ({theirs} there, {options} here), so its findings do not answer this \
                     one; resume with the options it was started with, or give a new --resume FILE",
                    path.display()
                ));
            }
        }
        if v["done"] == true {
            if let Some(u) = v["url"].as_str() {
                done.insert(u.to_string());
            }
        }
    }
    Ok(done)
}

fn run_inner(args: &AuditArgs) -> Result<u8, String> {
    let (headers, resolve) = super::connection_options(&args.headers, &args.resolve, args.timeout)?;
    if args.concurrency == 0 || args.per_host == 0 {
        return Err("--concurrency and --per-host must be at least 1".into());
    }
    for (flag, rate) in [
        ("--rate", args.rate),
        ("--per-host-rate", args.per_host_rate),
    ] {
        if !(rate >= 0.0 && rate.is_finite()) {
            return Err(format!(
                "{flag} {rate} must be a number of requests a second (0: no limit)"
            ));
        }
    }
    let options = options_fingerprint(args.origin.as_deref(), &headers, &resolve);
    let done = match &args.resume {
        Some(p) => journal_done(p, &options)?,
        None => Default::default(),
    };
    let journal = match &args.resume {
        Some(p) => {
            let cannot = |e: std::io::Error| format!("cannot write --resume {}: {e}", p.display());
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .open(p)
                .map_err(cannot)?;
            // A line cut short by an interruption is ended, so the next record starts a line.
            use std::io::{Read, Seek, Write};
            let len = f.metadata().map_err(cannot)?.len();
            if len > 0 {
                let mut last = [0u8];
                f.seek(std::io::SeekFrom::Start(len - 1)).map_err(cannot)?;
                f.read_exact(&mut last).map_err(cannot)?;
                if last[0] != b'\n' {
                    f.write_all(b"\n").map_err(cannot)?;
                }
            }
            Some(f)
        }
        None => None,
    };
    let mut client = Client::new(
        resolve,
        args.cacert.as_deref(),
        args.insecure,
        Duration::from_secs_f64(args.timeout),
    )
    .map_err(|e| e.to_string())?
    .with_keep_alive();
    if let Some(p) = &args.proxy {
        client = client.with_proxy(p).map_err(|e| e.to_string())?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let started = Instant::now();
    let input = {
        let _rt = runtime.enter();
        targets(args, &headers)?
    };
    let outcome = runtime.block_on(scan(args, Arc::new(client), input, done, journal, &options));
    let elapsed = started.elapsed();
    Ok(report(args, &outcome, elapsed))
}

/// Spaces requests `1/rate` seconds apart.
struct Pacer {
    interval: Option<Duration>,
    next: Mutex<tokio::time::Instant>,
}

impl Pacer {
    fn new(rate: f64) -> Pacer {
        Pacer {
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
            next: Mutex::new(tokio::time::Instant::now()),
        }
    }

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

/// One host's limits: requests in flight and requests a second.
struct HostLimits {
    in_flight: Arc<Semaphore>,
    pacer: Arc<Pacer>,
}

/// What an audit run produced: the results kept for the report (all of them, except for
/// --format jsonl, which streams them and keeps none), and the counts.
#[derive(Default)]
struct Outcome {
    results: Vec<TargetResult>,
    counts: Counts,
}

#[derive(Default, Serialize)]
struct Counts {
    targets: usize,
    skipped: usize,
    requests: usize,
    findings: usize,
    by_severity: [usize; 5],
    targets_with_errors: usize,
}

impl Counts {
    fn add(&mut self, r: &TargetResult) {
        self.targets += 1;
        self.requests += r.requests;
        self.findings += r.findings.len();
        for f in &r.findings {
            self.by_severity[f.severity as usize] += 1;
        }
        if !r.errors.is_empty() {
            self.targets_with_errors += 1;
        }
    }
}

/// Audits one target: its probes, bounded by the global and per-host limits.
async fn audit_one(
    subject: Subject,
    client: Arc<Client>,
    global: Arc<Semaphore>,
    pacer: Arc<Pacer>,
    host: HostLimits,
) -> TargetResult {
    let mut subject = subject;
    subject.target_space = client.space_of(&subject.url).await;
    let subject = Arc::new(subject);
    let list = probes(&subject);
    let mut tasks = Vec::with_capacity(list.len());
    for probe in list {
        let (client, global, in_flight, pacer, host_pacer, subject) = (
            client.clone(),
            global.clone(),
            host.in_flight.clone(),
            pacer.clone(),
            host.pacer.clone(),
            subject.clone(),
        );
        tasks.push(tokio::spawn(async move {
            // The host's turn first, so one host's probes waiting on its limits never hold the
            // global permits other hosts could use.
            let _h = in_flight.acquire_owned().await;
            host_pacer.wait().await;
            let _g = global.acquire_owned().await;
            pacer.wait().await;
            let out = probe.request(&subject);
            // The body matters only for what an attacker's page reads behind `*`: the trusted
            // origin's answer and the anonymous one.
            let sample = match probe.kind {
                ProbeKind::Anonymous => BODY_SAMPLE,
                ProbeKind::Origin if probe.class.is_none() => BODY_SAMPLE,
                _ => 0,
            };
            let r: Result<Reply, String> = client
                .send_reading(&out, sample)
                .await
                .map(|(head, body)| Reply {
                    head,
                    body: body.to_vec(),
                })
                .map_err(|e| format!("net::{}: {}", e.code, e.detail));
            (probe, r)
        }));
    }
    let mut answers: Vec<(Probe, Result<Reply, String>)> = Vec::new();
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
    TargetResult {
        url: subject.url.to_string(),
        trusted_origin: subject.trusted.clone(),
        findings: assess(&subject, &answers),
        errors,
        requests: answers.len(),
    }
}

async fn scan(
    args: &AuditArgs,
    client: Arc<Client>,
    mut input: mpsc::Receiver<Target>,
    done: std::collections::HashSet<String>,
    mut journal: Option<std::fs::File>,
    options: &str,
) -> Outcome {
    let global = Arc::new(Semaphore::new(args.concurrency));
    // Targets in flight: enough to keep `concurrency` requests going over several hosts.
    let targets_in_flight = Arc::new(Semaphore::new(args.concurrency.max(8)));
    let mut hosts: HashMap<String, (Arc<Semaphore>, Arc<Pacer>)> = HashMap::new();
    let pacer = Arc::new(Pacer::new(args.rate));
    let bar = progress(args);
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, TargetResult)>();
    let mut outcome = Outcome::default();
    let keep = args.format != AuditFormat::Jsonl;
    let mut kept: Vec<(usize, TargetResult)> = Vec::new();
    let mut finished = |i: usize, r: TargetResult, outcome: &mut Outcome| {
        // The journal first: whatever a reader of stdout has seen is already recorded.
        if let Some(j) = journal.as_mut() {
            stream_lines(j, &r, options);
        }
        if args.format == AuditFormat::Jsonl {
            stream_lines(&mut std::io::stdout().lock(), &r, options);
        }
        if let Some(b) = &bar {
            b.inc(1);
            if outcome.counts.findings + r.findings.len() > 0 {
                b.set_message(format!(
                    "{} findings so far",
                    outcome.counts.findings + r.findings.len()
                ));
            }
        }
        outcome.counts.add(&r);
        if keep {
            kept.push((i, r));
        }
    };
    let mut next = 0usize;
    let mut input_open = true;
    let mut running = 0usize;
    // A slot for the next target, taken before the next line is read.
    let mut slot: Option<tokio::sync::OwnedSemaphorePermit> = None;
    while input_open || running > 0 {
        tokio::select! {
            // Finished targets first, so results never pile up behind the input (or behind a
            // slow stdin).
            biased;
            Some((i, r)) = rx.recv(), if running > 0 => {
                running -= 1;
                finished(i, r, &mut outcome);
            }
            permit = targets_in_flight.clone().acquire_owned(), if input_open && slot.is_none() => {
                let Ok(permit) = permit else { break };
                slot = Some(permit);
            }
            target = input.recv(), if input_open && slot.is_some() => {
                let Some(target) = target else {
                    input_open = false;
                    continue;
                };
                if done.contains(target.key()) {
                    outcome.counts.skipped += 1;
                    continue;
                }
                let i = next;
                next += 1;
                if let Some(b) = &bar {
                    b.inc_length(1);
                }
                let subject = match target {
                    Target::Bad { line, error } => {
                        let r = TargetResult {
                            url: line,
                            trusted_origin: String::new(),
                            findings: Vec::new(),
                            errors: vec![error],
                            requests: 0,
                        };
                        finished(i, r, &mut outcome);
                        continue;
                    }
                    Target::Subject(s) => *s,
                };
                let host_key = format!(
                    "{}:{}",
                    subject.url.host_str().unwrap_or_default(),
                    subject.url.port_or_known_default().unwrap_or(0)
                );
                if hosts.len() >= 4096 {
                    // Forget hosts no target in flight uses: the map stays small on long lists.
                    hosts.retain(|_, (sem, _)| Arc::strong_count(sem) > 1);
                }
                let (in_flight, host_pacer) = hosts
                    .entry(host_key)
                    .or_insert_with(|| {
                        (
                            Arc::new(Semaphore::new(args.per_host)),
                            Arc::new(Pacer::new(args.per_host_rate)),
                        )
                    })
                    .clone();
                let (client, global, pacer, tx) =
                    (client.clone(), global.clone(), pacer.clone(), tx.clone());
                let permit = slot.take();
                running += 1;
                tokio::spawn(async move {
                    let host = HostLimits { in_flight, pacer: host_pacer };
                    let (url, trusted) = (subject.url.to_string(), subject.trusted.clone());
                    // A panic in one target's audit is that target's error, never a hang.
                    let r = tokio::spawn(audit_one(subject, client, global, pacer, host))
                        .await
                        .unwrap_or_else(|e| TargetResult {
                            url,
                            trusted_origin: trusted,
                            findings: Vec::new(),
                            errors: vec![format!("internal error while auditing this target: {e}")],
                            requests: 0,
                        });
                    drop(permit);
                    let _ = tx.send((i, r));
                });
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    kept.sort_by_key(|(i, _)| *i);
    outcome.results = kept.into_iter().map(|(_, r)| r).collect();
    outcome
}

/// The progress bar (on a terminal only); its length grows as --input is read.
fn progress(args: &AuditArgs) -> Option<indicatif::ProgressBar> {
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
fn stream_lines(out: &mut impl std::io::Write, r: &TargetResult, options: &str) {
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

fn report(args: &AuditArgs, outcome: &Outcome, elapsed: Duration) -> u8 {
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
