//! `corsair explain`: a pasted console error in, the failure kind, the URL and origin it
//! concerns, the cause, a checklist and the fix out.

use crate::cli::{ExplainArgs, Format, StackArg};
use crate::style::{BAD, DIM, HEAD};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, println};
use corsair_core::explain::{bare_error, explain, is_network_failure, Explained, KNOWN};
use corsair_core::fix::{self, Need};
use corsair_core::{catalogue, Browser, FailureKind, Origin};
use serde::Serialize;
use serde_json::json;
use std::io::Read;

pub fn run(args: ExplainArgs) -> u8 {
    let text = match &args.text {
        Some(t) => t.join(" "),
        None => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                eprintln!("{BAD}error:{BAD:#} cannot read standard input: {e}");
                return EXIT_ERROR;
            }
            s
        }
    };
    let known = match known(&args) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            return EXIT_ERROR;
        }
    };
    let found = explain(&text);
    if found.is_empty() {
        let network = is_network_failure(&text);
        let lna = corsair_core::explain::lna::refusal(&text);
        let bare = bare_error(&text);
        // A Local Network Access refusal is recognised (and explained), though no CORS kind.
        let recognised = lna.is_some();
        match (args.format, lna, bare) {
            (Format::Json, _, _) => println!(
                "{}",
                serde_json::to_string_pretty(&explain_json(&text, &known)).expect("JSON")
            ),
            (Format::Text, _, _) if corsair_core::explain::is_redirect_loop(&text) => {
                println!(
                    "{HEAD}Not a CORS header problem{HEAD:#}: the request was redirected more \
                    than 20 times (a redirect loop)."
                );
                println!(
                    "  Follow the chain with: curl -sIL --max-redirs 25 URL, and fix the rule \
                    that sends the request back (http/https or trailing-slash redirects that undo \
                    each other are the usual ones)."
                );
                println!(
                    "  Reproduce it with: corsair check URL --origin ORIGIN (it shows every hop)."
                );
            }
            (Format::Text, Some(r), _) => {
                let what = if r.legacy {
                    "private-network-access (Chromium before 142)"
                } else {
                    "local-network-access"
                };
                println!(
                    "{HEAD}{what}{HEAD:#} ({} wording, {}): the `{}` address space",
                    r.browser,
                    serde_json::to_value(r.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    r.space.name()
                );
                if let Some(d) = r.declared {
                    println!("  declared targetAddressSpace {}", d.name());
                }
                if r.legacy {
                    println!(
                        "  {DIM}an older build's names, read as today's: `local` was this \
                        machine (now loopback), `private` the LAN (now local){DIM:#}"
                    );
                }
                if let Some(d) = &r.destination {
                    println!("  from     {d}");
                }
                if let Some(u) = &r.url {
                    println!("  url      {u}");
                }
                if let Some(o) = &r.origin {
                    println!("  origin   {o}");
                }
                println!("\n{HEAD}Cause{HEAD:#}\n  {}", r.cause);
                println!("\n{HEAD}Fix{HEAD:#}");
                for f in &r.fixes {
                    println!("  - {f}");
                }
            }
            (Format::Text, _, _) if network => {
                println!(
                    "{HEAD}Not a CORS header problem{HEAD:#}: the browser got no usable \
                    response at all."
                );
                println!(
                    "  The server is down or unreachable, DNS or TLS failed, the request \
                    timed out, or an extension blocked it."
                );
                if text.contains("CORS request did not succeed") {
                    println!(
                        "  Firefox also words a redirect to a URL with a user name or \
                        password this way (Location: https://user:pass@...): take the credentials \
                        out of the Location."
                    );
                }
                println!(
                    "  Reproduce it with: corsair check URL --origin ORIGIN (it reports the \
                    net::ERR_ code and why)."
                );
            }
            (Format::Text, None, Some(b)) => {
                let who = match b.browser {
                    Some(corsair_core::Browser::Chromium) => "In Chromium, the page",
                    Some(corsair_core::Browser::Firefox) => "In Firefox, the page",
                    Some(corsair_core::Browser::Safari) => "In Safari, the page",
                    None => "The page",
                };
                println!(
                    "{HEAD}\"{}\" is what the page's JavaScript sees, not the reason{HEAD:#}",
                    b.message
                );
                println!(
                    "  {who} gets this same error for every CORS failure and every network \
                    failure: the browser keeps the reason from the page on purpose."
                );
                println!("  The reason is in {}.", b.reason_in);
                println!(
                    "  Paste that line here (corsair explain '...'), or reproduce the request:"
                );
                println!(
                    "    in the Network panel, right-click the request, Copy, Copy as cURL, \
                    then: corsair check --from-curl -   (and paste)"
                );
            }
            (Format::Text, None, None) => {
                eprintln!(
                    "{BAD}Not recognised as a CORS error.{BAD:#} Paste the whole console \
                    line. The messages corsair knows:"
                );
                for k in KNOWN {
                    eprintln!("  - {k}");
                }
            }
        }
        return if recognised { EXIT_OK } else { EXIT_BLOCKED };
    }
    match args.format {
        Format::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&explain_json(&text, &known)).expect("JSON")
            );
        }
        Format::Text => {
            for (i, e) in found.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                print_one(e, args.stack, &known);
            }
        }
    }
    EXIT_OK
}

