//! Probes through a proxy, side by side with CORScanner and real misconfigured peers, rate limits and long lists that stream and resume.

use super::*;

#[test]
fn probes_go_through_a_proxy() {
    let fleet = Fleet::start();
    let (proxy, count) = start_proxy();
    let proxy_url = format!("http://127.0.0.1:{proxy}");
    // Without the proxy, api.fleet.test leads to 127.0.0.2, where nothing listens: every answer
    // below came through the proxy.
    let mut a: Vec<String> = [
        "audit".to_string(),
        "--resolve".into(),
        format!("api.fleet.test:{}:127.0.0.2", fleet.plain),
        "--resolve".into(),
        format!("api.fleet.test:{}:127.0.0.2", fleet.tls),
        "--insecure".into(),
        "--timeout".into(),
        "5".into(),
        "--format".into(),
        "json".into(),
        "--proxy".into(),
        proxy_url.clone(),
    ]
    .to_vec();
    a.push(format!("http://api.fleet.test:{}/null", fleet.plain));
    a.push(format!("https://api.fleet.test:{}/http", fleet.tls));
    let o = corsair(&a, None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let found = classes(&v);
    let all: BTreeSet<&str> = found.values().flatten().map(String::as_str).collect();
    assert!(
        all.contains("null-origin") && all.contains("http-origin-trusted"),
        "{v:#}"
    );
    assert!(
        v["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["errors"].as_array().unwrap().is_empty()),
        "{v:#}"
    );
    assert!(
        count.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "one relayed connection per target at least"
    );
}

fn venv_python() -> std::path::PathBuf {
    let p = crate::support::workspace_root().join(".test-deps/venv/bin/python");
    assert!(
        p.exists(),
        "the audit peers need .test-deps/venv (with cors, starlette, uvicorn): run \
        `bash scripts/test.sh`"
    );
    p
}

/// CORScanner's type names, as corsair class ids.
fn corscanner_class(t: &str) -> &'static str {
    match t {
        "reflect_origin" => "reflect-origin",
        "prefix_match" => "prefix-bypass",
        "suffix_match" => "suffix-bypass",
        "trust_null" => "null-origin",
        "include_match" => "substring-bypass",
        "not_escape_dot" => "unescaped-dot",
        "custom_third_parties" => "third-party-origin",
        "special_characters_bypass" => "special-char-bypass",
        "trust_any_subdomain" => "any-subdomain",
        "https_trust_http" => "http-origin-trusted",
        _ => "unknown",
    }
}

fn corscanner(urls: &[String]) -> (BTreeMap<String, Option<String>>, f64) {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/audit_fleet/corscanner.py");
    let mut child = Command::new(venv_python())
        .arg(&script)
        .arg(serde_json::json!({"Authorization": "Bearer fleet"}).to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(urls.join("\n").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    if std::env::var_os("CORSAIR_CORSCANNER_DEBUG").is_some() {
        eprintln!("{}", String::from_utf8_lossy(&o.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("CORScanner: {e}: {}", String::from_utf8_lossy(&o.stderr)));
    let found = v["found"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(u, t)| {
            (
                u.clone(),
                t.as_str().map(|t| corscanner_class(t).to_string()),
            )
        })
        .collect();
    (found, v["seconds"].as_f64().unwrap())
}

/// Whether `general` (found by corsair) implies `specific`: the folding of
/// `corsair_core::audit` (a server that reflects everything also passes every mutation, a suffix
/// check passes any subdomain and loose dots, a prefix check passes special characters and ports).
/// url → every class found or implied by a finding (`implied`), from `--format json`.
fn covered(v: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        let e = m.entry(f["url"].as_str().unwrap().to_string()).or_default();
        e.insert(f["class"].as_str().unwrap().to_string());
        for c in f["implied"].as_array().unwrap() {
            e.insert(c.as_str().unwrap().to_string());
        }
    }
    m
}

/// CORScanner resolves names itself, so the fleet is addressed by name and the Python side maps
/// fleet.test names to 127.0.0.1 (and refuses every other lookup).
#[test]
fn side_by_side_with_corscanner() {
    let fleet = Fleet::start();
    let targets = fleet.targets();
    let urls: Vec<String> = targets.iter().map(|(u, _)| u.clone()).collect();

    let mut args = fleet.args(&["--format", "json"]);
    args.extend(urls.iter().cloned());
    let o = corsair(&args, None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ours = classes(&v);
    let implied = covered(&v);
    let (theirs, _) = corscanner(&urls);

    println!(
        "\n{:<28} {:<42} {:<24}",
        "fleet target", "corsair audit", "CORScanner"
    );
    let (mut our_tp, mut our_fp, mut expected_total) = (0, 0, 0);
    let (mut their_exact, mut their_weaker, mut their_fp) = (0, 0, 0);
    for (url, want) in &targets {
        let path = url
            .split_once(".test:")
            .unwrap()
            .1
            .split_once('/')
            .unwrap()
            .1;
        let got = ours.get(url).cloned().unwrap_or_default();
        let got_or_implied = implied.get(url).cloned().unwrap_or_default();
        let their = theirs.get(url).cloned().flatten();
        expected_total += want.len();
        our_tp += got.intersection(want).count();
        our_fp += got.difference(want).count();
        let mut note = "";
        match &their {
            Some(c) if want.contains(c) => their_exact += 1,
            Some(c) if got_or_implied.contains(c) => {
                their_weaker += 1;
                note = " (implied by corsair's root cause)";
            }
            Some(_) => their_fp += 1,
            None => {}
        }
        println!(
            "/{:<27} {:<42} {}{note}",
            path,
            got.iter().cloned().collect::<Vec<_>>().join(", "),
            their.clone().unwrap_or_else(|| "-".into())
        );
        if let Some(c) = &their {
            assert!(
                got_or_implied.contains(c),
                "{url}: CORScanner found {c}, corsair did not ({got_or_implied:?})"
            );
        }
    }
    println!(
        "classes expected {expected_total}: corsair found {our_tp} with {our_fp} false \
        positives; CORScanner found {their_exact} exactly, {their_weaker} as a consequence corsair \
        lists as implied, with {their_fp} false positives"
    );
    assert_eq!(our_fp, 0);
    assert_eq!(our_tp, expected_total);

    // Throughput on the same fleet, many times over (paths with a query to make them distinct).
    let copies = 10;
    let many: Vec<String> = (0..copies)
        .flat_map(|i| urls.iter().map(move |u| format!("{u}?copy={i}")))
        .collect();
    let mut args = fleet.args(&["--format", "json", "--per-host", "64", "--input", "-"]);
    args.retain(|a| a != "--insecure");
    args.push("--insecure".into());
    let t = Instant::now();
    let o = corsair(&args, Some(&many.join("\n")));
    let ours_s = t.elapsed().as_secs_f64();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let requests = v["summary"]["requests"].as_u64().unwrap();
    let (_, theirs_s) = corscanner(&many);
    println!(
        "throughput, {} targets: corsair audit {ours_s:.2} s ({requests} requests, {:.0} \
            targets/s), CORScanner {theirs_s:.2} s ({:.0} targets/s): {:.1}x",
        many.len(),
        many.len() as f64 / ours_s,
        many.len() as f64 / theirs_s,
        theirs_s / ours_s
    );
}

/// Real servers misconfigured as users do it: Express `cors({origin: true, credentials: true})`
/// and `cors({origin: /api\.fleet\.test/})` (a RegExp the cors package tests unanchored: any
/// origin containing the host), Starlette with an unescaped `allow_origin_regex` and with
/// `allow_origins=["*"]` on an account endpoint, nginx echoing `$http_origin`, and nginx with
/// `auth_basic` in front of the API (the preflight gets 401), and nginx adding its CORS headers
/// without `always` (its 404s have none).
#[test]
fn real_peers_misconfigured_as_users_do_it() {
    let deps = crate::support::browser_deps();
    let dir = std::env::temp_dir().join(format!("corsair-audit-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut procs = Vec::new();

    let express = free_port();
    let js = dir.join("express.js");
    std::fs::write(
        &js,
        format!(
            "const express = require('express');\nconst cors = \
        require('cors');\nconst app = express();\napp.use('/api/me', cors({{ origin: true, \
        credentials: true }}));\napp.use('/api/contains', cors({{ origin: /api\\.fleet\\.test/, \
        credentials: true }}));\napp.get('/api/me', (req, res) => res.json({{ user: 'alice' \
        }}));\napp.get('/api/contains', (req, res) => res.json({{ user: 'alice' \
        }}));\napp.listen({express}, '127.0.0.1');\n"
        ),
    )
    .unwrap();
    procs.push(Proc(
        Command::new("node")
            .arg(&js)
            .env("NODE_PATH", &deps.node_modules)
            .spawn()
            .unwrap(),
    ));

    let starlette = free_port();
    let starlette_public = free_port();
    let py = dir.join("starlette_app.py");
    std::fs::write(
        &py,
        format!(
            "import uvicorn\nfrom starlette.applications import \
        Starlette\nfrom starlette.middleware import Middleware\nfrom starlette.middleware.cors \
        import CORSMiddleware\nfrom starlette.responses import JSONResponse\nfrom \
        starlette.routing import Route\n\nasync def me(request):\n    return \
        JSONResponse({{'user': 'alice'}})\n\n# The dots are not escaped: 'https://.*.fleet.test' \
        also matches https://attackerfleet.test.\napp = Starlette(routes=[Route('/api/me', me)], \
        middleware=[Middleware(CORSMiddleware, allow_origin_regex='https://.*.fleet.test', \
        allow_credentials=True, allow_methods=['*'], allow_headers=['*'])])\n\nasync def \
        account(request):\n    return JSONResponse({{'account': {{'email': 'alice@fleet.test', \
        'api_key': 'k-4f1c9e'}}}})\n\n# '*' as the quick fix, on an endpoint that returns the \
        account's key.\npublic = Starlette(routes=[Route('/api/account', account)], \
        middleware=[Middleware(CORSMiddleware, allow_origins=['*'])])\n\nimport asyncio\nasync def \
        main():\n    servers = [uvicorn.Server(uvicorn.Config(a, host='127.0.0.1', port=p, \
        log_level='warning')) for a, p in [(app, {starlette}), (public, {starlette_public})]]\n    \
        await asyncio.gather(*(s.serve() for s in servers))\nasyncio.run(main())\n"
        ),
    )
    .unwrap();
    procs.push(Proc(
        Command::new(venv_python())
            .arg(&py)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));

    let nginx = free_port();
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("me"), "{\"user\":\"alice\"}").unwrap();
    std::fs::write(dir.join("htpasswd"), "alice:{PLAIN}secret\n").unwrap();
    // `/private/`: basic authentication before anything, so the preflight (which never carries
    // credentials) gets 401.
    procs.push(crate::support::start_nginx(
        &dir,
        &format!(
            "server {{\n    listen \
        127.0.0.1:{nginx};\n    location / {{\n      add_header Access-Control-Allow-Origin \
        $http_origin always;\n      add_header Access-Control-Allow-Credentials true \
        always;\n      return 200 '{{\"user\":\"alice\"}}';\n    }}\n    location /private/ \
        {{\n      auth_basic \"api\";\n      auth_basic_user_file {}/htpasswd;\n      alias \
        {}/;\n      default_type application/json;\n      add_header Access-Control-Allow-Origin \
        https://api.fleet.test always;\n      add_header Access-Control-Allow-Credentials true \
        always;\n      add_header Vary Origin always;\n    }}\n    location /public/ {{\n      \
        alias {}/;\n      default_type application/json;\n      add_header \
        Access-Control-Allow-Origin https://api.fleet.test;\n      add_header Vary Origin;\n    \
        }}\n  }}",
            dir.display(),
            www.display(),
            www.display()
        ),
        nginx,
    ));
    // In the order they were started; nginx is waited for as it starts.
    for (i, port, what) in [
        (0, express, "express"),
        (1, starlette, "starlette"),
        (1, starlette_public, "starlette"),
    ] {
        wait_port(port, what, &mut procs[i].0);
    }

    let mut args: Vec<String> = ["audit", "--format", "json", "--timeout", "5"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut want: Vec<(String, &[&str])> = Vec::new();
    for (port, path, classes) in [
        (
            express,
            "/api/me",
            &["reflect-origin", "preflight-reflect"][..],
        ),
        (
            express,
            "/api/contains",
            &["substring-bypass", "preflight-reflect"][..],
        ),
        (
            starlette,
            "/api/me",
            &["suffix-bypass", "preflight-reflect"][..],
        ),
        (
            starlette_public,
            "/api/account",
            &["wildcard-sensitive"][..],
        ),
        (nginx, "/api/me", &["reflect-origin", "missing-vary"][..]),
        (nginx, "/private/me", &["preflight-auth"][..]),
        // CORS headers without `always`: the 404 of a path under it has none.
        (nginx, "/public/me", &["errors-without-cors"][..]),
    ] {
        let resolve = format!("api.fleet.test:{port}:127.0.0.1");
        if !args.contains(&resolve) {
            args.push("--resolve".into());
            args.push(resolve);
        }
        let url = format!("http://api.fleet.test:{port}{path}");
        args.push(url.clone());
        want.push((url, classes));
    }
    let o = corsair(&args, None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let found = classes(&v);
    for (url, classes) in want {
        let want: BTreeSet<String> = classes.iter().map(|s| s.to_string()).collect();
        assert_eq!(found.get(&url), Some(&want), "{url}\n{v:#}");
    }
    let high = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "high")
        .count();
    assert_eq!(high, 4, "credentials with attacker origins: {v:#}");
    let by = |class: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["class"] == class)
            .unwrap()
            .clone()
    };
    // The contains check is one finding that implies the prefix and special-character tricks.
    let contains = by("substring-bypass");
    for c in ["prefix-bypass", "special-char-bypass", "any-subdomain"] {
        assert!(
            contains["implied"].as_array().unwrap().contains(&c.into()),
            "{contains:#}"
        );
    }
    // The account's fields are named, their values never shown.
    let sensitive = by("wildcard-sensitive");
    assert_eq!(sensitive["severity"], "medium");
    let fields: Vec<&str> = sensitive["exposed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["account.api_key", "account.email"]);
    assert!(!v.to_string().contains("k-4f1c9e") && !v.to_string().contains("alice@fleet.test"));
    assert_eq!(by("preflight-auth")["severity"], "low");
    drop(procs);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rate_limit_spaces_requests_and_a_terminal_gets_a_progress_bar() {
    let fleet = Fleet::start();
    let url = format!("http://api.fleet.test:{}/safe-exact", fleet.plain);
    // --rate is an upper bound on requests a second: N requests take at least (N-1)/rate.
    let mut a = fleet.args(&["--format", "json", "--rate", "200"]);
    a.push(url.clone());
    let t = Instant::now();
    let o = corsair(&a, None);
    let elapsed = t.elapsed().as_secs_f64();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = v["summary"]["requests"].as_f64().unwrap();
    assert!(
        elapsed >= (n - 1.0) / 200.0,
        "{n} requests in {elapsed:.3} s"
    );

    // On a terminal (a pty from script(1)), the progress bar is drawn on stderr.
    let mut cmd = vec![env!("CARGO_BIN_EXE_corsair").to_string()];
    cmd.extend(fleet.args(&[]));
    cmd.push(url);
    let line = cmd
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let o = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .output()
        .expect("script(1) from util-linux");
    let tty = String::from_utf8_lossy(&o.stdout);
    assert!(tty.contains("auditing"), "{tty}");
    // Not on a pipe.
    let mut a = fleet.args(&[]);
    a.push(format!("http://api.fleet.test:{}/safe-exact", fleet.plain));
    assert!(!String::from_utf8_lossy(&corsair(&a, None).stderr).contains("auditing"));
}

/// A long --input list streams: each target's line is written as it finishes (a kill loses
/// only the targets in flight), --resume skips what the journal records and appends the rest,
/// a line that is not a URL is that target's error, and --per-host-rate holds per host.
#[test]
fn long_lists_stream_resume_and_keep_per_host_rates() {
    use std::io::{BufRead, BufReader};
    let fleet = Fleet::start();
    let base: Vec<String> = fleet.targets().into_iter().map(|(u, _)| u).collect();
    let mut urls: Vec<String> = (0..8)
        .flat_map(|i| base.iter().map(move |u| format!("{u}?copy={i}")))
        .collect();
    // Last, so the second run is the one that meets it.
    urls.push("api.fleet.test/no-scheme".into());
    let dir = std::env::temp_dir().join(format!("corsair-audit-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("targets.txt");
    std::fs::write(&list, urls.join("\n")).unwrap();
    let journal = dir.join("journal.jsonl");
    let _ = std::fs::remove_file(&journal);
    let args = fleet.args(&[
        "--format",
        "jsonl",
        "--per-host",
        "4",
        "--input",
        list.to_str().unwrap(),
        "--resume",
        journal.to_str().unwrap(),
    ]);

    // First run: killed once a fifth of the targets are done.
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen_done = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["done"] == true {
            seen_done += 1;
            if seen_done == urls.len() / 5 {
                break;
            }
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let done_in = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["done"] == true)
            .map(|v| v["url"].as_str().unwrap().to_string())
            .collect()
    };
    let first = done_in(&std::fs::read_to_string(&journal).unwrap());
    assert!(
        first.len() >= urls.len() / 5 && first.len() < urls.len(),
        "{} of {}",
        first.len(),
        urls.len()
    );
    // An interrupted line at the end of the journal is ignored.
    let mut j = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    j.write_all(b"{\"url\": \"http://cut.short").unwrap();
    drop(j);

    // Second run: only the rest, appended to the journal.
    let o = corsair(&args, None);
    assert_eq!(o.status.code(), Some(2), "the bad line is an error: exit 2");
    let second = done_in(&String::from_utf8_lossy(&o.stdout));
    assert!(
        second.iter().all(|u| !first.contains(u)),
        "a target audited twice"
    );
    assert_eq!(first.len() + second.len(), urls.len());
    let all = done_in(&std::fs::read_to_string(&journal).unwrap());
    assert_eq!(all.len(), urls.len());
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stderr).lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["summary"]["skipped"].as_u64(),
        Some(first.len() as u64)
    );
    let bad = String::from_utf8_lossy(&o.stdout)
        .lines()
        .chain(std::fs::read_to_string(&journal).unwrap().lines())
        .find(|l| l.contains("no-scheme"))
        .map(str::to_string)
        .unwrap();
    assert!(
        bad.contains(&format!("--input line {}", urls.len())) && bad.contains("not a URL"),
        "{bad}"
    );
    // A third run has nothing left to do.
    let o = corsair(&args, None);
    assert_eq!(done_in(&String::from_utf8_lossy(&o.stdout)).len(), 0);
    // Resuming with other options (a credential, or another trusted origin) would mix two audits
    // in one journal: refused, the journal untouched, and the credential nowhere in it.
    let before = std::fs::read(&journal).unwrap();
    for extra in [
        ["-H", "Cookie: session=resume-secret"],
        ["--origin", "https://other.fleet.test"],
    ] {
        let mut other = args.clone();
        other.extend(extra.iter().map(|s| s.to_string()));
        let o = corsair(&other, None);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains("other --origin, -H or --resolve options") && err.contains("sha256:"),
            "{err}"
        );
        assert!(o.stdout.is_empty());
        assert_eq!(std::fs::read(&journal).unwrap(), before, "{extra:?}");
    }
    assert!(!String::from_utf8_lossy(&before).contains("resume-secret"));
    // Every target's line records the options it was audited with.
    let recorded: std::collections::HashSet<String> = String::from_utf8_lossy(&before)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("done").is_some())
        .map(|v| v["options"].as_str().unwrap_or("none").to_string())
        .collect();
    assert_eq!(recorded.len(), 1, "{recorded:?}");

    // --per-host-rate: no host gets more than R requests in any second, and one host waiting
    // for its turn holds none of the global places (--concurrency 4): the second host's probes
    // start alongside the first's, not after them.
    let rate = 40.0;
    let mut a = fleet.args(&[
        "--format",
        "json",
        "--per-host-rate",
        &rate.to_string(),
        "--concurrency",
        "4",
        "--per-host",
        "1",
    ]);
    // Three targets on the first host, then one on the second.
    for i in 0..3 {
        a.push(format!(
            "http://api.fleet.test:{}/safe-exact?rate={i}",
            fleet.plain
        ));
    }
    a.push(format!(
        "https://api.fleet.test:{}/safe-exact?rate",
        fleet.tls
    ));
    let start = std::time::Instant::now();
    let o = corsair(&a, None);
    assert_eq!(o.status.code(), Some(0));
    let arrivals = |port: u16| -> Vec<std::time::Instant> {
        let host = format!("api.fleet.test:{port}");
        crate::audit_fleet::SEEN
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, t)| *h == host && *t >= start)
            .map(|(_, t)| *t)
            .collect()
    };
    assert!(
        arrivals(fleet.tls)[0] < arrivals(fleet.plain)[20],
        "the second host waited for the first"
    );
    for port in [fleet.plain, fleet.tls] {
        let host = format!("api.fleet.test:{port}");
        let times: Vec<std::time::Instant> = crate::audit_fleet::SEEN
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, t)| *h == host && *t >= start)
            .map(|(_, t)| *t)
            .collect();
        assert!(
            times.len() > rate as usize,
            "{host}: {} requests",
            times.len()
        );
        let most = times
            .iter()
            .map(|t0| {
                times
                    .iter()
                    .filter(|t| **t >= *t0 && t.duration_since(*t0).as_secs_f64() < 1.0)
                    .count()
            })
            .max()
            .unwrap();
        assert!(
            most <= rate as usize + 2,
            "{host}: {most} requests within one second"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
