//! The keys `corsair.toml` knows, table by table, and a walk of the document that reports every
//! key it does not know at once, each with its position and the closest known key ("did you mean
//! `request_headers`?"). Typed parsing then ignores unknown keys, so one misspelling does not
//! hide the file's other problems.

use std::ops::Range;
use toml_edit::{ImDocument, Item, Key, Value};

/// Top-level keys of the policy part.
pub const TOP: &[&str] = &["mode", "upstream_cors", "policy", "routes", "env"];
/// `[policy]` and `[[routes]] policy` keys (the fields of [`super::PolicySpec`]).
pub const POLICY: &[&str] = super::Key::NAMES;
/// `[[routes]]` keys.
pub const ROUTE: &[&str] = &["path", "policy"];
/// `[env.NAME]` keys.
pub const ENV: &[&str] = &["origins"];

/// Keys of the same file that another layer of the program reads (`corsair serve`'s `listen`
/// and `[gateway]`): not unknown here.
#[derive(Clone, Copy, Debug, Default)]
pub struct Others {
    /// Top-level keys.
    pub top: &'static [&'static str],
    /// Tables among them, with their keys, checked too.
    pub tables: &'static [(&'static str, &'static [&'static str])],
}

/// A key the schema does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// Its dotted path (`policy.request_header`).
    pub path: String,
    /// Where it is in the text.
    pub span: Range<usize>,
    /// The known keys of its table.
    pub known: Vec<&'static str>,
    /// The closest known key, when one is close.
    pub suggestion: Option<&'static str>,
}

/// Every unknown key in `text`, in document order. Text that is not TOML gives none: the typed
/// parser reports the syntax error.
pub fn unknown(text: &str, others: &Others) -> Vec<Unknown> {
    let Ok(doc) = ImDocument::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let root = doc.as_table();
    let top: Vec<&'static str> = TOP.iter().chain(others.top).copied().collect();
    for (k, item) in root.iter() {
        let key = root.key(k);
        check(&mut out, "", k, key, &top);
        if let Some((name, known)) = others.tables.iter().find(|(name, _)| *name == k) {
            table(&mut out, name, item, known);
        }
        match k {
            "policy" => table(&mut out, "policy", item, POLICY),
            "routes" => {
                // `[[routes]]` tables, or an inline array `routes = [{ ... }]`.
                let routes: Vec<Item> = match item {
                    Item::ArrayOfTables(a) => a.iter().cloned().map(Item::Table).collect(),
                    Item::Value(Value::Array(a)) => a.iter().cloned().map(Item::Value).collect(),
                    _ => Vec::new(),
                };
                for (i, r) in routes.iter().enumerate() {
                    let path = format!("routes[{i}]");
                    table(&mut out, &path, r, ROUTE);
                    if let Some(p) = r.get("policy") {
                        table(&mut out, &format!("{path}.policy"), p, POLICY);
                    }
                }
            }
            "env" => {
                if let Some(envs) = item.as_table_like() {
                    for (name, e) in envs.iter() {
                        table(&mut out, &format!("env.{name}"), e, ENV);
                    }
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|u| u.span.start);
    out
}

/// Checks the keys of a table or inline table.
fn table(out: &mut Vec<Unknown>, path: &str, item: &Item, known: &[&'static str]) {
    match item {
        Item::Table(t) => {
            for (k, _) in t.iter() {
                check(out, path, k, t.key(k), known);
            }
        }
        Item::Value(Value::InlineTable(t)) => {
            for (k, _) in t.iter() {
                check(out, path, k, t.key(k), known);
            }
        }
        _ => {}
    }
}

fn check(out: &mut Vec<Unknown>, path: &str, k: &str, key: Option<&Key>, known: &[&'static str]) {
    if known.contains(&k) {
        return;
    }
    out.push(Unknown {
        path: if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        },
        span: key.and_then(Key::span).unwrap_or(0..0),
        known: known.to_vec(),
        suggestion: closest(k, known),
    });
}

/// The known key closest to `k` by edit distance, when it is close enough to be a typo.
pub fn closest(k: &str, known: &[&'static str]) -> Option<&'static str> {
    known
        .iter()
        .map(|c| (strsim::damerau_levenshtein(k, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unknown_key_with_a_suggestion() {
        let text = "listn = \"x\"\n[policy]\norigins = []\nrequest_header = []\n[gateway]\nhttp \
            = \"hyper\"\n[[routes]]\npath = \"/a\"\npolicy = { credential = true \
            }\n[env.dev]\norigin = []\n";
        let others = Others {
            top: &["listen", "gateway"],
            tables: &[("gateway", &["http1", "stall_timeout"])],
        };
        let inline = unknown(
            "routes = [{ path = \"/a\", policy = { orign = [] } }]\n",
            &others,
        );
        assert_eq!(inline.len(), 1, "{inline:?}");
        assert_eq!(inline[0].path, "routes[0].policy.orign");
        let u = unknown(text, &others);
        let got: Vec<(&str, Option<&str>)> =
            u.iter().map(|u| (u.path.as_str(), u.suggestion)).collect();
        assert_eq!(
            got,
            vec![
                ("listn", Some("listen")),
                ("policy.request_header", Some("request_headers")),
                ("gateway.http", Some("http1")),
                ("routes[0].policy.credential", Some("credentials")),
                ("env.dev.origin", Some("origins")),
            ]
        );
        assert_eq!(&text[u[1].span.clone()], "request_header");
        assert_eq!(closest("zzzzzz", POLICY), None);
    }
}
