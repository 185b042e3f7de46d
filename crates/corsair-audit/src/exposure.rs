//! What a response body exposes: secrets (API keys, tokens, session ids, JWTs, private keys)
//! and personal data (e-mail addresses, phone numbers, ...), found by field name and by value
//! shape. `corsair audit` reads the body an attacker's page would read behind
//! `Access-Control-Allow-Origin: *` and reports `wildcard-sensitive` when it carries any.
//!
//! The detectors are two tables: [`FIELDS`] (a JSON key, compared after lowercasing and
//! dropping `_`, `-` and `.`, whose value has the field's shape: an e-mail field holds an
//! address, a token field an opaque string; objects, arrays and booleans never count, so a
//! JSON Schema or OpenAPI document naming an `email` property is not data) and [`VALUES`] (a
//! regular expression over every JSON string value). A body that is not JSON is scanned for
//! secrets only (an e-mail address in a page's footer is a contact, not a leak); a JSON body cut
//! short by the sample's end is read pair by pair. What is reported is where and which detector
//! matched, never the value.

use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// What a detector finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A credential: key, token, password, session id.
    Secret,
    /// Data about a person.
    Personal,
}

/// A field name that carries a secret or personal data.
pub struct SensitiveField {
    /// The detector's id, shown in the evidence.
    pub id: &'static str,
    /// Secret or personal.
    pub kind: Kind,
    /// Key names, lowercase, without `_`, `-` and `.`.
    pub names: &'static [&'static str],
    /// The shape the value must have.
    pub shape: Shape,
}

/// What a field's value must look like to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Any text of 4 characters or more that is not masked (`****`), or a number of 6 digits
    /// or more.
    Text,
    /// Opaque: 8 characters or more mixing letters and digits, or 16 or more.
    Opaque,
    /// An e-mail address.
    Email,
    /// 7 digits or more.
    Digits,
}

/// SensitiveField names, by what their value is.
pub const FIELDS: &[SensitiveField] = &[
    SensitiveField {
        id: "api-key",
        kind: Kind::Secret,
        names: &[
            "apikey",
            "apisecret",
            "xapikey",
            "accesskey",
            "secretkey",
            "privatekey",
            "awssecretaccesskey",
        ],
        shape: Shape::Opaque,
    },
    SensitiveField {
        id: "token",
        kind: Kind::Secret,
        names: &[
            "token",
            "accesstoken",
            "refreshtoken",
            "idtoken",
            "authtoken",
            "bearertoken",
            "apitoken",
            "sessiontoken",
            "csrftoken",
            "xsrftoken",
            "jwt",
            "authorization",
        ],
        shape: Shape::Opaque,
    },
    SensitiveField {
        id: "secret",
        kind: Kind::Secret,
        names: &[
            "secret",
            "clientsecret",
            "password",
            "passwd",
            "passwordhash",
            "otp",
            "totpsecret",
            "mfasecret",
        ],
        shape: Shape::Text,
    },
    SensitiveField {
        id: "session-id",
        kind: Kind::Secret,
        names: &[
            "session",
            "sessionid",
            "sid",
            "phpsessid",
            "jsessionid",
            "sessionkey",
        ],
        shape: Shape::Opaque,
    },
    SensitiveField {
        id: "email",
        kind: Kind::Personal,
        names: &["email", "emailaddress", "useremail"],
        shape: Shape::Email,
    },
    SensitiveField {
        id: "phone",
        kind: Kind::Personal,
        names: &["phone", "phonenumber", "mobile", "telephone", "msisdn"],
        shape: Shape::Digits,
    },
    SensitiveField {
        id: "government-id",
        kind: Kind::Personal,
        names: &[
            "ssn",
            "socialsecuritynumber",
            "nationalid",
            "passportnumber",
            "taxid",
        ],
        shape: Shape::Digits,
    },
    SensitiveField {
        id: "payment-card",
        kind: Kind::Personal,
        names: &["creditcard", "cardnumber", "ccnumber", "iban", "cvv"],
        shape: Shape::Digits,
    },
    SensitiveField {
        id: "birth-date",
        kind: Kind::Personal,
        names: &["dateofbirth", "dob", "birthdate", "birthday"],
        shape: Shape::Text,
    },
    SensitiveField {
        id: "address",
        kind: Kind::Personal,
        names: &["homeaddress", "streetaddress", "postaladdress"],
        shape: Shape::Text,
    },
];

