//! `corsair audit URL...`: sends each target the probes of `corsair_core::audit` (many targets
//! at once, bounded in flight over all and per host, optionally rate-limited), assesses the
//! answers, and reports every finding as text, JSON, JSON lines (as targets complete) or SARIF.

use crate::cli::{AuditArgs, AuditFormat, FailOn};
use crate::style::{BAD, DIM, HEAD, WARN};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::eprintln;
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

mod journal;
mod render;
mod schedule;
#[cfg(test)]
mod tests;

use journal::{journal_done, options_fingerprint};
use render::report;
use schedule::scan;

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
        let subject =
            Subject::new(u, args.origin.as_deref(), headers.to_vec()).map_err(|e| e.to_string())?;
        first.push(Target::Subject(Box::new(subject)));
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
