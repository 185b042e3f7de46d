//! Every `gen` target's output for one policy, and for a policy with `[[routes]]` on the
//! targets that write routes (the others refuse it, and that refusal is pinned too), and the
//! four dev-server setups of `gen --dev`. Whether each output works is proven on the real
//! server in `peers::`; these pin its text, so a change is reviewed.

use super::{policy_dir, run};

/// Every policy key that changes a target's output: exact and pattern origins, methods,
/// request and exposed headers, credentials and max-age.
const POLICY: &str = r#"listen = "127.0.0.1:8080"
upstream = "http://127.0.0.1:3000"

[policy]
origins = ["https://app.example.com", "https://*.example.org"]
methods = ["GET", "POST", "PUT"]
request_headers = ["Content-Type", "Authorization"]
expose_headers = ["X-Request-Id"]
credentials = true
max_age = 600
"#;

/// POLICY plus a public route.
const ROUTES: &str = r#"
[[routes]]
path = "/public"
[routes.policy]
origins = ["*"]
methods = ["GET"]
credentials = false
"#;

/// Every target `corsair gen` takes, by the name the command line takes.
fn targets() -> impl Iterator<Item = &'static str> {
    corsair_core::gen::Target::ALL.iter().map(|t| t.name())
}

fn gen(dir: &std::path::Path, args: &[&str]) -> String {
    let file = dir.join("corsair.toml");
    let mut all = vec!["gen"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", file.to_str().unwrap()]);
    run(&all, None).replace(&*dir.to_string_lossy(), "[dir]")
}

#[test]
fn every_target() {
    let dir = policy_dir("gen", POLICY);
    for target in targets() {
        golden!(format!("gen-{target}"), gen(&dir, &[target]));
    }
}

#[test]
fn every_target_with_routes() {
    let dir = policy_dir("gen-routes", &format!("{POLICY}{ROUTES}"));
    for target in targets() {
        let out = gen(&dir, &[target]);
        // Each target either writes the routes or refuses the file; the refusals share one text,
        // so one of them is pinned and the others must say the same.
        if out.starts_with("exit 0\n") || target == "apache" {
            golden!(format!("gen-routes-{target}"), out);
        } else {
            assert!(
                out.starts_with("exit 2\n") && out.contains("does not write per-route policies"),
                "{target}: {out}"
            );
        }
    }
}

#[test]
fn every_dev_server() {
    let dir = policy_dir("gen-dev", POLICY);
    for target in ["vite", "webpack", "cra", "angular"] {
        let args = [
            target,
            "--dev",
            "--to",
            "http://127.0.0.1:5173",
            "--route",
            "/api=http://127.0.0.1:3000",
            "--route",
            "/auth=http://127.0.0.1:4000",
        ];
        golden!(format!("gen-dev-{target}"), gen(&dir, &args));
    }
}
