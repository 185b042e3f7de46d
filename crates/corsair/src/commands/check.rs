//! `corsair check`: send what a browser sends, apply its checks, report the verdict, the console
//! message, the cause and the fix.

use crate::cli::{CheckArgs, CrossOriginArg, Format};
use crate::style::{BAD, CORS, DIM, GOOD, HEAD, WARN};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, println};
use corsair_core::fetch::{Exchange, ExchangeKind, Outgoing};
use corsair_core::fix;
use corsair_core::lna::{self, Permission};
use corsair_core::request::{CrossOrigin, LnaOptions, Mode};
use corsair_core::{Browser, Credentials, Fetch, Next, Outcome, RequestApi, RequestSpec};
use corsair_net::client::Client;
use serde_json::{json, Value};
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
    Ok((name.to_string(), v.trim().to_string()))
}

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
                return Err("--origin is required: the origin of the page that makes the request, e.g. --origin https://app.example.com".into());
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
                return Err("the copied request has no Origin or Referer header, so the page's origin is unknown; pass it with --origin, e.g. --origin https://app.example.com".into())
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
        return Ok(all_engines(args, imported, &checked));
    }
    let checked = runtime.block_on(evaluate(args, engines[0]))?;
    let report = checked.report(args, imported);
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report.json()).expect("JSON")
        ),
        Format::Text => report.text(),
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
        return Err("--browser all compares whole exchanges; a preflight alone decides nothing: drop --preflight-only, or pick one browser".into());
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
    let mut warnings = Vec::new();
    let fetch = Fetch::new(&spec, browser).map_err(|e| e.to_string())?;
    let mut client = Client::new(
        resolve,
        args.cacert.as_deref(),
        args.insecure,
        Duration::from_secs_f64(args.timeout),
    )
    .map_err(|e| e.to_string())?;
    if let Some(space) = args.target_space {
        client = client.with_space(&fetch.url(), space.into());
    }
    let preflight_only = args.preflight_only;
    let (outcome, next) = client
        .drive_until(fetch, |out| {
            preflight_only && out.kind != ExchangeKind::Preflight
        })
        .await;
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
        warnings.push(format!("'*' in Access-Control-Allow-Headers was taken to cover Authorization, as {browser} does; the Fetch standard and Chromium do not: list Authorization by name"));
    }
    // Other engines are compared on the whole exchange; a preflight alone is not one.
    let others = if preflight_only {
        Vec::new()
    } else {
        other_browsers(&spec, &outcome)
    };
    Ok(Evaluated {
        outcome,
        warnings,
        others,
        next,
    })
}

/// Where an engine's check ended: nothing was sent (Local Network Access), or the number of the
/// exchange that failed; `None` when it passed.
fn failed_at(o: &Outcome) -> Option<usize> {
    if o.allowed {
        None
    } else if o.lna_blocked().is_some() {
        Some(0)
    } else {
        Some(o.exchanges.len())
    }
}

/// Where an engine failed, in words.
fn failure_place(o: &Outcome) -> String {
    if o.lna_blocked().is_some() {
        return "before sending anything (Local Network Access)".into();
    }
    match o.exchanges.last() {
        Some(e) => {
            let what = match e.request.kind {
                ExchangeKind::Preflight => "the preflight",
                ExchangeKind::Actual => "the response",
            };
            format!(
                "{what} to {} {} (exchange {})",
                e.request.method,
                e.request.url,
                o.exchanges.len()
            )
        }
        None => "before sending anything".into(),
    }
}

/// The short verdict of one engine.
fn verdict_word(o: &Outcome) -> &'static str {
    if o.allowed {
        if o.request.mode == Mode::NoCors && o.request.cross_origin {
            "LOADED (no-cors)"
        } else {
            "ALLOWED"
        }
    } else if o.lna_blocked().is_some() {
        "BLOCKED by Local Network Access"
    } else if o.net_error.is_some() {
        "UNREACHABLE"
    } else {
        "BLOCKED"
    }
}

