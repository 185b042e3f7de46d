//! Test support: a scriptable HTTP server on loopback, and the location of the browser
//! dependencies that `scripts/test.sh` installs.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

pub mod peers;
mod wire;

/// A canned response.
#[derive(Clone, Debug, Default)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Wait this long before answering.
    pub delay: Option<std::time::Duration>,
    /// The body; `{"ok":true}` when `None`.
    pub body: Option<Vec<u8>>,
}

impl Resp {
    pub fn new(status: u16) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            delay: None,
            body: None,
        }
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Resp {
        self.body = Some(body.into());
        self
    }
    pub fn h(mut self, name: &str, value: impl AsRef<[u8]>) -> Resp {
        self.headers
            .push((name.to_string(), value.as_ref().to_vec()));
        self
    }
}

/// What one path answers: to OPTIONS, and to every other method.
#[derive(Clone, Debug)]
pub struct Route {
    pub preflight: Resp,
    pub actual: Resp,
}

/// A request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub port: u16,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The value of the (lowercase) header `name`, or `-`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map_or("-", |(_, v)| v.as_str())
    }
}

type Routes = Arc<Mutex<HashMap<(u16, String), Route>>>;

/// Several listeners on 127.0.0.1 (one origin each) sharing a route table and a request log.
pub struct Server {
    pub ports: Vec<u16>,
    routes: Routes,
    log: Arc<Mutex<Vec<Seen>>>,
    _rt: tokio::runtime::Runtime,
}

const PAGE: &str = "<!doctype html><html><head><meta charset=utf-8><title>corsair test \
    page</title></head><body>corsair</body></html>";

