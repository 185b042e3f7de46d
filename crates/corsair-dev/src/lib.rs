//! `corsair dev`: the front-end dev server and the APIs under one origin, so the page's
//! requests are same-origin and CORS never applies (what Vite's `server.proxy`, Create React
//! App's `proxy` and webpack's `devServer.proxy` do). The longest route prefix wins, the path is
//! forwarded unchanged, WebSockets pass through (hot reload), and `Location` and `Set-Cookie`
//! are rewritten so the browser stays on the dev origin.

mod error;

pub use error::{ArgError, StartError};

use bytes::Bytes;
use corsair_model::host::Host;
use corsair_net::serving::{BindError, Listener};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::header::{HeaderValue, HOST};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use url::Url;

type Body = BoxBody<Bytes, hyper::Error>;

pub use corsair_gen::dev::{longest_first, upstream, DevRoute, RouteError};

/// The dev server's routes, longest prefix first.
pub struct Dev {
    routes: Vec<DevRoute>,
    front: Url,
    /// The listen address's origin, for rewritten `Location`s when a request has no `Host`.
    origin: String,
    /// Host names answered besides localhost, `*.localhost` and IP addresses (`--allow-host`).
    allowed: Vec<String>,
    tls: tokio_rustls::TlsConnector,
}

/// An `--allow-host` name, checked: a host name (no scheme, port or address), lower-cased.
pub fn allowed_host(name: &str) -> Result<String, ArgError> {
    match Host::parse(name) {
        Ok(Host::Domain(d)) => Ok(d.as_str().to_string()),
        _ => Err(ArgError::AllowHost(name.to_string())),
    }
}

/// Whether a request's `Host` names this machine as the browser reached it: an IP address (a
/// name no DNS can rebind), `localhost` or a name under it, or an `--allow-host` name. A page
/// on a name that an attacker's DNS turned to 127.0.0.1 sends its own name, and is refused:
/// the front end's own host check (Vite's `allowedHosts`) only ever sees the rewritten Host.
fn host_is_allowed(host: &str, allowed: &[String]) -> bool {
    // The URL parser splits `host[:port]`; the host is then read as the parsed value.
    let parsed = Url::parse(&format!("http://{host}/"))
        .ok()
        .filter(|u| u.username().is_empty() && u.path() == "/")
        .and_then(|u| u.host_str().map(Host::parse));
    match parsed {
        Some(Ok(h)) if h.is_ip() || h.is_loopback() => true,
        Some(Ok(Host::Domain(d))) => allowed.iter().any(|a| a == d.as_str()),
        _ => false,
    }
}

impl Dev {
    /// Where a request path goes: the longest matching prefix (on a segment boundary), else the
    /// front end.
    pub fn target(&self, path: &str) -> &Url {
        self.routes
            .iter()
            .find(|r| r.covers(path))
            .map_or(&self.front, |r| &r.to)
    }
}

/// Runs the dev server until Ctrl-C or SIGTERM.
pub fn run(
    listen: SocketAddr,
    front: Url,
    mut routes: Vec<DevRoute>,
    allowed: Vec<String>,
) -> Result<(), StartError> {
    longest_first(&mut routes);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(BindError::on(Listener::Main, listen))?;
        let local = listener.local_addr()?;
        let origin = format!("http://{local}");
        // A server keeps serving when nobody reads its stdout any more.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {origin}");
        let _ = writeln!(
            out,
            "open {origin}/ : the front end ({}) and, under one origin:",
            front.as_str().trim_end_matches('/')
        );
        for r in &routes {
            let _ = writeln!(
                out,
                "  {:<12} -> {}",
                r.prefix,
                r.to.as_str().trim_end_matches('/')
            );
        }
        let _ = out.flush();
        drop(out);
        let dev = Arc::new(Dev {
            routes,
            front,
            origin,
            allowed,
            tls: corsair_net::client::tls_connector(None, false)?,
        });
        let stop = corsair_net::serving::shutdown_signal();
        corsair_net::serving::accept_until(&listener, stop, |stream, peer| {
            let dev = dev.clone();
            async move {
                let svc = hyper::service::service_fn(move |req| {
                    let dev = dev.clone();
                    async move { Ok::<_, std::convert::Infallible>(forward(req, peer, &dev).await) }
                });
                // A client has 10 s for each request head (hyper counts it only with a timer).
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), svc)
                    .with_upgrades()
                    .await;
            }
        })
        .await;
        Ok(())
    })
}

fn bad_gateway(target: &Url, e: impl std::fmt::Display) -> Response<Body> {
    let text = format!(
        "corsair dev: {} did not answer ({e}). Is it running?\n",
        target.as_str().trim_end_matches('/')
    );
    Response::builder()
        .status(502)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text)).map_err(|e| match e {}).boxed())
        .expect("valid answer")
}

