//! Injected secrets, in every form an upstream could send one back to the page in: a response
//! that reflects the request (echo services, debug endpoints, error pages quoting the headers)
//! would hand the page the very secret the proxy exists to keep from it.
//!
//! For each injected value the proxy knows its usual derived forms: the value and its credential
//! without the auth scheme (`Bearer`, `Basic` and its decoded `user:password` and password),
//! each as written, percent-encoded (every reserved byte, `encodeURIComponent`'s set, twice),
//! form-encoded, JSON-escaped (with `\/` and `\uXXXX` variants), and base64 (standard and
//! URL-safe, padded or not, and the part of it that stays the same wherever the secret sits
//! inside a longer encoded string). All of them match in any ASCII letter case.
//!
//! [`Secrets::found_in`] tells a header; a body goes through a [`Scanner`] as it streams: it
//! holds back only the longest end of what came that could begin a form (bounded by the longest
//! form), so memory stays bounded and no byte of a secret is delivered before the scan has seen
//! the whole of it.

use aho_corasick::AhoCorasick;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

/// A credential shorter than this cannot be told apart from ordinary text in a response: the
/// proxy's lint refuses it, and derived forms shorter than it are not searched.
pub const MIN_SECRET_LEN: usize = 8;

/// The forms of every injected secret, ready to search.
#[derive(Clone, Debug)]
pub struct Secrets {
    /// Lowercase, longest first.
    forms: Vec<Vec<u8>>,
    matcher: Option<AhoCorasick>,
    longest: usize,
}

/// A secret was found where it would reach the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the upstream's response carries an injected secret")]
pub struct Leak;

impl Secrets {
    /// The forms of `values` (the injected header values).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Secrets {
        let mut forms: Vec<Vec<u8>> = values
            .into_iter()
            .flat_map(forms_of)
            .map(|f| f.to_ascii_lowercase())
            .collect();
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        forms.dedup();
        let matcher = (!forms.is_empty()).then(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&forms)
                .expect("a few short literal patterns always build")
        });
        let longest = forms.first().map_or(0, Vec::len);
        Secrets {
            forms,
            matcher,
            longest,
        }
    }

    /// Whether there is any secret to look for.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// The longest form, in bytes: what a [`Scanner`] may hold back at most.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// How many forms are searched.
    pub fn len(&self) -> usize {
        self.forms.len()
    }

    /// Whether `bytes` carries a form of a secret.
    pub fn found_in(&self, bytes: &[u8]) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(bytes))
    }

    /// The length of the longest end of `bytes` that begins some form (in any letter case):
    /// what must wait for the next bytes before it can be delivered.
    fn pending_tail(&self, bytes: &[u8]) -> usize {
        let mut best = 0;
        for form in &self.forms {
            let most = (form.len() - 1).min(bytes.len());
            for k in (best + 1..=most).rev() {
                if bytes[bytes.len() - k..].eq_ignore_ascii_case(&form[..k]) {
                    best = k;
                    break;
                }
            }
        }
        best
    }
}

/// A body on its way to the page, scanned as it streams.
#[derive(Debug, Default)]
pub struct Scanner {
    held: Vec<u8>,
}

impl Scanner {
    /// A scanner for one body.
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Takes the next bytes of the body and returns those that may be delivered now, or the
    /// leak: the body must then be cut off, and nothing more of it delivered.
    pub fn push(&mut self, secrets: &Secrets, chunk: &[u8]) -> Result<Vec<u8>, Leak> {
        if secrets.is_empty() {
            return Ok(chunk.to_vec());
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(chunk);
        if secrets.found_in(&buf) {
            return Err(Leak);
        }
        let keep = secrets.pending_tail(&buf);
        self.held = buf.split_off(buf.len() - keep);
        Ok(buf)
    }

    /// The end of the body: what was held back (no secret is in it, or `push` would have said).
    pub fn finish(self) -> Vec<u8> {
        self.held
    }
}

/// The forms of one injected value (not lowercased, not deduplicated).
pub fn forms_of(value: &str) -> Vec<Vec<u8>> {
    let mut bases: Vec<String> = vec![value.to_string()];
    if let Some((scheme, credential)) = value.split_once(' ') {
        let credential = credential.trim();
        let is_scheme = !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if is_scheme && !credential.is_empty() {
            bases.push(credential.to_string());
            if scheme.eq_ignore_ascii_case("basic") {
                if let Some(decoded) = STANDARD
                    .decode(credential)
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok())
                {
                    if let Some((_, password)) = decoded.split_once(':') {
                        bases.push(password.to_string());
                    }
                    bases.push(decoded);
                }
            }
        }
    }
    let mut forms = Vec::new();
    for b in &bases {
        if b.len() < MIN_SECRET_LEN {
            continue;
        }
        let once = percent(b, |c| c.is_ascii_alphanumeric() || b"-._~".contains(&c));
        forms.push(b.as_bytes().to_vec());
        forms.push(percent(b, |c| c.is_ascii_alphanumeric()).into_bytes());
        forms.push(
            percent(b, |c| {
                c.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&c)
            })
            .into_bytes(),
        );
        forms.push(
            percent(&once, |c| c.is_ascii_alphanumeric() || b"-._~".contains(&c)).into_bytes(),
        );
        forms.push(form_encoded(b).into_bytes());
        forms.push(once.into_bytes());
        let json = serde_json::to_string(b).unwrap_or_default();
        let json = json[1..json.len() - 1].to_string();
        forms.push(json.replace('/', "\\/").into_bytes());
        forms.push(ascii_json(&json).into_bytes());
        forms.push(json.into_bytes());
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(b).into_bytes());
        }
        // Inside a longer encoded string the secret starts at one of three offsets; the
        // characters that encode only its own bytes are the same whatever surrounds it.
        for offset in 0..3 {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(b.as_bytes());
            let full = STANDARD_NO_PAD.encode(&bytes);
            let start = (offset * 4).div_ceil(3);
            let end = (offset + b.len()) * 4 / 3;
            if end > start && end - start >= MIN_SECRET_LEN {
                let stable = full[start..end].to_string();
                forms.push(stable.replace('+', "-").replace('/', "_").into_bytes());
                forms.push(stable.into_bytes());
            }
        }
    }
    forms.retain(|f| f.len() >= MIN_SECRET_LEN);
    forms
}

fn percent(s: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded`, as the URL standard serialises it.
fn form_encoded(s: &str) -> String {
    percent(s, |c| c.is_ascii_alphanumeric() || b"*-._ ".contains(&c)).replace(' ', "+")
}

/// A JSON string's inside with every non-ASCII character as `\uXXXX` (Python's default).
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
