//! The closed loop through the layer itself: the answers corsair-tower really writes (in front
//! of an inner service that sets hostile CORS headers of its own: it reflects any origin with
//! credentials and allows every method and header) are fed to corsair-core's browser model for
//! Chromium, Firefox and Safari, which must allow exactly what the policy's decisions allow
//! (`corsair_policy::proof::run_against`). A layer that kept the inner service's headers,
//! or answered a refused preflight with a list an engine reads leniently, fails here.

use corsair_model::{Browser, Credentials, RequestSpec, ResponseHead};
use corsair_policy::{proof, PolicySpec};
use corsair_tower::CorsLayer;
use http::{Request, Response};
use std::convert::Infallible;
use tower::{service_fn, Layer, ServiceExt};

fn hostile_inner(
    req: Request<String>,
) -> impl std::future::Future<Output = Result<Response<String>, Infallible>> {
    let origin = req.headers().get("origin").cloned();
    async move {
        let mut resp = Response::new("data".to_string());
        let h = resp.headers_mut();
        if let Some(o) = origin {
            h.insert("access-control-allow-origin", o);
        }
        h.insert("access-control-allow-credentials", "true".parse().unwrap());
        h.insert("access-control-allow-methods", "*".parse().unwrap());
        h.insert("access-control-allow-headers", "*".parse().unwrap());
        Ok(resp)
    }
}

fn policies() -> Vec<PolicySpec> {
    let s = |f: &dyn Fn(&mut PolicySpec)| {
        let mut p = PolicySpec {
            origins: vec!["https://app.example".into(), "http://localhost:*".into()],
            ..Default::default()
        };
        f(&mut p);
        p
    };
    vec![
        s(&|_| {}),
        s(&|p| p.credentials = true),
        s(&|p| {
            p.origins = vec!["*".into()];
            p.methods = vec!["*".into()];
            p.request_headers = vec!["*".into()];
        }),
        s(&|p| {
            p.origins = vec!["*".into()];
            p.request_headers = vec!["Authorization".into(), "*".into()];
        }),
        s(&|p| {
            p.methods = vec!["PUT".into(), "DELETE".into()];
            p.request_headers = vec!["Content-Type".into(), "Authorization".into()];
            p.credentials = true;
            p.max_age = Some(600);
        }),
    ]
}

#[test]
fn the_layers_answers_agree_with_the_policy_in_every_engine() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let pages = [
        "https://app.example",
        "http://localhost:3000",
        "https://evil.example",
        "null",
    ];
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    let headers: [&[(&str, &str)]; 4] = [
        &[],
        &[("Content-Type", "application/json")],
        &[("Authorization", "Bearer x")],
        &[("X-Token", "1")],
    ];
    let mut checked = 0;
    for spec in policies() {
        let policy = spec.build().unwrap().0;
        let layer = CorsLayer::new(policy.clone());
        for page in pages {
            for method in methods {
                for hs in headers {
                    for credentials in [Credentials::Omit, Credentials::Include] {
                        let req = RequestSpec {
                            url: "https://api.example.test/items".into(),
                            origin: page.into(),
                            method: method.into(),
                            headers: hs
                                .iter()
                                .map(|(n, v)| (n.to_string(), v.to_string()))
                                .collect(),
                            credentials,
                            ..Default::default()
                        };
                        for browser in Browser::ALL {
                            let result = proof::run_against(&policy, &req, browser, |out, _| {
                                let mut b = Request::builder()
                                    .method(out.method.as_str())
                                    .uri(out.url.as_str());
                                for (n, v) in &out.headers {
                                    b = b.header(n.as_str(), v.as_str());
                                }
                                let svc = layer.layer(service_fn(hostile_inner));
                                let resp = rt
                                    .block_on(svc.oneshot(b.body(String::new()).unwrap()))
                                    .unwrap();
                                ResponseHead::new(
                                    resp.status().as_u16(),
                                    resp.headers().iter().map(|(n, v)| {
                                        (n.as_str().to_string(), v.as_bytes().to_vec())
                                    }),
                                )
                            });
                            if let Err(d) = result {
                                panic!("{spec:?}\n{req:?}\n{d}");
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 2000, "{checked}");
}