/// What the user told about the request beside the message: the page's origin, the method, the
/// non-safelisted headers and credentials, checked as `corsair check` checks them.
fn known(args: &ExplainArgs) -> Result<Known, String> {
    let origin = match &args.origin {
        Some(o) => {
            Origin::parse_serialized(o).map_err(|e| format!("bad --origin: {e}"))?;
            Some(o.clone())
        }
        None => None,
    };
    let method = match &args.method {
        Some(m) if !corsair_core::method::is_token(m) => {
            return Err(format!(
                "'{m}' is not a valid HTTP method (letters, digits and !#$%&'*+-.^_`|~ only)"
            ))
        }
        Some(m) => {
            let m = corsair_core::method::normalize(m).into_owned();
            (!corsair_core::method::is_safelisted(&m)).then_some(m)
        }
        None => None,
    };
    let mut parsed = Vec::new();
    for h in &args.headers {
        let (name, value) = super::check::parse_header(h)?;
        corsair_core::header::validate(&name, &value).map_err(|e| e.to_string())?;
        parsed.push((name, value));
    }
    let headers = corsair_core::header::unsafe_names(
        parsed.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        Browser::Chromium,
    );
    Ok(Known {
        need: Need {
            origin,
            credentials: args.credentials,
            method,
            headers,
        },
        method: args.method.clone(),
        headers: args.headers.clone(),
    })
}

/// The `corsair check` request that replays the failure, with everything known about it.
#[derive(Debug, Serialize)]
pub(crate) struct Reproduce {
    url: String,
    origin: String,
    method: Option<String>,
    headers: Vec<String>,
    credentials: bool,
    command: String,
}

/// What was given beside the message: the request as the user knows it (`--origin`, `-X`,
/// `-H`, `--credentials`), parsed and as written.
#[derive(Debug, Default)]
pub(crate) struct Known {
    pub need: Need,
    pub method: Option<String>,
    pub headers: Vec<String>,
}

/// The request that replays `e`: what the fix's policy allows ([`fix::need_for`]), with the
/// headers as the user wrote them and a value for each name the message or the fix supplied.
/// `None` when the message has no URL or neither it nor `--origin` gives the origin.
fn reproduce(e: &Explained, known: &Known) -> Option<Reproduce> {
    let url = e.url.clone()?;
    let (need, _) = fix::need_for(&e.to_failure(), &known.need);
    let origin = need.origin.clone()?;
    let method = known.method.clone().or(need.method.clone());
    let mut headers = known.headers.clone();
    for name in &need.headers {
        let given = headers.iter().any(|x| {
            x.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        });
        if !given {
            let value = if name == "content-type" {
                "application/json"
            } else {
                "x"
            };
            headers.push(format!("{name}: {value}"));
        }
    }
    let q = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut command = format!("corsair check {} --origin {}", q(&url), q(&origin));
    if let Some(api) = e.api.filter(|a| a.is_element()) {
        // An element makes a plain GET; its credentials come from its crossorigin attribute.
        command.push_str(&format!(" --api {}", api.name()));
        if need.credentials && api != corsair_core::RequestApi::Font {
            command.push_str(" --crossorigin use-credentials");
        } else if matches!(
            api,
            corsair_core::RequestApi::Image
                | corsair_core::RequestApi::Script
                | corsair_core::RequestApi::Stylesheet
        ) {
            command.push_str(" --crossorigin anonymous");
        }
        return Some(Reproduce {
            url,
            origin,
            method: None,
            headers: Vec::new(),
            credentials: need.credentials,
            command,
        });
    }
    if let Some(m) = &method {
        command.push_str(&format!(" -X {}", q(m)));
    }
    for h in &headers {
        command.push_str(&format!(" -H {}", q(h)));
    }
    if need.credentials {
        command.push_str(" --credentials");
    }
    Some(Reproduce {
        url,
        origin,
        method,
        headers,
        credentials: need.credentials,
        command,
    })
}

