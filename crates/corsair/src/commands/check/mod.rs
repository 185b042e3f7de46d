//! `corsair check`: send what a browser sends, apply its checks, report the verdict, the console
//! message, the cause and the fix. The path reads one way: the arguments become a request spec,
//! [`evaluate`] drives the browser model over the network into an [`Evaluated`] value, and its
//! [`report::Report`] is rendered once, as text or JSON (`report`; `engines` for
//! `--browser all`), then printed.

mod engines;
mod report;
#[cfg(test)]
mod tests;

use engines::{all_engines, all_json};
use report::Report;

use crate::cli::{CheckArgs, CrossOriginArg, Format};
use crate::style::BAD;
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, print, println};
use corsair_core::diagnosis::{self, Answer, Diagnosis};
use corsair_core::fetch::{Exchange, ExchangeKind, Outgoing};
use corsair_core::lna::{self, Permission};
use corsair_core::request::{CrossOrigin, LnaOptions};
use corsair_core::{Browser, Credentials, Fetch, Next, Outcome, RequestSpec};
use corsair_net::client::Client;
use serde_json::Value;
use std::time::Duration;

pub fn run(mut args: CheckArgs) -> u8 {
    let imported = match import(&mut args) {
        Ok(i) => i,
        Err(msg) => {
            eprintln!("{BAD}error:{BAD:#} {msg}");
            return EXIT_ERROR;
        }
    };
    match run_inner(&args, imported.as_ref()) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("{BAD}error:{BAD:#} {msg}");
            EXIT_ERROR
        }
    }
}

pub(crate) fn parse_header(h: &str) -> Result<(String, String), String> {
    let (n, v) = h
        .split_once(':')
        .ok_or_else(|| format!("--header '{h}' has no ':'; write it as 'Name: value'"))?;
    let name = n.trim();
    if name.is_empty() {
        return Err(format!(
            "--header '{h}' has an empty name; write it as 'Name: value'"
        ));
    }
    // Fetch normalises a value by stripping HTTP whitespace (tab, space, CR, LF) only: a
    // vertical tab or a form feed stays, and makes `text/plain\x0B` unsafe (a preflight).
    Ok((
        name.to_string(),
        v.trim_matches(HTTP_WHITESPACE).to_string(),
    ))
}

/// HTTP whitespace, as Fetch strips it from a header value's ends.
const HTTP_WHITESPACE: [char; 4] = ['\t', '\n', '\r', ' '];

/// Where an imported request came from.
pub(crate) struct Import {
    /// `cURL` or `fetch`.
    from: &'static str,
    request: corsair_core::import::Imported,
    /// The header the page's origin was read from; `None` when --origin gave it.
    origin_from: Option<&'static str>,
}

/// Reads --from-curl or --from-fetch into the arguments, and makes sure the URL and the origin
/// are known.
fn import(args: &mut CheckArgs) -> Result<Option<Import>, String> {
    let (from, text) = match (args.from_curl.take(), args.from_fetch.take()) {
        (Some(t), _) => ("cURL", t),
        (None, Some(t)) => ("fetch", t),
        (None, None) => {
            if args.origin.is_none() {
                return Err(
                    "--origin is required: the origin of the page that makes the request, \
                    e.g. --origin https://app.example.com"
                        .into(),
                );
            }
            return Ok(None);
        }
    };
    let text = if text == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| format!("cannot read the copied request from stdin: {e}"))?;
        s
    } else {
        text
    };
    let request = match from {
        "cURL" => corsair_core::import::from_curl(&text),
        _ => corsair_core::import::from_fetch(&text),
    }
    .map_err(|e| {
        format!(
            "--from-{}: {}; fix: {}",
            from.to_ascii_lowercase(),
            e.message,
            e.fix
        )
    })?;
    let mut origin_from = None;
    if args.origin.is_none() {
        match &request.origin {
            Some(o) => {
                args.origin = Some(o.clone());
                origin_from = request.origin_from;
            }
            None => {
                return Err(
                    "the copied request has no Origin or Referer header, so the page's \
                    origin is unknown; pass it with --origin, e.g. --origin \
                    https://app.example.com"
                        .into(),
                )
            }
        }
    }
    args.url = Some(request.url.clone());
    args.method = request.method.clone();
    args.headers = request
        .headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    args.data = request.body.clone();
    args.credentials |= request.credentials;
    Ok(Some(Import {
        from,
        request,
        origin_from,
    }))
}