impl Server {
    /// Starts `n` listeners; the first serves a blank HTML page at `/`.
    pub fn start(n: usize) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let routes: Routes = Arc::default();
        let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let mut ports = Vec::new();
        for i in 0..n {
            let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
            let port = listener.local_addr().unwrap().port();
            ports.push(port);
            let (routes, log) = (routes.clone(), log.clone());
            rt.spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (routes, log) = (routes.clone(), log.clone());
                    tokio::spawn(async move {
                        let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                            let (routes, log) = (routes.clone(), log.clone());
                            async move {
                                let (resp, delay) = answer(port, i == 0, req, &routes, &log);
                                if let Some(d) = delay {
                                    tokio::time::sleep(d).await;
                                }
                                Ok::<_, Infallible>(resp)
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(wire::Wire::new(stream)), svc)
                            .await;
                    });
                }
            });
        }
        Server {
            ports,
            routes,
            log,
            _rt: rt,
        }
    }

    pub fn origin(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    pub fn route(&self, port: u16, path: &str, route: Route) {
        self.routes
            .lock()
            .unwrap()
            .insert((port, path.to_string()), route);
    }

    /// Takes the log of requests seen so far, leaving it empty.
    pub fn take_log(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

fn answer(
    port: u16,
    page: bool,
    req: hyper::Request<hyper::body::Incoming>,
    routes: &Routes,
    log: &Mutex<Vec<Seen>>,
) -> (hyper::Response<Full<Bytes>>, Option<std::time::Duration>) {
    let path = req.uri().path().to_string();
    let method = req.method().as_str().to_string();
    log.lock().unwrap().push(Seen {
        port,
        method: method.clone(),
        path: path.clone(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    });
    if page && path == "/" {
        let r = hyper::Response::builder()
            .header("Content-Type", "text/html; charset=utf-8")
            .body(Full::new(Bytes::from_static(PAGE.as_bytes())))
            .unwrap();
        return (r, None);
    }
    let route = routes.lock().unwrap().get(&(port, path)).cloned();
    let Some(route) = route else {
        let r = hyper::Response::builder()
            .status(404)
            .body(Full::new(Bytes::from_static(b"no route")))
            .unwrap();
        return (r, None);
    };
    let r = if method == "OPTIONS" {
        route.preflight
    } else {
        route.actual
    };
    let mut b = hyper::Response::builder().status(r.status);
    for (n, v) in &r.headers {
        // Control bytes go out as marks, which the connection turns back into the bytes.
        b = b.header(
            n.as_str(),
            hyper::header::HeaderValue::from_bytes(&wire::marked(v)).unwrap(),
        );
    }
    let body = match r.body {
        Some(b) => Bytes::from(b),
        None => Bytes::from_static(b"{\"ok\":true}"),
    };
    (b.body(Full::new(body)).unwrap(), r.delay)
}

/// Where the browser test's dependencies are: node_modules with playwright-core, and Chromium.
pub struct BrowserDeps {
    pub node_modules: PathBuf,
    pub chromium: PathBuf,
}

/// Finds the browser dependencies, or fails the test saying how to install them.
pub fn browser_deps() -> BrowserDeps {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let node_modules = std::env::var_os("CORSAIR_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".test-deps/node_modules"));
    let chromium = std::env::var_os("CORSAIR_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        node_modules.join("playwright-core").is_dir() && chromium.exists(),
        "the browser tests need Debian's chromium ({}) and playwright-core in {}: run `bash \
            scripts/test.sh`, which installs both",
        chromium.display(),
        node_modules.display()
    );
    BrowserDeps {
        node_modules,
        chromium,
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The sample policy of the tests (`tests/fixtures/sample-policy.toml`): a `[policy]` table
/// that tests append keys to, or add tables after.
pub const SAMPLE_POLICY: &str = include_str!("../../../../../tests/fixtures/sample-policy.toml");

/// A `corsair serve` process on loopback (port 0), with its stderr collected.
pub struct Gateway {
    pub child: Child,
    pub addr: String,
    pub admin: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Gateway {
    /// Starts `corsair serve --config CONFIG EXTRA...` with its log at `info` (access lines
    /// included).
    pub fn start(config: &Path, extra: &[&str]) -> Gateway {
        Gateway::start_logging(config, extra, "info")
    }

    /// The same with `CORSAIR_LOG=log` (`warn` under load: no line per request).
    pub fn start_logging(config: &Path, extra: &[&str], log: &str) -> Gateway {
        let mut args = vec![
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        Gateway::spawn(&args, &[("CORSAIR_LOG", log)])
    }

    /// Any corsair command that prints `listening on http://ADDR` (and perhaps `metrics on
    /// http://ADDR/metrics`) once it serves, with `env` set.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut addr = String::new();
        let mut admin = String::new();
        for _ in 0..2 {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            let line = line.replace("listening on https://", "listening on http://");
            if let Some(a) = line.trim().strip_prefix("listening on http://") {
                addr = a.to_string();
            } else if let Some(a) = line.trim().strip_prefix("metrics on http://") {
                admin = a.trim_end_matches("/metrics").to_string();
            }
        }
        assert!(!addr.is_empty(), "the gateway did not start");
        // Keep reading stdout, so the process never writes to a closed pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Gateway {
            child,
            addr,
            admin,
            stderr,
        }
    }

    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then waits (up to 10 s) for the gateway to exit.
    pub fn terminate_and_wait(&mut self) {
        self.signal("-TERM");
        let t = std::time::Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(10),
                "the gateway did not exit"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    pub fn signal(&self, sig: &str) {
        Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP/1.1 request; returns (status, lowercase headers, body).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap_or("")
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let hs = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, hs, body.to_string())
}

/// Runs `scenarios` (see tests/browser/runner.mjs) in headless Chromium from a page at
/// `page_url`, and returns the runner's report: `version`, `results[]`, `console[]`.
pub fn run_chromium(page_url: &str, scenarios: &serde_json::Value) -> serde_json::Value {
    run_chromium_with(page_url, scenarios, &[])
}

/// [`run_chromium`] with extra Chromium switches.
pub fn run_chromium_with(
    page_url: &str,
    scenarios: &serde_json::Value,
    args: &[String],
) -> serde_json::Value {
    run_chromium_doc(
        &serde_json::json!({"pageUrl": page_url, "scenarios": scenarios, "args": args}),
    )
}

/// Runs several pages (`[{pageUrl, permissions, scenarios}]`, see tests/browser/runner.mjs)
/// one after the other in one headless Chromium with extra switches.
pub fn run_chromium_pages(pages: &serde_json::Value, args: &[String]) -> serde_json::Value {
    run_chromium_doc(&serde_json::json!({"pages": pages, "args": args}))
}

fn run_chromium_doc(doc: &serde_json::Value) -> serde_json::Value {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let deps = browser_deps();
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("corsair-chromium-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("scenarios.json");
    std::fs::write(&input, serde_json::to_vec(doc).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(workspace_root().join("tests/browser/runner.mjs"))
        .arg(&input)
        .env("CORSAIR_NODE_MODULES", &deps.node_modules)
        .env("CORSAIR_CHROMIUM", &deps.chromium)
        .output()
        .expect("run node");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "the Chromium runner failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("runner JSON")
}

/// A spawned server, stopped with SIGTERM first (nginx's master then stops its workers;
/// SIGKILL would orphan them) and killed if it lingers, with every process it started: a
/// launcher such as `react-scripts start` runs the dev server as a child that would outlive
/// it (`scripts/test.sh` fails the run if any process of the tests is left).
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        // The tree is read before anything is signalled: an orphan is adopted by init and
        // could no longer be found from here.
        let tree = descendants(self.0.id());
        let signal = |sig: &str, pids: &[u32]| {
            if !pids.is_empty() {
                let _ = Command::new("kill")
                    .arg(sig)
                    .args(pids.iter().map(u32::to_string))
                    .stderr(Stdio::null())
                    .status();
            }
        };
        signal("-TERM", &[self.0.id()]);
        signal("-TERM", &tree);
        let t = Instant::now();
        let mut exited = false;
        while t.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.0.try_wait() {
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if !exited {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
        let alive: Vec<u32> = tree
            .into_iter()
            .filter(|p| Path::new(&format!("/proc/{p}")).exists())
            .collect();
        if !alive.is_empty() {
            std::thread::sleep(Duration::from_millis(300));
            signal("-KILL", &alive);
        }
    }
}

/// Every process below `pid` (children, their children, ...), from `/proc`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            // `pid (comm) state ppid ...`: comm may hold spaces, so read after its last ')'.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.push((p, ppid));
            }
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`, failing if `child` exits first or after 20 s.
pub fn wait_port(port: u16, what: &str, child: &mut Child) {
    wait_port_for(port, what, child, 20);
}

/// [`wait_port`] with a limit of `secs` (a dev server compiles the app before it listens).
pub fn wait_port_for(port: u16, what: &str, child: &mut Child, secs: u64) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status:?}");
        }
        if t.elapsed() > Duration::from_secs(secs) {
            // The caller never gets to wrap it in a `Proc`: stop it and all it started here.
            let tree = descendants(child.id());
            let _ = child.kill();
            let _ = child.wait();
            if !tree.is_empty() {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .args(tree.iter().map(u32::to_string))
                    .stderr(Stdio::null())
                    .status();
            }
            panic!("{what} did not start listening on {port} within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A TLS acceptor with a fresh self-signed certificate for `name`, and that certificate as PEM.
pub fn tls_acceptor(name: &str) -> (tokio_rustls::TlsAcceptor, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let pem = cert.pem();
    let der = rustls_pki_types::CertificateDer::from(cert.der().to_vec());
    let key_der = rustls_pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der], key_der)
        .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), pem)
}

/// nginx with `http_body` in its `http { }` context (an `include` or a `server` block), its
/// prefix and temporary files under `dir`, waited for on `port`.
pub fn start_nginx(dir: &Path, http_body: &str, port: u16) -> Proc {
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(&prefix).unwrap();
    let p = prefix.display();
    std::fs::write(
        prefix.join("nginx.conf"),
        format!(
            "worker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log warn;\nevents {{ \
            worker_connections 256; }}\nhttp {{\n  access_log off;\n  client_body_temp_path \
            {p}/body; proxy_temp_path {p}/proxy; fastcgi_temp_path {p}/fcgi; uwsgi_temp_path \
            {p}/uwsgi; scgi_temp_path {p}/scgi;\n  {http_body}\n}}\n"
        ),
    )
    .unwrap();
    let mut c = Command::new("/usr/sbin/nginx")
        .args([
            "-p",
            &prefix.to_string_lossy(),
            "-c",
            &prefix.join("nginx.conf").to_string_lossy(),
            "-g",
            "daemon off;",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx is installed by scripts/test.sh");
    wait_port(port, "nginx", &mut c);
    Proc(c)
}

/// A certificate named `cn` for localhost and 127.0.0.1, signed by `ca` (or a CA when `ca` is
/// `None`): (certificate PEM, key PEM, the certificate and key to sign with).
pub fn cert(
    cn: &str,
    ca: Option<&(rcgen::Certificate, rcgen::KeyPair)>,
) -> (String, String, rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let c = match ca {
        Some((ca_cert, ca_key)) => p.signed_by(&key, ca_cert, ca_key).unwrap(),
        None => {
            p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            p.self_signed(&key).unwrap()
        }
    };
    (c.pem(), key.serialize_pem(), c, key)
}

/// The base64 SHA-256 of a PEM certificate's public key, for Chromium's
/// `--ignore-certificate-errors-spki-list` (computed by openssl).
pub fn spki_hash(cert_pem: &str) -> String {
    let script = "openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst \
        -sha256 -binary | base64";
    let mut child = Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), cert_pem.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// An HTTP/2 connection (prior knowledge, no TLS) to `addr`, driven on the current runtime:
/// the sender for its requests.
pub async fn h2_client(
    addr: &str,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<bytes::Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    send
}
