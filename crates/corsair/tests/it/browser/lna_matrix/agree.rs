//! The Local Network Access matrices and destinations, run in Chromium and Firefox (and WebKit) against the model.

use super::*;

#[test]
fn local_network_access_matrix_agrees_with_chromium() {
    // Permission states: the engine's settings (null: untouched), and corsair's flags for them.
    let mut perms = lna_permissions();
    perms.push((
        "grant-all",
        json!("grant-all"),
        &["--lna-permission", "granted"],
    ));
    let mut pages_spec = Vec::new();
    for space in SPACES {
        for secure in [true, false] {
            for (i, (name, ..)) in perms.iter().enumerate() {
                // A non-secure page cannot be granted anything: untouched, and one try.
                if !secure && !matches!(*name, "untouched" | "granted") {
                    continue;
                }
                pages_spec.push((space, secure, i));
            }
        }
    }
    let server = Server::start(pages_spec.len() + 3);
    let n = pages_spec.len();
    let targets: Vec<(&str, u16)> = SPACES
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, server.ports[n + i]))
        .collect();
    let mut overrides = Vec::new();
    for (i, (space, ..)) in pages_spec.iter().enumerate() {
        if *space != "loopback" {
            overrides.push(format!("127.0.0.1:{}={space}", server.ports[i]));
        }
    }
    for (space, port) in &targets {
        if *space != "loopback" {
            overrides.push(format!("127.0.0.1:{port}={space}"));
        }
    }
    let args = vec![
        format!("--ip-address-space-overrides={}", overrides.join(",")),
        "--host-resolver-rules=MAP *.test 127.0.0.1".to_string(),
    ];
    let kinds = lna_kinds();
    let mut cases = Vec::new();
    let mut pages = Vec::new();
    for (pi, (space, secure, perm)) in pages_spec.iter().enumerate() {
        let port = server.ports[pi];
        let host = if *secure { "127.0.0.1" } else { "page.test" };
        let page = format!("http://{host}:{port}");
        let (perm_name, cdp, flags) = &perms[*perm];
        let mut scenarios = Vec::new();
        for (tspace, tport) in &targets {
            for kind in &kinds {
                let id = format!("l{:04}", cases.len());
                let where_ = (*space, *secure, *perm_name, *tspace, *tport);
                let case = lna_case(&server, id, &page, where_, flags, kind);
                scenarios.push(case.scenario());
                cases.push(case);
            }
        }
        pages.push(
            json!({"pageUrl": format!("{page}/"), "permissions": cdp, "scenarios": scenarios}),
        );
    }
    compare("LNA", &server, Value::Array(pages), &cases, &args);
}

/// The destinations family: every element kind, with and without `crossorigin`, × server
/// answers (real bodies: a GIF, a font, a script, a stylesheet), on `server`'s second listener.
fn destination_cases(server: &Server) -> Vec<Case> {
    let page = server.origin(0);
    let api_port = server.ports[1];
    let destinations: [(&str, Option<&str>); 12] = [
        ("font", None),
        ("image", None),
        ("image", Some("anonymous")),
        ("image", Some("use-credentials")),
        ("script", None),
        ("script", Some("anonymous")),
        ("script", Some("use-credentials")),
        ("module", None),
        ("module", Some("use-credentials")),
        ("stylesheet", None),
        ("stylesheet", Some("anonymous")),
        ("stylesheet", Some("use-credentials")),
    ];
    let answers: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("none", vec![]),
        ("star", vec![("Access-Control-Allow-Origin", "*".into())]),
        ("echo", vec![("Access-Control-Allow-Origin", page.clone())]),
        (
            "echo-credentials",
            vec![
                ("Access-Control-Allow-Origin", page.clone()),
                ("Access-Control-Allow-Credentials", "true".into()),
            ],
        ),
        (
            "star-credentials",
            vec![
                ("Access-Control-Allow-Origin", "*".into()),
                ("Access-Control-Allow-Credentials", "true".into()),
            ],
        ),
        (
            "other",
            vec![(
                "Access-Control-Allow-Origin",
                "https://other.example".into(),
            )],
        ),
        ("null", vec![("Access-Control-Allow-Origin", "null".into())]),
        (
            "list",
            vec![(
                "Access-Control-Allow-Origin",
                format!("{page}, https://other.example"),
            )],
        ),
        (
            "invalid",
            vec![("Access-Control-Allow-Origin", "other.example".into())],
        ),
        (
            "credentials-True",
            vec![
                ("Access-Control-Allow-Origin", page.clone()),
                ("Access-Control-Allow-Credentials", "True".into()),
            ],
        ),
    ];
    let mut cases = Vec::new();
    for (api, crossorigin) in destinations {
        for (aname, headers) in &answers {
            let id = format!("d{:04}", cases.len());
            let path = format!("/{id}/r");
            let (body, ctype) = body_for(api);
            let mut resp = Resp::new(200).h("Content-Type", ctype).body(body);
            for (n, v) in headers {
                resp = resp.h(n, v);
            }
            server.route(api_port, &path, route(resp));
            let case = Case {
                label: format!(
                    "{id} {api} crossorigin={} × {aname}",
                    crossorigin.unwrap_or("(none)")
                ),
                url: format!("http://127.0.0.1:{api_port}{path}"),
                page: page.clone(),
                id,
                api,
                method: "GET",
                headers: vec![],
                credentials: false,
                crossorigin,
                target_address_space: None,
                flags: vec![],
            };
            cases.push(case);
        }
    }
    cases
}