fn run_inner(args: &CheckArgs, imported: Option<&Import>) -> Result<u8, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let engines = args.browser.engines();
    if engines.len() > 1 {
        let checked = runtime.block_on(evaluate_all(args, &engines))?;
        let mut w = String::new();
        let code = all_engines(&mut w, args, imported, &checked);
        print!("{w}");
        return Ok(code);
    }
    let checked = runtime.block_on(evaluate(args, engines[0]))?;
    let report = checked.report(args, imported);
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report.json()).expect("JSON")
        ),
        Format::Text => {
            let mut w = String::new();
            report.text(&mut w);
            print!("{w}");
        }
    }
    let outcome = &checked.outcome;
    Ok(if outcome.net_error.is_some() {
        EXIT_ERROR
    } else if outcome.allowed || (args.preflight_only && outcome.failure.is_none()) {
        EXIT_OK
    } else {
        EXIT_BLOCKED
    })
}

/// The same check as `corsair check --format json`, for the ui's API.
pub(crate) async fn check_json(args: &CheckArgs) -> Result<Value, String> {
    let engines = args.browser.engines();
    if engines.len() > 1 {
        let checked = evaluate_all(args, &engines).await?;
        return Ok(all_json(args, None, &checked));
    }
    Ok(evaluate(args, engines[0]).await?.report(args, None).json())
}

/// The check with each engine in turn (each sends its own requests).
async fn evaluate_all(args: &CheckArgs, engines: &[Browser]) -> Result<Vec<Evaluated>, String> {
    if args.preflight_only {
        return Err(
            "--browser all compares whole exchanges; a preflight alone decides nothing: \
            drop --preflight-only, or pick one browser"
                .into(),
        );
    }
    let mut checked = Vec::new();
    for &b in engines {
        checked.push(evaluate(args, b).await?);
    }
    Ok(checked)
}

/// Runs the check with `browser`'s rules: the request spec, the outcome and the warnings about
/// the input.
async fn evaluate(args: &CheckArgs, browser: Browser) -> Result<Evaluated, String> {
    let (spec, resolve) = request_spec(args)?;
    let fetch = Fetch::new(&spec, browser).map_err(|e| e.to_string())?;
    let client = client_for(args, resolve.clone(), &fetch.url())?;
    let preflight_only = args.preflight_only;
    let (outcome, next) = client
        .drive_until(fetch, |out| {
            preflight_only && out.kind != ExchangeKind::Preflight
        })
        .await;
    let probes = if args.no_probes {
        Vec::new()
    } else {
        diagnosis::probes(&outcome, preflight_only)
    };
    // The extra requests the diagnosis reads (GET, HEAD and OPTIONS only), on a client that
    // reads the start of each body.
    let mut answers = Vec::new();
    if !probes.is_empty() {
        let prober = client_for(args, resolve, &outcome.request.url)?.with_keep_alive();
        for probe in probes {
            let (response, body) = match prober.send_reading(&probe.request, 8192).await {
                Ok((head, body)) => (Ok(head), body.to_vec()),
                Err(e) => (Err(e), Vec::new()),
            };
            answers.push(diagnosis::Answer {
                kind: probe.kind,
                response,
                body,
            });
        }
    }
    Ok(Evaluated::new(
        &spec,
        outcome,
        next,
        preflight_only,
        answers,
    ))
}

/// A client with the connection flags (`--resolve`, `--cacert`, `--insecure`, `--timeout`) and
/// `--target-space` for `url`'s host.
fn client_for(
    args: &CheckArgs,
    resolve: Vec<corsair_net::client::Resolve>,
    url: &url::Url,
) -> Result<Client, String> {
    let client = Client::new(
        resolve,
        args.cacert.as_deref(),
        args.insecure,
        Duration::from_secs_f64(args.timeout),
    )
    .map_err(|e| e.to_string())?;
    Ok(match args.target_space {
        Some(space) => client.with_space(url, space.into()),
        None => client,
    })
}

/// The request a page would make, from the flags, and the `--resolve` entries to reach it by.
fn request_spec(
    args: &CheckArgs,
) -> Result<(RequestSpec, Vec<corsair_net::client::Resolve>), String> {
    let (headers, resolve) = super::connection_options(&args.headers, &args.resolve, args.timeout)?;
    let spec = RequestSpec {
        url: args.url.clone().ok_or("no URL to check")?,
        origin: args.origin.clone().ok_or("--origin is required")?,
        method: args.method.clone(),
        headers,
        credentials: if args.credentials {
            Credentials::Include
        } else {
            Credentials::SameOrigin
        },
        body: args.data.clone(),
        api: args.api.into(),
        crossorigin: args.crossorigin.map(|c| match c {
            CrossOriginArg::Anonymous => CrossOrigin::Anonymous,
            CrossOriginArg::UseCredentials => CrossOrigin::UseCredentials,
        }),
        lna: lna_options(args),
    };
    Ok((spec, resolve))
}

