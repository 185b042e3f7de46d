//! What a response body exposes: secrets (API keys, tokens, session ids, JWTs, private keys)
//! and personal data (e-mail addresses, phone numbers, ...), found by field name and by value
//! shape. `corsair audit` reads the body an attacker's page would read behind
//! `Access-Control-Allow-Origin: *` and reports `wildcard-sensitive` when it carries any.
//!
//! The detectors are two tables: [`FIELDS`] (a JSON key, compared after lowercasing and
//! dropping `_`, `-` and `.`, with a non-empty value) and [`VALUES`] (a regular expression over
//! every JSON string value, or over the whole body when it is not JSON). What is reported is
//! where and which detector matched, never the value.

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
pub struct Field {
    /// The detector's id, shown in the evidence.
    pub id: &'static str,
    /// Secret or personal.
    pub kind: Kind,
    /// Key names, lowercase, without `_`, `-` and `.`.
    pub names: &'static [&'static str],
}

/// Field names, by what their value is.
pub const FIELDS: &[Field] = &[
    Field {
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
    },
    Field {
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
    },
    Field {
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
    },
    Field {
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
    },
    Field {
        id: "email",
        kind: Kind::Personal,
        names: &["email", "emailaddress", "mail", "useremail"],
    },
    Field {
        id: "phone",
        kind: Kind::Personal,
        names: &["phone", "phonenumber", "mobile", "telephone", "msisdn"],
    },
    Field {
        id: "government-id",
        kind: Kind::Personal,
        names: &[
            "ssn",
            "socialsecuritynumber",
            "nationalid",
            "passportnumber",
            "taxid",
        ],
    },
    Field {
        id: "payment-card",
        kind: Kind::Personal,
        names: &["creditcard", "cardnumber", "ccnumber", "pan", "iban", "cvv"],
    },
    Field {
        id: "birth-date",
        kind: Kind::Personal,
        names: &["dateofbirth", "dob", "birthdate", "birthday"],
    },
    Field {
        id: "address",
        kind: Kind::Personal,
        names: &["homeaddress", "streetaddress", "postaladdress"],
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

/// One match: where, and which detector. Never the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exposed {
    /// The JSON path of the field (`user.email`, `sessions[0].token`), or `(body)` for a
    /// match in a body that is not JSON.
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
            for (v, re) in VALUES.iter().zip(COMPILED.iter()) {
                if re.is_match(&text) {
                    push(&mut out, "(body)".into(), v.id, v.kind);
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
fn field_named(key: &str) -> Option<&'static Field> {
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    FIELDS.iter().find(|f| f.names.contains(&norm.as_str()))
}

/// Whether a field's value carries anything (an empty string, null, false or an empty
/// container exposes nothing).
fn carries(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null | serde_json::Value::Bool(false) => false,
        serde_json::Value::String(s) => !s.trim().is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn walk(v: &serde_json::Value, path: &mut String, depth: usize, out: &mut Vec<Exposed>) {
    if depth > MAX_DEPTH || out.len() >= MAX_REPORTED {
        return;
    }
    match v {
        serde_json::Value::Object(o) => {
            for (k, child) in o {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if let Some(f) = field_named(k).filter(|_| carries(child)) {
                    push(out, path.clone(), f.id, f.kind);
                }
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
        serde_json::Value::String(s) => {
            for (d, re) in VALUES.iter().zip(COMPILED.iter()) {
                if re.is_match(s) {
                    let field = if path.is_empty() {
                        "(body)".to_string()
                    } else {
                        path.clone()
                    };
                    push(out, field, d.id, d.kind);
                }
            }
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
            found(r#"{"user":{"Email-Address":"a@b.example","apiKey":"k1","session_id":"s"}}"#),
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
        assert_eq!(
            found("contact: alice@fleet.test, key AKIAABCDEFGHIJKLMNOP"),
            [
                ("(body)".to_string(), "aws-access-key"),
                ("(body)".to_string(), "email")
            ]
        );
        assert_eq!(
            found(r#""-----BEGIN PRIVATE KEY-----\nMII""#),
            [("(body)".to_string(), "private-key")]
        );
    }

    #[test]
    fn values_are_never_reported() {
        let e = scan(br#"{"token":"s3cr3t-value","email":"alice@fleet.test"}"#);
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
                .map(|i| format!("\"k{i}\":{{\"password\":\"p\"}}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(scan(wide.as_bytes()).len(), MAX_REPORTED);
    }
}
