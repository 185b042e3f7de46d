//! The layers a response went through, read from what they leave on it: `Server`, `Via`,
//! `X-Powered-By`, cache headers, session cookies and the shapes of their error pages.

use corsair_model::ResponseHead;
use serde::Serialize;

/// What a layer does in front of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A CDN or edge network.
    Cdn,
    /// A shared cache.
    Cache,
    /// A reverse proxy, gateway or load balancer.
    Proxy,
    /// The application server (uvicorn, gunicorn, a dev server).
    Server,
    /// The web framework the app is written in.
    Framework,
}

/// One layer seen in the responses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// Its name, e.g. `nginx` or `Starlette`.
    pub name: &'static str,
    /// What it does.
    pub role: Role,
    /// The `corsair gen` target (and `--stack`) that configures CORS in it, when there is one.
    pub target: Option<&'static str>,
    /// What it was recognised by, e.g. `Server: nginx/1.22.1`.
    pub evidence: String,
}

/// (lowercase product token of `Server`, name, role, gen target).
const SERVERS: &[(&str, &str, Role, Option<&str>)] = &[
    ("nginx", "nginx", Role::Proxy, Some("nginx")),
    ("openresty", "OpenResty (nginx)", Role::Proxy, Some("nginx")),
    ("apache", "Apache httpd", Role::Proxy, Some("apache")),
    ("caddy", "Caddy", Role::Proxy, Some("caddy")),
    ("envoy", "Envoy", Role::Proxy, Some("envoy")),
    ("istio-envoy", "Envoy (Istio)", Role::Proxy, Some("envoy")),
    ("traefik", "Traefik", Role::Proxy, Some("traefik")),
    ("haproxy", "HAProxy", Role::Proxy, None),
    ("awselb", "AWS Elastic Load Balancing", Role::Proxy, None),
    ("corsair", "corsair serve", Role::Proxy, None),
    ("cloudflare", "Cloudflare", Role::Cdn, None),
    ("cloudfront", "CloudFront", Role::Cdn, None),
    ("uvicorn", "uvicorn", Role::Server, Some("starlette")),
    ("hypercorn", "Hypercorn", Role::Server, Some("starlette")),
    ("gunicorn", "gunicorn", Role::Server, None),
    (
        "werkzeug",
        "Werkzeug (Flask)",
        Role::Framework,
        Some("flask"),
    ),
    (
        "wsgiserver",
        "Django's development server",
        Role::Server,
        Some("django"),
    ),
    ("daphne", "Daphne (Django)", Role::Server, Some("django")),
    ("kestrel", "Kestrel (ASP.NET Core)", Role::Server, None),
    ("jetty", "Jetty", Role::Server, Some("spring")),
];

/// (substring of a body, name, role, gen target): error pages whose shape names their author.
const BODIES: &[(&str, &str, Role, Option<&str>)] = &[
    ("<center>nginx", "nginx", Role::Proxy, Some("nginx")),
    (
        "<center>openresty",
        "OpenResty (nginx)",
        Role::Proxy,
        Some("nginx"),
    ),
    (
        "<address>Apache",
        "Apache httpd",
        Role::Proxy,
        Some("apache"),
    ),
    ("<pre>Cannot ", "Express", Role::Framework, Some("express")),
    ("<pre>Error: ", "Express", Role::Framework, Some("express")),
    (
        "The server encountered an internal error and was unable to complete your request",
        "Flask",
        Role::Framework,
        Some("flask"),
    ),
    (
        "The requested URL was not found on the server.",
        "Flask",
        Role::Framework,
        Some("flask"),
    ),
    (
        "<h1>Server Error (500)</h1>",
        "Django",
        Role::Framework,
        Some("django"),
    ),
    (
        "The requested resource was not found on this server.",
        "Django",
        Role::Framework,
        Some("django"),
    ),
    (
        "Disallowed CORS ",
        "Starlette",
        Role::Framework,
        Some("starlette"),
    ),
    (
        "Invalid CORS request",
        "Spring",
        Role::Framework,
        Some("spring"),
    ),
    (
        "Whitelabel Error Page",
        "Spring",
        Role::Framework,
        Some("spring"),
    ),
    (
        "upstream connect error",
        "Envoy",
        Role::Proxy,
        Some("envoy"),
    ),
    ("no healthy upstream", "Envoy", Role::Proxy, Some("envoy")),
];

/// (cookie name, name, role, gen target).
const COOKIES: &[(&str, &str, Role, Option<&str>)] = &[
    ("connect.sid", "Express", Role::Framework, Some("express")),
    ("csrftoken", "Django", Role::Framework, Some("django")),
    ("sessionid", "Django", Role::Framework, Some("django")),
    (
        "jsessionid",
        "Spring (a Java servlet container)",
        Role::Framework,
        Some("spring"),
    ),
    ("phpsessid", "PHP", Role::Framework, None),
    ("laravel_session", "Laravel", Role::Framework, None),
];

