//! What `corsair explain` made of a pasted text, as one value ([`Explanation`]) built once and
//! rendered as text (what to read on stdout, and on stderr when nothing was recognised) or as
//! JSON.

use super::{checklist, reproduce, Known};
use crate::cli::StackArg;
use crate::style::{BAD, DIM, HEAD};
use crate::{EXIT_BLOCKED, EXIT_OK};
use corsair_core::explain::lna::LnaRefusal;
use corsair_core::explain::{
    bare_error, explain, is_network_failure, BareError, Block, Explained, KNOWN,
};
use corsair_core::{catalogue, fix};
use serde_json::json;

/// Everything the text was read as.
pub(crate) struct Explanation {
    /// The CORS errors found, in order.
    pub(crate) errors: Vec<Explained>,
    /// More than 20 redirects.
    pub(crate) redirect_loop: bool,
    /// A Local Network Access refusal.
    pub(crate) lna: Option<LnaRefusal>,
    /// A network failure (no usable response at all).
    pub(crate) network: bool,
    /// Firefox's "CORS request did not succeed", which also words a redirect to a URL with
    /// credentials.
    pub(crate) firefox_wording: bool,
    /// What the page's JavaScript saw ("Failed to fetch", ...), not the reason.
    pub(crate) bare: Option<BareError>,
    /// A block that is not CORS (COEP, CORP, ORB, mixed content).
    pub(crate) block: Option<&'static Block>,
}

impl Explanation {
    /// Reads `text`.
    pub(crate) fn of(text: &str) -> Explanation {
        Explanation {
            errors: explain(text),
            redirect_loop: corsair_core::explain::is_redirect_loop(text),
            lna: corsair_core::explain::lna::refusal(text),
            network: is_network_failure(text),
            firefox_wording: text.contains("CORS request did not succeed"),
            bare: bare_error(text),
            block: corsair_core::explain::block(text),
        }
    }

    /// 0 when something was recognised (a CORS error, a Local Network Access refusal), 1 when
    /// not.
    pub(crate) fn exit_code(&self) -> u8 {
        if !self.errors.is_empty() || self.lna.is_some() || self.block.is_some() {
            EXIT_OK
        } else {
            EXIT_BLOCKED
        }
    }

    /// What `--format json` prints: the errors found, each with its kind, URL, origin, cause,
    /// checklist and fix; or none, with whether the text is a network failure, the bare error,
    /// a Local Network Access refusal and the known messages.
    pub(crate) fn json(&self, known: &Known) -> serde_json::Value {
        if self.errors.is_empty() {
            return json!({
                "errors": [],
                "network_failure": self.network,
                "bare_error": self.bare,
                "lna": self.lna,
                "block": self.block,
                "known": KNOWN,
            });
        }
        let errors: Vec<_> = self
            .errors
            .iter()
            .map(|e| {
                let f = e.to_failure();
                json!({
                    "kind": e.kind.id(),
                    "or_kinds": e.or_kinds.iter().map(|k| k.id()).collect::<Vec<_>>(),
                    "browser": e.browser,
                    "stage": e.stage,
                    "api": e.api,
                    "url": e.url,
                    "initial_url": e.initial_url,
                    "origin": e.origin,
                    "hint": e.hint,
                    "status": e.status,
                    "cause": cause(e, known),
                    "checklist": checklist(e.kind),
                    "fix": fix::fix_for(&f, &known.need),
                    "reproduce": reproduce(e, known),
                })
            })
            .collect();
        json!({ "errors": errors })
    }

