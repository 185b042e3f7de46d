//! The report as a value: evaluated offline (the browser model driven with canned responses,
//! nothing sent), then rendered as JSON and as text.

use super::*;
use clap::Parser;
use corsair_core::response::ResponseHead;

/// `corsair check` parsed from its command line, as a user types it.
fn args(extra: &[&str]) -> CheckArgs {
    let mut argv = vec![
        "corsair",
        "check",
        "https://api.example.com/items",
        "--origin",
        "https://app.example.com",
    ];
    argv.extend_from_slice(extra);
    match crate::cli::Cli::try_parse_from(argv).unwrap().command {
        crate::cli::Command::Check(a) => a,
        other => panic!("{other:?}"),
    }
}

fn head(status: u16, headers: &[(&str, &str)]) -> ResponseHead {
    ResponseHead::new(
        status,
        headers.iter().map(|(n, v)| (*n, v.as_bytes().to_vec())),
    )
}

/// The check `args` describes, answered by `responses` in turn.
fn evaluated(args: &CheckArgs, mut responses: Vec<ResponseHead>) -> Evaluated {
    let (spec, _) = request_spec(args).unwrap();
    let browser = args.browser.engines()[0];
    let mut fetch = Fetch::new(&spec, browser).unwrap();
    responses.reverse();
    while let Next::Send(_) = fetch.poll() {
        fetch.receive(responses.pop().expect("a response for each request"));
    }
    Evaluated::new(&spec, fetch.finish(), None, args.preflight_only, Vec::new())
}

fn text(e: &Evaluated, args: &CheckArgs) -> String {
    let mut w = String::new();
    e.report(args, None).text(&mut w);
    w
}

#[test]
fn an_allowed_request_is_allowed_in_both_renderings() {
    let a = args(&["--target-space", "public"]);
    let e = evaluated(
        &a,
        vec![head(
            200,
            &[("Access-Control-Allow-Origin", "https://app.example.com")],
        )],
    );
    let json = e.report(&a, None).json();
    assert_eq!(json["allowed"], true);
    assert_eq!(json["preflight"], false);
    assert_eq!(json["console"], Value::Null);
    assert_eq!(json["exchanges"].as_array().unwrap().len(), 1);
    assert!(json["exchanges"][0]["curl"]
        .as_str()
        .unwrap()
        .starts_with("curl -i"));
    let t = text(&e, &a);
    assert!(t.contains("ALLOWED"), "{t}");
    assert!(!t.contains("Console"), "{t}");
}

#[test]
fn a_refused_preflight_has_its_console_cause_fix_and_the_other_engines() {
    let a = args(&[
        "-X",
        "PUT",
        "-H",
        "Authorization: Bearer x",
        "--credentials",
    ]);
    let e = evaluated(
        &a,
        vec![head(
            204,
            &[
                ("Access-Control-Allow-Origin", "https://app.example.com"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Allow-Methods", "GET, POST"),
            ],
        )],
    );
    let json = e.report(&a, None).json();
    assert_eq!(json["allowed"], false);
    assert_eq!(json["preflight"], true);
    assert_eq!(json["kind"], "method-not-allowed");
    let console = json["console"].as_str().unwrap();
    assert!(
        console.contains("Method PUT is not allowed by Access-Control-Allow-Methods"),
        "{console}"
    );
    assert!(json["fix"]["policy"].as_str().unwrap().contains("PUT"));
    // The same responses replayed through Firefox and Safari.
    assert_eq!(json["other_browsers"]["firefox"]["allowed"], false);
    assert_eq!(json["other_browsers"]["safari"]["allowed"], false);
    let t = text(&e, &a);
    assert_eq!(json["diagnosis"]["kind"], "method-not-allowed");
    for part in [
        "BLOCKED",
        "Console (chromium)",
        "Cause",
        "(method-not-allowed)",
        "Fix",
        console,
    ] {
        assert!(t.contains(part), "{part}: {t}");
    }
}

#[test]
fn a_header_the_browser_sets_itself_is_a_warning_in_both_renderings() {
    let a = args(&["-H", "Cookie: a=1", "--target-space", "public"]);
    let e = evaluated(&a, vec![head(200, &[("Access-Control-Allow-Origin", "*")])]);
    let json = e.report(&a, None).json();
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].as_str().unwrap().contains("is not sent"),
        "{warnings:?}"
    );
    assert!(text(&e, &a).contains("warning"));
}

#[test]
fn server_text_is_shown_safe_for_a_terminal() {
    assert_eq!(report::shown("plain"), "plain");
    assert_eq!(report::shown("a\u{1b}[2Jb\u{9b}c"), "a\\u{1b}[2Jb\\u{9b}c");
    assert_eq!(report::shown("tab\tand\nline"), "tab\tand\nline");
}

/// A crash's 500 behind a CORS layer that works: the probes' answers make it the app's error
/// path, with the policy ruled out, in both renderings.
#[test]
fn a_crash_is_diagnosed_from_the_probes_answers() {
    let a = args(&["--target-space", "public"]);
    let crash = head(
        500,
        &[("Server", "uvicorn"), ("Content-Type", "text/plain")],
    );
    let e = evaluated(&a, vec![crash.clone()]);
    assert_eq!(
        e.diagnosis.as_ref().unwrap().kind,
        diagnosis::Kind::AppError
    );
    let e = e.answered(vec![
        Answer {
            kind: diagnosis::ProbeKind::Again,
            response: Ok(crash),
            body: b"Internal Server Error".to_vec(),
        },
        Answer {
            kind: diagnosis::ProbeKind::Support,
            response: Ok(head(
                200,
                &[("Access-Control-Allow-Origin", "https://app.example.com")],
            )),
            body: Vec::new(),
        },
    ]);
    let json = e.report(&a, None).json();
    assert_eq!(json["diagnosis"]["kind"], "app-error");
    assert_eq!(json["diagnosis"]["stack"], "starlette");
    assert_eq!(json["diagnosis"]["probes"].as_array().unwrap().len(), 2);
    let t = text(&e, &a);
    assert!(t.contains("the policy: the server does allow"), "{t}");
    assert!(t.contains("outside ServerErrorMiddleware"), "{t}");
}

/// From the WPT-derived set: a vertical tab or a form feed after `text/plain` is not HTTP
/// whitespace, so the value stays unsafe and Chromium preflights.
#[test]
fn a_header_value_keeps_a_vertical_tab_and_a_form_feed() {
    for (raw, kept) in [
        ("Content-Type: text/plain\u{b}", "text/plain\u{b}"),
        ("Content-Type:\u{c}text/plain", "\u{c}text/plain"),
        ("Content-Type: \ttext/plain \t", "text/plain"),
    ] {
        assert_eq!(super::parse_header(raw).unwrap().1, kept, "{raw:?}");
    }
}
