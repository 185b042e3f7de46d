//! `corsair.toml` as the commands that read it (`serve`, `gen`, `policy lint`, `ui`) load it:
//! the policy part is corsair-core's ([`corsair_policy::file`]); the serving part
//! (`listen`, `upstream`, `admin` and `[gateway]`) is read and checked here. Problems from both
//! come back together, in file order, rendered as `FILE:line:col: error: ...`. The gateway gets
//! a validated [`ConfigFile`] and never reads text.

use corsair_policy::file::{self, Diagnostic};
use corsair_policy::keys::Others;
use corsair_policy::{Level, PolicyFile};
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml::Spanned;

/// `[gateway]` keys. `header_read_timeout` is the old name of `stall_timeout`, still read.
pub const GATEWAY_KEYS: &[&str] = &[
    "stall_timeout",
    "header_read_timeout",
    "upstream_connect_timeout",
    "upstream_timeout",
    "max_header_bytes",
    "shutdown_grace",
    "http1",
    "max_body_bytes",
    "access_log",
    "access_log_format",
    "access_log_path",
];

/// The keys this layer reads, for the policy part's unknown-key check.
const SERVE_KEYS: Others = Others {
    top: &["listen", "upstream", "admin", "gateway", "tls"],
    tables: &[
        ("gateway", GATEWAY_KEYS),
        ("tls", &["cert", "key", "client_ca"]),
    ],
};

/// `[tls]`: HTTPS (and HTTP/2) to clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The certificate chain, PEM, leaf first.
    pub cert: String,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: String,
    /// CA certificates (PEM) that client certificates must chain to; clients without one are
    /// refused. Absent: no client certificate asked for.
    #[serde(default)]
    pub client_ca: Option<String>,
}

/// `[gateway]`: limits and timeouts, in seconds and bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewaySettings {
    /// Seconds the other side of any read or write may stall: a client sending its request
    /// head (or a body), a client not taking its response, an upstream going silent mid-body.
    /// Also how long an idle keep-alive connection stays open.
    #[serde(alias = "header_read_timeout", deserialize_with = "timeout")]
    pub stall_timeout: f64,
    /// Seconds to connect to the upstream.
    #[serde(deserialize_with = "timeout")]
    pub upstream_connect_timeout: f64,
    /// Seconds to wait for the upstream's response head.
    #[serde(deserialize_with = "timeout")]
    pub upstream_timeout: f64,
    /// Largest request head accepted, in bytes.
    pub max_header_bytes: usize,
    /// Largest request body accepted, in bytes (413 above it).
    pub max_body_bytes: u64,
    /// Seconds to let requests in flight finish on shutdown.
    #[serde(deserialize_with = "grace")]
    pub shutdown_grace: f64,
    /// Which HTTP/1.1 implementation serves clients.
    pub http1: Http1,
    /// Whether each request gets an access log line (`access_log = false` turns it off).
    pub access_log: bool,
    /// `text`, `json` or `combined` (nginx's).
    pub access_log_format: crate::access_log::Format,
    /// Where the lines go; standard error when absent.
    pub access_log_path: Option<String>,
}

/// The longest `[gateway]` duration accepted, in seconds: a day.
const MAX_SECONDS: f64 = 86_400.0;
/// What a bad duration's message says, so that the diagnostic can name the fix.
const NOT_SECONDS: &str = "is not a number of seconds";

/// A `[gateway]` timeout: more than 0 and at most a day. Zero, a negative number, `inf` or `nan`
/// would time out everything at once or never, or panic where it becomes a `Duration`.
fn timeout<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    seconds(d, f64::MIN_POSITIVE)
}

/// `shutdown_grace`: 0 (no grace) up to a day.
fn grace<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    seconds(d, 0.0)
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D, min: f64) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if v >= min && v <= MAX_SECONDS {
        Ok(v)
    } else {
        let from = if min > 0.0 { "above 0" } else { "from 0" };
        Err(serde::de::Error::custom(format!(
            "{v} {NOT_SECONDS} {from} and at most {MAX_SECONDS} (a day)"
        )))
    }
}

/// `[gateway] http1`: which HTTP/1.1 implementation `corsair serve` uses for clients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Http1 {
    /// corsair's own proxy path for plain HTTP/1.1 requests; anything else (HTTP/2, HTTP/1.0,
    /// chunked or `Expect` request bodies, upgrades) goes to hyper.
    #[default]
    Corsair,
    /// hyper for every request.
    Hyper,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            stall_timeout: 10.0,
            upstream_connect_timeout: 5.0,
            upstream_timeout: 60.0,
            max_header_bytes: 64 * 1024,
            max_body_bytes: 10 * 1024 * 1024,
            shutdown_grace: 10.0,
            http1: Http1::default(),
            access_log: true,
            access_log_format: crate::access_log::Format::default(),
            access_log_path: None,
        }
    }
}

