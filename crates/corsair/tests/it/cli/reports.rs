//! The reports `check` prints (text, from DevTools copies, --preflight-only, --browser all) and the completions and manual page.

use super::*;

#[test]
fn text_report_has_trace_verdict_console_cause_fix_and_curl() {
    let server = Server::start(2);
    let page = server.origin(0);
    let pre = Resp::new(204)
        .h("Access-Control-Allow-Origin", &page)
        .h("Access-Control-Allow-Methods", "GET, POST");
    server.route(
        server.ports[1],
        "/api",
        Route {
            preflight: pre,
            actual: Resp::new(200),
        },
    );
    let url = format!("{}/api", server.origin(1));
    let o = corsair(&[
        "check",
        &url,
        "--origin",
        &page,
        "-X",
        "PUT",
        "-H",
        "Authorization: Bearer x",
        "--stack",
        "nginx",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    for needle in [
        "> OPTIONS",
        "Access-Control-Request-Method: PUT",
        "Access-Control-Request-Headers: authorization",
        "< 204",
        "BLOCKED by CORS policy",
        "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response.",
        "Cause",
        "Access-Control-Allow-Methods: PUT",
        "add_header",
        "curl -i -X 'OPTIONS'",
    ] {
        assert!(t.contains(needle), "missing '{needle}' in:\n{t}");
    }
    assert!(
        !t.contains('\x1b'),
        "colour codes when stdout is not a terminal"
    );
    // The actual request is never sent when the preflight fails.
    let log = server.take_log();
    assert!(log.iter().all(|s| s.method == "OPTIONS"), "{log:?}");

    let o = corsair(&["check", &url, "--origin", &page, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["preflight"], false);
    assert_eq!(v["kind"], "missing-allow-origin-header");
    assert!(v["fix"]["headers"].to_string().contains(&page));
    assert_eq!(v["other_browsers"]["firefox"]["allowed"], false);
}

#[test]
fn allowed_request_exits_0() {
    let server = Server::start(2);
    let page = server.origin(0);
    server.route(
        server.ports[1],
        "/ok",
        Route {
            preflight: Resp::new(404),
            actual: Resp::new(200).h("Access-Control-Allow-Origin", "*"),
        },
    );
    let o = corsair(&[
        "check",
        &format!("{}/ok", server.origin(1)),
        "--origin",
        &page,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["allowed"], true);
    assert_eq!(v["console"], serde_json::Value::Null);
}

/// `check --from-curl` and `--from-fetch` send what the copied request's page sent: the same
/// preflight and request as the flags would, without the headers the browser set itself.
#[test]
fn a_request_copied_from_devtools_is_checked_as_the_page_sent_it() {
    let api = Server::start(1);
    let port = api.ports[0];
    let page = "https://app.example.com";
    api.route(
        port,
        "/items/7",
        Route {
            preflight: Resp::new(204)
                .h("Access-Control-Allow-Origin", page)
                .h("Access-Control-Allow-Credentials", "true")
                .h("Access-Control-Allow-Methods", "PUT")
                .h(
                    "Access-Control-Allow-Headers",
                    "content-type, authorization",
                ),
            actual: Resp::new(200)
                .h("Access-Control-Allow-Origin", page)
                .h("Access-Control-Allow-Credentials", "true"),
        },
    );
    let url = format!("{}/items/7", api.origin(0));
    let curl = format!(
        "curl '{url}' \\\n  -X 'PUT' \\\n  -H 'accept: */*' \\\n  -H 'authorization: Bearer \
            x' \\\n  -H 'content-type: application/json' \\\n  -b 'session=abc' \\\n  -H 'origin: \
            {page}' \\\n  -H 'sec-fetch-mode: cors' \\\n  -H 'user-agent: Mozilla/5.0' \\\n  \
            --data-raw '{{\"n\":1}}'"
    );
    let seen = |o: &Output| {
        assert_eq!(o.status.code(), Some(0), "{}", text(o));
        api.take_log()
            .into_iter()
            .map(|s| {
                let mut names: Vec<String> = s
                    .headers
                    .iter()
                    .map(|(n, _)| n.clone())
                    .filter(|n| !matches!(n.as_str(), "host" | "content-length" | "user-agent"))
                    .collect();
                names.sort();
                (s.method, names)
            })
            .collect::<Vec<_>>()
    };
    let by_flags = check_public(&[
        &url,
        "--origin",
        page,
        "-X",
        "PUT",
        "-H",
        "accept: */*",
        "-H",
        "authorization: Bearer x",
        "-H",
        "content-type: application/json",
        "--credentials",
        "-d",
        "{\"n\":1}",
        "--no-probes",
    ]);
    let expected = seen(&by_flags);
    assert_eq!(expected.len(), 2, "a preflight, then the PUT");

    let o = check_public(&["--from-curl", &curl, "--no-probes"]);
    assert_eq!(seen(&o), expected, "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains(
            "imported      from DevTools' \"Copy as cURL\"; the page origin from its Origin header"
        ),
        "{t}"
    );
    assert!(
        t.contains("dropped       sec-fetch-mode: a forbidden request header"),
        "{t}"
    );

    // The same from stdin, as JSON.
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args([
            "check",
            "--target-space",
            "public",
            "--from-curl",
            "-",
            "--format",
            "json",
            "--no-probes",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(curl.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(seen(&o), expected);
    let j = json(&o);
    assert_eq!(j["allowed"], true);
    assert_eq!(j["imported"]["from"], "cURL");
    assert_eq!(j["imported"]["origin_from"], "Origin");
    let dropped: Vec<&str> = j["imported"]["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        dropped,
        ["Cookie", "origin", "sec-fetch-mode", "user-agent"]
    );

    // Copy as fetch: the origin comes from the referrer.
    let fetch = format!(
        "fetch(\"{url}\", {{\n  \"headers\": \
            {{\n    \"accept\": \"*/*\",\n    \"authorization\": \"Bearer \
            x\",\n    \"content-type\": \"application/json\",\n    \"sec-ch-ua\": \"x\"\n  \
            }},\n  \"referrer\": \"{page}/orders\",\n  \"body\": \"{{\\\"n\\\":1}}\",\n  \"method\": \"PUT\",\n  \"mode\": \"cors\",\n  \"credentials\": \"include\"\n}});"
    );
    let o = check_public(&["--from-fetch", &fetch, "--no-probes"]);
    assert_eq!(seen(&o), expected, "{}", text(&o));
    assert!(text(&o).contains("the page origin from its Referer header"));

    // No Origin and no Referer: the origin must be given.
    let o = check_public(&["--from-curl", &format!("curl '{url}'")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("pass it with --origin"), "{}", text(&o));
    let o = check_public(&["--from-curl", &format!("curl '{url}'"), "--origin", page]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    api.take_log();
    // A copy that is not one, and flags that would contradict it.
    let o = check_public(&["--from-curl", "wget https://a.example/"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("not a curl command"), "{}", text(&o));
    let o = check_public(&["--from-curl", &curl, "-X", "GET"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("cannot be used with"), "{}", text(&o));
    let o = check_public(&["--from-curl", &curl, &url]);
    assert_eq!(o.status.code(), Some(2));
}

/// `corsair completions SHELL` and `corsair man` describe the real command line.
#[test]
fn completions_and_the_manual_page() {
    let bash = corsair(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(
        script.contains("--from-curl") && script.contains("completions"),
        "bash completion lists the options"
    );
    // bash itself accepts it and registers the completion.
    let dir = std::env::temp_dir().join(format!("corsair-completion-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("corsair.bash");
    std::fs::write(&file, &script).unwrap();
    let loaded = Command::new("bash")
        .args([
            "-c",
            &format!("source {} && complete -p corsair", file.display()),
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&loaded.stdout).contains("corsair"),
        "{}",
        text(&loaded)
    );
    for shell in ["zsh", "fish", "powershell"] {
        let o = corsair(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("from-curl"),
            "{shell}"
        );
    }
    let o = corsair(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    let man = corsair(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(
        page.starts_with(".ie") && page.contains(".TH corsair 1"),
        "{page}"
    );
    for sub in ["check", "explain", "serve", "audit", "completions"] {
        assert!(page.contains(sub), "the manual lists `{sub}`");
    }
}

/// `--preflight-only` never sends the request itself; a check that sends a real PUT says so.
/// `corsair check --target-space public ARGS`: the test server stands in for a public API (on
/// loopback, Local Network Access would refuse a public page).
fn check_public(args: &[&str]) -> Output {
    let mut all = vec!["check", "--target-space", "public"];
    all.extend_from_slice(args);
    corsair(&all)
}

#[test]
fn preflight_only_sends_no_request_that_changes_data() {
    let api = Server::start(1);
    let port = api.ports[0];
    let page = "https://app.example.com";
    for (path, methods) in [("/ok", "PUT"), ("/no", "GET")] {
        api.route(
            port,
            path,
            Route {
                preflight: Resp::new(204)
                    .h("Access-Control-Allow-Origin", page)
                    .h("Access-Control-Allow-Methods", methods),
                actual: Resp::new(200).h("Access-Control-Allow-Origin", page),
            },
        );
    }
    let url = |p: &str| format!("{}{p}", api.origin(0));
    let methods_seen = || -> Vec<String> { api.take_log().into_iter().map(|s| s.method).collect() };

    let o = check_public(&[
        &url("/ok"),
        "--origin",
        page,
        "-X",
        "PUT",
        "--preflight-only",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(methods_seen(), ["OPTIONS"], "the PUT is never sent");
    let t = text(&o);
    assert!(
        t.contains("PREFLIGHT PASSED")
            && t.contains("would now send PUT")
            && t.contains("It was not sent"),
        "{t}"
    );
    assert!(!t.contains("this sent a real PUT"), "{t}");

    let o = check_public(&[
        &url("/ok"),
        "--origin",
        page,
        "-X",
        "PUT",
        "--preflight-only",
        "--format",
        "json",
    ]);
    assert_eq!(methods_seen(), ["OPTIONS"]);
    let j = json(&o);
    assert_eq!(
        (j["allowed"].clone(), j["preflight_only"].clone()),
        (serde_json::Value::Null, serde_json::json!(true))
    );
    assert_eq!(j["next"]["method"], "PUT");
    assert_eq!(j["exchanges"].as_array().unwrap().len(), 1);

    // A failing preflight: blocked, as the browser would stop there too.
    let o = check_public(&[
        &url("/no"),
        "--origin",
        page,
        "-X",
        "DELETE",
        "--preflight-only",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // The diagnosis sends the failed preflight again to read its body: OPTIONS too.
    assert_eq!(methods_seen(), ["OPTIONS", "OPTIONS"]);
    let o = check_public(&[
        &url("/no"),
        "--origin",
        page,
        "-X",
        "DELETE",
        "--preflight-only",
        "--no-probes",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(methods_seen(), ["OPTIONS"]);
    assert!(
        text(&o).contains("Method DELETE is not allowed"),
        "{}",
        text(&o)
    );

    // No preflight needed: nothing is sent at all.
    let o = check_public(&[&url("/ok"), "--origin", page, "--preflight-only"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(methods_seen().is_empty());
    assert!(text(&o).contains("NO PREFLIGHT"), "{}", text(&o));

    // Without the flag the PUT goes, and the report says so before the trace.
    let o = check_public(&[&url("/ok"), "--origin", page, "-X", "PUT"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Then the diagnosis asks, with preflights (never another PUT), whether an unrelated
    // origin and `null` would be granted too.
    assert_eq!(methods_seen(), ["OPTIONS", "PUT", "OPTIONS", "OPTIONS"]);
    let t = text(&o);
    let note = t
        .find("this sent a real PUT")
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        note < t.find("OPTIONS").unwrap(),
        "the note comes before the trace: {t}"
    );
}

/// `--browser all`: each engine sends its own requests and gets its own verdict; the report says
/// which fails first, and the exit code is the worst.
#[test]
fn browser_all_gives_one_verdict_per_engine_and_which_fails_first() {
    let api = Server::start(1);
    let port = api.ports[0];
    let page = "https://app.example.com";
    // A PUT whose 303 leads to a GET: WebKit and Firefox preflight the GET, whose preflight
    // fails; Chromium sends it as it is, and it passes.
    api.route(
        port,
        "/start",
        Route {
            preflight: Resp::new(204)
                .h("Access-Control-Allow-Origin", page)
                .h("Access-Control-Allow-Methods", "PUT"),
            actual: Resp::new(303)
                .h("Access-Control-Allow-Origin", page)
                .h("Location", "/final"),
        },
    );
    api.route(
        port,
        "/final",
        Route {
            preflight: Resp::new(404),
            actual: Resp::new(200).h("Access-Control-Allow-Origin", page),
        },
    );
    // A font without CORS headers: WebKit loads it, the others refuse it.
    api.route(
        port,
        "/font",
        Route {
            preflight: Resp::new(404),
            actual: Resp::new(200).body("font"),
        },
    );
    let url = |p: &str| format!("{}{p}", api.origin(0));
    let out = check_public(&[
        &url("/start"),
        "-X",
        "PUT",
        "--origin",
        page,
        "--browser",
        "all",
        "--format",
        "json",
        "--no-probes",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["browser"], "all");
    let verdict = |b: &str| {
        v["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["browser"] == b)
            .cloned()
            .unwrap()
    };
    assert_eq!(verdict("chromium")["allowed"], true);
    // Firefox looks for the origin before the status, WebKit the other way round.
    for (b, kind) in [
        ("firefox", "missing-allow-origin-header"),
        ("safari", "preflight-invalid-status"),
    ] {
        assert_eq!(verdict(b)["allowed"], false, "{b}");
        assert_eq!(verdict(b)["kind"], kind, "{b}");
        assert_eq!(verdict(b)["failed_at_exchange"], 3, "{b}");
    }
    assert_eq!(v["fails_first"], serde_json::json!(["firefox", "safari"]));
    assert_eq!(v["agree"], false);
    assert!(v["reports"]["safari"]["console"]
        .as_str()
        .unwrap()
        .ends_with(&format!(
            "Fetch API cannot load http://127.0.0.1:{port}/final due to access control checks."
        )));
    // Each engine sent its own requests: Chromium one preflight, Firefox and WebKit two each.
    let methods: Vec<String> = api.take_log().into_iter().map(|s| s.method).collect();
    assert_eq!(methods.iter().filter(|m| *m == "OPTIONS").count(), 5);

    let out = check_public(&[
        &url("/font"),
        "--api",
        "font",
        "--origin",
        page,
        "--browser",
        "all",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(t.contains("safari    LOADED (no-cors)"), "{t}");
    assert!(
        t.contains("Fails first: chromium, firefox, at the response to GET"),
        "{t}"
    );
    assert!(
        t.contains("Console, engine by engine\n  chromium (fails first)")
            && t.contains("\n  firefox (fails first)\n")
            && !t.contains("\n  safari\n    "),
        "{t}"
    );

    // Every engine allows: exit 0, nobody fails first.
    let out = check_public(&[
        &url("/final"),
        "--origin",
        page,
        "--browser",
        "all",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["fails_first"], serde_json::json!([]));
    // A preflight alone decides nothing for a comparison.
    let out = check_public(&[
        &url("/start"),
        "-X",
        "PUT",
        "--origin",
        page,
        "--browser",
        "all",
        "--preflight-only",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
