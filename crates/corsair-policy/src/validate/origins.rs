//! The `origins` and `origin_regex` keys: each entry parsed into a pattern as browsers will
//! compare it (serialised origins, label-boundary subdomain patterns, any-port patterns,
//! anchored regexes judged by their automaton), or refused with the reason and the fix.

use super::{err, untrimmed, warn, Field, Problem};
use crate::host::Host;
use crate::origin::Origin;
use crate::policy::pattern::{OriginPattern, PortRule};
use crate::policy::{regex_scope, Key, PolicySpec};

/// What `origins` allows.
pub(super) struct Origins {
    pub any_origin: bool,
    pub exact: std::collections::HashSet<String>,
    pub patterns: Vec<OriginPattern>,
}

/// `origins`: `*` (without credentials), exact origins, and patterns.
pub(super) fn origins(spec: &PolicySpec, problems: &mut Vec<Problem>) -> Origins {
    let mut any_origin = false;
    let mut exact = std::collections::HashSet::new();
    let mut patterns = Vec::new();
    for (i, raw) in spec.origins.iter().enumerate() {
        if untrimmed(Field::item(Key::Origins, i), raw, problems) {
            continue;
        }
        if raw == "*" {
            if spec.credentials {
                problems.push(err(Field::item(Key::Origins, i), "'*' with credentials = true: browsers refuse a wildcard on credentialed requests, and reflecting any origin instead would let every site read your users' data".into(), "list \
                    the origins that may call with credentials, or set credentials = false for \
                    public data"));
            } else {
                any_origin = true;
            }
            continue;
        }
        match origin_pattern(i, raw, spec, problems) {
            Some(OriginPattern::Exact(o)) if !exact.insert(o.clone()) => {
                problems.push(warn(
                    Field::item(Key::Origins, i),
                    format!("'{o}' is listed twice"),
                    "remove the duplicate",
                ));
            }
            Some(OriginPattern::Exact(_)) => {}
            Some(p) => patterns.push(p),
            None => {}
        }
    }
    Origins {
        any_origin,
        exact,
        patterns,
    }
}

/// `origin_regex`: one pattern per expression that compiles.
pub(super) fn origin_regexes(spec: &PolicySpec, problems: &mut Vec<Problem>) -> Vec<OriginPattern> {
    spec.origin_regex
        .iter()
        .enumerate()
        .filter_map(|(i, re)| origin_regex(i, re, spec, problems))
        .collect()
}

/// Parses the host of an origin (or of a pattern's fixed part) and refuses what DNS cannot
/// carry: empty labels, over-long labels or names.
fn parsed_host(field: Field, raw: &str, host: &str, problems: &mut Vec<Problem>) -> Option<Host> {
    match Host::parse(host) {
        Ok(h) => Some(h),
        Err(e) => {
            problems.push(err(
                field,
                format!("'{raw}': {e}"),
                "write the host as browsers send it, e.g. https://app.example.com",
            ));
            None
        }
    }
}

/// Parses one `origins` entry into a pattern, or says why it cannot be one.
fn origin_pattern(
    i: usize,
    raw: &str,
    spec: &PolicySpec,
    problems: &mut Vec<Problem>,
) -> Option<OriginPattern> {
    let field = Field::item(Key::Origins, i);
    if raw == "null" {
        problems.push(err(field, "the origin 'null' is shared by every sandboxed iframe, data: URL and local file, so anyone can send it".into(), "remove \
            it; give the sandboxed page a real origin instead"));
        return None;
    }
    if raw.contains('*') {
        return wildcard_pattern(i, raw, spec, problems);
    }
    let (origin, spelling) = match Origin::spelling(raw) {
        Ok(x) => x,
        Err(e) => {
            problems.push(err(
                field,
                format!("'{raw}' is not an origin: {e}"),
                "write scheme://host[:port], e.g. https://app.example.com",
            ));
            return None;
        }
    };
    let Some(t) = origin.tuple() else {
        problems.push(err(
            field,
            format!("'{raw}' has an opaque origin (null)"),
            "use an http:// or https:// origin",
        ));
        return None;
    };
    if !matches!(t.scheme.as_str(), "http" | "https") {
        problems.push(err(
            field,
            format!("'{raw}' is not an http(s) origin"),
            "browsers only make CORS requests from http:// and https:// pages",
        ));
        return None;
    }
    if !spelling.is_empty() {
        let what: Vec<&str> = spelling.iter().map(|s| s.describe()).collect();
        problems.push(err(
            field,
            format!(
                "'{raw}' {}; browsers send '{origin}' and the comparison is exact",
                what.join(", ")
            ),
            format!("write \"{origin}\""),
        ));
        return None;
    }
    if t.port == Some(0) {
        problems.push(err(
            field,
            format!("'{raw}' has port 0, which no page is served from"),
            "write the port the page is served from, e.g. http://localhost:5173",
        ));
        return None;
    }
    let host = parsed_host(field, raw, &t.host, problems)?;
    insecure_check(field, &t.scheme, &host, raw, spec, problems);
    Some(OriginPattern::Exact(origin.to_string()))
}

