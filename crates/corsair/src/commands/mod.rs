//! One module per subcommand.

/// Writes a line of a text report into a `String` (`out!(w)` an empty one): reports are values
/// rendered to text, printed once by their command.
macro_rules! out {
    ($w:expr) => {
        $w.push('\n')
    };
    ($w:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($w, $($arg)*);
    }};
}

pub mod audit;
pub mod check;
pub mod demo;
pub mod dev;
pub mod explain;
pub mod gen;
pub mod origin;
pub mod policy;
pub mod proxy;
pub mod serve;
pub mod shell;
pub mod ui;

use crate::cli::StackArg;
use crate::style::{CORS, DIM, HEAD, WARN};
use corsair_core::fix::Fix;

/// Writes a fix: the summary, the headers, what it assumes, the policy, and the snippets
/// `--stack` chose (or, without it, the stack the diagnosis recognised in the responses).
pub(crate) fn write_fix(
    w: &mut String,
    fix: &Fix,
    stack: Option<StackArg>,
    detected: Option<&corsair_core::diagnosis::Diagnosis>,
) {
    out!(w, "\n{HEAD}Fix{HEAD:#}\n  {}", fix.summary);
    for c in &fix.changes {
        out!(w, "  - {c}");
    }
    for (n, v) in &fix.headers {
        out!(w, "    {CORS}{n}: {v}{CORS:#}");
    }
    for note in &fix.notes {
        out!(w, "  {WARN}note{WARN:#} {note}");
    }
    if let Some(p) = &fix.policy {
        out!(
            w,
            "  {DIM}as a corsair policy (corsair serve / corsair gen TARGET --config \
            corsair.toml):{DIM:#}"
        );
        for line in p.lines() {
            out!(w, "    {line}");
        }
    }
    write_snippets(w, fix, stack, detected);
}

/// Writes the fix's snippets for the stacks `--stack` chose, or for the stack the diagnosis
/// recognised, or a hint about `--stack`.
fn write_snippets(
    w: &mut String,
    fix: &Fix,
    stack: Option<StackArg>,
    detected: Option<&corsair_core::diagnosis::Diagnosis>,
) {
    use corsair_core::gen::Target;
    let seen = detected.and_then(|d| {
        let t = Target::ALL
            .into_iter()
            .find(|t| Some(t.name()) == d.stack)?;
        let layer = d.layers.iter().find(|l| l.target == d.stack)?;
        Some((t, layer))
    });
    let targets: Vec<Target> = match (stack, seen) {
        (Some(s), _) => s.targets(),
        (None, Some((t, layer))) => {
            out!(
                w,
                "\n  {DIM}for {}, recognised by {} (--stack TARGET for another):{DIM:#}",
                layer.name,
                layer.evidence
            );
            vec![t]
        }
        (None, None) => Vec::new(),
    };
    for target in &targets {
        let code = fix
            .snippets
            .iter()
            .find(|s| s.stack.target() == *target)
            .map(|s| s.code.clone())
            .or_else(|| generated(fix, *target));
        let Some(code) = code else { continue };
        out!(w, "\n  {HEAD}{}{HEAD:#}", target.name());
        for line in code.lines() {
            out!(w, "    {line}");
        }
    }
    if targets.is_empty() && fix.policy.is_some() {
        out!(
            w,
            "  {DIM}(--stack TARGET prints it as code for any `corsair gen` target, e.g. \
            express, fastapi, flask, django, nginx, apache, caddy; --stack all for every one){DIM:#}"
        );
    }
}

/// The fix's policy written by `corsair gen` for a target the fix has no snippet for.
fn generated(fix: &Fix, target: corsair_core::gen::Target) -> Option<String> {
    use corsair_core::fix::{SNIPPET_LISTEN, SNIPPET_UPSTREAM};
    let toml = fix.policy.as_deref()?;
    let loaded = corsair_core::policy::file::load(toml, None, &Default::default()).ok()?;
    let input = corsair_core::gen::Input {
        spec: loaded.0.policy.spec(),
        listen: SNIPPET_LISTEN,
        upstream: Some(SNIPPET_UPSTREAM),
        routes: Vec::new(),
    };
    match corsair_core::gen::generate(target, &input) {
        Ok(g) => Some(g.text),
        Err(e) => Some(format!("# corsair gen {}: {e}", target.name())),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The curl command that replays `out` with the same connection options.
pub(crate) fn curl(
    out: &corsair_core::fetch::Outgoing,
    resolve: &[String],
    cacert: Option<&std::path::Path>,
    insecure: bool,
    proxy: Option<&str>,
) -> String {
    let mut c = String::from("curl -i");
    if out.method == "HEAD" {
        c.push_str(" --head");
    } else if out.method != "GET" || out.body.is_some() {
        c.push_str(&format!(" -X {}", shell_quote(&out.method)));
    }
    for r in resolve {
        c.push_str(&format!(" --resolve {}", shell_quote(r)));
    }
    if let Some(p) = cacert {
        c.push_str(&format!(
            " --cacert {}",
            shell_quote(&p.display().to_string())
        ));
    }
    if insecure {
        c.push_str(" -k");
    }
    if let Some(p) = proxy {
        c.push_str(&format!(" -x {}", shell_quote(p)));
    }
    for (n, v) in &out.headers {
        c.push_str(&format!(" -H {}", shell_quote(&format!("{n}: {v}"))));
    }
    if let Some(b) = &out.body {
        c.push_str(&format!(" --data-raw {}", shell_quote(b)));
    }
    c.push(' ');
    c.push_str(&shell_quote(out.url.as_str()));
    c
}

/// Request headers as (name, value).
pub(crate) type Headers = Vec<(String, String)>;

/// The request headers, `--resolve` entries and `--timeout` that `check` and `audit` share,
/// checked.
pub(crate) fn connection_options(
    headers: &[String],
    resolve: &[String],
    timeout: f64,
) -> Result<(Headers, Vec<corsair_net::client::Resolve>), String> {
    let headers = headers
        .iter()
        .map(|h| check::parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let resolve = resolve
        .iter()
        .map(|r| r.parse::<corsair_net::client::Resolve>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if !(timeout > 0.0 && timeout <= 3600.0) {
        return Err(format!(
            "--timeout {timeout} must be between 0 and 3600 seconds"
        ));
    }
    Ok((headers, resolve))
}