fn print_one(e: &Explained, stack: Option<StackArg>, known: &Known) {
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
    println!(
        "{HEAD}{}{HEAD:#} {DIM}({} wording){DIM:#}{also}",
        e.kind.id(),
        e.browser
    );
    if let Some(u) = &e.url {
        println!("  url      {u}");
    }
    if let Some(u) = &e.initial_url {
        println!("  redirected from {u}");
    }
    if let Some(o) = &e.origin {
        println!("  origin   {o}");
    }
    if let Some(s) = e.stage {
        println!(
            "  failed   {}",
            if s == corsair_core::Stage::Preflight {
                "the preflight (OPTIONS)"
            } else {
                "the request itself"
            }
        );
    }
    println!("\n{HEAD}Cause{HEAD:#}\n  {}", catalogue::cause(&f));
    println!("\n{HEAD}Check{HEAD:#}");
    for step in checklist(e.kind) {
        println!("  [ ] {step}");
    }
    let fx = fix::fix_for(&f, &known.need);
    super::print_fix(&fx, stack);
    if let Some(note) = e.api.and_then(|a| a.page_note()) {
        println!("\n{HEAD}Or on the page{HEAD:#}\n  {note}");
    }
    match reproduce(e, known) {
        Some(r) => println!("\n{HEAD}Reproduce{HEAD:#}\n  {}", r.command),
        None if e.url.is_some() => println!(
            "\n{HEAD}Reproduce{HEAD:#}\n  {DIM}pass --origin \
            ORIGIN (the page's origin) for the corsair check command{DIM:#}"
        ),
        None => {}
    }
}

/// What to look at, in order, for a kind of failure.
fn checklist(kind: FailureKind) -> Vec<&'static str> {
    use FailureKind::*;
    match kind {
        MissingAllowOriginHeader => vec![
            "Does the response (or the OPTIONS preflight) reach your CORS code at all? Errors, \
                404s and auth failures often skip it.",
            "Is the page's origin, exactly as printed, on the server's allowlist?",
            "Does a proxy or CDN in front strip the header? Compare `curl -i` at the origin server \
                and at the public URL.",
            "nginx: add_header needs `always` to reach 4xx/5xx responses.",
        ],
        WildcardOriginNotAllowed => vec![
            "Does the client need cookies or HTTP auth? If not, drop `credentials: 'include'` / \
                `withCredentials`.",
            "If it does, echo the exact origin from an allowlist (never `*`, never blind \
                reflection) and send `Access-Control-Allow-Credentials: true`.",
            "Add `Vary: Origin` so caches keep per-origin answers apart.",
        ],
        MultipleAllowOriginValues => vec![
            "Are two layers (app and proxy/CDN) both adding Access-Control-Allow-Origin?",
            "Is a list of origins pasted into the header? Pick the one that matches the request's \
                Origin.",
        ],
        InvalidAllowOriginValue | AllowOriginMismatch => vec![
            "Compare the allowed value with the page's origin byte for byte: scheme (http/https), \
                host (www or not), port, no trailing slash.",
            "Is the server echoing a configured value instead of the request's Origin?",
            "Is a cached response for another origin being served? Send `Vary: Origin`.",
        ],
        InvalidAllowCredentials => vec![
            "Send `Access-Control-Allow-Credentials: true` (lowercase) on the response and on the \
                preflight.",
            "Or stop sending credentials from the client if the data is public.",
        ],
        PreflightInvalidStatus => vec![
            "Does the route handle OPTIONS? Many frameworks answer 404/405 unless CORS middleware \
                handles it.",
            "Does authentication run before CORS? Preflights never carry cookies or Authorization: \
                answer them first.",
        ],
        PreflightDisallowedRedirect => vec![
            "Call the final URL directly: https instead of http, the exact trailing slash, the \
                canonical host.",
            "Does a login or locale redirect catch OPTIONS requests?",
        ],
        InvalidAllowMethods | InvalidAllowHeaders => vec![
            "Send a comma-separated list of names, \
            e.g. `GET, POST, PUT` or `Content-Type, Authorization`.",
        ],
        MethodNotAllowed => vec![
            "Add the method to Access-Control-Allow-Methods, in the exact case the page sends \
                (fetch sends `patch` as written).",
            "With credentials, `*` does not cover methods.",
        ],
        HeaderNotAllowed => vec![
            "Add the header to Access-Control-Allow-Headers (names are case-insensitive).",
            "With credentials `*` covers nothing; `*` never covers Authorization in the standard.",
            "Does the client really need to send it? Content-Type: application/json and custom \
                headers make requests preflighted.",
        ],
        RedirectContainsCredentials => vec![
            "Redirect to a URL without user:password@; send \
            credentials in an Authorization header.",
        ],
    }
}

/// What `--format json` prints: the errors found, each with its kind, URL, origin, cause,
/// checklist and fix; or none, with whether the text is a network failure and the known messages.
pub(crate) fn explain_json(text: &str, known: &Known) -> serde_json::Value {
    let found = explain(text);
    if found.is_empty() {
        return json!({"errors": [], "network_failure": is_network_failure(text), "bare_error": bare_error(text), "lna": corsair_core::explain::lna::refusal(text), "known": KNOWN});
    }
    let errors: Vec<_> = found
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
                "cause": catalogue::cause(&f),
                "checklist": checklist(e.kind),
                "fix": fix::fix_for(&f, &known.need),
                "reproduce": reproduce(e, known),
            })
        })
        .collect();
    json!({"errors": errors})
}
