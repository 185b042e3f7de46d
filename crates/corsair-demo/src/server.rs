//! The demo's servers: one loopback listener for the page (a small HTML page that runs every
//! case in a real browser), one for the API with a broken and a fixed variant of each case.

use crate::cases::{self, Ask, Reply};
use bytes::Bytes;
use corsair_policy::Policy;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The running servers.
pub struct Servers {
    /// The page's origin, `http://localhost:PORT`.
    pub page: String,
    /// The API's base URL, `http://127.0.0.1:PORT`.
    pub api: String,
}

/// Binds both listeners on 127.0.0.1 and serves them on the current runtime until it stops.
pub async fn start() -> std::io::Result<Servers> {
    let page_l = TcpListener::bind("127.0.0.1:0").await?;
    let api_l = TcpListener::bind("127.0.0.1:0").await?;
    let page = format!("http://localhost:{}", page_l.local_addr()?.port());
    let api = format!("http://127.0.0.1:{}", api_l.local_addr()?.port());
    // Each case's fix, validated once: the fixed server only decides per request.
    let mut policies = HashMap::new();
    for c in cases::CASES {
        let (policy, _) = cases::policy_for(c, &page)
            .map_err(|e| e.to_string())
            .and_then(|spec| spec.build().map_err(|problems| format!("{problems:?}")))
            .map_err(|e| {
                std::io::Error::other(format!(
                    "the fix for demo case {} is not a valid policy: {e}",
                    c.name
                ))
            })?;
        policies.insert(c.name, policy);
    }
    let ctx = Arc::new(Ctx {
        page: page.clone(),
        api: api.clone(),
        policies,
    });
    serve(page_l, ctx.clone(), true);
    serve(api_l, ctx, false);
    Ok(Servers { page, api })
}

/// What the handlers share.
struct Ctx {
    page: String,
    api: String,
    /// The policy that fixes each case, by case name.
    policies: HashMap<&'static str, Policy>,
}

fn serve(listener: TcpListener, ctx: Arc<Ctx>, is_page: bool) {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let ctx = ctx.clone();
                    async move {
                        Ok::<_, Infallible>(if is_page {
                            page(&ctx.api)
                        } else {
                            api(&req, &ctx)
                        })
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}

fn api(req: &hyper::Request<hyper::body::Incoming>, ctx: &Ctx) -> hyper::Response<Full<Bytes>> {
    let page = ctx.page.as_str();
    let path = req.uri().path();
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let variant = parts.next().unwrap_or("");
    let case = parts.next().and_then(cases::find);
    let origin = req.headers().get("origin").and_then(|v| v.to_str().ok());
    let ask = Ask {
        method: req.method().as_str(),
        origin,
        page,
        path,
    };
    let reply = match (variant, case) {
        // A redirected preflight lands on the trailing-slash URL; it is a dead end too.
        ("broken", Some(c)) => (c.broken)(&ask),
        ("fixed", Some(c)) => match ctx.policies.get(c.name) {
            Some(policy) => fixed(policy, &ask, req.headers()),
            None => Reply::new(404),
        },
        _ => Reply::new(404),
    };
    let mut b = hyper::Response::builder().status(reply.status);
    let font = case.is_some_and(|c| c.api == corsair_model::RequestApi::Font);
    for (n, v) in &reply.headers {
        if font && n.eq_ignore_ascii_case("content-type") {
            continue;
        }
        b = b.header(n, v);
    }
    let body = match reply.status {
        200 if font && req.method() != hyper::Method::OPTIONS => {
            b = b.header("Content-Type", "font/ttf");
            Bytes::from_static(cases::FONT)
        }
        200 => Bytes::from(format!("{{\"case\":\"{}\",\"ok\":true}}", path)),
        _ => Bytes::new(),
    };
    b.body(Full::new(body)).expect("valid demo response")
}

/// The fixed server: the case's policy, enforced by corsair's own decision engine, in front of
/// a handler that answers 200.
fn fixed(policy: &Policy, ask: &Ask, headers: &hyper::HeaderMap) -> Reply {
    let view = corsair_policy::RequestView {
        method: ask.method,
        origin: ask.origin.map(str::as_bytes),
        request_method: headers
            .get("access-control-request-method")
            .map(|v| v.as_bytes()),
        request_headers: headers
            .get("access-control-request-headers")
            .map(|v| v.as_bytes()),
    };
    let d = corsair_policy::decide(policy, &view);
    let mut r = if d.kind == corsair_policy::RequestKind::Preflight {
        Reply::new(d.status)
    } else {
        Reply::new(200).h("Content-Type", "application/json")
    };
    for (n, v) in d.headers.iter() {
        r = r.h(n, v);
    }
    r
}

fn page(api: &str) -> hyper::Response<Full<Bytes>> {
    let mut rows = String::new();
    for c in cases::CASES {
        let init = serde_json::json!({
            "method": c.method,
            "headers": c.headers.iter().map(|(n, v)| [n, v]).collect::<Vec<_>>(),
            "credentials": if c.credentials { "include" } else { "same-origin" },
            "body": c.body,
            "api": c.api.name(),
        });
        rows.push_str(&format!(
            "<tr><td><code>{name}</code><br><small>{title}</small></td><td><button \
                data-url=\"{api}/broken/{name}\" \
                data-init='{init}'>broken</button></td><td><button data-url=\"{api}/fixed/{name}\" \
                data-init='{init}'>fixed</button></td><td class=out></td></tr>",
            name = c.name,
            title = c.title,
        ));
    }
    let html = format!(
        r#"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width,initial-scale=1"><title>corsair demo</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}td{{padding:.4rem;border-bottom:1px solid #ccc;vertical-align:top}}.ok{{color:#070}}.bad{{color:#b00}}@media(prefers-color-scheme:dark){{body{{background:#111;color:#eee}}.ok{{color:#6d6}}.bad{{color:#f77}}}}</style></head>
<body><h1>corsair demo</h1><p>Each button makes the request from this page ({api} is another origin). Open the developer tools console to see the browser's own CORS message next to the result. The Local Network Access case needs a public page: from this loopback page Chromium lets it through (corsair demo models the page as public).</p>
<table><thead><tr><th>case</th><th colspan=2>server</th><th>result</th></tr></thead><tbody>{rows}</tbody></table>
<script>
for (const b of document.querySelectorAll('button')) b.addEventListener('click', async () => {{
  const out = b.closest('tr').querySelector('.out'); const init = JSON.parse(b.dataset.init);
  const opts = {{method: init.method, headers: init.headers, credentials: init.credentials}}; if (init.body) opts.body = init.body;
  try {{
    if (init.api === 'font') {{ await new FontFace('demo' + Date.now(), 'url(' + b.dataset.url + ')').load(); out.textContent = b.textContent + ': font loaded'; out.className = 'out ok'; return; }}
    const r = await fetch(b.dataset.url, opts); out.textContent = b.textContent + ': readable, status ' + r.status; out.className = 'out ok'; }}
  catch (e) {{ out.textContent = b.textContent + ': blocked (' + e + ') - see the console'; out.className = 'out bad'; }}
}});
</script></body></html>"#
    );
    hyper::Response::builder()
        .header("Content-Type", "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(html)))
        .expect("valid page")
}
