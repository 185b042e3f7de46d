//! The report of one engine's check, rendered as text (a DevTools-like trace of each exchange,
//! the verdict, the console, the cause and the fix) or as JSON. Rendering reads the
//! [`Evaluated`](super::Evaluated) value and writes; it sends nothing.

use super::Import;
use crate::cli::CheckArgs;
use crate::style::{BAD, CORS, DIM, GOOD, HEAD, WARN};
use corsair_core::diagnosis::{self, layers, Answer, Diagnosis};
use corsair_core::fetch::{Exchange, ExchangeKind, Outgoing};
use corsair_core::fix;
use corsair_core::lna;
use corsair_core::request::Mode;
use corsair_core::{Browser, Outcome, RequestApi};
use serde_json::{json, Value};

pub(super) struct Report<'a> {
    pub(super) args: &'a CheckArgs,
    /// The DevTools copy the request came from, if any.
    pub(super) imported: Option<&'a Import>,
    /// With --preflight-only: the request the browser would send next, not sent.
    pub(super) next: Option<&'a Outgoing>,
    pub(super) outcome: &'a Outcome,
    pub(super) warnings: &'a [String],
    pub(super) others: &'a [(Browser, Option<Outcome>)],
    /// The root cause, from the exchanges and the probes.
    pub(super) diagnosis: Option<&'a Diagnosis>,
    /// The answers to the diagnosis's extra requests.
    pub(super) probes: &'a [Answer],
}