/// The `--browser all` report as JSON: each engine's verdict, which fail first, whether they
/// agree, and each engine's full report.
fn all_json(args: &CheckArgs, imported: Option<&Import>, checked: &[Evaluated]) -> Value {
    let outcomes: Vec<&Outcome> = checked.iter().map(|c| &c.outcome).collect();
    let (fails_first, agree) = compare_engines(&outcomes);
    let verdicts: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "browser": o.browser,
                "allowed": o.allowed,
                "verdict": verdict_word(o),
                "preflight": o.preflight,
                "kind": match o.lna_blocked() {
                    Some(b) => Some(lna_kind(b)),
                    None => o.failure.as_ref().map(|f| f.kind.id()),
                },
                "failed_at_exchange": failed_at(o),
                "failed_at": (!o.allowed).then(|| failure_place(o)),
                "console": o.console(),
                "cause": o.cause(),
            })
        })
        .collect();
    let reports: serde_json::Map<String, Value> = checked
        .iter()
        .map(|c| {
            (
                c.outcome.browser.name().to_string(),
                c.report(args, imported).json(),
            )
        })
        .collect();
    json!({
        "browser": "all",
        "allowed": outcomes.iter().all(|o| o.allowed),
        "agree": agree,
        "fails_first": fails_first,
        "verdicts": verdicts,
        "reports": reports,
    })
}

/// Which engines fail first (at the earliest exchange; none when all pass), and whether all
/// engines reach the same verdict for the same reason.
fn compare_engines(outcomes: &[&Outcome]) -> (Vec<Browser>, bool) {
    let first = outcomes.iter().filter_map(|o| failed_at(o)).min();
    let fails_first = outcomes
        .iter()
        .filter(|o| first.is_some() && failed_at(o) == first)
        .map(|o| o.browser)
        .collect();
    let kind = |o: &Outcome| o.failure.as_ref().map(|f| f.kind);
    let agree = outcomes
        .iter()
        .all(|o| o.allowed == outcomes[0].allowed && kind(o) == kind(outcomes[0]));
    (fails_first, agree)
}

