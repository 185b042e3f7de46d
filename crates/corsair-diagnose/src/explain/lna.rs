//! Local Network Access (and legacy Private Network Access) refusals read back from a pasted
//! console message, in every era's wording: Chromium's since 94, Firefox's prompt line. The
//! decision itself is the browser model's (`corsair_model::lna`); this reads what the browser
//! printed and names the cause and the fixes in the model's words.

use crate::lna::{space_words, AddressSpace, Blocked};
use crate::Browser;
use core::net::IpAddr;
use regex::Regex;
use serde::Serialize;
use std::sync::OnceLock;

/// Which Local Network Access (or legacy Private Network Access) message it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalKind {
    /// "Permission was denied for this request to access the `X` address space."
    PermissionDenied,
    /// "Request had a target IP address space of `X` yet the resource is in address space `Y`."
    TargetSpaceMismatch,
    /// "The request client is not a secure context and the resource is in more-private address space `X`."
    InsecureContext,
    /// Legacy: "Request had no target IP address space, yet the resource is in address space `X`."
    NoTargetSpace,
    /// Legacy: "No 'Access-Control-Allow-Private-Network' header was present in the preflight response ..."
    PreflightMissingAllowPrivateNetwork,
    /// Legacy: "The 'Access-Control-Allow-Private-Network' header ... had a value of 'V',  not 'true'."
    PreflightInvalidAllowPrivateNetwork,
    /// Legacy: "No 'Private-Network-Access-Id' (or -Name) header was present in the preflight response ..."
    PreflightMissingDeviceHeader,
    /// Legacy: "Unable to ask for permission to access the `X` IP address space."
    PermissionUnavailable,
    /// Firefox: "Local Network Access permission required: ..." (the request waits for the
    /// user's answer to the prompt).
    PermissionPending,
}

/// A Local Network Access refusal read from a console message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LnaRefusal {
    /// The browser whose wording it is (Chromium and browsers built on it).
    pub browser: Browser,
    /// Which message it is.
    pub kind: RefusalKind,
    /// Whether it is a Private Network Access message from Chromium before 142 (or an Electron
    /// build on one), whose space names differ: `local` meant this machine, `private` the LAN.
    pub legacy: bool,
    /// The space the request was refused for, in today's names.
    pub space: AddressSpace,
    /// The space the page declared with `targetAddressSpace`, for a mismatch.
    pub declared: Option<AddressSpace>,
    /// What asked: `fetch`, `XMLHttpRequest`, `script`, `font`, `image`, `CSS stylesheet`, ...
    pub destination: Option<String>,
    /// The URL requested, when the message names it.
    pub url: Option<String>,
    /// The page's origin, when the message names it.
    pub origin: Option<String>,
    /// Why it happened.
    pub cause: String,
    /// What can fix it, most likely first.
    pub fixes: Vec<String>,
}

const SPACE: &str = r"[`'‘’]?(loopback|local|private|public|unknown)[`'‘’]?";

fn prefix() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"Access to (\w+(?: stylesheet)?) at '?([^'\s]*)'?(?: \(redirected from '?[^'\s]*'?\))? from origin '?([^'\s]*)'? has been blocked by CORS policy: ")
            .expect("a valid pattern")
    })
}

fn reasons() -> &'static [(RefusalKind, Regex)] {
    static R: OnceLock<Vec<(RefusalKind, Regex)>> = OnceLock::new();
    R.get_or_init(|| {
        let r = |k, p: &str| (k, Regex::new(&p.replace("SPACE", SPACE)).expect("a valid pattern"));
        vec![
            r(RefusalKind::PermissionDenied, r"Permission was denied for this request to access the SPACE address space"),
            r(RefusalKind::TargetSpaceMismatch, r"Request had a target IP address space of SPACE,? yet the resource is in address space SPACE"),
            r(RefusalKind::NoTargetSpace, r"Request had no target IP address space, yet the resource is in address space SPACE"),
            r(RefusalKind::InsecureContext, r"The request client is not a secure context and the resource is in more-private address space SPACE"),
            r(RefusalKind::PreflightMissingAllowPrivateNetwork, r"No 'Access-Control-Allow-Private-Network' header was present in the preflight response for this private network request targeting the SPACE address space"),
            r(RefusalKind::PreflightInvalidAllowPrivateNetwork, r"The 'Access-Control-Allow-Private-Network' header in the preflight response for this private network request targeting the SPACE address space had a value of"),
            r(RefusalKind::PreflightMissingDeviceHeader, r"No 'Private-Network-Access-(?:Id|Name)' header was present in the preflight response for this private network request targeting the SPACE address space"),
            r(RefusalKind::PermissionUnavailable, r"Unable to ask for permission to access the SPACE IP address space"),
        ]
    })
}

