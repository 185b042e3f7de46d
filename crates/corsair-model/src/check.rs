//! The CORS check on a response's `Access-Control-Allow-Origin` and
//! `Access-Control-Allow-Credentials` (<https://fetch.spec.whatwg.org/#cors-check>), in the order
//! and with the diagnosis each browser uses.

use crate::browser::Browser;
use crate::failure::FailureKind;
use crate::origin::Origin;
use crate::response::ResponseHead;

/// A failed check: the kind, the offending value, and how many ACAO lines there were.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckError {
    /// What failed.
    pub kind: FailureKind,
    /// The value that failed (the ACAO or ACAC value).
    pub hint: Option<String>,
    /// Number of `Access-Control-Allow-Origin` header lines.
    pub allow_origin_lines: usize,
}

/// Runs the CORS check for a response to a request from `origin`, with credentials or not.
///
/// Chromium's order (`network::cors::CheckAccess`): a `*` with credentials; a missing header; a
/// value different from the serialised origin, reported as "multiple" when it contains a space or
/// comma (several header lines are joined with ", "), as "mismatch" for `null`, as "invalid" when
/// it is not a URL, else "mismatch"; then, with credentials, `Access-Control-Allow-Credentials`
/// must be exactly `true`. Firefox 153 compares the joined lines like any other value ("does not
/// match 'a, b'", observed by the Firefox differential); WebKit looks for a comma.
pub fn cors_check(
    resp: &ResponseHead,
    origin: &Origin,
    credentials: bool,
    browser: Browser,
) -> Result<(), CheckError> {
    let acao = resp.get("access-control-allow-origin");
    let lines = acao.as_ref().map_or(0, |j| j.lines);
    let fail = |kind, hint: Option<String>| {
        Err(CheckError {
            kind,
            hint,
            allow_origin_lines: lines,
        })
    };
    let Some(acao) = acao else {
        return fail(FailureKind::MissingAllowOriginHeader, None);
    };
    let value = acao.value;
    if value == "*" {
        if credentials {
            return fail(FailureKind::WildcardOriginNotAllowed, Some(value));
        }
        return Ok(());
    }
    if value != origin.to_string() {
        let kind = match browser {
            Browser::Chromium if value.contains([' ', ',']) => {
                FailureKind::MultipleAllowOriginValues
            }
            Browser::Safari if value.contains(',') => FailureKind::MultipleAllowOriginValues,
            Browser::Chromium if value != "null" && url::Url::parse(&value).is_err() => {
                FailureKind::InvalidAllowOriginValue
            }
            _ => FailureKind::AllowOriginMismatch,
        };
        return fail(kind, Some(value));
    }
    if credentials {
        let acac = resp.get("access-control-allow-credentials");
        match acac {
            Some(j) if j.value == "true" => {}
            other => {
                return fail(
                    FailureKind::InvalidAllowCredentials,
                    Some(other.map(|j| j.value).unwrap_or_default()),
                )
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureKind::*;

    fn check(
        headers: &[(&str, &str)],
        credentials: bool,
        browser: Browser,
    ) -> Result<(), FailureKind> {
        let r = ResponseHead::new(
            200,
            headers.iter().map(|(n, v)| (n.to_string(), v.to_string())),
        );
        let o = Origin::parse_lenient("https://app.example").unwrap();
        cors_check(&r, &o, credentials, browser).map_err(|e| e.kind)
    }

    const ACAO: &str = "Access-Control-Allow-Origin";
    const ACAC: &str = "Access-Control-Allow-Credentials";

    #[test]
    fn chromium_order_and_kinds() {
        use Browser::Chromium as C;
        assert_eq!(check(&[], false, C), Err(MissingAllowOriginHeader));
        assert_eq!(check(&[(ACAO, "*")], false, C), Ok(()));
        assert_eq!(
            check(&[(ACAO, "*")], true, C),
            Err(WildcardOriginNotAllowed)
        );
        assert_eq!(
            check(&[(ACAO, "*"), (ACAC, "true")], true, C),
            Err(WildcardOriginNotAllowed)
        );
        assert_eq!(check(&[(ACAO, "https://app.example")], false, C), Ok(()));
        assert_eq!(
            check(&[(ACAO, "https://app.example/")], false, C),
            Err(AllowOriginMismatch)
        );
        assert_eq!(
            check(&[(ACAO, "https://APP.example")], false, C),
            Err(AllowOriginMismatch)
        );
        assert_eq!(check(&[(ACAO, "null")], false, C), Err(AllowOriginMismatch));
        assert_eq!(
            check(&[(ACAO, "app.example")], false, C),
            Err(InvalidAllowOriginValue)
        );
        assert_eq!(check(&[(ACAO, "")], false, C), Err(InvalidAllowOriginValue));
        assert_eq!(
            check(&[(ACAO, "https://a, https://b")], false, C),
            Err(MultipleAllowOriginValues)
        );
        assert_eq!(
            check(
                &[(ACAO, "https://app.example"), (ACAO, "https://app.example")],
                false,
                C
            ),
            Err(MultipleAllowOriginValues)
        );
        assert_eq!(
            check(&[(ACAO, "https://app.example")], true, C),
            Err(InvalidAllowCredentials)
        );
        assert_eq!(
            check(&[(ACAO, "https://app.example"), (ACAC, "True")], true, C),
            Err(InvalidAllowCredentials)
        );
        assert_eq!(
            check(&[(ACAO, "https://app.example"), (ACAC, "true")], true, C),
            Ok(())
        );
        assert_eq!(
            check(&[(ACAO, " https://app.example "), (ACAC, "true ")], true, C),
            Ok(())
        );
    }

    #[test]
    fn null_matches_an_opaque_origin() {
        let r = ResponseHead::new(200, [(ACAO, "null")]);
        assert!(cors_check(&r, &Origin::Opaque, false, Browser::Chromium).is_ok());
    }

    /// Observed in Firefox 153 by the Firefox differential: two header lines are joined and
    /// compared like one value, "does not match 'a, b'", not reported as multiple.
    #[test]
    fn firefox_compares_joined_lines() {
        assert_eq!(
            check(&[(ACAO, "*"), (ACAO, "*")], false, Browser::Firefox),
            Err(AllowOriginMismatch)
        );
        assert_eq!(
            check(&[(ACAO, "https://a, https://b")], false, Browser::Firefox),
            Err(AllowOriginMismatch)
        );
        assert_eq!(
            check(&[(ACAO, "app.example")], false, Browser::Firefox),
            Err(AllowOriginMismatch)
        );
    }
}
