//! The policy's keys, declared once. Each line of `policy_keys!`'s table names a key, its
//! kind and its [`Key`] variant; from it come the [`PolicySpec`] field, the raw form the file
//! loader reads with positions, the route merge (a route's key wins over `[policy]`'s), the
//! spans that place a problem on its line and column, and the list of known keys that catches
//! typos. Adding a key is one line here and its validation function in `validate.rs`.
//!
//! Kinds: `list` (an array of strings; problems point at one item), `flag` (a boolean, default
//! false) and `opt(T)` (an optional value).

use serde::{Deserialize, Serialize};
use std::ops::Range;
use toml::Spanned;

macro_rules! spec_ty {
    (list) => { Vec<String> };
    (flag) => { bool };
    (opt($t:ty)) => { Option<$t> };
}

macro_rules! raw_ty {
    (list) => { Option<Vec<Spanned<String>>> };
    (flag) => { Option<Spanned<bool>> };
    (opt($t:ty)) => { Option<Spanned<$t>> };
}

macro_rules! to_spec {
    (list, $raw:expr) => {
        $raw.iter().flatten().map(|s| s.get_ref().clone()).collect()
    };
    (flag, $raw:expr) => {
        $raw.as_ref().is_some_and(|s| *s.get_ref())
    };
    (opt($t:ty), $raw:expr) => {
        $raw.as_ref().map(|s| s.get_ref().clone())
    };
}

macro_rules! to_spans {
    (list, $raw:expr) => {
        $raw.iter().flatten().map(Spanned::span).collect()
    };
    ($kind:ident $(($t:ty))?, $raw:expr) => {
        $raw.iter().map(Spanned::span).collect()
    };
}

macro_rules! policy_keys {
    ($(
        $(#[doc = $doc:literal])*
        $key:ident: $kind:ident $(($t:ty))? => $variant:ident,
    )*) => {
        /// What a policy says, before validation. Field names are the `[policy]` keys of
        /// `corsair.toml`.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct PolicySpec {
            $(
                $(#[doc = $doc])*
                #[serde(default)]
                pub $key: spec_ty!($kind $(($t))?),
            )*
        }

        /// A key of [`PolicySpec`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Key {
            $(
                $(#[doc = $doc])*
                $variant,
            )*
        }

        impl Key {
            /// Every key, in the order of the table.
            pub const ALL: &'static [Key] = &[$(Key::$variant),*];
            /// Every key's name, in the same order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($key)),*];

            /// The key as it is written in `corsair.toml`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Key::$variant => stringify!($key),)*
                }
            }
        }

        /// A `[policy]` table as written, each value with its position.
        #[derive(Deserialize, Default, Clone)]
        #[serde(default)]
        pub(crate) struct RawPolicy {
            $(pub $key: raw_ty!($kind $(($t))?),)*
        }

        impl RawPolicy {
            /// This route's table over the default one: the keys it sets win.
            pub fn over(&self, base: &RawPolicy) -> RawPolicy {
                RawPolicy {
                    $($key: self.$key.clone().or_else(|| base.$key.clone()),)*
                }
            }

            /// The spec it describes, and where each of its values is.
            pub fn spec(&self) -> (PolicySpec, Spans) {
                let spec = PolicySpec {
                    $($key: to_spec!($kind $(($t))?, self.$key),)*
                };
                let spans = Spans {
                    $($key: to_spans!($kind $(($t))?, self.$key),)*
                };
                (spec, spans)
            }
        }

        /// Where each value of a spec is in the text: every item of a list, the one value of
        /// the others (none when the key is absent).
        #[derive(Clone, Debug, Default)]
        pub(crate) struct Spans {
            $(pub $key: Vec<Range<usize>>,)*
        }

        impl Spans {
            /// The positions of `key`'s values.
            pub fn of(&self, key: Key) -> &[Range<usize>] {
                match key {
                    $(Key::$variant => &self.$key,)*
                }
            }
        }
    };
}

policy_keys! {
    /// Allowed origins: exact (`https://app.example.com`), subdomain patterns
    /// (`https://*.example.com`, `https://*.example.com:*`), any port (`http://localhost:*`), or
    /// `*` (any origin, only without credentials).
    origins: list => Origins,
    /// Regular expressions over the whole origin, for what patterns cannot say. Always anchored.
    origin_regex: list => OriginRegex,
    /// Allowed methods (`*` only without credentials). Default: GET, HEAD, POST.
    methods: list => Methods,
    /// Allowed request headers (`*` only without credentials; `*` never covers Authorization in
    /// the standard).
    request_headers: list => RequestHeaders,
    /// Response headers JavaScript may read.
    expose_headers: list => ExposeHeaders,
    /// Whether cookies and HTTP authentication are allowed.
    credentials: flag => Credentials,
    /// Seconds browsers may cache a preflight result.
    max_age: opt(i64) => MaxAge,
    /// The status of a successful preflight answer (200 or 204; default 204).
    preflight_status: opt(u16) => PreflightStatus,
    /// Allow plain-http origins with credentials (other than loopback). Dangerous: anyone on the
    /// network path can impersonate them.
    dangerously_allow_insecure_origins: flag => DangerouslyAllowInsecureOrigins,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_spec() {
        let fields = match serde_json::to_value(PolicySpec::default()).unwrap() {
            serde_json::Value::Object(m) => m.keys().cloned().collect::<Vec<_>>(),
            _ => unreachable!(),
        };
        let mut names = Key::NAMES.to_vec();
        names.sort();
        assert_eq!(fields, names);
        for (k, name) in Key::ALL.iter().zip(Key::NAMES) {
            assert_eq!(k.name(), *name);
            assert_eq!(serde_json::to_value(k).unwrap(), *name);
        }
    }

    #[test]
    fn every_key_is_read_with_its_position_and_routes_inherit_what_they_do_not_set() {
        let text = r#"origins = ["https://a.example", "https://b.example"]
origin_regex = ["^https://c\\.example$"]
methods = ["PUT"]
request_headers = ["X-A"]
expose_headers = ["X-B"]
credentials = true
max_age = 60
preflight_status = 200
dangerously_allow_insecure_origins = true
"#;
        let raw: RawPolicy = toml::from_str(text).unwrap();
        let (spec, spans) = raw.spec();
        assert_eq!(spec.origins, ["https://a.example", "https://b.example"]);
        assert_eq!(spec.origin_regex, ["^https://c\\.example$"]);
        assert_eq!(
            (
                spec.methods.len(),
                spec.request_headers.len(),
                spec.expose_headers.len()
            ),
            (1, 1, 1)
        );
        assert!(spec.credentials && spec.dangerously_allow_insecure_origins);
        assert_eq!((spec.max_age, spec.preflight_status), (Some(60), Some(200)));
        for key in Key::ALL {
            let at = spans.of(*key);
            assert!(!at.is_empty(), "{key:?} has no position");
            let line = text[..at[0].start].matches('\n').count();
            assert_eq!(
                text.lines().nth(line).unwrap().split(' ').next(),
                Some(key.name()),
                "{key:?}"
            );
        }
        assert_eq!(spans.of(Key::Origins).len(), 2);
        let route: RawPolicy = toml::from_str("credentials = false\nmethods = []\n").unwrap();
        let (merged, _) = route.over(&raw).spec();
        assert!(!merged.credentials, "the route's value wins");
        assert!(merged.methods.is_empty(), "an empty list is a value too");
        assert_eq!(merged.origins, spec.origins, "unset keys are inherited");
        assert_eq!(merged.max_age, Some(60));
    }
}