/// A value shape that is a secret or personal data wherever it appears.
pub struct Value {
    /// The detector's id, shown in the evidence.
    pub id: &'static str,
    /// Secret or personal.
    pub kind: Kind,
    /// Unanchored: matched anywhere in a string value or in a non-JSON body.
    pub pattern: &'static str,
}

/// Value shapes.
pub const VALUES: &[Value] = &[
    Value {
        id: "jwt",
        kind: Kind::Secret,
        pattern: r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    },
    Value {
        id: "private-key",
        kind: Kind::Secret,
        pattern: r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |ENCRYPTED )?PRIVATE KEY-----",
    },
    Value {
        id: "aws-access-key",
        kind: Kind::Secret,
        pattern: r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    },
    Value {
        id: "github-token",
        kind: Kind::Secret,
        pattern: r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b",
    },
    Value {
        id: "slack-token",
        kind: Kind::Secret,
        pattern: r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    },
    Value {
        id: "stripe-secret-key",
        kind: Kind::Secret,
        pattern: r"\b[sr]k_live_[A-Za-z0-9]{16,}",
    },
    Value {
        id: "google-api-key",
        kind: Kind::Secret,
        pattern: r"\bAIza[0-9A-Za-z_-]{35}\b",
    },
    Value {
        id: "email",
        kind: Kind::Personal,
        pattern: r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b",
    },
];

static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    VALUES
        .iter()
        .map(|v| Regex::new(v.pattern).expect("the value patterns are valid"))
        .collect()
});

/// A `"key": value` pair of JSON text, for a body cut short by the sample's end.
static PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""((?:[^"\\]|\\.){1,64})"\s*:\s*(?:"((?:[^"\\]|\\.){0,4096})"|(-?[0-9]{1,20}))"#)
        .expect("the pair pattern is valid")
});

/// An e-mail match that is no address: a file name (`logo@2x.png`), an ssh remote
/// (`git@github.com:org/repo`), or a documentation domain (RFC 2606).
fn not_an_address(text: &str, m: &regex::Match<'_>) -> bool {
    let found = m.as_str().to_ascii_lowercase();
    let domain = found.rsplit_once('@').map_or("", |(_, d)| d);
    let tld = domain.rsplit('.').next().unwrap_or_default();
    matches!(
        tld,
        "png"
            | "jpg"
            | "jpeg"
            | "gif"
            | "svg"
            | "webp"
            | "avif"
            | "ico"
            | "css"
            | "js"
            | "map"
            | "example"
            | "invalid"
            | "localhost"
    ) || matches!(
        domain,
        "example.com" | "example.net" | "example.org" | "email.com" | "domain.com"
    ) || domain.ends_with(".example.com")
        || text[m.end()..].starts_with(':')
}

/// Whether `text` has a match of value detector `i` that counts.
fn value_matches(i: usize, text: &str) -> bool {
    COMPILED[i]
        .find_iter(text)
        .any(|m| VALUES[i].id != "email" || !not_an_address(text, &m))
}

/// One match: where, and which detector. Never the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exposed {
    /// The JSON path of the field (`user.email`, `sessions[0].token`; the key alone in a body
    /// cut short), or `(body)` for a match in a body that is not JSON.
    pub field: String,
    /// The detector's id (`email`, `jwt`, `api-key`, ...).
    pub detector: &'static str,
    /// Secret or personal.
    pub kind: Kind,
}

/// Most matches reported for one body.
const MAX_REPORTED: usize = 16;
/// Most JSON nesting walked.
const MAX_DEPTH: usize = 32;