/// A space named in a message, in today's names. `legacy` says the message is from the Private
/// Network Access era, when `local` meant this machine and `private` the LAN.
fn space_named(name: &str, legacy: bool) -> AddressSpace {
    match name {
        "loopback" => AddressSpace::Loopback,
        "local" if legacy => AddressSpace::Loopback,
        "local" | "private" => AddressSpace::Local,
        "public" => AddressSpace::Public,
        _ => AddressSpace::Unknown,
    }
}

/// The Local Network Access (or legacy Private Network Access) refusal in `text`, if there is
/// one: every wording of Chromium's `cors_error_string.cc` for them, with or without the
/// "Access to … at … from origin …" prefix.
pub fn refusal(text: &str) -> Option<LnaRefusal> {
    if let Some(r) = firefox_refusal(text) {
        return Some(r);
    }
    let (kind, c) = reasons()
        .iter()
        .find_map(|(k, r)| r.captures(text).map(|c| (*k, c)))?;
    let names: Vec<&str> = c.iter().skip(1).flatten().map(|m| m.as_str()).collect();
    // PNA-only messages, and any message naming `private`, use the old names.
    let legacy = !matches!(
        kind,
        RefusalKind::PermissionDenied
            | RefusalKind::TargetSpaceMismatch
            | RefusalKind::InsecureContext
    ) || names.contains(&"private");
    let before = &text[..c.get(0).map_or(0, |m| m.start())];
    let p = prefix().captures(before);
    let destination = p
        .as_ref()
        .and_then(|p| p.get(1))
        .map(|m| m.as_str().to_string());
    let url = p
        .as_ref()
        .and_then(|p| p.get(2))
        .map(|m| m.as_str().to_string());
    let origin = p
        .as_ref()
        .and_then(|p| p.get(3))
        .map(|m| m.as_str().to_string());
    let page = origin.clone().unwrap_or_else(|| "your page".to_string());
    let (declared, space) = match kind {
        RefusalKind::TargetSpaceMismatch => (
            Some(space_named(names[0], legacy)),
            space_named(names[1], legacy),
        ),
        _ => (None, space_named(names[0], legacy)),
    };
    let ambiguous = kind == RefusalKind::InsecureContext && names[0] == "local";
    let (cause, fixes) = match kind {
        RefusalKind::PermissionDenied | RefusalKind::PermissionPending => {
            let b = Blocked::PermissionDenied {
                space,
                undecided: false,
            };
            let cause = format!(
                "Local Network Access (Chromium 142 and later): {page} is in a less private \
                    address space than the target, which is on {}, and the user has not allowed \
                    {page} to reach it (or, headless or automated, nobody could). The request \
                    never reached the server, so no response header (CORS, or the old \
                    Access-Control-Allow-Private-Network) can fix this.",
                space_words(space)
            );
            (cause, b.fixes(&page))
        }
        RefusalKind::TargetSpaceMismatch => {
            let b = Blocked::TargetSpaceMismatch {
                declared: declared.unwrap_or(AddressSpace::Unknown),
                actual: space,
            };
            let mut cause = b.cause(&page);
            if declared == Some(AddressSpace::Unknown) {
                cause = format!(
                    "The request was made without a target address space Chromium \
                    could use (older builds print `unknown` here), and the server is on {}: a \
                    Private Network Access rule of Chromium before 142 refused it before sending.",
                    space_words(space)
                );
            }
            (cause, b.fixes(&page))
        }
        RefusalKind::InsecureContext => {
            let b = Blocked::InsecureContext { space };
            let mut cause = b.cause(&page);
            if ambiguous {
                cause.push_str(
                    " Which space `local` means depends on the version: the local \
                    network (LAN) in Chromium 142 and later, this machine (loopback) in the older \
                    Private Network Access naming.",
                );
            }
            (cause, b.fixes(&page))
        }
        RefusalKind::NoTargetSpace => (
            format!(
                "Private Network Access (Chromium before 142, or an Electron build on one): \
                the request reached an address on {} that the page did not declare; the older rule \
                refused it before sending.",
                space_words(space)
            ),
            vec![
                "Update the browser: Chromium 142 and later replace this rule with the Local \
                    Network Access permission."
                    .to_string(),
                format!(
                    "In the old builds, declare the space: fetch(url, {{ \
                    targetAddressSpace: \"{}\" }}) with that version's names (private for a LAN \
                    address, local for this machine).",
                    if space == AddressSpace::Loopback {
                        "local"
                    } else {
                        "private"
                    }
                ),
                "Or put the page and the API behind one origin with a dev proxy (Vite's \
                    server.proxy, webpack's devServer.proxy)."
                    .to_string(),
            ],
        ),
        RefusalKind::PreflightMissingAllowPrivateNetwork
        | RefusalKind::PreflightInvalidAllowPrivateNetwork => (
            format!(
                "Private Network Access preflight (Chromium 104 to 141, Electron builds on \
                them): the page reached {} and the browser sent a preflight with \
                Access-Control-Request-Private-Network: true; the answer did not carry \
                Access-Control-Allow-Private-Network: true.",
                space_words(space)
            ),
            vec![
                "For those browsers, answer the preflight with \
                    Access-Control-Allow-Private-Network: true (exactly 'true'), besides the usual \
                    Access-Control-Allow-Origin and -Methods/-Headers."
                    .to_string(),
                "Chromium 142 and later ignore the header and ask the user instead (Local Network \
                    Access): plan for the permission prompt, https pages and targetAddressSpace."
                    .to_string(),
                "Or put the page and the API behind one origin with a dev proxy (Vite's \
                    server.proxy, webpack's devServer.proxy): same-origin requests need none of \
                    this."
                    .to_string(),
            ],
        ),
        RefusalKind::PreflightMissingDeviceHeader => (
            format!(
                "Private Network Access permission trial (Chromium about 117 to 141): a \
                non-secure page asked to reach a device on {}; the device's preflight answer must \
                name itself with Private-Network-Access-Id and Private-Network-Access-Name.",
                space_words(space)
            ),
            vec![
                "For those builds, answer the preflight with Private-Network-Access-Id (the \
                    device's MAC-like id) and Private-Network-Access-Name (a display name), plus \
                    Access-Control-Allow-Private-Network: true."
                    .to_string(),
                "Chromium 142 and later dropped this in favour of the Local Network Access \
                    permission: serve the page over https and let the user allow it."
                    .to_string(),
            ],
        ),
        RefusalKind::PermissionUnavailable => (
            format!(
                "Private Network Access (Chromium before 142): the browser could not show a \
                permission prompt for {} (no window, a background context, or the feature turned \
                off).",
                space_words(space)
            ),
            vec![
                "Update the browser: Chromium 142 and later use the Local Network Access \
                    permission prompt."
                    .to_string(),
                "Make the request from a visible top-level page, or put the page and the API \
                    behind one origin with a dev proxy (Vite's server.proxy, webpack's \
                    devServer.proxy)."
                    .to_string(),
            ],
        ),
    };
    Some(LnaRefusal {
        browser: Browser::Chromium,
        kind,
        legacy,
        space,
        declared,
        destination,
        url,
        origin,
        cause,
        fixes,
    })
}