/// Refuses plain http with credentials, unless every host the entry covers is loopback.
fn insecure_check(
    field: Field,
    scheme: &str,
    host: &Host,
    raw: &str,
    spec: &PolicySpec,
    problems: &mut Vec<Problem>,
) {
    if scheme == "http"
        && spec.credentials
        && !host.is_loopback()
        && !spec.dangerously_allow_insecure_origins
    {
        problems.push(err(
            field,
            format!(
                "'{raw}' is plain http and credentials are allowed: anyone on the network path \
                can impersonate that origin and read users' data"
            ),
            "serve that site over https and list the https origin, or set \
                dangerously_allow_insecure_origins = true if you accept the risk",
        ));
    }
}

fn wildcard_pattern(
    i: usize,
    raw: &str,
    spec: &PolicySpec,
    problems: &mut Vec<Problem>,
) -> Option<OriginPattern> {
    let field = Field::item(Key::Origins, i);
    let usage = "write https://*.example.com (any subdomain), https://*.example.com:* (any port \
        too) or http://localhost:* (any port)";
    let Some((scheme, rest)) = raw.split_once("://") else {
        problems.push(err(
            field,
            format!("'{raw}' is not an origin pattern"),
            usage,
        ));
        return None;
    };
    if !matches!(scheme, "http" | "https") {
        problems.push(err(
            field,
            format!("'{raw}' is not an http(s) origin pattern"),
            usage,
        ));
        return None;
    }
    if rest.contains(['/', '?', '#', '@']) {
        problems.push(err(
            field,
            format!("'{raw}' has a path, query or user info; an origin has none"),
            usage,
        ));
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        // `[::1]:8080` splits at the last colon; `[::1]` alone has no port.
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (rest, None),
    };
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        problems.push(err(
            field,
            format!("'{raw}' has uppercase letters; browsers send hosts in lowercase"),
            format!("write \"{}\"", raw.to_ascii_lowercase()),
        ));
        return None;
    }
    let port_rule = match port {
        None => PortRule::Default,
        Some("*") => PortRule::Any,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) => {
                problems.push(err(
                    field,
                    format!("'{raw}' spells out the default port; browsers never send it"),
                    format!("write \"{scheme}://{host}\""),
                ));
                return None;
            }
            Ok(0) => {
                problems.push(err(
                    field,
                    format!("'{raw}' has port 0, which no page is served from"),
                    usage,
                ));
                return None;
            }
            Ok(n) => PortRule::Exact(n),
            Err(_) => {
                problems.push(err(field, format!("'{raw}' has the port '{p}'"), usage));
                return None;
            }
        },
    };
    // The pattern's host, label by label: `*` may only be a whole leading label.
    let wild_labels = host.split('.').filter(|l| l.contains('*')).count();
    if host.split('.').next() == Some("*") {
        // The labels after the leading `*`.
        let suffix = host.get(2..).unwrap_or_default();
        if wild_labels > 1 || suffix.is_empty() {
            problems.push(err(
                field,
                format!("'{raw}': only one leading '*.' is supported"),
                usage,
            ));
            return None;
        }
        let ascii = match url::Url::parse(&format!("{scheme}://{suffix}")) {
            Ok(u) if u.host_str().is_some() => u.host_str().unwrap_or_default().to_string(),
            _ => {
                problems.push(err(
                    field,
                    format!("'{raw}': '{suffix}' is not a host name"),
                    usage,
                ));
                return None;
            }
        };
        if ascii != suffix {
            problems.push(err(
                field,
                format!("'{raw}': browsers send the host as '{ascii}'"),
                format!("write \"{scheme}://*.{ascii}\""),
            ));
            return None;
        }
        let parsed = parsed_host(field, raw, suffix, problems)?;
        let Host::Domain(domain) = &parsed else {
            problems.push(err(
                field,
                format!("'{raw}': '{suffix}' is an IP address, which has no subdomains"),
                format!("list the address itself: \"{scheme}://{suffix}\""),
            ));
            return None;
        };
        // Every name under localhost is loopback (RFC 6761 §6.3): nobody can register one.
        if domain.is_public_suffix() && !parsed.is_loopback() {
            problems.push(err(
                field,
                format!(
                    "'{raw}' trusts every site under the public suffix '{suffix}': anyone can \
                    register a subdomain there"
                ),
                format!("list your own sites, e.g. \"{scheme}://yourname.{suffix}\""),
            ));
            return None;
        }
        insecure_check(field, scheme, &parsed, raw, spec, problems);
        return Some(OriginPattern::Subdomain {
            scheme: scheme.into(),
            suffix: suffix.into(),
            port: port_rule,
        });
    }
    if wild_labels > 0 {
        problems.push(err(
            field,
            format!(
                "'{raw}': a '*' may only stand for whole leading labels \
            ('*.example.com') or the port (':*')"
            ),
            usage,
        ));
        return None;
    }
    if port_rule != PortRule::Any {
        problems.push(err(
            field,
            format!("'{raw}' is not an origin pattern"),
            usage,
        ));
        return None;
    }
    match Origin::spelling(&format!("{scheme}://{host}")) {
        Ok((o, sp)) if sp.is_empty() && o.tuple().is_some() => {
            let parsed = parsed_host(field, raw, host, problems)?;
            insecure_check(field, scheme, &parsed, raw, spec, problems);
            Some(OriginPattern::AnyPort {
                scheme: scheme.into(),
                host: host.into(),
            })
        }
        _ => {
            problems.push(err(
                field,
                format!("'{raw}': '{host}' is not a host as browsers send it"),
                usage,
            ));
            None
        }
    }
}

