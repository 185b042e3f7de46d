//! `corsair ui`: parses the flags and starts the ui server (`corsair_ui`), whose API calls
//! are answered here with the commands' own code: `check`, `explain`, the DevTools import, and
//! the policy editor's lint and generators.

use crate::cli::{ApiArg, BrowserArg, CheckArgs, Format, UiArgs};
use crate::style::BAD;
use crate::{EXIT_ERROR, EXIT_OK};
use anstream::eprintln;
use corsair_ui::{Answer, BadRequest, Call};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: UiArgs) -> u8 {
    let listen = match args.listen.parse() {
        Ok(a) => a,
        Err(_) => {
            eprintln!(
                "{BAD}error:{BAD:#} --listen '{}' must be ADDRESS:PORT, e.g. 127.0.0.1:7070",
                args.listen
            );
            return EXIT_ERROR;
        }
    };
    // clap has checked the range (cli::seconds).
    let serve_for = args.serve_for.map(Duration::from_secs_f64);
    let app_origin = match args.live_origin.as_deref().map(corsair_ui::app_origin) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            eprintln!("{BAD}error:{BAD:#} --live-origin: {e}");
            return EXIT_ERROR;
        }
    };
    match corsair_ui::run(corsair_ui::Settings {
        listen,
        open: args.open,
        serve_for,
        app_origin,
        backend: Arc::new(Commands),
    }) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}

/// The ui's API calls, answered by the commands.
struct Commands;

impl corsair_ui::Backend for Commands {
    fn about(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert(
            "targets".into(),
            json!(corsair_core::gen::Target::ALL.map(|t| t.name())),
        );
        m.insert(
            "stacks".into(),
            json!(corsair_core::fix::Stack::ALL.map(|s| s.name())),
        );
        m
    }

    fn answer<'a>(&'a self, call: Call, body: &'a [u8]) -> Answer<'a> {
        Box::pin(async move {
            match call {
                Call::Check => check(body).await,
                Call::Import => import(body),
                Call::Explain => explain(body),
                Call::Policy => policy(body),
                _ => Err("no such API call".to_string()),
            }
            .map_err(BadRequest)
        })
    }
}

#[derive(Deserialize)]
struct CheckIn {
    url: String,
    origin: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    headers: Vec<String>,
    #[serde(default)]
    credentials: bool,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    browser: Option<String>,
    #[serde(default)]
    api: Option<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    preflight_only: bool,
    #[serde(default)]
    resolve: Vec<String>,
    #[serde(default)]
    crossorigin: Option<String>,
    #[serde(default)]
    page_space: Option<String>,
    #[serde(default)]
    target_space: Option<String>,
    #[serde(default)]
    lna_permission: Option<String>,
    #[serde(default)]
    target_address_space: Option<String>,
}

/// A form field read like its command-line flag; empty means absent.
fn flag<T: clap::ValueEnum>(field: &str, v: Option<String>) -> Result<Option<T>, String> {
    match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => T::from_str(v, true)
            .map(Some)
            .map_err(|_| format!("'{v}' is not a valid {field}")),
    }
}

#[derive(Deserialize)]
struct ImportIn {
    text: String,
}

/// A request copied from DevTools (cURL or fetch), read for the Check form.
fn import(body: &[u8]) -> Result<Value, String> {
    let i: ImportIn =
        serde_json::from_slice(body).map_err(|e| format!("bad import request: {e}"))?;
    let text = i.text.trim();
    let (from, read) = if text.starts_with("curl") {
        ("cURL", corsair_core::import::from_curl(text))
    } else if text.contains("fetch(") {
        ("fetch", corsair_core::import::from_fetch(text))
    } else {
        return Err(
            "paste DevTools' \"Copy as cURL\" (starting with `curl`) or \"Copy as fetch\" \
            (a `fetch(...)` call)"
                .into(),
        );
    };
    let r = read.map_err(|e| format!("{} (fix: {})", e.message, e.fix))?;
    Ok(json!({
        "from": from,
        "url": r.url,
        "method": r.method,
        "headers": r.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect::<Vec<_>>(),
        "data": r.body,
        "credentials": r.credentials,
        "origin": r.origin,
        "origin_from": r.origin_from,
        "dropped": r.dropped.iter().map(|(n, why)| json!({"name": n, "why": why})).collect::<Vec<_>>(),
    }))
}

async fn check(body: &[u8]) -> Result<Value, String> {
    crate::commands::check::check_json(&check_args(body)?).await
}

