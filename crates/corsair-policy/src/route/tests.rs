//! Route choice against every encoding trick found in the wild: each path is either routed
//! where every server reads it, or refused.

use super::*;
use crate::policy::{keys::Others, PolicyFile};

fn load(
    text: &str,
    env: Option<&str>,
) -> Result<(PolicyFile, Vec<crate::policy::Diagnostic>), Vec<crate::policy::Diagnostic>> {
    crate::policy::load(text, env, &Others::default())
}

const FILE: &str = r#"
[policy]
origins = ["https://app.acme.com"]
[[routes]]
path = "/admin"
policy = { origins = ["https://admin.acme.com"] }
[[routes]]
path = "/public"
policy = { origins = ["*"], credentials = false }
[[routes]]
path = "/feed.xml"
policy = { origins = ["*"], credentials = false }
[[routes]]
path = "/api/v1.2"
policy = { origins = ["https://v12.acme.com"] }
"#;

fn file() -> PolicyFile {
    load(FILE, None).expect("the test file loads").0
}

/// The prefix of the chosen route, `""` for the default, or the refusal.
fn route<'a>(f: &'a PolicyFile, path: &str) -> Result<&'a str, Ambiguous> {
    choose(&f.routes, path).map(|r| r.map_or("", |i| f.routes[i].prefix.as_str()))
}

#[test]
fn plain_paths_take_their_route() {
    let f = file();
    for (path, prefix) in [
        ("/", ""),
        ("/items", ""),
        ("/admin", "/admin"),
        ("/admin/", "/admin"),
        ("/admin/users", "/admin"),
        ("/adminx", ""),
        ("/public/x", "/public"),
        ("/static/app.js", ""),
        ("/api/Users", ""),
        ("/feed.xml", "/feed.xml"),
        ("/api/v1.2/items", "/api/v1.2"),
        ("/api/v1.2", "/api/v1.2"),
        ("/admin/users.json", "/admin"),
        ("/admin/%C3%A9t%C3%A9", "/admin"),
        ("/search%20results", ""),
        ("/admin/a%2Fb", "/admin"),
    ] {
        assert_eq!(route(&f, path), Ok(prefix), "{path}");
    }
}

#[test]
fn every_trick_that_moves_a_path_to_another_route_is_refused() {
    let f = file();
    use Reading::*;
    for (path, why) in [
        // Encoded unreserved characters: nginx reads /admin/users.
        ("/%61dmin/users", Ambiguous::Reading(AsSent)),
        ("/%61%64%6d%69%6e", Ambiguous::Reading(AsSent)),
        ("/%41dmin/users", Ambiguous::Reading(NormalizedIgnoringCase)),
        ("/publi%63/x", Ambiguous::Reading(AsSent)),
        // Repeated slashes: merged by nginx and Caddy, kept by Express.
        ("//admin/users", Ambiguous::Reading(AsSent)),
    ] {
        assert_eq!(route(&f, path), Err(why), "{path}");
    }
    for (path, why) in [
        // An encoded separator: one segment as sent, two once decoded.
        ("/x%2F..%2Fadmin/users", DecodedResolved),
        ("/public%2F..%2Fadmin", Decoded),
        ("/%2Fadmin/users", DecodedResolved),
        ("/admin%2F..%2Fpublic/x", Decoded),
        ("/x%5C..%5Cadmin", DecodedResolved),
        // Starlette serves /admin/../items under its /admin mount: ASGI decodes, resolves
        // nothing (found by the real-server test in front of Starlette).
        ("/admin%2F..%2Fitems", Decoded),
        // Double encoding: a decoding proxy before a decoding server.
        ("/%2561dmin/users", DecodedTwice),
        ("/x%252F..%252Fadmin", DecodedTwice),
        // Letter case: Express and IIS route /ADMIN as /admin.
        ("/ADMIN/users", AsSentIgnoringCase),
        ("/Admin", AsSentIgnoringCase),
        ("/PUBLIC/x", AsSentIgnoringCase),
        // ;parameters: Tomcat serves /admin;x/users as /admin/users.
        ("/admin;x/users", WithoutParameters),
        ("/public;x=1/y", WithoutParameters),
        ("/admin;jsessionid=1", WithoutParameters),
        // An extension: Rails serves /admin.json as /admin.
        ("/admin.json", WithoutExtension),
        ("/public.html", WithoutExtension),
        // Several at once.
        ("/%2541DMIN;x/users", Everything),
    ] {
        assert_eq!(route(&f, path), Err(Ambiguous::Reading(why)), "{path}");
    }
    // Bytes servers cut at or mangle: refused whatever the route.
    for (path, why) in [
        ("/admin%00/users", Ambiguous::ControlByte),
        ("/x%0a", Ambiguous::ControlByte),
        ("/x%7F", Ambiguous::ControlByte),
        ("/%C0%AFadmin", Ambiguous::NotUtf8),
        ("/x%C0%AF..%C0%AFadmin", Ambiguous::NotUtf8),
        ("/x%E0%80%AF", Ambiguous::NotUtf8),
        ("/x%FF", Ambiguous::NotUtf8),
        ("/x%2500", Ambiguous::ControlByte),
    ] {
        assert_eq!(route(&f, path), Err(why), "{path}");
    }
}

