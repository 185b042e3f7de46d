//! Start-up refusals, the lint, stalled clients, the access log, HTTPS and certificate reloads.

use super::*;

#[test]
fn refuses_to_start_on_a_broken_policy() {
    let dir = temp_dir("broken");
    let p = dir.join("corsair.toml");
    std::fs::write(
        &p,
        "upstream = \"http://127.0.0.1:9\"\n[policy]\norigins = \
        [\"*\", \"https://*.github.io\"]\ncredentials = true\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args([
            "serve",
            "--config",
            p.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("corsair.toml:3:12: error") && err.contains("public suffix"),
        "{err}"
    );
}

#[test]
fn policy_lint_reports_every_problem_with_position_and_fix() {
    let dir = temp_dir("lint");
    let p = dir.join("bad.toml");
    std::fs::write(
        &p,
        "[policy]\norigins = \
        [\"null\", \"https://app.example.com/\", \"http://intranet.example\"]\nmethods = \
        [\"TRACE\"]\ncredentials = true\nmax_age = 100000\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["policy", "lint", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "bad.toml:2:12: error [policy.origins[0]]",
        "bad.toml:2:20: error",
        "write \"https://app.example.com\"",
        "bad.toml:2:48: error",
        "bad.toml:3:12: error",
        "bad.toml:5:11: warning",
        "4 errors, 1 warning",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    let good = dir.join("good.toml");
    std::fs::write(&good, "[policy]\norigins = [\"https://app.example.com\"]\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_corsair"))
        .args(["policy", "lint", good.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], true);
}

