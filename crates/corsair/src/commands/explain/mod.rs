//! `corsair explain`: a pasted console error in, the failure kind, the URL and origin it
//! concerns, the cause, a checklist and the fix out. The text is read once into an
//! [`Explanation`] (`report`), which renders as text or JSON.

mod report;
#[cfg(test)]
mod tests;

use crate::cli::{ExplainArgs, Format};
use crate::style::BAD;
use crate::EXIT_ERROR;
use anstream::{eprint, eprintln, print, println};
use corsair_core::explain::Explained;
use corsair_core::fix::{self, Need};
use corsair_core::{Browser, FailureKind, Origin};
use report::Explanation;
use serde::Serialize;
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
    let explanation = Explanation::of(&text);
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&explanation.json(&known)).expect("JSON")
        ),
        Format::Text => {
            let (mut out, mut err) = (String::new(), String::new());
            explanation.text(&mut out, &mut err, args.stack, &known);
            print!("{out}");
            eprint!("{err}");
        }
    }
    explanation.exit_code()
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
            kept_methods: Vec::new(),
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

/// What `--format json` prints for `text` ([`Explanation::json`]), for the ui's API too.
pub(crate) fn explain_json(text: &str, known: &Known) -> serde_json::Value {
    Explanation::of(text).json(known)
}