/// The layers seen on one response and the start of its body, outermost first.
pub fn of(head: &ResponseHead, body: &[u8]) -> Vec<Layer> {
    let mut found = Vec::new();
    let mut add = |name, role, target, evidence: String| {
        if !found.iter().any(|l: &Layer| l.name == name) {
            found.push(Layer {
                name,
                role,
                target,
                evidence,
            });
        }
    };
    if let Some(server) = head.get("server") {
        for product in server.value.split([' ', ',']) {
            let token = product.split('/').next().unwrap_or("").to_ascii_lowercase();
            if let Some((_, name, role, target)) = SERVERS.iter().find(|s| s.0 == token) {
                add(name, *role, *target, format!("Server: {}", server.value));
            }
        }
    }
    if let Some(via) = head.get("via") {
        let lower = via.value.to_ascii_lowercase();
        let named = SERVERS.iter().find(|s| lower.contains(s.0));
        match named {
            Some((_, name, role, target)) => {
                add(name, *role, *target, format!("Via: {}", via.value))
            }
            None if lower.contains("varnish") => {
                add("Varnish", Role::Cache, None, format!("Via: {}", via.value))
            }
            None => add("a proxy", Role::Proxy, None, format!("Via: {}", via.value)),
        }
    }
    if head.get("cf-ray").is_some() {
        add("Cloudflare", Role::Cdn, None, "CF-Ray header".into());
    }
    if let Some(p) = head.get("x-powered-by") {
        let lower = p.value.to_ascii_lowercase();
        let named = if lower.starts_with("express") {
            Some(("Express", Some("express")))
        } else if lower.starts_with("next.js") {
            Some(("Next.js", None))
        } else if lower.starts_with("php") {
            Some(("PHP", None))
        } else if lower.starts_with("asp.net") {
            Some(("ASP.NET", None))
        } else {
            None
        };
        if let Some((name, target)) = named {
            add(
                name,
                Role::Framework,
                target,
                format!("X-Powered-By: {}", p.value),
            );
        }
    }
    if let Some(line) = cache_line(head) {
        add("a shared cache", Role::Cache, None, line);
    }
    for (n, v) in &head.headers {
        if !n.eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        let v = String::from_utf8_lossy(v);
        let cookie = v
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if let Some((_, name, role, target)) = COOKIES.iter().find(|c| c.0 == cookie) {
            add(name, *role, *target, format!("Set-Cookie: {cookie}=..."));
        }
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(8192)]);
    for (needle, name, role, target) in BODIES {
        if text.contains(needle) {
            add(
                name,
                *role,
                *target,
                format!("the body's error page (\"{}\")", needle.trim()),
            );
        }
    }
    // Starlette's own error answers are a bare text/plain line, served by uvicorn.
    let plain = head
        .get("content-type")
        .is_some_and(|c| c.value.starts_with("text/plain"));
    if plain
        && head.status >= 400
        && matches!(
            text.trim(),
            "Internal Server Error" | "Not Found" | "Method Not Allowed"
        )
        && head
            .get("server")
            .is_some_and(|s| s.value.contains("uvicorn"))
    {
        add(
            "Starlette",
            Role::Framework,
            Some("starlette"),
            format!(
                "the body \"{}\" as text/plain, Starlette's error answer",
                text.trim()
            ),
        );
    }
    found.sort_by_key(|l| l.role);
    found
}

/// The header line that says a cache answered, when one does (`Age` above 0, a `HIT`).
pub fn cache_line(head: &ResponseHead) -> Option<String> {
    if let Some(age) = head.get("age") {
        if age.value.trim().parse::<u64>().is_ok_and(|a| a > 0) {
            return Some(format!("Age: {}", age.value));
        }
    }
    for name in [
        "x-cache",
        "cf-cache-status",
        "x-cache-status",
        "x-proxy-cache",
        "cdn-cache",
    ] {
        if let Some(v) = head.get(name) {
            if v.value.to_ascii_uppercase().contains("HIT") {
                return Some(format!("{name}: {}", v.value));
            }
        }
    }
    None
}

/// The layers in words, outermost first: "nginx in front of uvicorn (Starlette/FastAPI)".
pub fn words(layers: &[Layer]) -> String {
    layers
        .iter()
        .map(|l| l.name)
        .collect::<Vec<_>>()
        .join(" in front of ")
}

/// Merges `more` into `into`, keeping the first evidence for each layer, outermost first.
pub fn merge(into: &mut Vec<Layer>, more: Vec<Layer>) {
    for l in more {
        if !into.iter().any(|x| x.name == l.name) {
            into.push(l);
        }
    }
    into.sort_by_key(|l| l.role);
}
