//! The scheduler: many targets at once, bounded in flight over all and per host, paced to
//! --rate, each target's probes sent and its answers assessed.

use super::render::{progress, stream_lines};
#[allow(unused_imports)]
use super::*;
use corsair_core::fetch::NetError;

/// Spaces requests `1/rate` seconds apart.
pub(super) struct Pacer {
    interval: Option<Duration>,
    next: Mutex<tokio::time::Instant>,
}

impl Pacer {
    pub(super) fn new(rate: f64) -> Pacer {
        Pacer {
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
            next: Mutex::new(tokio::time::Instant::now()),
        }
    }

    pub(super) async fn wait(&self) {
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
pub(super) struct Outcome {
    pub(super) results: Vec<TargetResult>,
    pub(super) counts: Counts,
}

#[derive(Default, Serialize)]
pub(super) struct Counts {
    pub(super) targets: usize,
    pub(super) skipped: usize,
    pub(super) requests: usize,
    pub(super) findings: usize,
    pub(super) by_severity: [usize; 5],
    pub(super) targets_with_errors: usize,
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
            let r: Result<Reply, NetError> =
                client
                    .send_reading(&out, sample)
                    .await
                    .map(|(head, body)| Reply {
                        head,
                        body: body.to_vec(),
                    });
            (probe, r)
        }));
    }
    let mut answers: Vec<(Probe, Result<Reply, NetError>)> = Vec::new();
    for t in tasks {
        if let Ok(a) = t.await {
            answers.push(a);
        }
    }
    let mut errors: Vec<String> = answers
        .iter()
        .filter_map(|(p, r)| {
            r.as_ref().err().map(|e| {
                let method = &p.request(&subject).method;
                format!("{method} {}: net::{}: {}", p.origin, e.code, e.detail)
            })
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

pub(super) async fn scan(
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