    /// The text report: into `out` what stdout shows, into `err` what stderr shows (the known
    /// messages, when nothing was recognised).
    pub(crate) fn text(
        &self,
        out: &mut String,
        err: &mut String,
        stack: Option<StackArg>,
        known: &Known,
    ) {
        if !self.errors.is_empty() {
            for (i, e) in self.errors.iter().enumerate() {
                if i > 0 {
                    out!(out);
                }
                write_one(out, e, stack, known);
            }
            return;
        }
        if self.redirect_loop {
            out!(
                out,
                "{HEAD}Not a CORS header problem{HEAD:#}: the request was redirected more \
                    than 20 times (a redirect loop)."
            );
            out!(
                out,
                "  Follow the chain with: curl -sIL --max-redirs 25 URL, and fix the rule \
                    that sends the request back (http/https or trailing-slash redirects that undo \
                    each other are the usual ones)."
            );
            out!(
                out,
                "  Reproduce it with: corsair check URL --origin ORIGIN (it shows every hop)."
            );
        } else if let Some(b) = self.block {
            out!(
                out,
                "{HEAD}Not a CORS header problem{HEAD:#}: {} ({})",
                b.kind,
                b.matched
            );
            out!(out, "\n{HEAD}Cause{HEAD:#}\n  {}", b.cause);
            out!(out, "\n{HEAD}Fix{HEAD:#}");
            for f in b.fixes {
                out!(out, "  - {f}");
            }
        } else if let Some(r) = &self.lna {
            let what = if r.legacy {
                "private-network-access (Chromium before 142)"
            } else {
                "local-network-access"
            };
            out!(
                out,
                "{HEAD}{what}{HEAD:#} ({} wording, {}): the `{}` address space",
                r.browser,
                serde_json::to_value(r.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                r.space.name()
            );
            if let Some(d) = r.declared {
                out!(out, "  declared targetAddressSpace {}", d.name());
            }
            if r.legacy {
                out!(
                    out,
                    "  {DIM}an older build's names, read as today's: `local` was this \
                        machine (now loopback), `private` the LAN (now local){DIM:#}"
                );
            }
            if let Some(d) = &r.destination {
                out!(out, "  from     {d}");
            }
            if let Some(u) = &r.url {
                out!(out, "  url      {u}");
            }
            if let Some(o) = &r.origin {
                out!(out, "  origin   {o}");
            }
            out!(out, "\n{HEAD}Cause{HEAD:#}\n  {}", r.cause);
            out!(out, "\n{HEAD}Fix{HEAD:#}");
            for f in &r.fixes {
                out!(out, "  - {f}");
            }
        } else if self.network {
            out!(
                out,
                "{HEAD}Not a CORS header problem{HEAD:#}: the browser got no usable \
                    response at all."
            );
            out!(
                out,
                "  The server is down or unreachable, DNS or TLS failed, the request \
                    timed out, or an extension blocked it."
            );
            if self.firefox_wording {
                out!(
                    out,
                    "  Firefox also words a redirect to a URL with a user name or \
                        password this way (Location: https://user:pass@...): take the credentials \
                        out of the Location."
                );
            }
            out!(
                out,
                "  Reproduce it with: corsair check URL --origin ORIGIN (it reports the \
                    net::ERR_ code and why)."
            );
        } else if let Some(b) = &self.bare {
            let who = match b.browser {
                Some(corsair_core::Browser::Chromium) => "In Chromium, the page",
                Some(corsair_core::Browser::Firefox) => "In Firefox, the page",
                Some(corsair_core::Browser::Safari) => "In Safari, the page",
                None => "The page",
            };
            out!(
                out,
                "{HEAD}\"{}\" is what the page's JavaScript sees, not the reason{HEAD:#}",
                b.message
            );
            out!(
                out,
                "  {who} gets this same error for every CORS failure and every network \
                    failure: the browser keeps the reason from the page on purpose."
            );
            out!(out, "  The reason is in {}.", b.reason_in);
            out!(
                out,
                "  Paste that line here (corsair explain '...'), or reproduce the request:"
            );
            out!(
                out,
                "    in the Network panel, right-click the request, Copy, Copy as cURL, \
                    then: corsair check --from-curl -   (and paste)"
            );
        } else {
            out!(
                err,
                "{BAD}Not recognised as a CORS error.{BAD:#} Paste the whole console \
                    line. The messages corsair knows:"
            );
            for k in KNOWN {
                out!(err, "  - {k}");
            }
        }
    }
}

fn write_one(w: &mut String, e: &Explained, stack: Option<StackArg>, known: &Known) {
    let f = e.to_failure();
    let also = if e.or_kinds.is_empty() {
        String::new()
    } else {
        format!(
            " {DIM}(the same words also cover: {}){DIM:#}",
            e.or_kinds
                .iter()
                .map(|k| k.id())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    out!(
        w,
        "{HEAD}{}{HEAD:#} {DIM}({} wording){DIM:#}{also}",
        e.kind.id(),
        e.browser
    );
    if let Some(u) = &e.url {
        out!(w, "  url      {u}");
    }
    if let Some(u) = &e.initial_url {
        out!(w, "  redirected from {u}");
    }
    if let Some(o) = &e.origin {
        out!(w, "  origin   {o}");
    }
    if let Some(s) = e.stage {
        out!(
            w,
            "  failed   {}",
            if s == corsair_core::Stage::Preflight {
                "the preflight (OPTIONS)"
            } else {
                "the request itself"
            }
        );
    }
    out!(w, "\n{HEAD}Cause{HEAD:#}\n  {}", cause(e, known));
    out!(w, "\n{HEAD}Check{HEAD:#}");
    for step in checklist(e.kind) {
        out!(w, "  [ ] {step}");
    }
    let fx = fix::fix_for(&f, &known.need);
    crate::commands::write_fix(w, &fx, stack, None);
    if let Some(note) = e.api.and_then(|a| a.page_note()) {
        out!(w, "\n{HEAD}Or on the page{HEAD:#}\n  {note}");
    }
    match reproduce(e, known) {
        Some(r) => out!(w, "\n{HEAD}Reproduce{HEAD:#}\n  {}", r.command),
        None if e.url.is_some() => out!(
            w,
            "\n{HEAD}Reproduce{HEAD:#}\n  {DIM}pass --origin \
            ORIGIN (the page's origin) for the corsair check command{DIM:#}"
        ),
        None => {}
    }
}

/// The cause of `e`, with what the user told of the request (`--origin`, `-X`, `-H`) and what
/// the message's status says (an error status is usually the error path, not the policy).
fn cause(e: &Explained, known: &Known) -> String {
    let mut f = e.to_failure();
    if e.origin.is_none() {
        if let Some(o) = &known.need.origin {
            f.page_origin = o.clone();
            f.sent_origin = o.clone();
        }
    }
    let mut text = catalogue::cause(&f);
    let what = match (&known.method, known.headers.is_empty()) {
        (Some(m), true) => Some(format!("the page's {m} request")),
        (Some(m), false) => Some(format!(
            "the page's {m} request with {}",
            known.headers.join(", ")
        )),
        (None, false) => Some(format!("the request with {}", known.headers.join(", "))),
        (None, true) => None,
    };
    if let Some(w) = what {
        text.push_str(&format!(" (This is {w}.)"));
    }
    if let Some(s) = e.status.filter(|s| *s >= 400) {
        text.push_str(&format!(
            " The server answered {s}: an error answer usually comes from a path that skips the \
            CORS layer (a crash or error handler, an authentication layer, a proxy's own error \
            page, a missing route), so the cause is likely that path, not the allowlist; run \
            corsair check on the URL to see which layer answered."
        ));
    }
    text
}
