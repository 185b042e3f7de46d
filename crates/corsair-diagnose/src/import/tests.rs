//! Unit tests of import.

use super::*;

/// Chromium 156's "Copy as cURL (bash)" of a credentialed PUT from https://app.example.com.
const CHROMIUM_BASH: &str = r#"curl 'https://api.example.com/items/7' \
  -X 'PUT' \
  -H 'accept: */*' \
  -H 'accept-language: en-US,en;q=0.9' \
  -H 'authorization: Bearer x' \
  -H 'content-type: application/json' \
  -b 'session=abc' \
  -H 'origin: https://app.example.com' \
  -H 'priority: u=1, i' \
  -H 'referer: https://app.example.com/' \
  -H 'sec-ch-ua: "Chromium";v="156"' \
  -H 'sec-fetch-mode: cors' \
  -H 'user-agent: Mozilla/5.0' \
  --data-raw $'{"name":"it\'s"}'"#;

/// The same request as "Copy as cURL (cmd)".
const CHROMIUM_CMD: &str = r#"curl ^"https://api.example.com/items/7^" ^
  -X ^"PUT^" ^
  -H ^"accept: */*^" ^
  -H ^"authorization: Bearer x^" ^
  -H ^"content-type: application/json^" ^
  -b ^"session=abc^" ^
  -H ^"origin: https://app.example.com^" ^
  -H ^"sec-fetch-mode: cors^" ^
  --data-raw ^"^{^\^"name^\^":^\^"it's^\^"^}^""#;

#[test]
fn chromium_curl_bash_and_cmd_give_the_same_request() {
    for text in [CHROMIUM_BASH, CHROMIUM_CMD] {
        let r = from_curl(text).unwrap();
        assert_eq!(r.url, "https://api.example.com/items/7");
        assert_eq!(r.method, "PUT");
        assert_eq!(r.body.as_deref(), Some(r#"{"name":"it's"}"#), "{text}");
        assert!(r.credentials, "cookies mean credentials: include");
        assert_eq!(r.origin.as_deref(), Some("https://app.example.com"));
        assert_eq!(r.origin_from, Some("Origin"));
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"authorization") && names.contains(&"content-type"));
        assert!(!names
            .iter()
            .any(|n| n.starts_with("sec-") || *n == "origin"));
        let dropped: Vec<&str> = r.dropped.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            dropped.contains(&"Cookie") && dropped.contains(&"sec-fetch-mode"),
            "{dropped:?}"
        );
    }
    let bash = from_curl(CHROMIUM_BASH).unwrap();
    assert!(bash.dropped.iter().any(|(n, _)| n == "priority"));
    assert!(bash.dropped.iter().any(|(n, _)| n == "user-agent"));
}

#[test]
fn the_origin_comes_from_the_referer_when_there_is_no_origin_header() {
    let r = from_curl(
        "curl 'http://localhost:8080/api' -H 'Referer: \
        http://localhost:5173/app/page?x=1' -H 'Cache-Control: no-cache' -H 'Pragma: no-cache'",
    )
    .unwrap();
    assert_eq!(r.origin.as_deref(), Some("http://localhost:5173"));
    assert_eq!(r.origin_from, Some("Referer"));
    assert_eq!((r.method.as_str(), r.credentials), ("GET", false));
    assert!(
        r.headers.is_empty(),
        "DevTools' Disable cache headers are the browser's"
    );
    let r = from_curl("curl https://api.example.com/x --data-raw a=1").unwrap();
    assert_eq!((r.method.as_str(), r.origin.as_deref()), ("POST", None));
    let r = from_curl("curl https://api.example.com/x -d a=1 -d b=2").unwrap();
    assert_eq!(r.body.as_deref(), Some("a=1&b=2"));
    assert_eq!(
        from_curl("curl -I https://a.example/").unwrap().method,
        "HEAD"
    );
}

#[test]
fn bad_copies_are_errors_that_say_what_to_paste() {
    for (text, says) in [
        ("wget https://a.example/", "not a curl command"),
        ("curl 'https://a.example/", "quote is not closed"),
        ("curl https://a.example/ -H", "has no value"),
        (
            "curl https://a.example/ --proxy http://p:1",
            "not one DevTools writes",
        ),
        (
            "curl https://a.example/ -d @body.json",
            "reads the body from a file",
        ),
        ("curl -X PUT", "has no URL"),
        ("curl ''", "has no URL"),
        ("curl https://a.example/ -X ''", "empty method"),
        ("curl https://a.example/ -H 'nocolon'", "has no name"),
    ] {
        let e = from_curl(text).unwrap_err();
        assert!(e.message.contains(says), "{text}: {e}");
        assert!(!e.fix.is_empty());
    }
}