/// Checks one `origin_regex` entry: it compiles, it cannot match `null` (with credentials), and
/// what its automaton matches ([`regex_scope::analyse`]) holds no plain-http origin (with
/// credentials) and no more than [`regex_scope::MAX_SITES`] sites.
fn origin_regex(
    i: usize,
    re: &str,
    spec: &PolicySpec,
    problems: &mut Vec<Problem>,
) -> Option<OriginPattern> {
    let field = Field::item(Key::OriginRegex, i);
    if untrimmed(field, re, problems) {
        return None;
    }
    let body = re.strip_prefix('^').unwrap_or(re);
    let body = body.strip_suffix('$').unwrap_or(body);
    let r = match regex::Regex::new(&format!("^(?:{body})$")) {
        Ok(r) => r,
        Err(e) => {
            problems.push(err(
                field,
                format!("'{re}' is not a valid regular expression: {e}"),
                "fix the expression (it is anchored for you: ^(?:...)$)",
            ));
            return None;
        }
    };
    if spec.credentials && r.is_match("null") {
        problems.push(err(
            field,
            format!("'{re}' matches the origin 'null'"),
            "make the expression require a scheme, e.g. ^https://",
        ));
    }
    let scope = match regex_scope::analyse(body) {
        Ok(s) => s,
        Err(regex_scope::TooComplex(why)) => {
            problems.push(err(
                field,
                format!("'{re}' is too complex to prove safe: {why}"),
                "list the origins, or use patterns such as https://*.example.com",
            ));
            return None;
        }
    };
    if let Some(w) = &scope.plain_http {
        if spec.credentials && !spec.dangerously_allow_insecure_origins {
            problems.push(err(
                field,
                format!(
                    "'{re}' matches plain-http origins such as '{w}' and credentials are \
                    allowed: anyone on the network path can impersonate them"
                ),
                "require https:// (plain http only for localhost, 127.0.0.1 or [::1])",
            ));
        }
    }
    if scope.unbounded {
        let examples: Vec<&str> = scope
            .sites
            .iter()
            .take(3)
            .map(|(_, w)| w.as_str())
            .collect();
        problems.push(err(
            field,
            format!(
                "'{re}' matches origins on more than {} sites, e.g. {}: anyone can register one \
                    (an unescaped '.', a missing '\\.' before the domain, or a wildcard over a \
                    public suffix)",
                regex_scope::MAX_SITES,
                examples.join(", ")
            ),
            "escape dots (\\\\.) and end on your own domain, e.g. \
                ^https://([a-z0-9-]+\\\\.)*example\\\\.com$",
        ));
    }
    Some(OriginPattern::Regex(r))
}