/// The serving part of the file.
#[derive(Clone, Debug, Default)]
pub struct Serve {
    /// `listen`.
    pub listen: Option<String>,
    /// `upstream`.
    pub upstream: Option<String>,
    /// `admin`: where `/metrics` is served.
    pub admin: Option<String>,
    /// `[gateway]`.
    pub gateway: GatewaySettings,
    /// `[tls]`.
    pub tls: Option<TlsSettings>,
}

/// A loaded, validated `corsair.toml`.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    /// The policy part: the default policy and its `[[routes]]`.
    pub policy: PolicyFile,
    /// The serving part: `listen`, `upstream`, `admin`, `[gateway]` and `[tls]`.
    pub serve: Serve,
}

#[derive(Deserialize)]
struct RawServe {
    listen: Option<Spanned<String>>,
    upstream: Option<Spanned<String>>,
    admin: Option<Spanned<String>>,
    #[serde(default)]
    gateway: Option<GatewaySettings>,
    #[serde(default)]
    tls: Option<TlsSettings>,
}

/// Reads the serving part; syntax errors are left to the policy part, which reports them.
fn serve_part(text: &str) -> (Serve, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if text.parse::<toml::Table>().is_err() {
        return (Serve::default(), diags);
    }
    let raw: RawServe = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) if e.message().contains(NOT_SECONDS) => {
            diags.push(Diagnostic::error(
                text,
                e.span().unwrap_or(0..0),
                "gateway",
                e.message().trim().to_string(),
                "write a number of seconds in that range, e.g. upstream_timeout = 60",
            ));
            return (Serve::default(), diags);
        }
        Err(e) => {
            diags.push(Diagnostic::of_toml(text, &e));
            return (Serve::default(), diags);
        }
    };
    let mut error = |s: &Spanned<String>, key: &str, message: String, fix: &str| {
        diags.push(Diagnostic::error(text, s.span(), key, message, fix));
    };
    if let Some(l) = &raw.listen {
        if l.get_ref().parse::<std::net::SocketAddr>().is_err() {
            error(
                l,
                "listen",
                format!("listen = \"{}\" is not an address:port", l.get_ref()),
                "write listen = \"127.0.0.1:8080\" (or \"[::1]:8080\", \"0.0.0.0:8080\")",
            );
        }
    }
    if let Some(a) = &raw.admin {
        if a.get_ref().parse::<std::net::SocketAddr>().is_err() {
            error(
                a,
                "admin",
                format!("admin = \"{}\" is not an address:port", a.get_ref()),
                "write admin = \"127.0.0.1:9090\"",
            );
        }
    }
    if let Some(u) = &raw.upstream {
        match url::Url::parse(u.get_ref()) {
            Ok(url) if url.scheme() == "http" && url.host().is_some() => {}
            _ => error(
                u,
                "upstream",
                format!("upstream = \"{}\" is not an http:// URL", u.get_ref()),
                "write upstream = \"http://127.0.0.1:9000\"",
            ),
        }
    }
    let serve = Serve {
        listen: raw.listen.map(Spanned::into_inner),
        upstream: raw.upstream.map(Spanned::into_inner),
        admin: raw.admin.map(Spanned::into_inner),
        gateway: raw.gateway.unwrap_or_default(),
        tls: raw.tls,
    };
    (serve, diags)
}

/// Parses and validates a whole file. `env` is the environment whose extra origins apply.
/// Returns the config and its warnings, or every error and warning, in file order.
pub fn parse(
    text: &str,
    env: Option<&str>,
) -> Result<(ConfigFile, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (serve, mut diags) = serve_part(text);
    let policy = match file::load(text, env, &SERVE_KEYS) {
        Ok((policy, warnings)) => {
            diags.extend(warnings);
            Some(policy)
        }
        Err(d) => {
            diags.extend(d);
            None
        }
    };
    diags.sort_by_key(|d| (d.line, d.column));
    match policy {
        Some(policy) if !diags.iter().any(|d| d.severity == Level::Error) => {
            Ok((ConfigFile { policy, serve }, diags))
        }
        _ => Err(diags),
    }
}

/// Reads and validates a policy file; the errors come back rendered.
pub fn load(
    path: &Path,
    env: Option<&str>,
) -> Result<(ConfigFile, Vec<Diagnostic>), crate::LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::LoadError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, env).map_err(|diagnostics| crate::LoadError::Invalid {
        path: path.to_path_buf(),
        diagnostics,
    })
}