/// The check form's fields as `corsair check`'s arguments, read as the command line reads them.
fn check_args(body: &[u8]) -> Result<CheckArgs, String> {
    let c: CheckIn = serde_json::from_slice(body).map_err(|e| format!("bad check request: {e}"))?;
    Ok(CheckArgs {
        url: Some(c.url),
        origin: Some(c.origin),
        from_curl: None,
        from_fetch: None,
        preflight_only: c.preflight_only,
        no_probes: false,
        method: c
            .method
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| "GET".into()),
        headers: c
            .headers
            .into_iter()
            .filter(|h| !h.trim().is_empty())
            .collect(),
        credentials: c.credentials,
        data: c.data.filter(|d| !d.is_empty()),
        // An unknown name is an error, as on the command line, never Chromium in its place.
        browser: flag("browser", c.browser)?.unwrap_or(BrowserArg::Chromium),
        api: flag("api", c.api)?.unwrap_or(ApiArg::Fetch),
        crossorigin: flag("crossorigin", c.crossorigin)?,
        page_space: flag("page space", c.page_space)?,
        target_space: flag("target space", c.target_space)?,
        target_address_space: flag("targetAddressSpace", c.target_address_space)?,
        lna_permission: c
            .lna_permission
            .filter(|p| !p.trim().is_empty())
            .map(|p| p.trim().parse())
            .transpose()?
            .into_iter()
            .collect(),
        resolve: c.resolve,
        cacert: None,
        insecure: c.insecure,
        timeout: 10.0,
        format: Format::Json,
        stack: None,
    })
}

#[derive(Deserialize)]
struct ExplainIn {
    text: String,
}

fn explain(body: &[u8]) -> Result<Value, String> {
    let e: ExplainIn =
        serde_json::from_slice(body).map_err(|e| format!("bad explain request: {e}"))?;
    Ok(crate::commands::explain::explain_json(
        &e.text,
        &crate::commands::explain::Known::default(),
    ))
}

#[derive(Deserialize)]
struct PolicyIn {
    toml: String,
    #[serde(default)]
    env: Option<String>,
}

fn policy(body: &[u8]) -> Result<Value, String> {
    let p: PolicyIn =
        serde_json::from_slice(body).map_err(|e| format!("bad policy request: {e}"))?;
    let env = p.env.filter(|e| !e.is_empty());
    let (config, diags) = match corsair_gateway::config::parse(&p.toml, env.as_deref()) {
        Ok((c, w)) => (Some(c), w),
        Err(d) => (None, d),
    };
    let mut generated = serde_json::Map::new();
    if let Some(c) = &config {
        let listen = c
            .serve
            .listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        for t in corsair_core::gen::Target::ALL {
            let v = match corsair_core::gen::generate(
                t,
                &corsair_core::gen::Input {
                    spec: c.policy.policy.spec(),
                    listen: &listen,
                    upstream: c.serve.upstream.as_deref(),
                    routes: c
                        .policy
                        .routes
                        .iter()
                        .map(|r| (r.prefix.as_str(), r.policy.spec()))
                        .collect(),
                },
            ) {
                Ok(g) => json!({"file": t.file_name(), "text": g.text, "warnings": g.warnings}),
                Err(e) => json!({"error": e.to_string()}),
            };
            generated.insert(t.name().to_string(), v);
        }
    }
    Ok(json!({"valid": config.is_some(), "diagnostics": diags, "generated": generated}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser(name: Option<&str>) -> Result<BrowserArg, String> {
        let body = json!({"url": "https://api.example.com/", "origin": "https://app.example.com",
            "browser": name});
        check_args(body.to_string().as_bytes()).map(|a| a.browser)
    }

    #[test]
    fn the_check_form_reads_browser_names_as_the_command_line_does() {
        assert_eq!(browser(None), Ok(BrowserArg::Chromium));
        assert_eq!(browser(Some("")), Ok(BrowserArg::Chromium));
        assert_eq!(browser(Some("firefox")), Ok(BrowserArg::Firefox));
        assert_eq!(browser(Some("WebKit")), Ok(BrowserArg::Safari));
        assert_eq!(browser(Some("edge")), Ok(BrowserArg::Chromium));
        assert_eq!(browser(Some("all")), Ok(BrowserArg::All));
        // Was silently Chromium.
        assert_eq!(
            browser(Some("opera")),
            Err("'opera' is not a valid browser".to_string())
        );
    }
}
