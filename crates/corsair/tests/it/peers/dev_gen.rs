//! `corsair gen vite|webpack|cra --dev` on the real dev servers (Vite 5, webpack-dev-server 5,
//! react-scripts 5, installed by `scripts/test.sh` into `.test-deps/dev-servers`): each
//! generated configuration is started, and must do through the dev server what `corsair dev`
//! does (the same assertions: longest prefix on a segment boundary, paths unchanged, the
//! upstream's Host, Location and Set-Cookie on the dev origin, a WebSocket both ways).

use crate::dev::Upstreams;
use crate::support::{free_port, wait_port_for, workspace_root, Proc};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn dev_servers() -> PathBuf {
    let p = std::env::var_os("CORSAIR_DEV_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".test-deps/dev-servers/node_modules"));
    assert!(
        p.join("vite").is_dir()
            && p.join("webpack-dev-server").is_dir()
            && p.join("react-scripts").is_dir(),
        "no dev servers in {} (bash scripts/test.sh installs them)",
        p.display()
    );
    p
}

fn angular() -> PathBuf {
    let p = std::env::var_os("CORSAIR_ANGULAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".test-deps/angular/node_modules"));
    assert!(
        p.join("@angular/cli").is_dir(),
        "no Angular CLI in {} (bash scripts/test.sh installs it)",
        p.display()
    );
    p
}

/// A project directory with `files`, and `node_modules` linked to the installed dev servers.
fn project(name: &str, files: &[(&str, String)]) -> PathBuf {
    project_with(name, files, &dev_servers())
}

fn project_with(name: &str, files: &[(&str, String)], modules: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("corsair-devgen-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(modules, dir.join("node_modules")).unwrap();
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn gen(target: &str, port: u16, u: &Upstreams) -> String {
    let to = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corsair"));
    cmd.args(["gen", target, "--dev", "--to", &to]);
    for r in u.routes() {
        cmd.args(["--route", &r]);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn start(dir: &Path, args: &[&str], env: &[(&str, String)], port: u16, what: &str) -> Proc {
    let child = Command::new("node")
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("NODE_ENV", "development")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut p = Proc(child);
    // Angular's and Create React App's first build takes tens of seconds on two busy cores,
    // and ng serve opens its port before it answers (it reset the first request under load).
    wait_port_for(port, what, &mut p.0, 90);
    let t = std::time::Instant::now();
    while !answers(port) {
        assert!(
            t.elapsed().as_secs() < 90,
            "{what} listens on {port} but never answers"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    p
}

/// Whether the server on `port` answers a GET with an HTTP status line.
fn answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let req = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

#[test]
fn generated_dev_proxies_do_what_corsair_dev_does() {
    let mut done = Vec::new();
    // Vite: vite.config.mjs beside index.html.
    {
        let u = Upstreams::start();
        let port = free_port();
        let dir = project(
            "vite",
            &[
                ("vite.config.mjs", gen("vite", port, &u)),
                (
                    "index.html",
                    "<!doctype html><title>front</title><script type=module src=/main.js></script>"
                        .into(),
                ),
                ("main.js", "console.log('front');\n".into()),
            ],
        );
        let _p = start(&dir, &["node_modules/vite/bin/vite.js"], &[], port, "vite");
        u.assert_one_origin(&format!("127.0.0.1:{port}"), "vite");
        done.push("vite");
    }
    // webpack-dev-server: webpack.config.js and src/index.js.
    {
        let u = Upstreams::start();
        let port = free_port();
        let dir = project(
            "webpack",
            &[
                ("webpack.config.js", gen("webpack", port, &u)),
                ("src/index.js", "console.log('front');\n".into()),
            ],
        );
        let _p = start(
            &dir,
            &["node_modules/webpack-cli/bin/cli.js", "serve"],
            &[],
            port,
            "webpack-dev-server",
        );
        u.assert_one_origin(&format!("127.0.0.1:{port}"), "webpack");
        done.push("webpack");
    }
    // Create React App: src/setupProxy.js in a react-scripts project.
    {
        let u = Upstreams::start();
        let port = free_port();
        let dir = project(
            "cra",
            &[
                (
                    "package.json",
                    r#"{"name":"front","private":true,"browserslist":["last 1 chrome version"]}"#
                        .into(),
                ),
                (
                    "public/index.html",
                    "<!doctype html><title>front</title><div id=root></div>".into(),
                ),
                (
                    "src/index.js",
                    "document.getElementById('root').textContent = 'front';\n".into(),
                ),
                ("src/setupProxy.js", gen("cra", port, &u)),
            ],
        );
        let env = [
            ("BROWSER", "none".to_string()),
            ("HOST", "127.0.0.1".to_string()),
            ("PORT", port.to_string()),
            ("CI", "true".to_string()),
            ("SKIP_PREFLIGHT_CHECK", "true".to_string()),
            ("DISABLE_ESLINT_PLUGIN", "true".to_string()),
            ("FAST_REFRESH", "false".to_string()),
        ];
        let _p = start(
            &dir,
            &["node_modules/react-scripts/bin/react-scripts.js", "start"],
            &env,
            port,
            "react-scripts start",
        );
        u.assert_one_origin(&format!("127.0.0.1:{port}"), "cra");
        done.push("cra");
    }
    // Angular CLI 18: proxy.conf.json, served by the application builder (esbuild and Vite).
    {
        let u = Upstreams::start();
        let port = free_port();
        let angular_json = format!(
            r#"{{"version": 1, "projects": {{"front": {{"projectType": "application", "root": "", "sourceRoot": "src", "architect": {{
  "build": {{"builder": "@angular-devkit/build-angular:application", "options": {{"outputPath": "dist", "index": "src/index.html", "browser": "src/main.ts", "tsConfig": "tsconfig.json", "optimization": false, "sourceMap": false}}}},
  "serve": {{"builder": "@angular-devkit/build-angular:dev-server", "options": {{"buildTarget": "front:build", "proxyConfig": "proxy.conf.json", "host": "127.0.0.1", "port": {port}}}}}}}}}}}}}"#
        );
        let dir = project_with(
            "angular",
            &[
                ("angular.json", angular_json),
                ("package.json", r#"{"name":"front","private":true}"#.into()),
                ("tsconfig.json", r#"{"compilerOptions":{"target":"ES2022","module":"ES2022","moduleResolution":"bundler","strict":true},"files":["src/main.ts"]}"#.into()),
                ("src/main.ts", "console.log('front');\n".into()),
                ("src/index.html", "<!doctype html><title>front</title><body></body>".into()),
                ("proxy.conf.json", gen("angular", port, &u)),
            ],
            &angular(),
        );
        let env = [("NG_CLI_ANALYTICS", "false".to_string())];
        let _p = start(
            &dir,
            &["node_modules/@angular/cli/bin/ng.js", "serve"],
            &env,
            port,
            "ng serve",
        );
        u.assert_one_origin(&format!("127.0.0.1:{port}"), "angular");
        done.push("angular");
    }
    println!("gen --dev: {} behave as corsair dev", done.join(", "));
}