/// What `body` exposes (JSON keys in sorted order), each (field, detector) once.
pub fn scan(body: &[u8]) -> Vec<Exposed> {
    let mut out = Vec::new();
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => walk(&v, &mut String::new(), 0, &mut out),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let json_like = text.trim_start().starts_with(['{', '[']);
            if json_like {
                // Cut short (or not quite JSON): read it pair by pair.
                for c in PAIR.captures_iter(&text) {
                    let key = &c[1];
                    let value = match (c.get(2), c.get(3)) {
                        (Some(v), _) => Scalar::Str(v.as_str()),
                        (None, Some(n)) => Scalar::Num(n.as_str()),
                        _ => continue,
                    };
                    pair(key.to_string(), key, value, &mut out);
                }
            } else {
                for (i, v) in VALUES.iter().enumerate() {
                    if v.kind == Kind::Secret && value_matches(i, &text) {
                        push(&mut out, "(body)".into(), v.id, v.kind);
                    }
                }
            }
        }
    }
    out
}

fn push(out: &mut Vec<Exposed>, field: String, detector: &'static str, kind: Kind) {
    if out.len() < MAX_REPORTED
        && !out
            .iter()
            .any(|e| e.field == field && e.detector == detector)
    {
        out.push(Exposed {
            field,
            detector,
            kind,
        });
    }
}

/// The field table's entry for a JSON key.
fn field_named(key: &str) -> Option<&'static SensitiveField> {
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    FIELDS.iter().find(|f| f.names.contains(&norm.as_str()))
}

/// A scalar JSON value as the detectors see it.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Str(&'a str),
    /// A number, as written.
    Num(&'a str),
}

/// Whether a value has the field's shape.
fn has_shape(shape: Shape, v: Scalar<'_>) -> bool {
    let digits = |t: &str| t.chars().filter(char::is_ascii_digit).count();
    match (shape, v) {
        (Shape::Text, Scalar::Str(t)) => {
            let t = t.trim();
            t.chars().count() >= 4 && !t.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '•' | '.'))
        }
        (Shape::Opaque, Scalar::Str(t)) => {
            let t = t.trim();
            let n = t.chars().count();
            !t.contains(' ')
                && (n >= 16
                    || (n >= 8
                        && t.chars().any(|c| c.is_ascii_digit())
                        && t.chars().any(|c| c.is_ascii_alphabetic())))
        }
        (Shape::Email, Scalar::Str(t)) => {
            let i = VALUES.iter().position(|v| v.id == "email").unwrap_or(0);
            value_matches(i, t)
        }
        (Shape::Digits, Scalar::Str(t)) => digits(t) >= 7,
        (Shape::Text | Shape::Digits, Scalar::Num(n)) => digits(n) >= 6,
        _ => false,
    }
}

/// Checks one scalar (its key, when it has one) against both tables.
fn pair(field: String, key: &str, v: Scalar<'_>, out: &mut Vec<Exposed>) {
    if let Some(f) = field_named(key).filter(|f| has_shape(f.shape, v)) {
        push(out, field.clone(), f.id, f.kind);
    }
    if let Scalar::Str(t) = v {
        for (i, d) in VALUES.iter().enumerate() {
            if value_matches(i, t) {
                push(out, field.clone(), d.id, d.kind);
            }
        }
    }
}

