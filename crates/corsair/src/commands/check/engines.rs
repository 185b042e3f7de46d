//! `--browser all`: one verdict per engine, which fails first, each console, and the fixes, as
//! text or JSON.

use super::report::{api_words, lna_kind};
use super::{Evaluated, Import};
use crate::cli::{CheckArgs, Format};
use crate::style::{BAD, DIM, GOOD, HEAD, WARN};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use corsair_core::fetch::ExchangeKind;
use corsair_core::fix;
use corsair_core::request::Mode;
use corsair_core::{Browser, Outcome};
use serde_json::{json, Value};

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
pub(super) fn all_json(
    args: &CheckArgs,
    imported: Option<&Import>,
    checked: &[Evaluated],
) -> Value {
    let outcomes: Vec<&Outcome> = checked.iter().map(|c| &c.outcome).collect();
    let (fails_first, agree) = compare_engines(&outcomes);
    let verdicts: Vec<Value> = checked
        .iter()
        .map(|c| {
            let o = &c.outcome;
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
                "diagnosis": c.diagnosis.as_ref().map(|d| d.kind),
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
pub(super) fn all_engines(
    w: &mut String,
    args: &CheckArgs,
    imported: Option<&Import>,
    checked: &[Evaluated],
) -> u8 {
    let outcomes: Vec<&Outcome> = checked.iter().map(|c| &c.outcome).collect();
    match args.format {
        Format::Json => {
            let doc = all_json(args, imported, checked);
            out!(w, "{}", serde_json::to_string_pretty(&doc).expect("JSON"));
        }
        Format::Text => {
            let (fails_first, agree) = compare_engines(&outcomes);
            let r = &outcomes[0].request;
            out!(
                w,
                "{HEAD}corsair check{HEAD:#} {DIM}(every engine: chromium, firefox, safari; \
                each sent its own requests){DIM:#}"
            );
            out!(w, "  page origin   {}", r.origin);
            out!(
                w,
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
                out!(
                    w,
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
                out!(w, "\n{HEAD}Fails first{HEAD:#}: {}", said.join("; "));
            }
            if !agree {
                out!(
                    w,
                    "  {WARN}The engines disagree{WARN:#}: a fix must satisfy each of them; \
                    see each one's cause below."
                );
            }
            // Every engine's console together, the first to fail marked, then the causes
            // (engines that fail alike named together), then one fix per distinct failure.
            if outcomes.iter().any(|o| o.console().is_some()) {
                out!(w, "\n{HEAD}Console, engine by engine{HEAD:#}");
            }
            for o in &outcomes {
                let Some(text) = o.console() else {
                    continue;
                };
                let first = if fails_first.contains(&o.browser) {
                    " (fails first)"
                } else {
                    ""
                };
                out!(w, "  {HEAD}{}{HEAD:#}{DIM}{first}{DIM:#}", o.browser.name());
                for line in text.lines() {
                    out!(w, "    {BAD}{}{BAD:#}", super::report::shown(line));
                }
            }
            let mut causes: Vec<(String, Vec<&str>)> = Vec::new();
            for c in checked.iter().filter(|c| !c.outcome.allowed) {
                let o = &c.outcome;
                let mut said = String::new();
                if let Some(cause) = o.cause() {
                    said.push_str(&format!("\n    {DIM}failed check:{DIM:#} {cause}"));
                }
                if let Some(d) = &c.diagnosis {
                    said.push_str(&format!(
                        "\n    {DIM}cause ({}):{DIM:#} {}",
                        d.kind.id(),
                        d.summary
                    ));
                }
                match causes.iter_mut().find(|(t, _)| *t == said) {
                    Some((_, names)) => names.push(o.browser.name()),
                    None => causes.push((said, vec![o.browser.name()])),
                }
            }
            if !causes.is_empty() {
                out!(w, "\n{HEAD}Why{HEAD:#}");
            }
            for (said, names) in &causes {
                out!(w, "  {}{said}", names.join(", "));
            }
            let mut fixes_shown = Vec::new();
            for c in checked {
                let o = &c.outcome;
                // One fix per distinct failure: engines that fail alike share it.
                if let Some(f) = o.failure.as_ref().filter(|_| !o.allowed) {
                    if !fixes_shown.contains(&(f.kind, f.stage)) {
                        fixes_shown.push((f.kind, f.stage));
                        crate::commands::write_fix(
                            w,
                            &fix::fix(f, &o.request),
                            args.stack,
                            c.diagnosis.as_ref(),
                        );
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
