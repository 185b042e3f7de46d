//! The lint of `[proxy]` ([`build`]): every error and warning at once, each with its key and
//! fix, and the relay built from a table that passes.

use crate::policy::{Level, PolicySpec};
#[allow(unused_imports)]
use crate::*;

/// Checks `[proxy]` and builds the relay. `env` looks an environment variable up (for
/// `value_env`). Errors make the file unusable; warnings come back beside the relay.
pub fn build(
    spec: &RelaySpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Relay, Vec<Lint>), Vec<Lint>> {
    let mut lints = Vec::new();
    if spec.origins.is_empty() {
        lints.push(error(
            "origins",
            "no page may use the proxy",
            "list the pages' origins, e.g. origins = [\"https://app.example.com\"]",
        ));
    }
    let policy_spec = PolicySpec {
        origins: spec.origins.clone(),
        methods: METHODS.iter().map(|m| m.to_string()).collect(),
        // Any header, and Authorization by name: `*` does not cover it in the Fetch standard.
        request_headers: spec
            .request_headers
            .clone()
            .unwrap_or_else(|| vec!["*".into(), "Authorization".into()]),
        max_age: Some(600),
        ..Default::default()
    };
    let policy = match policy_spec.build() {
        Ok((p, warnings)) => {
            for w in warnings {
                lints.push(Lint {
                    severity: Level::Warning,
                    key: field_name(&w.field),
                    message: w.message,
                    fix: w.fix,
                });
            }
            Some(p)
        }
        Err(problems) => {
            for p in problems.into_iter().filter(|p| p.severity == Level::Error) {
                lints.push(error(field_name(&p.field), p.message, p.fix));
            }
            None
        }
    };
    let mut targets = Vec::new();
    for (i, t) in spec.targets.iter().enumerate() {
        match AllowedTarget::parse(t) {
            Ok(t) if t.is_any() && !spec.dangerously_open_relay => lints.push(error(
                format!("targets[{i}]"),
                "'*' lets any page on `origins` reach any server through the proxy: an open relay",
                "list the APIs, e.g. targets = [\"https://api.example.com\"], or set \
                    dangerously_open_relay = true if that is really meant",
            )),
            Ok(t) => targets.push(t),
            Err(e) => lints.push(error(
                format!("targets[{i}]"),
                e.to_string(),
                "write an origin: \
                https://api.example.com or https://*.example.com",
            )),
        }
    }
    if spec.targets.is_empty() {
        lints.push(error(
            "targets",
            "the proxy may reach nothing",
            "list the APIs it may reach, e.g. targets = [\"https://api.example.com\"]",
        ));
    }
    let mut allow_private = Vec::new();
    for (i, a) in spec.allow_private.iter().enumerate() {
        match a
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        {
            Some((h, p)) if !h.is_empty() => {
                let host = h
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase();
                // An exemption applies to a target URL's own host and port: one that no target
                // can name (an address where the target is named by host) exempts nothing.
                let named = ["http", "https"].iter().any(|scheme| {
                    let shown = if host.contains(':') {
                        format!("[{host}]")
                    } else {
                        host.clone()
                    };
                    Url::parse(&format!("{scheme}://{shown}:{p}/"))
                        .is_ok_and(|u| targets.iter().any(|t| t.matches(&u)))
                });
                if !named && !targets.is_empty() {
                    lints.push(error(
                        format!("allow_private[{i}]"),
                        format!("'{a}' matches no target, so it exempts nothing"),
                        format!(
                            "name a target's host and port as it is written in targets ({})",
                            spec.targets.join(", ")
                        ),
                    ));
                }
                allow_private.push((host, p));
            }
            _ => lints.push(error(
                format!("allow_private[{i}]"),
                format!("'{a}' is not HOST:PORT"),
                "write the host and port the target URL names, e.g. \"localhost:8080\"",
            )),
        }
    }
    let rate = match spec.rate_limit.as_deref().map(Rate::parse) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            lints.push(error(
                "rate_limit",
                e.to_string(),
                "e.g. rate_limit = \"120/minute\"",
            ));
            None
        }
        None => None,
    };
    if let Some(r) = &spec.redis {
        match Url::parse(r) {
            Ok(u) if matches!(u.scheme(), "redis" | "rediss") && u.host_str().is_some() => {}
            _ => lints.push(error(
                "redis",
                format!("'{r}' is not a redis:// URL"),
                "e.g. redis = \"redis://127.0.0.1:6379/0\"",
            )),
        }
        if rate.is_none() {
            lints.push(Lint {
                severity: Level::Warning,
                key: "redis".into(),
                message: "redis is set but there is no rate_limit to share".into(),
                fix: "add rate_limit, or remove redis".into(),
            });
        }
    }
    let any_origin = spec.origins.iter().any(|o| o.trim() == "*");
    let mut inject = Vec::new();
    for (i, j) in spec.inject.iter().enumerate() {
        let key = format!("inject[{i}]");
        if any_origin {
            lints.push(error(
                &key,
                "a secret injected for every origin ('*') is a secret any web page can spend",
                "list the pages' origins instead of '*'",
            ));
        }
        let target = match AllowedTarget::parse(&j.target) {
            Ok(t) if !t.is_any() => t,
            Ok(_) => {
                lints.push(error(
                    format!("{key}.target"),
                    "a secret for any target ('*') would go to every server",
                    "name the API the secret is for",
                ));
                continue;
            }
            Err(e) => {
                lints.push(error(
                    format!("{key}.target"),
                    e.to_string(),
                    "one of the targets, e.g. \"https://api.example.com\"",
                ));
                continue;
            }
        };
        let url = Url::parse(&format!(
            "{}://{}:{}/",
            target.scheme,
            match &target.host {
                TargetHost::Exact(h) => h.clone(),
                TargetHost::Under(d) => format!("x.{}", d.as_str()),
                TargetHost::Any => String::new(),
            },
            target.port
        ))
        .ok();
        if !url
            .as_ref()
            .is_some_and(|u| targets.iter().any(|t| t.matches(u)))
        {
            lints.push(error(
                format!("{key}.target"),
                format!("'{}' is not on targets", j.target),
                "add it to targets, or fix the name",
            ));
        }
        if crate::header::validate(&j.header, "x").is_err()
            || is_hop_by_hop(&j.header)
            || j.header.eq_ignore_ascii_case("host")
        {
            lints.push(error(
                format!("{key}.header"),
                format!("'{}' cannot be injected", j.header),
                "a request header name such as \"Authorization\" or \"X-RequestApi-Key\"",
            ));
            continue;
        }
        match env(&j.value_env) {
            Some(v) if !v.is_empty() && crate::header::validate(&j.header, &v).is_ok() => {
                // The credential, without an auth scheme: what an echo would carry.
                let credential = v.split_once(' ').map_or(v.as_str(), |(_, c)| c.trim());
                if credential.len() < secret::MIN_SECRET_LEN {
                    lints.push(error(
                        format!("{key}.value_env"),
                        format!(
                            "${} is {} bytes: too short to tell apart from ordinary text in a \
                                response, so the proxy could not keep it from the page",
                            j.value_env,
                            credential.len()
                        ),
                        format!(
                            "use a credential of at least {} bytes",
                            secret::MIN_SECRET_LEN
                        ),
                    ));
                    continue;
                }
                inject.push((target, j.header.clone(), v))
            }
            Some(_) => lints.push(error(
                format!("{key}.value_env"),
                format!("${} is empty or not a valid header value", j.value_env),
                "set it to the secret, one line",
            )),
            None => lints.push(error(
                format!("{key}.value_env"),
                format!("${} is not set", j.value_env),
                format!("export {}=... before starting the proxy", j.value_env),
            )),
        }
    }
    let mut limit = |v: Option<u64>, key: &str, default: u64| match v {
        Some(0) => {
            lints.push(error(
                key,
                "0 refuses every body",
                format!("remove it for the default ({default}), or give a size in bytes"),
            ));
            default
        }
        Some(n) => n,
        None => default,
    };
    let max_body_bytes = limit(spec.max_body_bytes, "max_body_bytes", 1 << 20);
    let max_response_bytes = limit(spec.max_response_bytes, "max_response_bytes", 10 << 20);
    let timeout = spec.timeout.unwrap_or(30.0);
    if !(timeout > 0.0 && timeout <= 3600.0) {
        lints.push(error(
            "timeout",
            format!("{timeout} s is not a timeout"),
            "seconds between 0 and 3600, e.g. timeout = 30",
        ));
    }
    let max_redirects = spec.max_redirects.unwrap_or(5);
    if max_redirects > 20 {
        lints.push(error(
            "max_redirects",
            format!("{max_redirects} redirects is more than a browser follows (20)"),
            "at most 20",
        ));
    }
    if lints.iter().any(|l| l.severity == Level::Error) {
        return Err(lints);
    }
    let policy = policy.expect("no error means a policy");
    Ok((
        Relay {
            policy,
            targets,
            allow_private,
            rate,
            redis: spec.redis.clone(),
            secrets: std::sync::Arc::new(Secrets::new(inject.iter().map(|(_, _, v)| v.as_str()))),
            inject,
            max_body_bytes,
            max_response_bytes,
            timeout,
            max_redirects,
        },
        lints,
    ))
}

/// A policy problem's place, in `[proxy]`'s names.
fn field_name(f: &crate::policy::Field) -> String {
    use crate::policy::{Field, Key};
    let name = |k: Key| match k {
        Key::RequestHeaders => "request_headers".to_string(),
        k => k.name().to_string(),
    };
    match f {
        Field::Item { key, index } => format!("{}[{index}]", name(*key)),
        Field::Value { key } => name(*key),
        Field::Policy => "proxy".into(),
    }
}