#[test]
fn destinations_agree_with_chromium() {
    let server = Server::start(2);
    let page = server.origin(0);
    let cases = destination_cases(&server);
    let scenarios: Vec<Value> = cases.iter().map(Case::scenario).collect();
    let pages =
        json!([{"pageUrl": format!("{page}/"), "permissions": null, "scenarios": scenarios}]);
    compare("destinations", &server, pages, &cases, &[]);
}

/// The destinations family in Firefox or WebKit: whether each element loads, and the whole
/// console output of each that does not, must agree with `corsair check --browser BROWSER`.
fn destinations_agree_with(browser: &str) {
    let server = Server::start(2);
    let page = server.origin(0);
    let cases = destination_cases(&server);
    let scenarios: Vec<Value> = cases.iter().map(Case::scenario).collect();
    let run = match browser {
        "firefox" => super::super::engines::run_firefox(&server, &page, &scenarios),
        _ => super::super::engines::run_webkit(&server, &scenarios),
    };
    let mut bad = Vec::new();
    let mut blocked = 0;
    for c in &cases {
        let theirs_ok = run.readable[&c.id];
        let theirs = run
            .console
            .get(&c.id)
            .cloned()
            .unwrap_or_default()
            .join("\n");
        let mine = c.corsair_as(browser);
        let mine_ok = mine["allowed"] == true;
        let mine_line = if mine_ok {
            String::new()
        } else {
            mine["console"].as_str().unwrap_or_default().to_string()
        };
        blocked += usize::from(!theirs_ok);
        if !theirs.is_empty() {
            if let Some(why) = super::super::differential::explain_disagrees(&theirs, &mine) {
                bad.push(format!("{}: explain on {browser}'s output: {why}", c.label));
            }
        }
        if theirs_ok != mine_ok || theirs != mine_line {
            bad.push(format!(
                "{}\n    {browser}: ok={theirs_ok} {theirs:?}\n    corsair:  ok={mine_ok} \
                    {mine_line:?}",
                c.label
            ));
        }
    }
    println!(
        "destinations differential in {}: {} scenarios ({blocked} refused), {} disagreements",
        run.version,
        cases.len(),
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{} disagreements with {}:\n{}",
        bad.len(),
        run.version,
        bad.join("\n")
    );
}

#[test]
fn destinations_agree_with_firefox() {
    destinations_agree_with("firefox");
}

#[test]
fn destinations_agree_with_webkit() {
    destinations_agree_with("safari");
}

