//! Caddy 2: a complete Caddyfile (global options and one site) that proxies to the upstream.
//! The Origin is validated by one anchored regex (`header_regexp`), echoed only when it
//! matched, preflights are answered by `respond` inside a `route` (so nothing after it runs),
//! the upstream's own CORS headers are dropped with `header_down`, and `handle_errors` puts the
//! headers on Caddy's own error responses too. Each `[[routes]]` entry gets its own matchers
//! and `handle` blocks for its path (Caddy tries the longest path first, as `corsair serve`
//! does).

use super::{methods, origins, Input};
use crate::policy::PolicySpec;

/// One policy written for Caddy: its named matchers (site level), the `route` that enforces
/// it, and the header lines for Caddy's own errors. `n` suffixes the matcher names.
struct Parts {
    matchers: String,
    route: String,
    errors: String,
}

fn parts(spec: &PolicySpec, n: &str, up_addr: &str, indent: &str) -> Result<Parts, String> {
    let o = origins(spec)?;
    // Backquoted tokens are taken literally by the Caddyfile parser; a backquote or a brace
    // (a placeholder to Caddy) in a pattern cannot be written safely.
    let pattern = if o.any {
        ".".to_string()
    } else {
        format!("^(?:{})$", o.alternatives().join("|"))
    };
    if pattern.contains('`') || pattern.contains('{') || pattern.contains('}') {
        return Err(format!(
            "caddy: the origin pattern {pattern} contains a backquote or a brace, \
            which a Caddyfile would read as a placeholder; write the origins as exact origins or \
            `*.` patterns"
        ));
    }
    let acao = if o.any {
        "*"
    } else {
        "{http.request.header.Origin}"
    };
    let mut actual = vec![format!("Access-Control-Allow-Origin {acao}")];
    if spec.credentials {
        actual.push("Access-Control-Allow-Credentials true".to_string());
    }
    let mut preflight = actual.clone();
    if !spec.expose_headers.is_empty() {
        actual.push(format!(
            "Access-Control-Expose-Headers \"{}\"",
            spec.expose_headers.join(", ")
        ));
    }
    preflight.push(format!(
        "Access-Control-Allow-Methods \"{}\"",
        methods(spec).join(", ")
    ));
    if !spec.request_headers.is_empty() {
        preflight.push(format!(
            "Access-Control-Allow-Headers \"{}\"",
            spec.request_headers.join(", ")
        ));
    }
    if let Some(m) = spec.max_age {
        preflight.push(format!("Access-Control-Max-Age {m}"));
    }
    let block = |indent: &str, lines: &[String]| {
        lines
            .iter()
            .map(|l| format!("{indent}\t{l}\n"))
            .collect::<String>()
    };
    let i = indent;
    let mut m = String::new();
    m.push_str(&format!(
        "\t@corsair_origin{n} header_regexp Origin `{pattern}`\n"
    ));
    m.push_str(&format!(
        "\t@corsair_preflight_allowed{n} {{\n\t\tmethod OPTIONS\n\t\theader_regexp \
        Access-Control-Request-Method .\n\t\theader_regexp Origin `{pattern}`\n\t}}\n"
    ));

    let mut r = format!("{i}route {{\n");
    r.push_str(&format!(
        "{i}\t# Preflights are answered here, before proxying or any authentication.\n"
    ));
    r.push_str(&format!(
        "{i}\theader @corsair_preflight_allowed{n} {{\n{}{i}\t}}\n",
        block(&format!("{i}\t"), &preflight)
    ));
    r.push_str(&format!(
        "{i}\theader @corsair_preflight Vary \"Origin, \
        Access-Control-Request-Method, Access-Control-Request-Headers\"\n"
    ));
    r.push_str(&format!(
        "{i}\trespond @corsair_preflight {}\n\n",
        spec.preflight_status.unwrap_or(204)
    ));
    r.push_str(&format!(
        "{i}\t# Upstream 4xx and 5xx responses carry the headers too, so browsers can read errors.\n"
    ));
    r.push_str(&format!(
        "{i}\theader @corsair_origin{n} {{\n{}{i}\t}}\n",
        block(&format!("{i}\t"), &actual)
    ));
    if !o.any {
        r.push_str(&format!("{i}\theader +Vary Origin\n"));
    }
    r.push_str(&format!("{i}\treverse_proxy {up_addr} {{\n"));
    r.push_str(&format!(
        "{i}\t\t# One source of truth: the upstream's own CORS headers are dropped.\n"
    ));
    for h in super::cors_response_headers() {
        r.push_str(&format!("{i}\t\theader_down -{h}\n"));
    }
    r.push_str(&format!("{i}\t}}\n{i}}}\n"));
    // Vary: Origin is already on an error response: it was added before proxying.
    let errors = format!(
        "{i}header @corsair_origin{n} {{\n{}{i}}}\n",
        block(i, &actual)
    );
    Ok(Parts {
        matchers: m,
        route: r,
        errors,
    })
}

