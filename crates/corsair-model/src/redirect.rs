//! Following a redirect as fetch does (<https://fetch.spec.whatwg.org/#http-redirect-fetch>):
//! the hop limit, the method change, credentials in `Location`, and the tainted origin.

use crate::origin::Origin;
use url::Url;

/// Fetch gives up after this many redirects (`net::ERR_TOO_MANY_REDIRECTS` in Chromium).
pub const MAX_REDIRECTS: u32 = 20;

/// Why a redirect cannot be followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirectError {
    /// More than [`MAX_REDIRECTS`] hops.
    TooMany,
    /// `Location` is not a URL.
    BadLocation(String),
    /// `Location` is not http(s).
    NotHttp(String),
    /// `Location` has userinfo and the request is cross-origin (or tainted).
    Credentials(String),
}

/// The request's method after a redirect with `status`, and whether its body is dropped:
/// 301/302 turn POST into GET, 303 turns everything but HEAD into GET.
pub fn method_after(status: u16, method: &str) -> (String, bool) {
    if (matches!(status, 301 | 302) && method == "POST")
        || (status == 303 && method != "HEAD" && method != "GET")
    {
        ("GET".to_string(), true)
    } else {
        (method.to_string(), false)
    }
}

/// Resolves `location` against the current URL and checks it: scheme, userinfo (an error when
/// the request is in CORS mode and either tainted or going cross-origin).
pub fn resolve(
    current: &Url,
    location: &str,
    request_origin: &Origin,
    tainted: bool,
    cors: bool,
) -> Result<Url, RedirectError> {
    let next = current
        .join(location)
        .map_err(|_| RedirectError::BadLocation(location.to_string()))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(RedirectError::NotHttp(next.to_string()));
    }
    let has_credentials = !next.username().is_empty() || next.password().is_some();
    if has_credentials && (tainted || cors || !request_origin.same_origin(&Origin::of_url(&next))) {
        return Err(RedirectError::Credentials(next.to_string()));
    }
    Ok(next)
}

/// Whether following a redirect from `current` to `next` taints the request's origin (it becomes
/// `null`): the hop changes origin while the request is already cross-origin.
pub fn taints(request_origin: &Origin, current: &Url, next: &Url) -> bool {
    let cur = Origin::of_url(current);
    !Origin::of_url(next).same_origin(&cur) && !request_origin.same_origin(&cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_changes() {
        assert_eq!(method_after(302, "POST"), ("GET".into(), true));
        assert_eq!(method_after(301, "PUT"), ("PUT".into(), false));
        assert_eq!(method_after(307, "POST"), ("POST".into(), false));
        assert_eq!(method_after(303, "PUT"), ("GET".into(), true));
        assert_eq!(method_after(303, "HEAD"), ("HEAD".into(), false));
    }

    #[test]
    fn taint_rules() {
        let page = Origin::parse_lenient("http://a.test").unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(!taints(&page, &u("http://b.test/1"), &u("http://b.test/2")));
        assert!(taints(&page, &u("http://b.test/1"), &u("http://c.test/2")));
        assert!(taints(&page, &u("http://b.test/1"), &u("http://a.test/2")));
        assert!(!taints(&page, &u("http://a.test/1"), &u("http://b.test/2")));
    }

    #[test]
    fn locations() {
        let page = Origin::parse_lenient("http://a.test").unwrap();
        let cur = Url::parse("http://b.test/x/y").unwrap();
        assert_eq!(
            resolve(&cur, "../z", &page, false, true).unwrap().as_str(),
            "http://b.test/z"
        );
        assert!(matches!(
            resolve(&cur, "ftp://c/", &page, false, true),
            Err(RedirectError::NotHttp(_))
        ));
        assert!(matches!(
            resolve(&cur, "http://u:p@c.test/", &page, false, true),
            Err(RedirectError::Credentials(_))
        ));
        assert!(matches!(
            resolve(&cur, "http://[::1", &page, false, true),
            Err(RedirectError::BadLocation(_))
        ));
    }
}