impl Report<'_> {
    fn curl(&self, out: &Outgoing) -> String {
        crate::commands::curl(
            out,
            &self.args.resolve,
            self.args.cacert.as_deref(),
            self.args.insecure,
            None,
        )
    }

    /// The fix: what the request needs, keeping what the server already allows; where the
    /// cause is the path an answer took, the stack's mechanism for it.
    fn fix(&self) -> Option<fix::Fix> {
        let f = self.outcome.failure.as_ref()?;
        let observed = diagnosis::observed(self.outcome, self.probes);
        let mut fx = fix::fix_keeping(f, &self.outcome.request, &observed);
        if let Some(d) = self.diagnosis.filter(|d| diagnosis::is_path_cause(d.kind)) {
            fx.summary = d.remedy.clone();
            let stack = self
                .args
                .stack
                .and_then(|s| s.targets().first().map(|t| t.name()))
                .or(d.stack);
            if let Some(m) = stack.and_then(|s| diagnosis::path_mechanism(d.kind, s)) {
                fx.summary = format!("{} {m}", fx.summary);
            }
            fx.changes.clear();
        } else if let Some(d) = self
            .diagnosis
            .filter(|d| d.kind == diagnosis::Kind::FrameworkRefusal)
        {
            fx.summary = d.remedy.clone();
        }
        Some(fx)
    }

    pub(super) fn json(&self) -> Value {
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
            "diagnosis": self.diagnosis.map(|d| {
                let mut v = serde_json::to_value(d).expect("JSON");
                v["probes"] = self.probes.iter().map(|a| match &a.response {
                    Ok(r) => json!({"kind": a.kind, "response": r}),
                    Err(e) => json!({"kind": a.kind, "net_error": e}),
                }).collect();
                v
            }),
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
    fn preflight_only_verdict(&self, w: &mut String) {
        let o = self.outcome;
        let Some(next) = self.next else {
            out!(w, "{GOOD}NOTHING LEFT TO SEND{GOOD:#} (--preflight-only).");
            return;
        };
        if o.preflight {
            out!(
                w,
                "{GOOD}PREFLIGHT PASSED{GOOD:#} (--preflight-only): the browser would now send {} \
                    {}. It was not sent.",
                next.method,
                next.url
            );
        } else {
            out!(
                w,
                "{GOOD}NO PREFLIGHT{GOOD:#} (--preflight-only): the browser sends {} {} directly. \
                    Nothing was sent.",
                next.method,
                next.url
            );
        }
        let credentials = if o.request.credentials {
            " and Access-Control-Allow-Credentials: true"
        } else {
            ""
        };
        out!(
            w,
            "  JavaScript can read its response only if that response carries \
                Access-Control-Allow-Origin: {}{credentials}.",
            o.request.origin
        );
        out!(
            w,
            "  Run the check without --preflight-only to send it and see."
        );
    }

    /// The report as text, as `corsair check` prints it.
    pub(super) fn text(&self, w: &mut String) {
        let o = self.outcome;
        let r = &o.request;
        out!(
            w,
            "{HEAD}corsair check{HEAD:#} {DIM}({} model){DIM:#}",
            o.browser
        );
        if let Some(i) = self.imported {
            let origin_from = match i.origin_from {
                Some(from) => format!("the page origin from its {from} header"),
                None => "the page origin from --origin".to_string(),
            };
            out!(
                w,
                "  imported      from DevTools' \"Copy as {}\"; {origin_from}",
                i.from
            );
            for (name, why) in &i.request.dropped {
                out!(w, "  {DIM}dropped       {name}: {why}{DIM:#}");
            }
        }
        out!(w, "  page origin   {}", r.origin);
        out!(
            w,
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
            out!(
                w,
                "  cors          {DIM}no: without a crossorigin attribute the {} loads in \
                no-cors mode; the page cannot read it (add --crossorigin anonymous to see what \
                CORS says){DIM:#}",
                api_words(r.api)
            );
        } else if !r.cross_origin {
            out!(
                w,
                "  cors          {DIM}same-origin: CORS does not apply{DIM:#}"
            );
        } else if r.preflight_reasons.is_empty() {
            out!(
                w,
                "  preflight     no: a simple request (safelisted method and headers)"
            );
        } else {
            let reasons: Vec<String> = r.preflight_reasons.iter().map(|p| p.describe()).collect();
            out!(w, "  preflight     yes: {}", reasons.join("; "));
        }
        if let Some(l) = &o.lna {
            out!(w, "  local network {}", lna_line(l));
        }
        for warning in self.warnings {
            out!(w, "  {WARN}warning{WARN:#}       {warning}");
        }
        if let Some(sent) = o.exchanges.iter().find(|e| {
            e.request.kind == ExchangeKind::Actual
                && !matches!(e.request.method.as_str(), "GET" | "HEAD" | "OPTIONS")
        }) {
            out!(
                w,
                "  {WARN}note{WARN:#}          this sent a real {} to {}: the server may have \
                    acted on it (--preflight-only sends the preflight alone)",
                sent.request.method,
                sent.request.url
            );
        }
        out!(w);
        for e in &o.exchanges {
            self.write_exchange(w, e);
        }
        if self.args.preflight_only && o.failure.is_none() && o.net_error.is_none() {
            return self.preflight_only_verdict(w);
        }
        if let Some(b) = o.lna_blocked() {
            return self.lna_blocked(w, b);
        }
        if let Some(e) = &o.net_error {
            out!(
                w,
                "{BAD}UNREACHABLE{BAD:#} {}: {}",
                e.code,
                shown(&e.detail)
            );
            if let Some(d) = self.diagnosis {
                write_diagnosis(w, d);
            }
            if let Some(c) = o.console() {
                out!(
                    w,
                    "\n{HEAD}Console ({}){HEAD:#}\n  {}",
                    o.browser,
                    shown(&c)
                );
            }
            return;
        }
        if o.allowed && r.mode == Mode::NoCors && r.cross_origin {
            out!(w,
                "{GOOD}LOADED{GOOD:#} (no-cors): the {} loads, but JavaScript on {} cannot read it.",
                api_words(r.api),
                r.origin
            );
        } else if o.allowed {
            out!(
                w,
                "{GOOD}ALLOWED{GOOD:#}: JavaScript on {} can read this response.",
                r.origin
            );
            if let Some(g) = &o.grant {
                out!(
                    w,
                    "  preflight cache: {} s ({})",
                    g.max_age.seconds,
                    g.max_age.reason
                );
            }
        } else {
            out!(
                w,
                "{BAD}BLOCKED by CORS policy{BAD:#}: JavaScript on {} cannot read this response.",
                r.origin
            );
            write_console(w, o);
            if let Some(c) = o.cause() {
                out!(w, "\n{HEAD}Failed check{HEAD:#}\n  {}", shown(&c));
            }
            if let Some(d) = self.diagnosis {
                write_diagnosis(w, d);
            }
            if let Some(fx) = self.fix() {
                crate::commands::write_fix(w, &fx, self.args.stack, self.diagnosis);
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
            out!(
                w,
                "\n{HEAD}Other browsers{HEAD:#}\n  {}",
                differing.join("; ")
            );
        }
        out!(w, "\n{HEAD}Reproduce{HEAD:#}");
        for e in &o.exchanges {
            out!(w, "  {DIM}{}{DIM:#}", self.curl(&e.request));
        }
    }

    /// The end of a report when Local Network Access refused to connect.
    fn lna_blocked(&self, w: &mut String, b: &lna::Blocked) {
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
            out!(
                w,
                "{BAD}WAITING for the user (Local Network Access){BAD:#}: Firefox holds the \
                    request until the user answers its prompt; nothing was sent yet, and no \
                    response header can change that."
            );
        } else {
            out!(
                w,
                "{BAD}BLOCKED by Local Network Access{BAD:#}: {} did not send the request; no \
                    response header can change that.",
                if firefox { "Firefox" } else { "Chromium" }
            );
        }
        write_console(w, o);
        out!(
            w,
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
            out!(w, "\n{HEAD}The prompt{HEAD:#}");
            out!(
                w,
                "  In a desktop Chromium the user is asked whether {origin} may reach {}; the \
                request waits for the answer.",
                space.name()
            );
            out!(
                w,
                "  Allow: the request is sent and CORS decides as usual (run again with \
                --lna-permission {name}=granted to see)."
            );
            out!(w, "  Block: this error, from now on, without asking again.");
            out!(
                w,
                "  Headless and automated Chromium answer Block at once, which is what the \
                verdict above shows."
            );
        }
        out!(w, "\n{HEAD}Fix{HEAD:#}");
        for f in b.fixes_in(&origin, o.browser) {
            out!(w, "  - {f}");
        }
        if !matches!(b, lna::Blocked::TargetSpaceMismatch { .. }) {
            out!(
                w,
                "\n{DIM}To see the server's CORS answer anyway: --lna-permission granted (the \
                user allowed it), or --target-space public (this address only stands in for an API \
                on the internet).{DIM:#}"
            );
        }
    }

    fn write_exchange(&self, w: &mut String, e: &Exchange) {
        let tag = match e.request.kind {
            ExchangeKind::Preflight => "preflight",
            ExchangeKind::Actual => "request",
        };
        out!(
            w,
            "{HEAD}> {} {}{HEAD:#}  {DIM}[{tag}]{DIM:#}",
            e.request.method,
            e.request.url
        );
        for (n, v) in &e.request.headers {
            if is_cors_request_header(n)
                || self.args.headers.iter().any(|h| {
                    h.split(':')
                        .next()
                        .is_some_and(|x| x.trim().eq_ignore_ascii_case(n))
                })
            {
                out!(w, "    {CORS}{n}: {v}{CORS:#}");
            }
        }
        match &e.response {
            Some(resp) => {
                out!(w, "{HEAD}< {}{HEAD:#}", resp.status);
                for (n, v) in &resp.headers {
                    if is_cors_response_header(n) {
                        out!(w, "    {CORS}{n}: {}{CORS:#}", String::from_utf8_lossy(v));
                    }
                }
                if !resp
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("access-control-allow-origin"))
                {
                    out!(w, "    {DIM}(no Access-Control-Allow-Origin){DIM:#}");
                }
            }
            None => out!(w, "{BAD}< no response{BAD:#}"),
        }
        out!(w);
    }
}