#[test]
fn merged_slashes_inside_a_route_keep_it() {
    let f = file();
    // Every reading keeps these under the same route.
    assert_eq!(route(&f, "/admin//users"), Ok("/admin"));
    assert_eq!(route(&f, "/items//x"), Ok(""));
}

#[test]
fn without_routes_nothing_is_refused() {
    let f = load("[policy]\norigins = [\"https://a.example\"]\n", None)
        .unwrap()
        .0;
    for path in ["/%61dmin", "/x%00", "/%C0%AF", "//a", "/A;b.json"] {
        assert_eq!(choose(&f.routes, path), Ok(None), "{path}");
    }
}

#[test]
fn the_chosen_route_is_the_one_every_reading_agrees_on() {
    // A property over generated paths: when a path is routed, each reading (as sent, decoded,
    // twice decoded, without parameters, ignoring case) falls under that route.
    let f = file();
    let pieces = [
        "admin", "ADMIN", "%61dmin", "public", "x", "%2F", "%2f", "%252F", ";p", ".json", "..",
        "%2e%2e", "", "users", "Users", "%C3%A9", "v1.2", "api",
    ];
    let mut checked = 0;
    for a in pieces {
        for b in pieces {
            for c in ["", "users", "x.json"] {
                let path = format!("/{a}/{b}/{c}");
                if let Ok(chosen) = choose(&f.routes, &path) {
                    for &(reading, t) in READINGS {
                        let read = t.apply(&path).unwrap();
                        assert_eq!(
                            lookup(&f.routes, &read, t.fold),
                            chosen,
                            "{path} read {reading:?} as {read}"
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn the_transforms_do_what_they_say() {
    assert_eq!(decode_unreserved("/%61%2F%7e%20"), "/a%2F~%20");
    assert_eq!(decode_all("/a%2Fb%20c"), Ok("/a/b c".to_string()));
    assert_eq!(remove_dot_segments("/a/b/../c/./d"), "/a/c/d");
    assert_eq!(remove_dot_segments("/../a"), "/a");
    assert_eq!(remove_dot_segments("/a/.."), "/");
    assert_eq!(drop_extension("/a/b.json".into()), "/a/b");
    assert_eq!(drop_extension("/a/.hidden".into()), "/a/.hidden");
    assert_eq!(drop_extension("/a.b/c".into()), "/a.b/c");
}

#[test]
fn route_prefixes_must_be_their_own_normal_form() {
    for (prefix, says) in [
        ("admin", "does not start with '/'"),
        ("/%61dmin", "'%'"),
        ("/admin;x", "';'"),
        ("/admin?x", "'?'"),
        ("/a//b", "empty segment"),
        ("/a/../b", "dot segment"),
        ("/a\\b", "'\\\\'"),
    ] {
        let text = format!(
            "[policy]\norigins = [\"https://a.example\"]\n[[routes]]\npath = \"{}\"\npolicy = {{ \
                origins = [\"https://b.example\"] }}\n",
            prefix.replace('\\', "\\\\")
        );
        let diags = load(&text, None).unwrap_err();
        assert!(
            diags
                .iter()
                .any(|d| d.key == "routes[0].path" && d.message.contains(says)),
            "{prefix}: {diags:?}"
        );
    }
    let text =
        "[policy]\norigins = [\"https://a.example\"]\n[[routes]]\npath = \"/Admin\"\npolicy \
        = {}\n[[routes]]\npath = \"/admin/\"\npolicy = {}\n";
    let diags = load(text, None).unwrap_err();
    assert!(
        diags
            .iter()
            .any(|d| d.key == "routes[1].path" && d.message.contains("the same route as routes[0]")),
        "{diags:?}"
    );
}

#[test]
fn a_non_ascii_character_after_an_escape_is_copied_whole() {
    // Found by fuzz/route: a character of two bytes right after a decoded escape.
    let f = file();
    let path = "KKKKKKK..%252|.%/a\u{392}";
    let _ = choose(&f.routes, path);
    let _ = choose(&f.routes, &path.replace('a', "%61"));
}