/// `--browser all`: one verdict per engine, which fails first, each console, and the fixes.
fn all_engines(args: &CheckArgs, imported: Option<&Import>, checked: &[Evaluated]) -> u8 {
    let outcomes: Vec<&Outcome> = checked.iter().map(|c| &c.outcome).collect();
    match args.format {
        Format::Json => {
            let doc = all_json(args, imported, checked);
            println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
        }
        Format::Text => {
            let (fails_first, agree) = compare_engines(&outcomes);
            let r = &outcomes[0].request;
            println!("{HEAD}corsair check{HEAD:#} {DIM}(every engine: chromium, firefox, safari; each sent its own requests){DIM:#}");
            println!("  page origin   {}", r.origin);
            println!(
                "  request       {} {}  {DIM}({}, credentials {}){DIM:#}\n",
                r.method,
                r.url,
                api_words(r.api),
                if r.credentials {
                    "included"
                } else {
                    "not included"
                }
            );
            for o in &outcomes {
                let style = if o.allowed { GOOD } else { BAD };
                let place = if o.allowed {
                    String::new()
                } else {
                    format!(" at {}", failure_place(o))
                };
                let preflight = if o.preflight { ", preflighted" } else { "" };
                println!(
                    "  {:<9} {style}{}{style:#}{place}{DIM}{preflight}{DIM:#}",
                    o.browser.name(),
                    verdict_word(o)
                );
            }
            if !fails_first.is_empty() {
                // Engines that fail at the same point are named together.
                let mut places: Vec<(String, Vec<&str>)> = Vec::new();
                for o in outcomes.iter().filter(|o| fails_first.contains(&o.browser)) {
                    let place = failure_place(o);
                    match places.iter_mut().find(|(p, _)| *p == place) {
                        Some((_, names)) => names.push(o.browser.name()),
                        None => places.push((place, vec![o.browser.name()])),
                    }
                }
                let said: Vec<String> = places
                    .iter()
                    .map(|(place, names)| format!("{}, at {place}", names.join(", ")))
                    .collect();
                println!("\n{HEAD}Fails first{HEAD:#}: {}", said.join("; "));
            }
            if !agree {
                println!("  {WARN}The engines disagree{WARN:#}: a fix must satisfy each of them; see each one's cause below.");
            }
            let mut fixes_shown = Vec::new();
            for c in checked {
                let o = &c.outcome;
                if o.allowed {
                    continue;
                }
                print_console(o);
                if let Some(cause) = o.cause() {
                    println!("  {DIM}cause:{DIM:#} {cause}");
                }
                // One fix per distinct failure: engines that fail alike share it.
                if let Some(f) = &o.failure {
                    if !fixes_shown.contains(&(f.kind, f.stage)) {
                        fixes_shown.push((f.kind, f.stage));
                        super::print_fix(&fix::fix(f, &o.request), args.stack);
                    }
                }
            }
        }
    }
    if outcomes.iter().all(|o| o.allowed) {
        EXIT_OK
    } else if outcomes.iter().any(|o| !o.allowed && o.net_error.is_none()) {
        EXIT_BLOCKED
    } else {
        EXIT_ERROR
    }
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

/// A check's result.
struct Evaluated {
    outcome: Outcome,
    warnings: Vec<String>,
    others: Vec<(Browser, Option<Outcome>)>,
    /// With --preflight-only: the request the browser would send next, not sent.
    next: Option<Outgoing>,
}

impl Evaluated {
    /// The report of this check, for text or JSON.
    fn report<'a>(&'a self, args: &'a CheckArgs, imported: Option<&'a Import>) -> Report<'a> {
        Report {
            args,
            imported,
            outcome: &self.outcome,
            warnings: &self.warnings,
            others: &self.others,
            next: self.next.as_ref(),
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

struct Report<'a> {
    args: &'a CheckArgs,
    /// The DevTools copy the request came from, if any.
    imported: Option<&'a Import>,
    /// With --preflight-only: the request the browser would send next, not sent.
    next: Option<&'a Outgoing>,
    outcome: &'a Outcome,
    warnings: &'a [String],
    others: &'a [(Browser, Option<Outcome>)],
}

impl Report<'_> {
    fn curl(&self, out: &Outgoing) -> String {
        super::curl(
            out,
            &self.args.resolve,
            self.args.cacert.as_deref(),
            self.args.insecure,
            None,
        )
    }

    fn fix(&self) -> Option<fix::Fix> {
        self.outcome
            .failure
            .as_ref()
            .map(|f| fix::fix(f, &self.outcome.request))
    }

    fn json(&self) -> Value {
        let o = self.outcome;
        let exchanges: Vec<Value> = o
            .exchanges
            .iter()
            .map(|e| {
                json!({
                    "kind": e.request.kind,
                    "request": e.request,
                    "response": e.response,
                    "curl": self.curl(&e.request),
                })
            })
            .collect();
        let others: serde_json::Map<String, Value> = self
            .others
            .iter()
            .map(|(b, r)| {
                let v = match r {
                    Some(r) => json!({"allowed": r.allowed, "preflight": r.preflight, "console": r.console()}),
                    None => json!(null),
                };
                (b.name().to_string(), v)
            })
            .collect();
        // With --preflight-only, a passed preflight decides nothing yet: the unsent request's
        // response would.
        let undecided = self.args.preflight_only && o.failure.is_none() && o.net_error.is_none();
        json!({
            "allowed": if undecided { Value::Null } else { json!(o.allowed) },
            "preflight_only": self.args.preflight_only,
            "next": self.next,
            "preflight": o.preflight,
            "console": o.console(),
            "browser": o.browser,
            "cross_origin": o.cross_origin,
            "kind": match o.lna_blocked() {
                Some(b) => Some(lna_kind(b)),
                None => o.failure.as_ref().map(|f| f.kind.id()),
            },
            "lna": o.lna.as_ref().map(|l| {
                let origin = o.request.origin.to_string();
                json!({
                    "page_space": l.page_space,
                    "target_space": l.hops.last().map(|h| h.space),
                    "secure_context": l.secure_context,
                    "permissions": l.permissions,
                    "target_address_space": l.target_address_space,
                    "permission_needed": l.permission_needed,
                    "permission": l.permission,
                    "outcome": l.outcome,
                    "blocked": l.blocked,
                    "hops": l.hops,
                    "cause": l.blocked.as_ref().map(|b| b.cause_in(&origin, o.browser)),
                    "fixes": l.blocked.as_ref().map(|b| b.fixes_in(&origin, o.browser)),
                })
            }),
            "failure": o.failure,
            "net_error": o.net_error,
            "cause": o.cause(),
            "fix": self.fix(),
            "preflight_reasons": o.request.preflight_reasons,
            "preflight_reason_texts": o.request.preflight_reasons.iter().map(|p| p.describe()).collect::<Vec<_>>(),
            "preflight_cache": o.grant.as_ref().map(|g| &g.max_age),
            "request": o.request,
            "exchanges": exchanges,
            "final_url": o.final_url,
            "other_browsers": others,
            "warnings": self.warnings,
            "imported": self.imported.map(|i| json!({
                "from": i.from,
                "origin": i.request.origin,
                "origin_from": i.origin_from,
                "dropped": i.request.dropped.iter().map(|(n, why)| json!({"name": n, "why": why})).collect::<Vec<_>>(),
            })),
        })
    }

    /// The end of a --preflight-only report when nothing failed: what the browser would do next.
    fn preflight_only_verdict(&self) {
        let o = self.outcome;
        let Some(next) = self.next else {
            println!("{GOOD}NOTHING LEFT TO SEND{GOOD:#} (--preflight-only).");
            return;
        };
        if o.preflight {
            println!(
                "{GOOD}PREFLIGHT PASSED{GOOD:#} (--preflight-only): the browser would now send {} {}. It was not sent.",
                next.method, next.url
            );
        } else {
            println!(
                "{GOOD}NO PREFLIGHT{GOOD:#} (--preflight-only): the browser sends {} {} directly. Nothing was sent.",
                next.method, next.url
            );
        }
        let credentials = if o.request.credentials {
            " and Access-Control-Allow-Credentials: true"
        } else {
            ""
        };
        println!(
            "  JavaScript can read its response only if that response carries Access-Control-Allow-Origin: {}{credentials}.",
            o.request.origin
        );
        println!("  Run the check without --preflight-only to send it and see.");
    }

    fn text(&self) {
        let o = self.outcome;
        let r = &o.request;
        println!(
            "{HEAD}corsair check{HEAD:#} {DIM}({} model){DIM:#}",
            o.browser
        );
        if let Some(i) = self.imported {
            let origin_from = match i.origin_from {
                Some(from) => format!("the page origin from its {from} header"),
                None => "the page origin from --origin".to_string(),
            };
            println!(
                "  imported      from DevTools' \"Copy as {}\"; {origin_from}",
                i.from
            );
            for (name, why) in &i.request.dropped {
                println!("  {DIM}dropped       {name}: {why}{DIM:#}");
            }
        }
        println!("  page origin   {}", r.origin);
        println!(
            "  request       {} {}  {DIM}({}, {}, credentials {}){DIM:#}",
            r.method,
            r.url,
            api_words(r.api),
            match r.mode {
                Mode::Cors => "cors mode",
                Mode::NoCors => "no-cors mode",
            },
            if r.credentials {
                "included"
            } else {
                "not included"
            }
        );
        if r.mode == Mode::NoCors && r.cross_origin {
            println!("  cors          {DIM}no: without a crossorigin attribute the {} loads in no-cors mode; the page cannot read it (add --crossorigin anonymous to see what CORS says){DIM:#}", api_words(r.api));
        } else if !r.cross_origin {
            println!("  cors          {DIM}same-origin: CORS does not apply{DIM:#}");
        } else if r.preflight_reasons.is_empty() {
            println!("  preflight     no: a simple request (safelisted method and headers)");
        } else {
            let reasons: Vec<String> = r.preflight_reasons.iter().map(|p| p.describe()).collect();
            println!("  preflight     yes: {}", reasons.join("; "));
        }
        if let Some(l) = &o.lna {
            println!("  local network {}", lna_line(l));
        }
        for w in self.warnings {
            println!("  {WARN}warning{WARN:#}       {w}");
        }
        if let Some(sent) = o.exchanges.iter().find(|e| {
            e.request.kind == ExchangeKind::Actual
                && !matches!(e.request.method.as_str(), "GET" | "HEAD" | "OPTIONS")
        }) {
            println!(
                "  {WARN}note{WARN:#}          this sent a real {} to {}: the server may have acted on it (--preflight-only sends the preflight alone)",
                sent.request.method, sent.request.url
            );
        }
        println!();
        for e in &o.exchanges {
            self.print_exchange(e);
        }
        if self.args.preflight_only && o.failure.is_none() && o.net_error.is_none() {
            return self.preflight_only_verdict();
        }
        if let Some(b) = o.lna_blocked() {
            return self.lna_blocked(b);
        }
        if let Some(e) = &o.net_error {
            println!("{BAD}UNREACHABLE{BAD:#} {}: {}", e.code, shown(&e.detail));
            if let Some(c) = o.console() {
                println!("\n{HEAD}Console ({}){HEAD:#}\n  {}", o.browser, shown(&c));
            }
            return;
        }
        if o.allowed && r.mode == Mode::NoCors && r.cross_origin {
            println!(
                "{GOOD}LOADED{GOOD:#} (no-cors): the {} loads, but JavaScript on {} cannot read it.",
                api_words(r.api),
                r.origin
            );
        } else if o.allowed {
            println!(
                "{GOOD}ALLOWED{GOOD:#}: JavaScript on {} can read this response.",
                r.origin
            );
            if let Some(g) = &o.grant {
                println!(
                    "  preflight cache: {} s ({})",
                    g.max_age.seconds, g.max_age.reason
                );
            }
        } else {
            println!(
                "{BAD}BLOCKED by CORS policy{BAD:#}: JavaScript on {} cannot read this response.",
                r.origin
            );
            print_console(o);
            if let Some(c) = o.cause() {
                println!("\n{HEAD}Cause{HEAD:#}\n  {}", shown(&c));
            }
            if let Some(fx) = self.fix() {
                super::print_fix(&fx, self.args.stack);
            }
        }
        let differing: Vec<String> = self
            .others
            .iter()
            .filter_map(|(b, r)| match r {
                Some(r) if r.allowed != o.allowed => Some(format!(
                    "{b} would {}",
                    if r.allowed { "allow it" } else { "block it" }
                )),
                None => Some(format!(
                    "{b} would send different requests (run with --browser {b})"
                )),
                _ => None,
            })
            .collect();
        if !differing.is_empty() {
            println!("\n{HEAD}Other browsers{HEAD:#}\n  {}", differing.join("; "));
        }
        println!("\n{HEAD}Reproduce{HEAD:#}");
        for e in &o.exchanges {
            println!("  {DIM}{}{DIM:#}", self.curl(&e.request));
        }
    }

    /// The end of a report when Local Network Access refused to connect.
    fn lna_blocked(&self, b: &lna::Blocked) {
        let o = self.outcome;
        let origin = o.request.origin.to_string();
        let firefox = o.browser == Browser::Firefox;
        // An engine whose undecided permission holds the request (Firefox) is waiting, not
        // refusing.
        let waits = o.lna.as_ref().is_some_and(|l| l.rules.undecided_waits);
        if waits
            && matches!(
                b,
                lna::Blocked::PermissionDenied {
                    undecided: true,
                    ..
                }
            )
        {
            println!(
                "{BAD}WAITING for the user (Local Network Access){BAD:#}: Firefox holds the request until the user answers its prompt; nothing was sent yet, and no response header can change that."
            );
        } else {
            println!(
                "{BAD}BLOCKED by Local Network Access{BAD:#}: {} did not send the request; no response header can change that.",
                if firefox { "Firefox" } else { "Chromium" }
            );
        }
        print_console(o);
        println!(
            "\n{HEAD}Cause{HEAD:#}\n  {}",
            b.cause_in(&origin, o.browser)
        );
        if let (
            lna::Blocked::PermissionDenied {
                undecided: true,
                space,
            },
            false,
        ) = (b, waits)
        {
            let name = lna::Permissions::default().for_space(*space).1;
            println!("\n{HEAD}The prompt{HEAD:#}");
            println!("  In a desktop Chromium the user is asked whether {origin} may reach {}; the request waits for the answer.", space.name());
            println!("  Allow: the request is sent and CORS decides as usual (run again with --lna-permission {name}=granted to see).");
            println!("  Block: this error, from now on, without asking again.");
            println!("  Headless and automated Chromium answer Block at once, which is what the verdict above shows.");
        }
        println!("\n{HEAD}Fix{HEAD:#}");
        for f in b.fixes_in(&origin, o.browser) {
            println!("  - {f}");
        }
        if !matches!(b, lna::Blocked::TargetSpaceMismatch { .. }) {
            println!("\n{DIM}To see the server's CORS answer anyway: --lna-permission granted (the user allowed it), or --target-space public (this address only stands in for an API on the internet).{DIM:#}");
        }
    }

    fn print_exchange(&self, e: &Exchange) {
        let tag = match e.request.kind {
            ExchangeKind::Preflight => "preflight",
            ExchangeKind::Actual => "request",
        };
        println!(
            "{HEAD}> {} {}{HEAD:#}  {DIM}[{tag}]{DIM:#}",
            e.request.method, e.request.url
        );
        for (n, v) in &e.request.headers {
            if is_cors_request_header(n)
                || self.args.headers.iter().any(|h| {
                    h.split(':')
                        .next()
                        .is_some_and(|x| x.trim().eq_ignore_ascii_case(n))
                })
            {
                println!("    {CORS}{n}: {v}{CORS:#}");
            }
        }
        match &e.response {
            Some(resp) => {
                println!("{HEAD}< {}{HEAD:#}", resp.status);
                for (n, v) in &resp.headers {
                    if is_cors_response_header(n) {
                        println!("    {CORS}{n}: {}{CORS:#}", String::from_utf8_lossy(v));
                    }
                }
                if !resp
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("access-control-allow-origin"))
                {
                    println!("    {DIM}(no Access-Control-Allow-Origin){DIM:#}");
                }
            }
            None => println!("{BAD}< no response{BAD:#}"),
        }
        println!();
    }
}