/// The root cause with what it rests on, what it ruled out and the layers seen.
pub(super) fn write_diagnosis(w: &mut String, d: &Diagnosis) {
    out!(
        w,
        "\n{HEAD}Cause{HEAD:#} {DIM}({}){DIM:#}\n  {}",
        d.kind.id(),
        shown(&d.summary)
    );
    for e in &d.evidence {
        out!(w, "  {DIM}evidence{DIM:#}   {}", shown(e));
    }
    for r in &d.ruled_out {
        out!(w, "  {DIM}ruled out{DIM:#}  {}", shown(r));
    }
    if !d.layers.is_empty() {
        out!(w, "  {DIM}layers{DIM:#}     {}", layers::words(&d.layers));
    }
    if let Some(u) = &d.final_url {
        out!(w, "  {DIM}final URL{DIM:#}  {u}");
    }
    out!(w, "  {GOOD}remedy{GOOD:#}     {}", d.remedy);
}

/// The console output `o`'s engine prints, as its console shows it (Firefox and Safari log
/// several lines for one request).
pub(super) fn write_console(w: &mut String, o: &Outcome) {
    if let Some(text) = o.console() {
        out!(w, "\n{HEAD}Console ({}){HEAD:#}", o.browser);
        for line in text.lines() {
            out!(w, "  {BAD}{}{BAD:#}", shown(line));
        }
    }
}

/// Text that quotes a server's bytes, safe for a terminal: control characters (C0 but the line
/// break and tab, DEL, and C1 such as U+009B, an escape sequence's introducer on some terminals)
/// are written as `\u{9b}`.
pub(super) fn shown(text: &str) -> std::borrow::Cow<'_, str> {
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
pub(super) fn api_words(api: RequestApi) -> &'static str {
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
pub(super) fn lna_kind(b: &lna::Blocked) -> &'static str {
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