#[test]
fn a_silent_client_is_cut_off_but_a_slow_upstream_is_not() {
    let up = upstream();
    let dir = temp_dir("slowloris");
    let cfg = write_config(&dir, &up.origin(0), "", "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        // The stall timeout by its old name, which configs written before it was renamed use.
        .replace("[gateway]\n", "[gateway]\nheader_read_timeout = 0.5\n");
    std::fs::write(&cfg, text).unwrap();
    let gw = Gateway::start(&cfg, &[]);
    // Half a request head, then silence: closed after the stall timeout.
    let mut s = TcpStream::connect(&gw.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    std::io::Write::write_all(&mut s, b"GET /items HTTP/1.1\r\nHost: x\r\n").unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let n = std::io::Read::read(&mut s, &mut buf).unwrap_or(0);
    assert_eq!(
        n,
        0,
        "the connection should be closed, got {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "closed after {:?}",
        t.elapsed()
    );
    // An upstream slower than the header timeout does not cut the client off.
    let (st, h, _) = http(&gw.addr, "GET", "/medium", &[("Origin", APP)]);
    assert_eq!(st, 200);
    assert_eq!(all(&h, "access-control-allow-origin"), [APP]);
}

/// The access log: one line per request in each format, on both HTTP/1.1 paths, written by the
/// buffered writer (all of it by the time a SIGTERM'd gateway exits), and none with
/// `access_log = false`. `/metrics` counts dropped lines.
#[test]
fn access_log_formats_and_off() {
    let up = upstream();
    let dir = temp_dir("access-log");
    for (engine, format) in [
        ("corsair", "text"),
        ("corsair", "json"),
        ("corsair", "combined"),
        ("hyper", "combined"),
        ("hyper", "json"),
        ("corsair", "off"),
    ] {
        let log = dir.join(format!("{engine}-{format}.log"));
        let _ = std::fs::remove_file(&log);
        let access = if format == "off" {
            format!("access_log = false\naccess_log_path = {:?}\n", log)
        } else {
            format!(
                "access_log_format = \"{format}\"\naccess_log_path = {:?}\n",
                log
            )
        };
        let cfg = dir.join(format!("{engine}-{format}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "upstream = \"{}\"\n[gateway]\nhttp1 = \"{engine}\"\n{access}{SAMPLE_POLICY}",
                up.origin(0)
            ),
        )
        .unwrap();
        let mut gw = Gateway::start(&cfg, &[]);
        let (st, _, _) = http(
            &gw.addr,
            "OPTIONS",
            "/items",
            &[("Origin", APP), ("Access-Control-Request-Method", "PUT")],
        );
        assert_eq!(st, 204);
        let (st, _, _) = http(
            &gw.addr,
            "GET",
            "/items?page=2",
            &[
                ("Origin", APP),
                ("Referer", "https://app.example.com/list"),
                ("User-Agent", "corsair-test/1"),
            ],
        );
        assert_eq!(st, 200);
        let (st, _, _) = http(&gw.addr, "GET", "/items", &[]);
        assert_eq!(st, 200);
        // What a client sends cannot forge a field or break a quoted one, and a request refused
        // before any decision gets its line too.
        let raw = |bytes: &str| {
            let mut s = TcpStream::connect(&gw.addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(bytes.as_bytes()).unwrap();
            let mut got = String::new();
            let _ = s.read_to_string(&mut got);
            got
        };
        let refused = raw(
            "GET /items HTTP/1.1\r\nHost: a\r\nOrigin: https://a.example\r\nOrigin: \
            https://b.example\r\n\r\n",
        );
        assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
        let odd = raw(&format!(
            "GET /it\"ems HTTP/1.1\r\nHost: a\r\nOrigin: {APP} \
            allowed=true\r\nConnection: close\r\n\r\n"
        ));
        assert!(odd.starts_with("HTTP/1.1 "), "{odd}");
        let (_, _, metrics) = http(&gw.admin, "GET", "/metrics", &[]);
        assert!(
            metrics.contains("corsair_access_log_dropped_total 0"),
            "{metrics}"
        );
        gw.terminate_and_wait();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let what = format!("{engine} {format}: {text:?}");
        if format == "off" {
            assert!(lines.is_empty(), "{what}");
            continue;
        }
        assert_eq!(lines.len(), 5, "{what}");
        // Workers buffer their own lines: across connections, the order is not kept.
        let find = |pred: &dyn Fn(&str) -> bool| -> &str {
            lines
                .iter()
                .copied()
                .find(|l| pred(l))
                .unwrap_or_else(|| panic!("no such line: {what}"))
        };
        match format {
            "text" => {
                find(&|l| {
                    l.contains(" 127.0.0.1 OPTIONS /items 204 ")
                        && l.contains(&format!("cors=preflight origin={APP} allowed=true"))
                });
                find(&|l| l.contains(" GET /items 200 ") && l.contains("cors=actual"));
                find(&|l| l.contains(" GET /items 200 ") && !l.contains("cors="));
                find(&|l| l.ends_with(" 127.0.0.1 GET /items 400 0.000ms"));
                find(&|l| {
                    l.contains(" GET /it\\x22ems ")
                        && l.contains(&format!(" origin={APP}\\x20allowed=true allowed=false "))
                });
            }
            "json" => {
                let v: Vec<serde_json::Value> = lines
                    .iter()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                let pre = v.iter().find(|x| x["cors"] == "preflight").expect(&what);
                assert_eq!(pre["status"], 204, "{what}");
                let actual = v
                    .iter()
                    .find(|x| x["cors"] == "actual" && x["status"] == 200)
                    .expect(&what);
                assert_eq!(actual["origin"], APP, "{what}");
                assert_eq!(actual["allowed"], true, "{what}");
                let plain = v.iter().find(|x| x["cors"].is_null()).expect(&what);
                assert_eq!(plain["client"], "127.0.0.1", "{what}");
                assert_eq!(plain["allowed"], serde_json::Value::Null, "{what}");
                let refused = v.iter().find(|x| x["status"] == 400).expect(&what);
                assert_eq!(refused["path"], "/items", "{what}");
                let odd = v.iter().find(|x| x["path"] == "/it\"ems").expect(&what);
                assert_eq!(odd["origin"], format!("{APP} allowed=true"), "{what}");
            }
            _ => {
                let pre = find(&|l| l.contains("\"OPTIONS /items HTTP/1.1\""));
                assert!(pre.starts_with("127.0.0.1 - - ["), "{what}");
                assert!(
                    pre.ends_with("] \"OPTIONS /items HTTP/1.1\" 204 0 \"-\" \"-\""),
                    "{what}"
                );
                find(&|l| {
                    l.contains("\"GET /items HTTP/1.1\" 200 ")
                        && l.ends_with(" \"https://app.example.com/list\" \"corsair-test/1\"")
                });
                find(&|l| l.contains("] \"GET /items HTTP/1.1\" 400 - \"-\" \"-\""));
                let odd = find(&|l| l.contains("\"GET /it\\x22ems HTTP/1.1\" "));
                assert_eq!(odd.matches('"').count(), 6, "{what}");
            }
        }
    }
}

/// curl over TLS to the gateway at `addr` (as https://localhost:PORT), trusting `ca`: its exit
/// status, and what it printed (headers, and with `-v` the handshake).
fn curl_tls(addr: &str, ca: &Path, extra: &[&str]) -> (bool, String) {
    let port = addr.rsplit(':').next().unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-v", "-o", "/dev/null", "-D", "-", "--max-time", "5"])
        .args(["--cacert", ca.to_str().unwrap()])
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(["-H", &format!("Origin: {APP}")])
        .args(extra)
        .arg(format!("https://localhost:{port}/items"))
        .output()
        .expect("curl");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// HTTPS to clients: HTTP/2 and HTTP/1.1 by ALPN, TLS 1.2 and 1.3 only, `X-Forwarded-Proto:
/// https` upstream, the certificate reloaded on SIGHUP (a key that does not match is refused and
/// the old pair keeps serving), and client certificates checked when `client_ca` is set.
#[test]
fn serves_https_and_http2_and_reloads_its_certificate() {
    let up = upstream();
    let dir = temp_dir("tls");
    let ca = cert("corsair test CA", None);
    let ca_pair = (ca.2, ca.3);
    std::fs::write(dir.join("ca.pem"), &ca.0).unwrap();
    let one = cert("corsair-1", Some(&ca_pair));
    std::fs::write(dir.join("cert.pem"), &one.0).unwrap();
    std::fs::write(dir.join("key.pem"), &one.1).unwrap();
    let tls_config = |name: &str, gateway: &str, tls: &str| {
        let cfg = dir.join(name);
        std::fs::write(
            &cfg,
            format!(
                "upstream = \"{}\"\n[gateway]\n{gateway}[tls]\ncert = \"cert.pem\"\nkey \
                    = \"key.pem\"\n{tls}{SAMPLE_POLICY}",
                up.origin(0)
            ),
        )
        .unwrap();
        cfg
    };
    let gw = Gateway::start(&tls_config("corsair.toml", "", ""), &[]);
    let ca_pem = dir.join("ca.pem");
    let (ok, out) = curl_tls(&gw.addr, &ca_pem, &["--http2"]);
    assert!(ok && out.contains("HTTP/2 200"), "{out}");
    assert!(
        out.to_ascii_lowercase()
            .contains(&format!("access-control-allow-origin: {APP}")),
        "{out}"
    );
    assert!(out.contains("CN=corsair-1"), "{out}");
    let (ok, out) = curl_tls(&gw.addr, &ca_pem, &["--http1.1"]);
    assert!(ok && out.contains("HTTP/1.1 200"), "{out}");
    let (ok, out) = curl_tls(&gw.addr, &ca_pem, &["--tlsv1.0", "--tls-max", "1.1"]);
    assert!(!ok, "TLS 1.1 must be refused: {out}");
    let seen = up.take_log();
    assert!(
        seen.iter()
            .any(|s| s.header("x-forwarded-proto") == "https"),
        "the upstream is told the client used https"
    );
    // A new pair, then SIGHUP: the new certificate serves.
    let two = cert("corsair-2", Some(&ca_pair));
    std::fs::write(dir.join("cert.pem"), &two.0).unwrap();
    std::fs::write(dir.join("key.pem"), &two.1).unwrap();
    gw.signal("-HUP");
    std::thread::sleep(Duration::from_millis(500));
    let (ok, out) = curl_tls(&gw.addr, &ca_pem, &[]);
    assert!(ok && out.contains("CN=corsair-2"), "{out}");
    // A certificate whose key is not in the key file: refused, the old pair keeps serving.
    let three = cert("corsair-3", Some(&ca_pair));
    std::fs::write(dir.join("cert.pem"), &three.0).unwrap();
    gw.signal("-HUP");
    std::thread::sleep(Duration::from_millis(500));
    let (ok, out) = curl_tls(&gw.addr, &ca_pem, &[]);
    assert!(ok && out.contains("CN=corsair-2"), "{out}");
    assert!(gw.logs().contains("TLS reload refused"), "{}", gw.logs());

    // Client certificates: refused without one signed by client_ca, served with one.
    std::fs::write(dir.join("cert.pem"), &two.0).unwrap();
    let client = cert("client", Some(&ca_pair));
    std::fs::write(dir.join("client.pem"), &client.0).unwrap();
    std::fs::write(dir.join("client-key.pem"), &client.1).unwrap();
    let mtls = Gateway::start(
        &tls_config("mtls.toml", "", "client_ca = \"ca.pem\"\n"),
        &[],
    );
    // A TLS client that goes silent after the handshake is cut off after stall_timeout, like a
    // plain one.
    let quiet = Gateway::start(&tls_config("stall.toml", "stall_timeout = 1.0\n", ""), &[]);
    let mut client = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect", &quiet.addr])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl");
    let t = Instant::now();
    while client.try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(6) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let closed = client.try_wait().unwrap().is_some();
    let _ = client.kill();
    assert!(closed, "a silent TLS client was not cut off");
    let (ok, out) = curl_tls(&mtls.addr, &ca_pem, &[]);
    assert!(!ok || !out.contains(" 200"), "no client certificate: {out}");
    let client_pem = dir.join("client.pem");
    let client_key = dir.join("client-key.pem");
    let (ok, out) = curl_tls(
        &mtls.addr,
        &ca_pem,
        &[
            "--cert",
            client_pem.to_str().unwrap(),
            "--key",
            client_key.to_str().unwrap(),
        ],
    );
    assert!(ok && out.contains("HTTP/2 200"), "{out}");
}

/// A Kubernetes ConfigMap volume: the file is a symlink through `..data`, and the kubelet
/// updates it by writing a new timestamped directory and renaming a new `..data` symlink over
/// the old one (one atomic swap). The gateway must pick up the new policy.
#[test]
fn reloads_when_a_configmap_swaps_its_data_symlink() {
    use std::os::unix::fs::symlink;
    let up = upstream();
    let dir = temp_dir("configmap");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let newcomer = "https://partner.example.net";
    let policy = |extra: &str| {
        format!(
            "upstream = \"{}\"\n{}",
            up.origin(0),
            SAMPLE_POLICY.replace(&format!("\"{APP}\","), &format!("\"{APP}\",{extra}"))
        )
    };
    let v1 = dir.join("..2026_11_26_21_00_00.000000001");
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::write(v1.join("corsair.toml"), policy("")).unwrap();
    symlink(v1.file_name().unwrap(), dir.join("..data")).unwrap();
    symlink("..data/corsair.toml", dir.join("corsair.toml")).unwrap();
    let gw = Gateway::start(&dir.join("corsair.toml"), &[]);
    let allowed = || allows(&gw.addr, newcomer);
    assert!(!allowed());
    // The kubelet's update: a new directory, a new symlink, renamed over `..data`.
    std::thread::sleep(Duration::from_millis(50));
    let v2 = dir.join("..2026_11_26_21_05_00.000000002");
    std::fs::create_dir_all(&v2).unwrap();
    std::fs::write(
        v2.join("corsair.toml"),
        policy(&format!(" \"{newcomer}\",")),
    )
    .unwrap();
    symlink(v2.file_name().unwrap(), dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    std::fs::remove_dir_all(&v1).unwrap();
    let t = Instant::now();
    while !allowed() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        allowed(),
        "the swapped policy was not loaded: {}",
        gw.logs()
    );
}
