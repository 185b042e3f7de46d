//! Real servers running `corsair gen` output: each generated config or app written for a policy
//! file and started on a loopback port, for the tests that prove generated code on the real
//! server (gen's own tests, and the fixes that `check`, `explain` and `demo` print).

use super::{free_port, start_nginx, wait_port, workspace_root, Proc, Resp, Route, Server};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The upstream behind generated proxies: `/api/items` answers 200 with JSON (and 200 to an
/// `OPTIONS` that gets through).
pub fn items_upstream() -> Server {
    let up = Server::start(1);
    up.route(
        up.ports[0],
        "/api/items",
        Route {
            preflight: Resp::new(200),
            actual: Resp::new(200).h("Content-Type", "application/json"),
        },
    );
    up
}

/// Runs `corsair gen TARGET --config CONFIG --listen LISTEN --output OUT`, failing the test on error.
pub fn gen(target: &str, config: &Path, listen: &str, out: &Path) {
    gen_with(target, config, &["--listen", listen], out);
}

/// `corsair gen` with extra arguments.
pub fn gen_with(target: &str, config: &Path, args: &[&str], out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["gen", target, "--config", config.to_str().unwrap()])
        .args(args)
        .args(["--output", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gen {target}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The Python of `.test-deps/venv`, which `scripts/test.sh` fills with the frameworks.
pub fn venv() -> PathBuf {
    let p = workspace_root().join(".test-deps/venv/bin/python");
    assert!(
        p.exists(),
        "the peer tests need .test-deps/venv with starlette, uvicorn, flask, \
        flask-cors, django and django-cors-headers: run `bash scripts/test.sh`"
    );
    p
}

/// Caddy running the generated `caddyfile` on `port`, its state kept under `dir`.
pub fn start_caddy(dir: &Path, caddyfile: &Path, port: u16) -> Proc {
    let home = dir.join("caddy-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut c = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(caddyfile)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("caddy is installed by scripts/test.sh");
    wait_port(port, "caddy", &mut c);
    Proc(c)
}

/// Apache httpd running the generated `site` on `port`, its run files under `dir`.
pub fn start_apache(dir: &Path, site: &Path, port: u16) -> Proc {
    let root = dir.join(format!("apache-{port}"));
    std::fs::create_dir_all(&root).unwrap();
    let r = root.display();
    let modules = [
        "mpm_event",
        "authz_core",
        "headers",
        "setenvif",
        "rewrite",
        "proxy",
        "proxy_http",
    ]
    .iter()
    .map(|m| format!("LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n"))
    .collect::<String>();
    std::fs::write(
        root.join("httpd.conf"),
        format!(
            "ServerRoot {r}\nDefaultRuntimeDir {r}\nPidFile {r}/httpd.pid\nErrorLog \
            {r}/error.log\nLogLevel warn\nMutex file:{r} default\nServerName localhost\nUser \
            nobody\nGroup nogroup\n{modules}Include {}\n",
            site.display()
        ),
    )
    .unwrap();
    let mut c = Command::new("/usr/sbin/apache2")
        .args([
            "-f",
            &root.join("httpd.conf").to_string_lossy(),
            "-DFOREGROUND",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("apache2 is installed by scripts/test.sh");
    wait_port(port, "apache", &mut c);
    Proc(c)
}

/// Writes `config` for `target` (nginx, apache, caddy, express, starlette, flask, django) into
/// `dir` and starts it on a free port. Returns the server and its base URL.
pub fn start_generated(target: &str, config: &Path, dir: &Path) -> (Proc, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let out = dir.join(format!("{target}-{port}.gen"));
    gen(target, config, &listen, &out);
    let proc = match target {
        "nginx" => start_nginx(
            &dir.join(format!("nginx-{port}")),
            &format!("include {};", out.display()),
            port,
        ),
        "apache" => start_apache(dir, &out, port),
        "caddy" => start_caddy(dir, &out, port),
        "express" => {
            let deps = super::browser_deps();
            let mut c = Command::new("node")
                .arg(&out)
                .env("NODE_PATH", &deps.node_modules)
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            wait_port(port, target, &mut c);
            Proc(c)
        }
        "starlette" | "flask" | "django" => {
            let mut c = Command::new(venv())
                .arg(&out)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            wait_port(port, target, &mut c);
            Proc(c)
        }
        other => panic!("start_generated: no way to start {other}"),
    };
    (proc, format!("http://{listen}"))
}

/// Writes a cargo project at `project` with one binary per (name, source) and starts building
/// it offline with the workspace's lock file (so the versions are the ones already
/// downloaded), in the target directory every generated axum project shares. Returns the
/// build and the file its output goes to; the binaries land in [`axum_bin_dir`].
pub fn start_axum_build(project: &Path, bins: &[(String, String)]) -> (Child, PathBuf) {
    let root = workspace_root();
    std::fs::create_dir_all(project.join("src")).unwrap();
    let crates = root.join("crates");
    let mut manifest = format!(
        r#"[package]
name = "corsair-gen-{}"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
axum = {{ version = "0.8", default-features = false, features = ["tokio", "http1"] }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread", "net"] }}
tower-http = {{ version = "0.6", features = ["cors"] }}
regex = "1"
corsair-core = {{ path = "{}" }}
corsair-tower = {{ path = "{}" }}

# Built once per run and never debugged: no debug information, no incremental state.
[profile.dev]
debug = false
incremental = false
"#,
        project.file_name().unwrap().to_string_lossy(),
        crates.join("corsair-core").display(),
        crates.join("corsair-tower").display()
    );
    for (name, source) in bins {
        let file = format!("src/{name}.rs");
        std::fs::write(project.join(&file), source).unwrap();
        manifest.push_str(&format!(
            "\n[[bin]]\nname = \"{name}\"\npath = \"{file}\"\n"
        ));
    }
    std::fs::write(project.join("Cargo.toml"), manifest).unwrap();
    if !project.join("Cargo.lock").exists() {
        std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    }
    let log = project.join("build.log");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let child = Command::new(cargo)
        .args(["build", "--offline", "--quiet", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", axum_target_dir())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    (child, log)
}

/// The target directory the generated axum projects share (under target/, so a second run
/// reuses the build).
fn axum_target_dir() -> PathBuf {
    workspace_root().join("target/gen-axum/target")
}

/// Where [`start_axum_build`] puts the binaries.
pub fn axum_bin_dir() -> PathBuf {
    axum_target_dir().join("debug")
}

/// Waits for a build from [`start_axum_build`], failing the test with its log if it failed.
pub fn finish_axum_build(build: (Child, PathBuf)) {
    let (mut child, log) = build;
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the generated axum apps did not compile:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// Starts a binary built by [`start_axum_build`] that listens on `port`.
pub fn start_axum_bin(name: &str, port: u16) -> Proc {
    let mut c = Command::new(axum_bin_dir().join(name))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, name, &mut c);
    Proc(c)
}