async fn forward(
    mut req: Request<hyper::body::Incoming>,
    peer: SocketAddr,
    dev: &Dev,
) -> Response<Body> {
    // The origin the browser is on, when its Host names this machine; else refused.
    let browser_origin = match req.headers().get(HOST).map(|h| h.to_str()) {
        None => dev.origin.clone(),
        Some(Ok(h)) if host_is_allowed(h, &dev.allowed) => format!("http://{h}"),
        Some(h) => {
            let h = h.unwrap_or("?");
            let text = format!(
                "corsair dev: Host '{h}' is not this machine's address, so the request is refused \
                    (a page whose name resolves here must not read the dev server). Open {}/ \
                    instead, or start corsair dev with --allow-host NAME.\n",
                dev.origin
            );
            return Response::builder()
                .status(403)
                .header("content-type", "text/plain; charset=utf-8")
                .body(Full::new(Bytes::from(text)).map_err(|e| match e {}).boxed())
                .expect("valid answer");
        }
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let target = dev.target(req.uri().path()).clone();
    // For the socket, the bare address; for Host, the authority as written (IPv6 bracketed).
    let host = match target.host() {
        Some(url::Host::Ipv6(a)) => a.to_string(),
        _ => target.host_str().unwrap_or_default().to_string(),
    };
    let port = target.port_or_known_default().unwrap_or(80);
    let connect = TcpStream::connect((host.as_str(), port));
    let stream = match tokio::time::timeout(std::time::Duration::from_secs(10), connect).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return bad_gateway(&target, e),
        Err(_) => return bad_gateway(&target, "no connection within 10 s"),
    };
    let _ = stream.set_nodelay(true);
    let upgrade = req.headers().contains_key(hyper::header::UPGRADE);
    let client_side = upgrade.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    let dev_host = parts.headers.get(HOST).cloned();
    // The upstream sees its own host (Vite's changeOrigin), and the dev origin in X-Forwarded-*.
    let authority = authority(&target);
    parts.uri = path.parse().unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&authority) {
        parts.headers.insert(HOST, v);
    }
    if let Ok(v) = HeaderValue::from_str(&peer.ip().to_string()) {
        corsair_net::serving::set_forwarded(
            &mut parts.headers,
            dev_host,
            HeaderValue::from_static("http"),
            v,
        );
    }
    if !upgrade {
        corsair_net::serving::strip_hop_by_hop(&mut parts.headers);
    }
    let req = Request::from_parts(parts, body);
    let resp = if target.scheme() == "https" {
        let Ok(name) = rustls::pki_types::ServerName::try_from(host.clone()) else {
            return bad_gateway(&target, "not a TLS server name");
        };
        match dev.tls.connect(name, stream).await {
            Ok(tls) => send(TokioIo::new(tls), req).await,
            Err(e) => return bad_gateway(&target, e),
        }
    } else {
        send(TokioIo::new(stream), req).await
    };
    let mut resp = match resp {
        Ok(r) => r,
        Err(e) => return bad_gateway(&target, e),
    };
    if resp.status() == hyper::StatusCode::SWITCHING_PROTOCOLS {
        // A WebSocket (Vite's hot reload): join the two upgraded connections.
        if let Some(client_side) = client_side {
            let upstream_side = hyper::upgrade::on(&mut resp);
            tokio::spawn(async move {
                if let (Ok(a), Ok(b)) = (client_side.await, upstream_side.await) {
                    let _ =
                        tokio::io::copy_bidirectional(&mut TokioIo::new(a), &mut TokioIo::new(b))
                            .await;
                }
            });
        }
        let (parts, _) = resp.into_parts();
        return Response::from_parts(
            parts,
            Full::new(Bytes::new()).map_err(|e| match e {}).boxed(),
        );
    }
    corsair_net::serving::strip_hop_by_hop(resp.headers_mut());
    rewrite(&mut resp, &target, &browser_origin);
    resp.map(|b| b.boxed())
}

/// The upstream's `Host`: its host as a URL writes it (an IPv6 address in brackets) and its
/// port when the URL gives one.
fn authority(target: &Url) -> String {
    let host = target.host_str().unwrap_or_default();
    match target.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// Keeps the browser on the dev origin: a `Location` on the upstream's origin is moved to the
/// dev origin, and `Set-Cookie`'s `Domain` is dropped (the cookie belongs to the dev host).
fn rewrite<B>(resp: &mut Response<B>, target: &Url, dev_origin: &str) {
    let upstream_origin = target.origin().ascii_serialization();
    if let Some(loc) = resp
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Ok(u) = Url::parse(loc) {
            if u.origin().ascii_serialization() == upstream_origin {
                let moved = format!("{dev_origin}{}", &u[url::Position::BeforePath..]);
                if let Ok(v) = HeaderValue::from_str(&moved) {
                    resp.headers_mut().insert(hyper::header::LOCATION, v);
                }
            }
        }
    }
    let cookies: Vec<HeaderValue> = resp
        .headers()
        .get_all(hyper::header::SET_COOKIE)
        .iter()
        .filter_map(|v| {
            let s = v.to_str().ok()?;
            let kept: Vec<&str> = s
                .split(';')
                .filter(|a| !a.trim().to_ascii_lowercase().starts_with("domain="))
                .collect();
            HeaderValue::from_str(&kept.join(";")).ok()
        })
        .collect();
    if !cookies.is_empty() {
        resp.headers_mut().remove(hyper::header::SET_COOKIE);
        for c in cookies {
            resp.headers_mut().append(hyper::header::SET_COOKIE, c);
        }
    }
}

