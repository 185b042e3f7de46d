//! A response as the CORS checks see it: a status and raw header lines. No body.

use serde::Serialize;

/// The status and header lines of one HTTP response, in the order received. Names are compared
/// case-insensitively; values are raw bytes, because hostile servers send any bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// Header lines as (name, value). Values keep their bytes; see [`ResponseHead::get`].
    #[serde(serialize_with = "ser_headers")]
    pub headers: Vec<(String, Vec<u8>)>,
}

fn ser_headers<S: serde::Serializer>(h: &[(String, Vec<u8>)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(h.len()))?;
    for (n, v) in h {
        seq.serialize_element(&(n, String::from_utf8_lossy(v)))?;
    }
    seq.end()
}

/// How a header value is given back: lines joined as a browser joins them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    /// The value as Latin-1 text (each byte one char), trimmed of spaces and tabs, lines joined
    /// with `", "` (what Chromium's `GetNormalizedHeader` yields).
    pub value: String,
    /// How many header lines carried it.
    pub lines: usize,
}

impl ResponseHead {
    /// A response with a status and headers given as text.
    pub fn new<N: Into<String>, V: Into<Vec<u8>>>(
        status: u16,
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        ResponseHead {
            status,
            headers: headers
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }

    /// The header's value as a browser reads it, or `None` when no line has this name.
    pub fn get(&self, name: &str) -> Option<Joined> {
        let mut value = String::new();
        let mut lines = 0;
        for (n, v) in &self.headers {
            if n.eq_ignore_ascii_case(name) {
                if lines > 0 {
                    value.push_str(", ");
                }
                let trimmed = trim_ows(v);
                value.extend(trimmed.iter().map(|&b| b as char));
                lines += 1;
            }
        }
        (lines > 0).then_some(Joined { value, lines })
    }

    /// Whether the status is 2xx (<https://fetch.spec.whatwg.org/#ok-status>).
    pub fn is_ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the status is a redirect status that carries a `Location`
    /// (<https://fetch.spec.whatwg.org/#redirect-status>).
    pub fn redirect_location(&self) -> Option<String> {
        if matches!(self.status, 301 | 302 | 303 | 307 | 308) {
            self.get("location").map(|j| j.value)
        } else {
            None
        }
    }
}

fn trim_ows(v: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t');
    let start = v.iter().position(|b| !ws(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !ws(b)).map_or(start, |e| e + 1);
    &v[start..end]
}

/// Renders a value for a console message as Chromium does (`EncodeHint`): printable ASCII as is,
/// any other byte as `\uXXXX`.
pub fn encode_hint(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{:04X}", c as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_lines_and_trims() {
        let r = ResponseHead::new(
            200,
            [
                ("Access-Control-Allow-Origin", " a "),
                ("access-control-allow-origin", "b"),
            ],
        );
        let j = r.get("ACCESS-CONTROL-ALLOW-ORIGIN").unwrap();
        assert_eq!(j.value, "a, b");
        assert_eq!(j.lines, 2);
        assert!(r.get("vary").is_none());
    }

    #[test]
    fn bytes_become_latin1_and_hints_escape_them() {
        let r = ResponseHead::new(200, [("x", vec![b'a', 0xc3, 0xa9, 0x01])]);
        let v = r.get("x").unwrap().value;
        assert_eq!(encode_hint(&v), "a\\u00C3\\u00A9\\u0001");
    }

    #[test]
    fn redirects_need_a_location() {
        assert_eq!(
            ResponseHead::new(302, [("Location", "/x")])
                .redirect_location()
                .as_deref(),
            Some("/x")
        );
        assert_eq!(
            ResponseHead::new(302, Vec::<(&str, &str)>::new()).redirect_location(),
            None
        );
        assert_eq!(
            ResponseHead::new(304, [("Location", "/x")]).redirect_location(),
            None
        );
    }
}
