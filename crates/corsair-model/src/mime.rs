//! The part of MIME type parsing that CORS needs: the essence of a `Content-Type` value
//! (<https://mimesniff.spec.whatwg.org/#parse-a-mime-type>).

use crate::method::is_token;

const HTTP_WS: &[char] = &['\t', '\n', '\r', ' '];

/// The lowercase essence (`type/subtype`) of a MIME type as the standard parses it, or `None`
/// when parsing fails. Parameters never make parsing fail, so they are skipped.
pub fn essence(value: &str) -> Option<String> {
    let v = value.trim_matches(HTTP_WS);
    let (ty, rest) = v.split_once('/')?;
    let subtype = rest
        .split(';')
        .next()
        .unwrap_or("")
        .trim_end_matches(HTTP_WS);
    if !is_token(ty) || !is_token(subtype) {
        return None;
    }
    Some(format!(
        "{}/{}",
        ty.to_ascii_lowercase(),
        subtype.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_essence() {
        assert_eq!(essence("text/plain").as_deref(), Some("text/plain"));
        assert_eq!(
            essence(" Text/Plain ; charset=utf-8").as_deref(),
            Some("text/plain")
        );
        assert_eq!(essence("text/plain;").as_deref(), Some("text/plain"));
        assert_eq!(essence("text / plain"), None);
        assert_eq!(essence("text/"), None);
        assert_eq!(essence("/plain"), None);
        assert_eq!(essence("textplain"), None);
        assert_eq!(essence("text/plain/x"), None);
    }
}