async fn send<T>(
    io: TokioIo<T>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<hyper::body::Incoming>, hyper::Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    sender.send_request(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(routes: &[&str]) -> Dev {
        let mut routes: Vec<DevRoute> = routes.iter().map(|r| r.parse().unwrap()).collect();
        longest_first(&mut routes);
        Dev {
            routes,
            front: Url::parse("http://127.0.0.1:5173").unwrap(),
            origin: "http://127.0.0.1:3000".into(),
            allowed: Vec::new(),
            tls: corsair_net::client::tls_connector(None, false).unwrap(),
        }
    }

    #[test]
    fn the_longest_prefix_wins_on_segment_boundaries() {
        let d = dev(&[
            "/api=http://127.0.0.1:8080",
            "/api/v2=http://127.0.0.1:8082",
        ]);
        let port = |p: &str| d.target(p).port();
        assert_eq!(port("/api/items"), Some(8080));
        assert_eq!(port("/api"), Some(8080));
        assert_eq!(port("/api/v2/items"), Some(8082));
        assert_eq!(port("/api/v20"), Some(8080), "a segment boundary");
        assert_eq!(port("/apiary"), Some(5173), "not under /api");
        assert_eq!(port("/"), Some(5173));
    }

    #[test]
    fn routes_and_upstreams_are_checked() {
        assert!("api=http://x:1"
            .parse::<DevRoute>()
            .unwrap_err()
            .to_string()
            .contains("must start with '/'"));
        assert!("/api"
            .parse::<DevRoute>()
            .unwrap_err()
            .to_string()
            .contains("PREFIX=URL"));
        assert!("/api=127.0.0.1:8080"
            .parse::<DevRoute>()
            .unwrap_err()
            .to_string()
            .contains("did you mean http://127.0.0.1:8080"));
        assert!(upstream("http://127.0.0.1:8080/api", "--to")
            .unwrap_err()
            .to_string()
            .contains("forwarded unchanged"));
    }

    #[test]
    fn locations_and_cookies_stay_on_the_dev_origin() {
        let target = Url::parse("http://127.0.0.1:8080").unwrap();
        let mut r = Response::builder()
            .header("location", "http://127.0.0.1:8080/login?next=/a")
            .header("set-cookie", "sid=1; Domain=127.0.0.1; Path=/; HttpOnly")
            .header("set-cookie", "b=2; Path=/api")
            .body(())
            .unwrap();
        rewrite(&mut r, &target, "http://127.0.0.1:3000");
        assert_eq!(
            r.headers()["location"],
            "http://127.0.0.1:3000/login?next=/a"
        );
        let cookies: Vec<_> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert_eq!(cookies, ["sid=1; Path=/; HttpOnly", "b=2; Path=/api"]);
        let mut r = Response::builder()
            .header("location", "https://login.example/x")
            .body(())
            .unwrap();
        rewrite(&mut r, &target, "http://127.0.0.1:3000");
        assert_eq!(
            r.headers()["location"],
            "https://login.example/x",
            "another origin is left alone"
        );
    }

    #[test]
    fn hosts_that_name_this_machine_and_the_upstreams_host() {
        let allowed = vec!["myapp.test".to_string()];
        for ok in [
            "localhost:3000",
            "LOCALHOST",
            "app.localhost:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "0.0.0.0:3000",
            "192.168.1.20:3000",
            "myapp.test:3000",
            "localhost.:3000",
        ] {
            assert!(host_is_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "rebind.evil.example:3000",
            "localhost.evil.example",
            "evil.example@localhost",
            "localhost/x",
            "",
            "myapp.test.evil:3000",
        ] {
            assert!(!host_is_allowed(bad, &allowed), "{bad}");
        }
        assert_eq!(allowed_host("MyApp.Test").unwrap(), "myapp.test");
        assert!(allowed_host("http://myapp.test").is_err());
        assert!(allowed_host("myapp.test:3000").is_err());
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(authority(&u("http://[::1]:8080/")), "[::1]:8080");
        assert_eq!(authority(&u("http://127.0.0.1:8080/")), "127.0.0.1:8080");
        assert_eq!(authority(&u("https://api.example.com/")), "api.example.com");
    }
}