/// The console output `o`'s engine prints, as its console shows it (Firefox and Safari log
/// several lines for one request).
fn print_console(o: &Outcome) {
    if let Some(text) = o.console() {
        println!("\n{HEAD}Console ({}){HEAD:#}", o.browser);
        for line in text.lines() {
            println!("  {BAD}{}{BAD:#}", shown(line));
        }
    }
}

/// Text that quotes a server's bytes, safe for a terminal: control characters (C0 but the line
/// break and tab, DEL, and C1 such as U+009B, an escape sequence's introducer on some terminals)
/// are written as `\u{9b}`.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(bad) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if bad(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// The API or element in words.
fn api_words(api: RequestApi) -> &'static str {
    match api {
        RequestApi::Fetch => "fetch",
        RequestApi::Xhr => "XMLHttpRequest",
        RequestApi::Font => "font",
        RequestApi::Image => "image",
        RequestApi::Script => "script",
        RequestApi::Module => "module script",
        RequestApi::Stylesheet => "stylesheet",
    }
}

/// The `kind` of a Local Network Access refusal in JSON.
fn lna_kind(b: &lna::Blocked) -> &'static str {
    match b {
        lna::Blocked::TargetSpaceMismatch { .. } => "lna-target-space-mismatch",
        lna::Blocked::InsecureContext { .. } => "lna-insecure-context",
        lna::Blocked::PermissionDenied { .. } => "lna-permission-denied",
    }
}

/// One line on Local Network Access: the spaces, and what it took.
fn lna_line(l: &corsair_core::fetch::LnaReport) -> String {
    let secure = if l.secure_context {
        "secure context"
    } else {
        "not a secure context"
    };
    let target = match l.hops.last() {
        Some(h) => h.space.name(),
        None => "not reached",
    };
    let declared = l
        .target_address_space
        .map(|s| format!(", targetAddressSpace {}", s.name()))
        .unwrap_or_default();
    let what = match (l.outcome, l.permission) {
        ("blocked", _) => "refused".to_string(),
        ("allowed", Some(p)) => format!("needs {p}: granted"),
        (_, _) => "no permission needed".to_string(),
    };
    format!(
        "page {} ({secure}) -> target {target}{declared}: {what}",
        l.page_space.name()
    )
}

fn is_cors_request_header(n: &str) -> bool {
    let n = n.to_ascii_lowercase();
    n == "origin" || n.starts_with("access-control-") || n == "content-type"
}

fn is_cors_response_header(n: &str) -> bool {
    let n = n.to_ascii_lowercase();
    n.starts_with("access-control-") || n == "vary" || n == "location"
}
