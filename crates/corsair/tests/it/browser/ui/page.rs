//! The ui page driven in a real Chromium, and --open.

use super::*;

#[test]
fn the_page_in_chromium() {
    let deps = crate::support::browser_deps();
    let api = Server::start(1);
    let p = api.ports[0];
    api.route(
        p,
        "/allowed",
        Route {
            preflight: Resp::new(204)
                .h("Access-Control-Allow-Origin", "*")
                .h("Access-Control-Allow-Methods", "GET, PUT")
                .h("Access-Control-Allow-Headers", "Content-Type"),
            actual: Resp::new(200)
                .h("Access-Control-Allow-Origin", "*")
                .h("X-Total-Count", "3"),
        },
    );
    api.route(
        p,
        "/blocked",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(200),
        },
    );
    api.route(
        p,
        "/preflight",
        Route {
            preflight: Resp::new(404),
            actual: Resp::new(200).h("Access-Control-Allow-Origin", "*"),
        },
    );
    api.route(
        p,
        "/slow",
        Route {
            preflight: Resp::new(204),
            actual: Resp {
                delay: Some(Duration::from_millis(1500)),
                ..Resp::new(200).h("Access-Control-Allow-Origin", "*")
            },
        },
    );
    // The user's app origin (--live-origin): a free loopback port the ui serves the live page on.
    let app_port = crate::support::free_port();
    let app_origin = format!("http://localhost:{app_port}");
    api.route(
        p,
        "/app-only",
        Route {
            preflight: Resp::new(204),
            actual: Resp::new(200).h("Access-Control-Allow-Origin", app_origin.as_str()),
        },
    );
    let base = api.origin(0);
    let ui = start_ui_with("127.0.0.1:0", &["--live-origin", &app_origin]);
    let page_origin = "https://app.example.com";
    let checks = serde_json::json!([
        {"name": "allowed", "url": format!("{base}/allowed"), "origin": page_origin, "method": "GET", "headers": []},
        {"name": "blocked", "url": format!("{base}/blocked"), "origin": page_origin, "method": "GET", "headers": []},
        {"name": "preflight", "url": format!("{base}/preflight"), "origin": page_origin, "method": "PUT", "headers": ["Content-Type: \
            application/json"]},
    ]);
    let screenshots = crate::support::workspace_root().join("target/ui-screenshots");
    let input = serde_json::json!({
        "ui": ui.url,
        "checks": checks,
        "live": [
            {"name": "allowed", "url": format!("{base}/allowed")},
            {"name": "blocked", "url": format!("{base}/blocked")},
            {"name": "own-origin-blocked", "url": format!("{base}/blocked"), "from": "own"},
            {"name": "app-origin", "url": format!("{base}/app-only"), "from": "app"},
        ],
        "explain": "Access to XMLHttpRequest at 'https://api.example.com/me' from origin \
            'https://app.example.com' has been blocked by CORS policy: Response to preflight \
            request doesn't pass access control check: It does not have HTTP ok status.",
        "explain_local": format!("Access to fetch at '{base}/blocked' from origin \
            'https://app.example.com' has been blocked by CORS policy: No \
            'Access-Control-Allow-Origin' header is present on the requested resource."),
        "curl": format!("curl '{base}/allowed' \\\n  -X 'PUT' \\\n  -H 'content-type: \
            application/json' \\\n  -H 'origin: https://app.example.com' \\\n  -H 'sec-fetch-mode: \
            cors' \\\n  -b 'sid=1' \\\n  --data-raw '{{\"a\":1}}'"),
        "slow": format!("{base}/slow"),
        "unreachable": "http://127.0.0.1:1/items",
        "policy": "[policy]\norigins = [\"https://app.example.com/\", \"null\"]\ncredentials = \
            true\n",
        "screenshots": screenshots,
    });
    let dir = std::env::temp_dir().join(format!("corsair-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("input.json");
    std::fs::write(&file, input.to_string()).unwrap();
    let out = Command::new("node")
        .arg(crate::support::workspace_root().join("tests/browser/ui.mjs"))
        .arg(&file)
        .env("CORSAIR_NODE_MODULES", &deps.node_modules)
        .env("CORSAIR_CHROMIUM", &deps.chromium)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert_eq!(r["errors"], serde_json::json!([]), "page errors");

    // Check: the verdict, the exact console message corsair check prints, the cause and the fix.
    let c = &r["checks"];
    assert!(c["allowed"]["verdict"]
        .as_str()
        .unwrap()
        .starts_with("Allowed"));
    assert!(c["allowed"]["console"].is_null());
    for (name, method, headers) in [
        ("blocked", "GET", vec![]),
        ("preflight", "PUT", vec!["Content-Type: application/json"]),
    ] {
        let shown = &c[name];
        assert_eq!(shown["verdict"], "Blocked", "{name}");
        let want = check_console(&format!("{base}/{name}"), page_origin, method, &headers);
        assert_eq!(
            shown["console"],
            want.as_str(),
            "{name}: the ui shows what corsair check prints"
        );
        let fix = shown["fix"].as_str().unwrap();
        assert!(
            fix.contains("corsair gen express"),
            "{name}: the fix for the chosen stack is gen's output: {fix}"
        );
        assert!(
            fix.contains(&format!("origins = [\"{page_origin}\"]")),
            "{name}: the fix's policy is shown: {fix}"
        );
        assert!(shown["cause"].as_str().is_some_and(|s| !s.is_empty()));
    }
    assert!(c["blocked"]["console"]
        .as_str()
        .unwrap()
        .contains("No 'Access-Control-Allow-Origin' header is present"));
    assert!(c["preflight"]["console"]
        .as_str()
        .unwrap()
        .contains("Response to preflight request doesn't pass access control check"));
    assert_eq!(
        c["preflight"]["exchanges"], 1,
        "the failed preflight, and nothing after it"
    );
    assert!(
        c["allowed"]["cors_highlighted"].as_u64().unwrap() >= 2,
        "CORS headers highlighted"
    );

    // The shared link fills the form and sends nothing; it names the headers, never their
    // values.
    assert_eq!(r["shared"]["url"], format!("{base}/preflight"));
    assert_eq!(r["shared"]["method"], "PUT");
    assert_eq!(r["shared"]["headers"], "Content-Type: ");
    assert_eq!(r["shared"]["sent"], 0);
    for c in ["allowed", "blocked", "preflight"] {
        let hash = r["checks"][c]["hash"].as_str().unwrap();
        assert!(
            !hash.contains("application"),
            "{c}: a header value in the URL: {hash}"
        );
        assert_eq!(
            r["checks"][c]["stray"],
            serde_json::json!([]),
            "{c}: raw markup or null shown"
        );
    }
    assert!(r["checks"]["preflight"]["reasons"]
        .as_str()
        .unwrap()
        .contains("the method PUT"));
    assert!(r["checks"]["allowed"]["reasons"]
        .as_str()
        .unwrap()
        .starts_with("Preflight: no"));
    assert!(
        r["checks"]["preflight"]["sent_note"].is_null(),
        "the preflight failed: no PUT was sent"
    );

    // A request pasted from DevTools fills the form and sends nothing.
    let i = &r["imported"];
    assert_eq!(i["url"], format!("{base}/allowed"));
    assert_eq!(
        (
            i["method"].clone(),
            i["origin"].clone(),
            i["credentials"].clone()
        ),
        (
            serde_json::json!("PUT"),
            serde_json::json!(page_origin),
            serde_json::json!(true)
        )
    );
    assert_eq!(i["headers"], "content-type: application/json");
    assert_eq!(i["sent"], 0);
    let status = i["status"].as_str().unwrap();
    assert!(
        status.contains("Copy as cURL") && status.contains("sec-fetch-mode"),
        "{status}"
    );
    // Progress, the unreachable server, and a PUT that asks first.
    assert_eq!(r["progress"]["disabled"], true, "{}", r["progress"]);
    assert!(r["progress"]["shown"]
        .as_str()
        .unwrap()
        .starts_with("Checking GET"));
    assert_eq!(r["progress"]["enabled_after"], true);
    assert!(
        r["unreachable"]
            .as_str()
            .unwrap()
            .starts_with("Unreachable: net::ERR_CONNECTION_REFUSED"),
        "{}",
        r["unreachable"]
    );
    assert!(r["cancelled"].as_str().unwrap().contains("Nothing sent"));
    // Local Network Access: a public page to this machine is refused before anything is sent;
    // granted, CORS decides.
    let lna = &r["lna"];
    assert!(
        lna["verdict"]
            .as_str()
            .unwrap()
            .starts_with("Blocked by Local Network Access"),
        "{lna}"
    );
    assert!(
        lna["console"].as_str().unwrap().ends_with(
            "Permission was denied for this request to access the `loopback` address space."
        ),
        "{lna}"
    );
    assert!(
        lna["box"]
            .as_str()
            .unwrap()
            .contains("Page public (secure context) → target loopback: refused"),
        "{lna}"
    );
    assert!(
        lna["fixes"].as_u64().unwrap() >= 3 && lna["exchanges"] == 0,
        "{lna}"
    );
    assert!(
        r["lna_granted"]["verdict"]
            .as_str()
            .unwrap()
            .starts_with("Allowed"),
        "{}",
        r["lna_granted"]
    );
    assert!(
        r["lna_granted"]["box"]
            .as_str()
            .unwrap()
            .contains("needed loopback-network: granted"),
        "{}",
        r["lna_granted"]
    );
    // A destination: a web font's own wording.
    assert!(
        r["font"]["console"]
            .as_str()
            .unwrap()
            .starts_with("Access to font at"),
        "{}",
        r["font"]
    );
    // Where the engines differ, the report says so: WebKit loads a font without CORS.
    assert_eq!(
        r["font"]["others"], "Other browsers differ\nsafari would allow it",
        "{}",
        r["font"]
    );
    // Every engine: a row each, with its own console, and which fails first.
    let e = &r["engines"];
    assert_eq!(e["verdict"], "Blocked in chromium, firefox", "{e}");
    assert!(
        e["summary"]
            .as_str()
            .unwrap()
            .starts_with("Fails first: chromium, firefox. The engines disagree"),
        "{e}"
    );
    let rows = e["rows"].as_array().unwrap();
    let row = |b: &str| rows.iter().find(|x| x["browser"] == b).unwrap()["cells"].clone();
    assert_eq!(row("safari")[1], "loaded (no-cors)", "{e}");
    assert_eq!(
        row("chromium")[1],
        "blocked (missing-allow-origin-header)",
        "{e}"
    );
    assert!(row("firefox")[3]
        .as_str()
        .unwrap()
        .starts_with("Cross-Origin Request Blocked"));
    assert!(
        e["console"]
            .as_str()
            .unwrap()
            .starts_with("Access to font at"),
        "{e}"
    );
    assert!(r["dialogs"][0].as_str().unwrap().contains("a real PUT"));
    assert_eq!(r["favicon"], 200);
    assert_eq!(
        r["console_errors"],
        serde_json::json!([]),
        "the page logs no errors of its own"
    );
    assert!(r["policy_copy"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(r["share_copy"].as_str().is_some_and(|s| !s.is_empty()));
    // Explain: the bare error, its own stack selector, and the check it runs.
    let lna = r["explain_lna"].as_str().unwrap();
    assert!(
        lna.contains("Local Network Access: the loopback address space")
            && lna.contains("never reached the server"),
        "{lna}"
    );
    assert!(r["explain_bare"]
        .as_str()
        .unwrap()
        .contains("not the reason"));
    assert!(r["explain_fix_stack"]
        .as_str()
        .unwrap()
        .contains("corsair gen nginx"));
    assert_eq!(r["explain_run"]["tab"], "true");
    assert_eq!(r["explain_run"]["url"], format!("{base}/blocked"));
    assert_eq!(r["explain_run"]["verdict"], "Blocked");
    // axe-core: no serious or critical violation on any tab, theme or width.
    assert_eq!(r["axe"], serde_json::json!([]), "accessibility");
    assert_eq!(r["keyboard_tab"], "tab-live:true");

    // Live: the browser's real outcome from the second origin matches the prediction.
    for name in ["allowed", "blocked", "own-origin-blocked", "app-origin"] {
        let l = &r["live"][name];
        assert!(l["agree"].as_str().unwrap().starts_with('✓'), "{name}: {l}");
    }
    assert!(r["live"]["allowed"]["browser"]
        .as_str()
        .unwrap()
        .contains("Allowed (status 200)"));
    assert!(r["live"]["blocked"]["browser"]
        .as_str()
        .unwrap()
        .contains("Blocked"));
    // From the ui's own origin, the prediction names that origin.
    assert!(r["live"]["own-origin-blocked"]["predicted"]
        .as_str()
        .unwrap()
        .contains(&format!("from origin '{}'", ui.url.trim_end_matches('/'))));
    // From the app's origin (--live-origin), an endpoint that allows only that origin is
    // readable, and the page said where the fetch would run before it ran.
    assert!(r["live"]["app-origin"]["browser"]
        .as_str()
        .unwrap()
        .contains("Allowed (status 200)"));
    assert!(
        r["live"]["app-origin"]["note"]
            .as_str()
            .unwrap()
            .contains(&format!("from {app_origin}")),
        "{}",
        r["live"]["app-origin"]
    );
    assert!(
        r["live_relative"].as_str().unwrap().contains("absolute"),
        "{}",
        r["live_relative"]
    );
    assert!(r["live"]["blocked"]["predicted"]
        .as_str()
        .unwrap()
        .contains(&format!("from origin '{}'", ui.live_origin)));

    // Explain, and the policy editor.
    assert!(
        r["explain"].as_str().unwrap().contains("preflight"),
        "{}",
        r["explain"]
    );
    assert!(r["policy_sample"].as_str().unwrap().starts_with("Valid"));
    assert!(r["policy_nginx"]
        .as_str()
        .unwrap()
        .contains("map $http_origin"));
    let refused = r["policy_refused"].as_str().unwrap();
    assert!(
        refused.contains("Refused") && refused.contains("line 2"),
        "{refused}"
    );
    assert!(refused.contains("null"), "{refused}");

    // Light and dark, a phone's width, labels.
    assert_ne!(r["light_bg"], r["dark_bg"]);
    assert!(
        r["phone_overflow"].as_i64().unwrap() <= 0,
        "no sideways scrolling on a phone"
    );
    assert_eq!(r["unlabelled"], serde_json::json!([]));
    assert_eq!(r["shots"].as_array().unwrap().len(), 16);
    let tabs: Vec<String> = r["shots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    for shot in [
        "check-allowed",
        "check-blocked",
        "check-preflight",
        "live-allowed",
        "explain",
        "policy",
    ]
    .into_iter()
    .map(String::from)
    .chain(tabs)
    {
        assert!(
            screenshots.join(format!("{shot}.png")).exists(),
            "{shot}.png"
        );
    }
}

#[test]
fn open_hands_the_printed_url_to_xdg_open() {
    // A stand-in xdg-open on PATH that records what it was given.
    let dir = std::env::temp_dir().join(format!("corsair-ui-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("opened.txt");
    let script = dir.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" > '{}'\n", record.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args([
            "ui",
            "--listen",
            "127.0.0.1:0",
            "--open",
            "--serve-for",
            "1",
        ])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let url = printed
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("corsair ui on ")
        .to_string();
    let t = std::time::Instant::now();
    while !record.exists() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read_to_string(&record).unwrap().trim(), url);
    let _ = std::fs::remove_dir_all(&dir);
    // A bad --listen is refused with the fix.
    let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["ui", "--listen", "localhost"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ADDRESS:PORT"));
    // A --live-origin that is not a loopback http origin with its port, or whose port is taken,
    // is refused with the fix.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = format!("http://127.0.0.1:{}", taken.local_addr().unwrap().port());
    for (origin, says) in [
        ("localhost:5173", "did you mean http://localhost:5173?"),
        ("https://app.example.com", "is not http"),
        ("http://localhost", "has no port"),
        (taken.as_str(), "its port is in use"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args([
                "ui",
                "--listen",
                "127.0.0.1:0",
                "--serve-for",
                "1",
                "--live-origin",
                origin,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{origin}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{origin}: {err}");
    }
}