/// Chromium 156's "Copy as fetch".
const CHROMIUM_FETCH: &str = r#"fetch("https://api.example.com/items/7", {
  "headers": {
"accept": "*/*",
"content-type": "application/json",
"sec-ch-ua": "\"Chromium\";v=\"156\"",
"x-request-id": "42"
  },
  "referrer": "https://app.example.com/orders",
  "referrerPolicy": "strict-origin-when-cross-origin",
  "body": "{\"name\":\"x\"}",
  "method": "PATCH",
  "mode": "cors",
  "credentials": "include"
});"#;

/// Firefox's "Copy as Fetch": `await`, trailing commas.
const FIREFOX_FETCH: &str = r#"await fetch("https://api.example.com/items", {
"credentials": "omit",
"headers": {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0",
    "Accept": "*/*",
    "Sec-Fetch-Mode": "cors",
},
"referrer": "http://localhost:3000/",
"method": "GET",
"mode": "cors"
});"#;

#[test]
fn fetch_copies_from_chromium_and_firefox() {
    let r = from_fetch(CHROMIUM_FETCH).unwrap();
    assert_eq!(
        (r.url.as_str(), r.method.as_str(), r.body.as_deref()),
        (
            "https://api.example.com/items/7",
            "PATCH",
            Some(r#"{"name":"x"}"#)
        )
    );
    assert!(r.credentials);
    assert_eq!(
        (r.origin.as_deref(), r.origin_from),
        (Some("https://app.example.com"), Some("Referer"))
    );
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["accept", "content-type", "x-request-id"]);
    assert_eq!(r.dropped.len(), 1);

    let r = from_fetch(FIREFOX_FETCH).unwrap();
    assert_eq!(
        (r.method.as_str(), r.credentials, r.body),
        ("GET", false, None)
    );
    assert_eq!(r.origin.as_deref(), Some("http://localhost:3000"));
    assert_eq!(r.headers, [("Accept".to_string(), "*/*".to_string())]);

    let r = from_fetch("fetch('https://a.example/x')").unwrap();
    assert_eq!(
        (r.url.as_str(), r.method.as_str()),
        ("https://a.example/x", "GET")
    );
    for (text, says) in [
        ("curl https://a.example/", "not a fetch call"),
        ("fetch(url, {})", "not a string"),
        (
            "fetch(\"https://a.example/\", {\"method\": \"PUT\"",
            "not closed",
        ),
        (
            "fetch(\"https://a.example/\", {method: \"PUT\"})",
            "not JSON",
        ),
        (
            "fetch(\"https://a.example/\", {\"credentials\": \"all\"})",
            "not a credentials mode",
        ),
        ("fetch(`https://${host}/`)", "not a string"),
        ("fetch(\"\")", "empty URL"),
    ] {
        let e = from_fetch(text).unwrap_err();
        assert!(e.message.contains(says), "{text}: {e}");
    }
}

/// Issue 27: a DevTools row of the preflight, copied as cURL, is read as the request it
/// announces, not as a fetch with method OPTIONS.
#[test]
fn regression_a_copied_preflight_is_the_request_it_announces() {
    let i = from_curl(
        "curl 'https://api.example/items' -X 'OPTIONS' -H 'accept: */*' \
        -H 'access-control-request-headers: content-type,x-token' \
        -H 'access-control-request-method: PUT' -H 'origin: https://app.example'",
    )
    .unwrap();
    assert_eq!(i.method, "PUT");
    let names: Vec<&str> = i.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["accept", "content-type", "x-token"]);
    assert_eq!(i.origin.as_deref(), Some("https://app.example"));
    assert!(i.dropped.iter().any(|(n, _)| n == "OPTIONS"));
    // A real OPTIONS request (no Access-Control-Request-Method) stays one.
    let i = from_curl("curl 'https://api.example/items' -X OPTIONS -H 'origin: https://a.example'")
        .unwrap();
    assert_eq!(i.method, "OPTIONS");
}