fn walk(v: &serde_json::Value, path: &mut String, depth: usize, out: &mut Vec<Exposed>) {
    if depth > MAX_DEPTH || out.len() >= MAX_REPORTED {
        return;
    }
    let key = path
        .rsplit(['.', '['])
        .next()
        .unwrap_or_default()
        .to_string();
    let field = || {
        if path.is_empty() {
            "(body)".to_string()
        } else {
            path.clone()
        }
    };
    match v {
        serde_json::Value::Object(o) => {
            for (k, child) in o {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(child, path, depth + 1, out);
                path.truncate(len);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(child, path, depth + 1, out);
                path.truncate(len);
            }
        }
        serde_json::Value::String(t) => pair(field(), &key, Scalar::Str(t), out),
        serde_json::Value::Number(n) => {
            let n = n.to_string();
            pair(field(), &key, Scalar::Num(&n), out);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(body: &str) -> Vec<(String, &'static str)> {
        scan(body.as_bytes())
            .into_iter()
            .map(|e| (e.field, e.detector))
            .collect()
    }

    #[test]
    fn public_data_exposes_nothing() {
        for body in [
            r#"{"items":[1,2,3],"next_page_token":"abc"}"#,
            r#"{"name":"corsair","version":"1.0","email":null,"token":""}"#,
            "<html><body>Hello</body></html>",
            "",
            r#"{"status":"ok","password_policy":{"min_length":12}}"#,
        ] {
            assert_eq!(found(body), [], "{body}");
        }
    }

    #[test]
    fn field_names_are_matched_whatever_their_spelling() {
        assert_eq!(
            found(
                r#"{"user":{"Email-Address":"alice@mail.fleet.test","apiKey":"k-4f1c9e20","session_id":"9f86d081884c7d65"}}"#
            ),
            [
                ("user.Email-Address".to_string(), "email"),
                ("user.apiKey".to_string(), "api-key"),
                ("user.session_id".to_string(), "session-id"),
            ]
        );
    }

    #[test]
    fn value_shapes_are_found_in_any_field_and_in_text() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
        assert_eq!(
            found(&format!(r#"{{"items":[{{"note":"{jwt}"}}]}}"#)),
            [("items[0].note".to_string(), "jwt")]
        );
        // Text that is not JSON: secrets only (an address in a page is a contact).
        assert_eq!(
            found("contact: alice@fleet.test, key AKIAABCDEFGHIJKLMNOP"),
            [("(body)".to_string(), "aws-access-key")]
        );
        assert_eq!(
            found(r#""-----BEGIN PRIVATE KEY-----\nMII""#),
            [("(body)".to_string(), "private-key")]
        );
    }

    /// What public documents and ordinary data hold: not a leak.
    #[test]
    fn schemas_file_names_ssh_remotes_and_flags_are_not_data() {
        for body in [
            r#"{"components":{"schemas":{"User":{"properties":{"email":{"type":"string","format":"email"},"password":{"type":"string"}}}}}}"#,
            r#"{"logo":"logo@2x.png","repository":"git@github.com:org/repo.git","author":"docs@example.com"}"#,
            r#"{"mobile":true,"session":2,"token":"abc","password":"********","api_key":""}"#,
            "<footer>Write to <a href=\"mailto:team@fleet.test\">team@fleet.test</a></footer>",
        ] {
            assert_eq!(found(body), [], "{body}");
        }
    }

    #[test]
    fn a_json_body_cut_short_is_read_pair_by_pair() {
        let cut = r#"{"users":[{"email":"bob@fleet.test","api_key":"ab12cd34ef56"},{"email":"car"#;
        assert_eq!(
            found(cut),
            [
                ("email".to_string(), "email"),
                ("api_key".to_string(), "api-key")
            ]
        );
    }

    #[test]
    fn values_are_never_reported() {
        let e = scan(br#"{"token":"s3cr3t-value-99","email":"alice@fleet.test"}"#);
        let json = serde_json::to_string(&e).unwrap();
        assert!(
            !json.contains("s3cr3t") && !json.contains("alice"),
            "{json}"
        );
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn hostile_bodies_are_bounded() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let _ = scan(deep.as_bytes());
        let many: String = (0..1000)
            .map(|i| format!("\"token{i}\":\"x\",\"email\":\"e\""))
            .collect::<Vec<_>>()
            .join(",");
        let _ = scan(format!("{{{many}}}").as_bytes());
        let wide = format!(
            "{{{}}}",
            (0..100)
                .map(|i| format!("\"k{i}\":{{\"password\":\"hunter22\"}}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(scan(wide.as_bytes()).len(), MAX_REPORTED);
    }
}
