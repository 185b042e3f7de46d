//! The proxy's file: `listen`, `admin` and `[proxy]`, read and checked with the relay's lint,
//! every problem placed at its line and column.

use crate::LoadError;
use corsair_policy::{Diagnostic, Level};
use corsair_relay::{self as relay, Relay, RelaySpec};
use serde::Deserialize;
use std::path::Path;

/// The file: `listen`, `admin` and `[proxy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyFile {
    /// Where to listen.
    pub listen: Option<String>,
    /// Where to serve `/metrics` and `/healthz`.
    pub admin: Option<String>,
    /// The relay.
    #[serde(default)]
    pub proxy: RelaySpec,
}

/// Reads and checks a proxy file: the relay, the file, and warnings rendered
/// `FILE:LINE:COL: warning: [proxy] KEY: MESSAGE; fix: FIX`; or why it cannot be served.
pub fn load(path: &Path) -> Result<(Relay, ProxyFile, Vec<String>), LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let file: ProxyFile = toml::from_str(&text).map_err(|e| LoadError::Syntax {
        path: path.to_path_buf(),
        at: e
            .span()
            .map(|_| {
                let d = Diagnostic::of_toml(&text, &e);
                format!("{}:{}: ", d.line, d.column)
            })
            .unwrap_or_default(),
        message: e.message().to_string(),
    })?;
    let env = |k: &str| std::env::var(k).ok();
    let render = |l: &relay::Lint| {
        let sev = match l.severity {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let at = position(&text, &l.key)
            .map(|(line, col)| format!("{line}:{col}:"))
            .unwrap_or_default();
        format!(
            "{}:{at} {sev}: [proxy] {}: {}; fix: {}",
            path.display(),
            l.key,
            l.message,
            l.fix
        )
    };
    match relay::build(&file.proxy, &env) {
        Ok((r, warnings)) => {
            let w = warnings.iter().map(render).collect();
            Ok((r, file, w))
        }
        Err(lints) => Err(LoadError::Refused {
            problems: lints.iter().map(render).collect(),
        }),
    }
}

/// The line and column of a `[proxy]` key named as the lint names it (`targets[1]`,
/// `inject[0].value_env`), or of the table when the key is not written.
fn position(text: &str, key: &str) -> Option<(usize, usize)> {
    use toml_edit::{ImDocument, Item, Value};
    let doc = ImDocument::parse(text).ok()?;
    let proxy = doc.as_table().get("proxy")?;
    let mut span = match proxy {
        Item::Table(t) => t.span(),
        Item::Value(v) => v.span(),
        _ => None,
    };
    let mut item: Option<Item> = Some(proxy.clone());
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let next = item.as_ref().and_then(|i| i.get(name)).cloned();
        let next = match (next, index) {
            (Some(Item::ArrayOfTables(a)), Some(i)) => a.get(i).map(|t| Item::Table(t.clone())),
            (Some(Item::Value(Value::Array(a))), Some(i)) => {
                a.get(i).map(|v| Item::Value(v.clone()))
            }
            (n, _) => n,
        };
        let s = match &next {
            Some(Item::Value(v)) => v.span(),
            Some(Item::Table(t)) => t.span(),
            _ => None,
        };
        if s.is_none() {
            break;
        }
        span = s;
        item = next;
    }
    let d = Diagnostic::at(
        text,
        &span?,
        Level::Error,
        String::new(),
        String::new(),
        String::new(),
    );
    Some((d.line, d.column))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `text` to a file of its own and loads it.
    fn load_text(name: &str, text: &str) -> Result<(Relay, ProxyFile, Vec<String>), LoadError> {
        let dir = std::env::temp_dir().join(format!("corsair-proxy-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("proxy.toml");
        std::fs::write(&path, text).unwrap();
        let r = load(&path);
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    #[test]
    fn a_good_file_loads_with_its_addresses() {
        let (relay, file, warnings) = load_text(
            "good",
            "listen = \"127.0.0.1:8787\"\nadmin = \"127.0.0.1:9191\"\n[proxy]\norigins = \
                [\"https://app.example.com\"]\ntargets = [\"https://api.example.com\"]\n",
        )
        .unwrap();
        assert_eq!(file.listen.as_deref(), Some("127.0.0.1:8787"));
        assert_eq!(file.admin.as_deref(), Some("127.0.0.1:9191"));
        assert_eq!(relay.targets.len(), 1);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_refused_file_names_the_line_column_key_and_fix() {
        let e = load_text(
            "open",
            "[proxy]\norigins = [\"https://app.example.com\"]\ntargets = [\"*\"]\n",
        )
        .unwrap_err();
        let LoadError::Refused { problems } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("proxy.toml:3:12: error: [proxy] targets[0]"),
            "{e}"
        );
        assert!(problems[0].contains("; fix: "), "{e}");
    }

    #[test]
    fn syntax_errors_and_unknown_keys_are_placed() {
        let e = load_text("syntax", "[proxy\n").unwrap_err();
        assert!(matches!(e, LoadError::Syntax { .. }), "{e:?}");
        assert!(e.to_string().contains("proxy.toml:1:"), "{e}");
        let e = load_text("unknown", "lisen = \"127.0.0.1:1\"\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `lisen`"), "{e}");
        let missing = std::env::temp_dir().join("corsair-proxy-no-such-dir/proxy.toml");
        let e = load(&missing).unwrap_err();
        assert!(matches!(e, LoadError::Unreadable { .. }), "{e:?}");
        assert!(e.to_string().starts_with("cannot read "), "{e}");
    }

    #[test]
    fn positions_follow_array_indexes_and_nested_keys() {
        let text = "[proxy]\norigins = [\"a\"]\ntargets = \
            [\"x\", \"y\"]\n\n[[proxy.inject]]\nheader = \"X-Key\"\nvalue_env = \"K\"\n";
        assert_eq!(position(text, "targets[1]"), Some((3, 17)));
        assert_eq!(position(text, "inject[0].value_env"), Some((7, 13)));
        // A key that is not written: the closest thing that is (here the array of tables).
        assert!(position(text, "inject[0].missing").is_some());
        assert_eq!(position("listen = \"x\"\n", "targets"), None);
    }
}
