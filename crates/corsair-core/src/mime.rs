//! The part of MIME type parsing that CORS needs: the essence of a `Content-Type` value
//! (<https://mimesniff.spec.whatwg.org/#parse-a-mime-type>).

use crate::method::is_token;

const HTTP_WS: &[char] = &['\t', '\n', '\r', ' '];

/// The lowercase essence (`type/subtype`) of a MIME type as the standard parses it, or `None`
/// when parsing fails. Parameters never make parsing fail, so they are skipped.
pub fn essence(value: &str) -> Option<String> {
    let v = value.trim_matches(HTTP_WS);
    let (ty, rest) = v.split_once('/')?;
    let subtype = rest.split(';').next().unwrap_or("").trim_end_matches(HTTP_WS);
    if !is_token(ty) || !is_token(subtype) {
        return None;
    }
    Some(format!("{}/{}", ty.to_ascii_lowercase(), subtype.to_ascii_lowercase()))
}

/// The essence as Chromium extracts it (`ExtractMIMETypeFromMediaType`): the text before the
/// first `;`, split on `/` into exactly two parts, each trimmed of whitespace and then a token.
/// Unlike the standard it accepts `text / plain`.
pub fn essence_chromium(value: &str) -> Option<String> {
    let before = value.split(';').next().unwrap_or("");
    let mut parts = before.split('/');
    let ty = parts.next()?.trim();
    let subtype = parts.next()?.trim();
    if parts.next().is_some() || !is_token(ty) || !is_token(subtype) {
        return None;
    }
    Some(format!("{}/{}", ty.to_ascii_lowercase(), subtype.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_essence() {
        assert_eq!(essence("text/plain").as_deref(), Some("text/plain"));
        assert_eq!(essence(" Text/Plain ; charset=utf-8").as_deref(), Some("text/plain"));
        assert_eq!(essence("text/plain;").as_deref(), Some("text/plain"));
        assert_eq!(essence("text / plain"), None);
        assert_eq!(essence("text/"), None);
        assert_eq!(essence("/plain"), None);
        assert_eq!(essence("textplain"), None);
        assert_eq!(essence("text/plain/x"), None);
    }

    #[test]
    fn chromium_essence_trims_around_the_slash() {
        assert_eq!(essence_chromium("text / plain").as_deref(), Some("text/plain"));
        assert_eq!(essence_chromium("text/plain/x"), None);
        assert_eq!(essence_chromium("multipart/form-data; boundary=x").as_deref(), Some("multipart/form-data"));
    }
}
