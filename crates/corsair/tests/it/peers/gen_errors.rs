//! What the generated framework apps answer where `corsair serve` answers with the policy's
//! headers too (issue 34): the 500 of an unhandled exception in Starlette carries the CORS
//! headers (the middleware wraps the whole app, outside Starlette's error middleware), and
//! Express, Flask and Starlette send `Vary: Origin` to refused origins as well, so a shared
//! cache never serves an answer without CORS headers to an allowed origin. Real frameworks on
//! loopback, started from `corsair gen`'s own output.

use crate::support::peers::{gen, start_generated, venv};
use crate::support::{free_port, http, wait_port, Proc, SAMPLE_POLICY};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example.org";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("corsair-gen-errors-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(dir: &Path) -> PathBuf {
    let p = dir.join("corsair.toml");
    std::fs::write(&p, SAMPLE_POLICY).unwrap();
    p
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    h.iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn varies_on_origin(h: &[(String, String)]) -> bool {
    header(h, "vary")
        .iter()
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("origin"))
}

#[test]
fn refused_origins_get_vary_origin_in_every_framework() {
    let d = dir("vary");
    let cfg = config(&d);
    for target in ["express", "flask", "starlette"] {
        let (_p, base) = start_generated(target, &cfg, &d);
        let addr = base.trim_start_matches("http://");
        for origin in [APP, EVIL] {
            let (status, h, _) = http(addr, "GET", "/api/items", &[("Origin", origin)]);
            assert_eq!(status, 200, "{target}");
            assert!(varies_on_origin(&h), "{target} from {origin}: {h:?}");
            let acao = header(&h, "access-control-allow-origin");
            let expected: &[&str] = if origin == APP { &[APP] } else { &[] };
            assert_eq!(acao, expected, "{target} from {origin}");
        }
    }
}

#[test]
fn a_crash_in_starlette_is_readable_to_an_allowed_page() {
    let d = dir("crash");
    let cfg = config(&d);
    let port = free_port();
    let out = d.join("app.py");
    gen("starlette", &cfg, &format!("127.0.0.1:{port}"), &out);
    // The generated file as an application imports it, with a route that raises.
    let runner = d.join("run.py");
    std::fs::write(
        &runner,
        format!(
            "import runpy, uvicorn\nns = runpy.run_path({:?})\nasync def boom(request):\n    raise \
                RuntimeError('boom')\nns['api'].add_route('/api/boom', \
                boom)\nuvicorn.run(ns['app'], host='127.0.0.1', port={port}, log_level='critical')\n",
            out.display().to_string()
        ),
    )
    .unwrap();
    let mut c = Command::new(venv())
        .arg(&runner)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, "starlette", &mut c);
    let _p = Proc(c);
    let addr = format!("127.0.0.1:{port}");
    let (status, h, _) = http(&addr, "GET", "/api/boom", &[("Origin", APP)]);
    assert_eq!(status, 500);
    assert_eq!(header(&h, "access-control-allow-origin"), [APP], "{h:?}");
    assert_eq!(
        header(&h, "access-control-allow-credentials"),
        ["true"],
        "{h:?}"
    );
    let (status, h, _) = http(&addr, "GET", "/api/boom", &[("Origin", EVIL)]);
    assert_eq!(status, 500);
    assert!(
        header(&h, "access-control-allow-origin").is_empty(),
        "{h:?}"
    );
    // What worked before still works: the route, and the preflight answered before routing.
    let (status, h, _) = http(&addr, "GET", "/api/items", &[("Origin", APP)]);
    assert_eq!(
        (status, header(&h, "access-control-allow-origin")),
        (200, vec![APP])
    );
    let (status, h, _) = http(
        &addr,
        "OPTIONS",
        "/api/items",
        &[
            ("Origin", APP),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    assert_eq!(status, 200);
    assert_eq!(header(&h, "access-control-allow-origin"), [APP]);
}
