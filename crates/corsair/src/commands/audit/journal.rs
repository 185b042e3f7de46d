//! The --resume journal: the options fingerprint each line carries, and the targets a journal
//! records as done.

#[allow(unused_imports)]
use super::*;

/// What a target's findings depend on besides its URL: `--origin`, the `-H` headers and the
/// `--resolve` entries. Each target's line carries it as a fingerprint (SHA-256, so a session
/// cookie given with -H is never written out), and a --resume journal written with other options
/// is refused rather than half reused.
pub(super) fn options_fingerprint(
    origin: Option<&str>,
    headers: &[(String, String)],
    resolve: &[corsair_net::client::Resolve],
) -> String {
    let mut text = format!("origin {}\n", origin.map(str::trim).unwrap_or(""));
    for (name, value) in headers {
        text += &format!("header {}: {}\n", name.to_ascii_lowercase(), value.trim());
    }
    let mut entries: Vec<String> = resolve
        .iter()
        .map(|r| {
            format!(
                "resolve {}:{}:{}\n",
                r.host.to_ascii_lowercase(),
                r.port,
                r.addrs
                    .iter()
                    .map(std::net::IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    entries.sort();
    text.extend(entries);
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The targets a --resume journal records as done (lines with `"done": true`). A journal whose
/// lines record other options (`options`, see [`options_fingerprint`]) is an error.
pub(super) fn journal_done(
    path: &std::path::Path,
    options: &str,
) -> Result<std::collections::HashSet<String>, String> {
    let mut done = std::collections::HashSet::new();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(format!("cannot read --resume {}: {e}", path.display())),
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|e| format!("cannot read --resume {}: {e}", path.display()))?;
        // A line cut short by an interruption is ignored: its target is audited again.
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(theirs) = v["options"].as_str() {
            if theirs != options {
                return Err(format!(
                    "--resume {}: the journal records an audit with other --origin, -H or --resolve \
                     options ({theirs} there, {options} here), so its findings do not answer this \
                     one; resume with the options it was started with, or give a new --resume FILE",
                    path.display()
                ));
            }
        }
        if v["done"] == true {
            if let Some(u) = v["url"].as_str() {
                done.insert(u.to_string());
            }
        }
    }
    Ok(done)
}
