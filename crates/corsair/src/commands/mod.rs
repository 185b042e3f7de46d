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
use corsair_core::fix::{Fix, Stack};

/// Writes a fix: the summary, the headers, what it assumes, the policy, and the snippets
/// `--stack` chose.
pub(crate) fn write_fix(w: &mut String, fix: &Fix, stack: Option<StackArg>) {
    out!(w, "\n{HEAD}Fix{HEAD:#}\n  {}", fix.summary);
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
    write_snippets(w, fix, stack);
}

/// Writes the fix's snippets for the stacks `--stack` chose, or a hint about `--stack`.
fn write_snippets(w: &mut String, fix: &Fix, stack: Option<StackArg>) {
    let stacks: Vec<Stack> = match stack {
        None => vec![],
        Some(StackArg::All) => Stack::ALL.to_vec(),
        Some(StackArg::Express) => vec![Stack::Express],
        Some(StackArg::Fastapi) => vec![Stack::Fastapi],
        Some(StackArg::Nginx) => vec![Stack::Nginx],
        Some(StackArg::Apache) => vec![Stack::Apache],
        Some(StackArg::Axum) => vec![Stack::Axum],
        Some(StackArg::TowerHttp) => vec![Stack::TowerHttp],
    };
    for sn in fix.snippets.iter().filter(|s| stacks.contains(&s.stack)) {
        out!(w, "\n  {HEAD}{}{HEAD:#}", sn.stack.name());
        for line in sn.code.lines() {
            out!(w, "    {line}");
        }
    }
    if stacks.is_empty() {
        out!(
            w,
            "  {DIM}(--stack express|fastapi|nginx|apache|axum|tower-http|all prints it as \
            code){DIM:#}"
        );
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