/// The Local Network Access settings from the flags; later --lna-permission flags win.
fn lna_options(args: &CheckArgs) -> LnaOptions {
    let mut permissions = lna::Permissions::both(Permission::Prompt);
    for p in &args.lna_permission {
        if let Some(s) = p.loopback {
            permissions.loopback = s;
        }
        if let Some(s) = p.local {
            permissions.local = s;
        }
    }
    LnaOptions {
        page_space: args.page_space.map(Into::into),
        permissions,
        target_address_space: args.target_address_space.map(Into::into),
    }
}

/// A check's result: the value every rendering reads.
pub(super) struct Evaluated {
    outcome: Outcome,
    warnings: Vec<String>,
    others: Vec<(Browser, Option<Outcome>)>,
    /// With --preflight-only: the request the browser would send next, not sent.
    next: Option<Outgoing>,
    /// The root cause (or, on a green verdict, a hole the probes found).
    diagnosis: Option<Diagnosis>,
    /// The answers to the diagnosis's extra requests.
    probes: Vec<Answer>,
}

impl Evaluated {
    /// The value of a check whose exchanges ended in `outcome`: what the input lost on the way
    /// (dropped headers, a wildcard read as covering Authorization), what the other engines
    /// conclude from the same responses, and the diagnosis from them and the probes' `answers`.
    fn new(
        spec: &RequestSpec,
        outcome: Outcome,
        next: Option<Outgoing>,
        preflight_only: bool,
        answers: Vec<Answer>,
    ) -> Evaluated {
        let mut warnings = Vec::new();
        for d in &outcome.request.dropped {
            warnings.push(format!(
                "the header '{}' is not sent: it is {}",
                d.name,
                d.why.describe()
            ));
        }
        if outcome
            .grant
            .as_ref()
            .is_some_and(|g| g.wildcard_covered_authorization)
        {
            let browser = outcome.browser;
            warnings.push(format!(
                "'*' in Access-Control-Allow-Headers was taken to cover \
                Authorization, as {browser} does; the Fetch standard and Chromium do not: list \
                Authorization by name"
            ));
        }
        // Other engines are compared on the whole exchange; a preflight alone is not one.
        let others = if preflight_only {
            Vec::new()
        } else {
            other_browsers(spec, &outcome)
        };
        Evaluated {
            outcome,
            warnings,
            others,
            next,
            diagnosis: None,
            probes: Vec::new(),
        }
        .answered(answers)
    }

    /// The check with the answers to the diagnosis's probes: the root cause, and on a green
    /// verdict a warning when the server grants any origin with credentials.
    fn answered(mut self, answers: Vec<Answer>) -> Evaluated {
        self.diagnosis = diagnosis::diagnose(&self.outcome, &answers);
        self.warnings
            .retain(|w| !w.starts_with(diagnosis::REFLECTION_WARNING));
        if let Some(d) = self
            .diagnosis
            .as_ref()
            .filter(|d| d.kind == diagnosis::Kind::InsecureReflection)
        {
            self.warnings
                .push(format!("{} Fix: {}", d.summary, d.remedy));
        }
        self.probes = answers;
        self
    }

    /// The report of this check, for text or JSON.
    fn report<'a>(&'a self, args: &'a CheckArgs, imported: Option<&'a Import>) -> Report<'a> {
        Report {
            args,
            imported,
            outcome: &self.outcome,
            warnings: &self.warnings,
            others: &self.others,
            next: self.next.as_ref(),
            diagnosis: self.diagnosis.as_ref(),
            probes: &self.probes,
        }
    }
}

/// What the other browsers conclude from the same responses, when they would send the same
/// requests (the model is sans-IO, so the recorded responses can be replayed).
fn other_browsers(spec: &RequestSpec, outcome: &Outcome) -> Vec<(Browser, Option<Outcome>)> {
    Browser::ALL
        .iter()
        .filter(|&&b| b != outcome.browser)
        .map(|&b| (b, replay(spec, b, &outcome.exchanges)))
        .collect()
}

fn replay(spec: &RequestSpec, browser: Browser, exchanges: &[Exchange]) -> Option<Outcome> {
    let mut f = Fetch::new(spec, browser).ok()?;
    let mut recorded = exchanges.iter();
    while let Next::Send(out) = f.poll() {
        let ex = recorded.next()?;
        if ex.request.method != out.method
            || ex.request.url != out.url
            || ex.request.kind != out.kind
        {
            return None;
        }
        match &ex.response {
            Some(r) => f.receive(r.clone()),
            None => return None,
        }
    }
    Some(f.finish())
}