/// `FILE:line:col: error [key]: message` and the fix on the next line.
pub fn render(path: &Path, d: &Diagnostic) -> String {
    let sev = match d.severity {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let key = if d.key.is_empty() {
        String::new()
    } else {
        format!(" [{}]", d.key)
    };
    format!(
        "{}:{}:{}: {sev}{key}: {}\n    fix: {}",
        path.display(),
        d.line,
        d.column,
        d.message,
        d.fix
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "[policy]\norigins = [\"https://a.example\"]\n";

    #[test]
    fn both_parts_are_read_and_their_problems_come_back_together_in_order() {
        let text = format!(
            "listen = \"127.0.0.1:8080\"\nupstream \
            = \"http://127.0.0.1:9000\"\nadmin = \"127.0.0.1:9090\"\n[gateway]\nstall_timeout = \
            3.5\nhttp1 = \"hyper\"\n{POLICY}"
        );
        let (c, warnings) = parse(&text, None).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.serve.listen.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(c.serve.upstream.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.serve.gateway.stall_timeout, 3.5);
        assert_eq!(c.serve.gateway.http1, Http1::Hyper);
        assert!(c.policy.policy.allows_origin("https://a.example"));

        let d = parse(
            &format!("listen = \"nope\"\nmode = \"maybe\"\nupstream = \"https://x\"\n{POLICY}"),
            None,
        )
        .unwrap_err();
        let keys: Vec<(&str, usize)> = d.iter().map(|d| (d.key.as_str(), d.line)).collect();
        assert_eq!(keys, [("listen", 1), ("mode", 2), ("upstream", 3)]);
    }

    #[test]
    fn durations_are_finite_and_in_range() {
        // Each of these once reached Duration::from_secs_f64 and panicked, at start-up or in
        // the reload watcher, which then never reloaded again.
        for bad in [
            "upstream_timeout = -1",
            "upstream_timeout = 0",
            "stall_timeout = inf",
            "upstream_connect_timeout = nan",
            "upstream_timeout = 1e300",
            "header_read_timeout = -0.5",
            "shutdown_grace = -1",
        ] {
            let d = parse(&format!("[gateway]\n{bad}\n{POLICY}"), None).unwrap_err();
            assert_eq!(d.len(), 1, "{bad}: {d:?}");
            assert_eq!(d[0].line, 2, "{bad}");
            assert!(
                d[0].message.contains("is not a number of seconds"),
                "{bad}: {}",
                d[0].message
            );
            assert!(d[0].fix.contains("e.g. upstream_timeout = 60"), "{bad}");
        }
        let (c, _) = parse(
            &format!(
                "[gateway]\nshutdown_grace = 0\nupstream_timeout = \
            86400\nstall_timeout = 0.25\n{POLICY}"
            ),
            None,
        )
        .unwrap();
        assert_eq!(c.serve.gateway.shutdown_grace, 0.0);
        assert_eq!(c.serve.gateway.upstream_timeout, 86_400.0);
    }

    #[test]
    fn gateway_values_and_keys_are_checked_where_they_are() {
        let d = parse(&format!("[gateway]\nhttp1 = \"nginx\"\n{POLICY}"), None).unwrap_err();
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("`corsair` or `hyper`"), "{d:?}");
        assert!(d[0].fix.contains("expected values"), "{d:?}");
        assert_eq!((d[0].line, d[0].column), (2, 9));
        let d = parse(&format!("[gateway]\nstall_timout = 1\n{POLICY}"), None).unwrap_err();
        assert_eq!(
            d[0].message,
            "unknown key `gateway.stall_timout`; did you mean `stall_timeout`?"
        );
        // A syntax error is reported once.
        let d = parse("listen = \n[policy]\n", None).unwrap_err();
        assert_eq!(d.len(), 1, "{d:?}");
    }

    #[test]
    fn the_old_name_of_the_stall_timeout_still_works() {
        let (c, _) = parse(
            &format!("[gateway]\nheader_read_timeout = 2\n{POLICY}"),
            None,
        )
        .unwrap();
        assert_eq!(c.serve.gateway.stall_timeout, 2.0);
        let mut names: Vec<&str> = GATEWAY_KEYS.to_vec();
        names.retain(|k| *k != "header_read_timeout");
        names.sort();
        let fields = match serde_json::to_value(GatewaySettings::default()).unwrap() {
            serde_json::Value::Object(m) => m.keys().cloned().collect::<Vec<_>>(),
            _ => unreachable!(),
        };
        assert_eq!(fields, names, "GATEWAY_KEYS are the settings' fields");
    }

    #[test]
    fn diagnostics_render_with_file_line_column_and_fix() {
        let d = parse("[policy]\norigins = [\"null\"]\n", None).unwrap_err();
        let text = render(Path::new("corsair.toml"), &d[0]);
        assert!(
            text.starts_with("corsair.toml:2:12: error [policy.origins[0]]: the origin 'null'"),
            "{text}"
        );
        assert!(text.contains("\n    fix: "), "{text}");
    }
}
