//! The fix for each class, in corsair's policy language.

#[allow(unused_imports)]
use crate::*;

/// The fix for `class`, in corsair's policy language.
pub fn fix(class: Class, s: &Subject, probe_origin: &str) -> String {
    let trusted = &s.trusted;
    let site = s.site.clone().unwrap_or_else(|| s.host.clone());
    match class {
        Class::ReflectOrigin => format!(
            "List the origins that may read this endpoint instead of \
            echoing the Origin: [policy] origins = [\"{trusted}\"]. corsair serve never echoes an \
            unlisted origin."
        ),
        Class::NullOrigin => "Remove \"null\" from the allowed origins: sandboxed iframes, data: \
            and file: pages all send it, so anyone can. `corsair policy lint` refuses it."
            .to_string(),
        Class::PrefixBypass
        | Class::SuffixBypass
        | Class::SubstringBypass
        | Class::UnescapedDot
        | Class::SpecialCharBypass => format!(
            "Compare \
            origins exactly, or with patterns anchored on label boundaries: [policy] origins = \
            [\"{trusted}\", \"https://*.{site}\"]. corsair's patterns never match {probe_origin}."
        ),
        Class::LocalhostBypass => "Trust development origins exactly, and only in development: \
            [policy] origins = [\"http://localhost:5173\"] (with the port). A pattern that only \
            checks the start of the origin also lets https://localhost.attacker.example in."
            .to_string(),
        Class::InvalidAllowOrigin => format!(
            "Send exactly one origin, the page's own when it is \
            allowed (with Vary: Origin), or \"*\" for public data: [policy] origins = \
            [\"{trusted}\"]. corsair serve and corsair-tower write one origin per answer."
        ),
        Class::AnySubdomain => format!(
            "Trust only the subdomains you run: [policy] origins = \
            [\"{trusted}\"] rather than a pattern over every subdomain of {site}; \
            keep \"https://*.{site}\" only if no subdomain can be taken over or hosts others' \
            content."
        ),
        Class::HttpOriginTrusted => format!(
            "Drop the http:// origin: [policy] origins = \
            [\"{trusted}\"]. corsair refuses plain-http origins with credentials."
        ),
        Class::ThirdPartyOrigin => format!(
            "Remove shared-hosting origins ({probe_origin}) from \
            [policy] origins: anyone can publish a page there."
        ),
        Class::PortIgnored => format!(
            "List each origin with its port: [policy] origins = \
            [\"{trusted}\"]; keep \"host:*\" forms for development only."
        ),
        Class::WildcardCredentials => format!(
            "\"*\" never works with credentials; list the \
            origins: [policy] origins = [\"{trusted}\"], credentials = true. corsair refuses \"*\" \
            with credentials at load."
        ),
        Class::WildcardSensitive => format!(
            "Serve user-specific data to listed origins only: \
            [policy] origins = [\"{trusted}\"] instead of \"*\"."
        ),
        Class::WildcardPublic => format!(
            "Nothing to do for public data. If this endpoint ever \
            serves user data, list the origins: [policy] origins = [\"{trusted}\"]."
        ),
        Class::PreflightReflect => "List what you accept: [policy] methods = [\"GET\", \"POST\"], \
            request_headers = [\"Content-Type\", \"Authorization\"]. corsair never echoes \
            Access-Control-Request-Method or -Headers."
            .to_string(),
        Class::PreflightAuth => "Answer preflights before authentication: corsair serve and \
            corsair-tower answer them before the service behind them sees the request."
            .to_string(),
        Class::ErrorsWithoutCors => "Send the CORS headers on every answer, errors included: \
            nginx add_header ... always, Apache Header always set, Starlette/FastAPI \
            CORSMiddleware(app) wrapping the whole app, Express cors() before the routes and \
            authentication, Django's CorsMiddleware first; corsair serve and corsair-tower do it \
            for every answer. `corsair check URL` on a failing call names the layer that answered."
            .to_string(),
        Class::MissingVary => "Send Vary: Origin whenever Access-Control-Allow-Origin depends on \
            the Origin (corsair always does), or mark the response Cache-Control: private or \
            no-store."
            .to_string(),
        Class::PrivateNetworkHeader => "Nothing to gain from it in current Chromium: drop it \
            unless you support old Chromium or Electron builds. For pages that must reach a local \
            service, see `corsair explain` on the \"Permission was denied ... address space\" \
            message: the user's permission, the same address space or a dev proxy, \
            targetAddressSpace."
            .to_string(),
    }
}