/// The Local Network Access family in Firefox ESR: it enforces LNA too (its own rules: any page
/// may ask, `targetAddressSpace` is ignored, an undecided permission holds the request until
/// the user answers). Spaces come from `network.lna.address_space.*.override`, `page.test` from
/// `network.dns.localDomains`, permissions from `Services.perms` (`loopback-network`,
/// `local-network`). Readability must agree with `corsair check --browser firefox`, and so must
/// the console lines (compared as a set: Firefox writes its LNA line and its CORS line from two
/// processes, in either order). A request held or refused by LNA must not reach the server.
#[test]
fn local_network_access_matrix_agrees_with_firefox() {
    let perms = lna_permissions();
    let mut pages_spec = Vec::new();
    for space in SPACES {
        for secure in [true, false] {
            for i in 0..perms.len() {
                if !secure && space != "public" {
                    continue;
                }
                pages_spec.push((space, secure, i));
            }
        }
    }
    let server = Server::start(pages_spec.len() + 3);
    let n = pages_spec.len();
    let targets: Vec<(&str, u16)> = SPACES
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, server.ports[n + i]))
        .collect();
    let (mut public, mut local) = (Vec::new(), Vec::new());
    let ports = pages_spec
        .iter()
        .enumerate()
        .map(|(i, (space, ..))| (*space, server.ports[i]))
        .chain(targets.iter().copied());
    for (space, port) in ports {
        match space {
            "public" => public.push(format!("127.0.0.1:{port}")),
            "local" => local.push(format!("127.0.0.1:{port}")),
            _ => {}
        }
    }
    let prefs = json!({
        "network.lna.address_space.public.override": public.join(","),
        "network.lna.address_space.private.override": local.join(","),
        "network.dns.localDomains": "page.test",
    });
    let kinds = lna_kinds();
    let mut cases = Vec::new();
    let mut pages = Vec::new();
    for (pi, (space, secure, perm)) in pages_spec.iter().enumerate() {
        let port = server.ports[pi];
        // Every listener but the first serves no page of its own.
        server.route(
            port,
            "/",
            Route {
                preflight: Resp::new(404),
                actual: Resp::new(200)
                    .h("Content-Type", "text/html")
                    .body("<!doctype html><title>page</title>"),
            },
        );
        let host = if *secure { "127.0.0.1" } else { "page.test" };
        let page = format!("http://{host}:{port}");
        let (perm_name, prefs_perms, flags) = &perms[*perm];
        let mut scenarios = Vec::new();
        for (tspace, tport) in &targets {
            for kind in &kinds {
                // targetAddressSpace means nothing to Firefox: one case shows it is ignored.
                if kind.6.is_some() && kind.0 != "tas-public" {
                    continue;
                }
                let id = format!("f{:04}", cases.len());
                let where_ = (*space, *secure, *perm_name, *tspace, *tport);
                let case = lna_case(&server, id, &page, where_, flags, kind);
                let mut sc = case.scenario();
                // A request held for the prompt never ends: 1.5 s tells it apart.
                sc["timeoutMs"] = json!(1500);
                scenarios.push(sc);
                cases.push(case);
            }
        }
        pages.push(json!({"pageUrl": format!("{page}/"), "permissions": prefs_perms, "scenarios": scenarios}));
    }
    let run =
        super::super::engines::run_firefox_doc(&server, &json!({"pages": pages, "prefs": prefs}));
    let seen: Vec<String> = server.take_log().into_iter().map(|s| s.path).collect();
    let mut bad = Vec::new();
    let (mut held, mut refused, mut readable) = (0, 0, 0);
    for c in &cases {
        let theirs_ok = run.readable[&c.id];
        let mut theirs = run.console.get(&c.id).cloned().unwrap_or_default();
        let mine = c.corsair_as("firefox");
        let mine_ok = mine["allowed"] == true;
        let mut mine_lines: Vec<String> = mine["console"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        // An allowed request's LNA line is a warning, not part of a verdict.
        if mine_ok {
            mine_lines.clear();
            theirs.retain(|l| !l.starts_with("Local Network Access detected"));
        }
        // A request held for the prompt is let go (denied, "prompt_deny") only when the test
        // moves to the next page; what Firefox logs then is the test's doing, not the user's.
        if mine["lna"]["blocked"]["undecided"] == true {
            theirs.retain(|l| l.starts_with("Local Network Access permission required"));
        }
        theirs.sort();
        mine_lines.sort();
        readable += usize::from(theirs_ok);
        let blocked = &mine["lna"]["blocked"];
        if blocked["undecided"] == true {
            held += 1;
        } else if blocked.is_object() {
            refused += 1;
        }
        if theirs_ok != mine_ok || theirs != mine_lines {
            bad.push(format!(
                "{}\n    firefox: ok={theirs_ok} {theirs:?}\n    corsair: ok={mine_ok} \
                    {mine_lines:?}",
                c.label
            ));
        }
        // explain reads Firefox's own LNA lines back to the refusal (held or refused) and its
        // URL. (The space it derives from the address is loopback here: the overrides that made
        // these ports public or local exist only in this Firefox.)
        if blocked.is_object() && theirs.iter().any(|l| l.starts_with("Local Network Access")) {
            use corsair_core::explain::lna::RefusalKind;
            let read = corsair_core::explain::lna::refusal(&theirs.join("\n"));
            let want = if blocked["undecided"] == true {
                RefusalKind::PermissionPending
            } else {
                RefusalKind::PermissionDenied
            };
            let ok = read.as_ref().is_some_and(|r| {
                r.browser == corsair_core::Browser::Firefox
                    && r.kind == want
                    && r.url.as_deref() == Some(c.url.as_str())
            });
            if !ok {
                bad.push(format!("{}: explain read {theirs:?} as {read:?}", c.label));
            }
        }
        if blocked.is_object() {
            let reached = seen.iter().any(|p| p.starts_with(&format!("/{}/", c.id)));
            let sent = mine["exchanges"].as_array().map_or(0, |e| e.len());
            if reached || sent > 0 {
                bad.push(format!(
                    "{}: held or refused by LNA, yet reached the server (firefox \
                    {reached}, corsair {sent} exchanges)",
                    c.label
                ));
            }
        }
    }
    println!(
        "LNA differential in {}: {} scenarios ({readable} readable or loaded, {held} held for the \
            prompt, {refused} refused), {} disagreements",
        run.version,
        cases.len(),
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