/// Firefox's Local Network Access lines (observed in ESR 153): "permission required" while the
/// request waits for the prompt, "detected ... prompt action: auto_deny" (or `prompt_deny`) once
/// it is refused. Both name the page, the URL and the address connected to, whose space is the
/// one refused. A "detected" line with another action is a warning, not a refusal.
fn firefox_refusal(text: &str) -> Option<LnaRefusal> {
    static R: OnceLock<Regex> = OnceLock::new();
    let re = R.get_or_init(|| {
        Regex::new(r#"Local Network Access (permission required|detected): top-level site [“"]?([^”"\s]*)[”"]?, initiator [“"]?([^”"\s]*)[”"]?, (?:attempting to access|accessing) target [“"]?([^”"\s]*)[”"]? \(([^)]*)\) via (\w+)\. Secure context: (\w+)(?:, prompt action: (\S+))?"#)
            .expect("a valid pattern")
    });
    let c = re.captures(text)?;
    let pending = &c[1] == "permission required";
    if !pending
        && !matches!(
            c.get(8).map(|m| m.as_str()),
            Some("auto_deny" | "prompt_deny")
        )
    {
        return None;
    }
    let address = &c[5];
    let host = address
        .rsplit_once(':')
        .map_or(address, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let space = host
        .parse::<IpAddr>()
        .map_or(AddressSpace::Unknown, AddressSpace::of_ip);
    let origin = c[3].trim_end_matches('/').to_string();
    let b = Blocked::PermissionDenied {
        space,
        undecided: pending,
    };
    let kind = if pending {
        RefusalKind::PermissionPending
    } else {
        RefusalKind::PermissionDenied
    };
    Some(LnaRefusal {
        browser: Browser::Firefox,
        kind,
        legacy: false,
        space,
        declared: None,
        destination: Some(c[6].to_string()),
        url: Some(c[4].to_string()),
        cause: b.cause_in(&origin, Browser::Firefox),
        fixes: b.fixes_in(&origin, Browser::Firefox),
        origin: Some(origin),
    })
}

#[cfg(test)]
mod tests;