pub(super) fn generate(input: &Input<'_>) -> Result<(String, Vec<String>), String> {
    let up = super::upstream(input, "caddy")?;
    let up_addr = format!(
        "{}://{}:{}",
        up.scheme(),
        up.host_str().unwrap_or("127.0.0.1"),
        up.port_or_known_default().unwrap_or(80)
    );
    let (default, routes) = super::split_routes(input, "caddy", "{}*`\"'\\")?;
    // A route's paths: itself and what lies below it on a segment boundary.
    let paths = |prefix: &str| -> Vec<String> {
        if prefix.ends_with('/') {
            vec![format!("{prefix}*")]
        } else {
            vec![prefix.to_string(), format!("{prefix}/*")]
        }
    };

    let mut t = String::new();
    t.push_str("# Generated by `corsair gen caddy` from a corsair policy: a complete Caddyfile.\n");
    t.push_str("# caddy run --config Caddyfile --adapter caddyfile\n");
    t.push_str("{\n\tadmin off\n\tauto_https off\n}\n\n");
    t.push_str(&format!("http://{} {{\n", input.listen));
    t.push_str(
        "\t# The Origin, validated against the allowlist (exact, anchored): only a match is \
        echoed.\n",
    );
    t.push_str(
        "\t@corsair_preflight {\n\t\tmethod OPTIONS\n\t\theader_regexp \
        Access-Control-Request-Method .\n\t}\n",
    );
    if routes.is_empty() {
        let p = parts(default, "", &up_addr, "\t")?;
        t.push_str(&p.matchers);
        t.push('\n');
        t.push_str(&p.route);
        t.push_str(
            "\n\t# Caddy's own errors (such as 502 when the upstream is down) carry them as \
            well.\n\thandle_errors {\n",
        );
        t.push_str(&p.errors.replace("\n\t", "\n\t\t").replacen('\t', "\t\t", 1));
        t.push_str(
            "\t\trespond \"{err.status_code} {err.status_text}\" {err.status_code}\n\t}\n}\n",
        );
        return Ok((t, Vec::new()));
    }
    let mut all = Vec::new();
    for (i, (prefix, spec)) in routes.iter().enumerate() {
        all.push((
            paths(prefix),
            parts(spec, &format!("_{}", i + 1), &up_addr, "\t\t")?,
        ));
    }
    let fallback = parts(default, "", &up_addr, "\t\t")?;
    for (i, (_, p)) in all.iter().enumerate() {
        t.push_str(&format!("\t# [[routes]] {}\n", routes[i].0));
        t.push_str(&p.matchers);
    }
    t.push_str("\t# [policy]\n");
    t.push_str(&fallback.matchers);
    t.push_str("\n\t# Caddy tries the longest path first; the [policy] block takes the rest.\n");
    for (paths, p) in &all {
        for path in paths {
            t.push_str(&format!("\thandle {path} {{\n{}\t}}\n", p.route));
        }
    }
    t.push_str(&format!("\thandle {{\n{}\t}}\n\n", fallback.route));
    t.push_str(
        "\t# Caddy's own errors (such as 502 when the upstream is down) carry them as \
        well.\n\thandle_errors {\n",
    );
    for (paths, p) in &all {
        for path in paths {
            t.push_str(&format!(
                "\t\thandle {path} {{\n\t{}\t\t}}\n",
                p.errors.replace("\n\t", "\n\t\t")
            ));
        }
    }
    t.push_str(&format!(
        "\t\thandle {{\n\t{}\t\t}}\n",
        fallback.errors.replace("\n\t", "\n\t\t")
    ));
    t.push_str("\t\trespond \"{err.status_code} {err.status_text}\" {err.status_code}\n\t}\n}\n");
    Ok((t, Vec::new()))
}
