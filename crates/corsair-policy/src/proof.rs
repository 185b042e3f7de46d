//! The closed loop: a policy's answers fed back through corsair's own browser model.
//!
//! For one request a page makes, the server side ([`decide`]) answers every exchange the
//! browser model ([`Fetch`]) sends, and the model's verdict must be the policy's: allowed
//! exactly when every decision on the way allowed it and the credentials mode is one the policy
//! serves (a policy without `credentials` serves no `credentials: 'include'` request). The
//! verdict must also hold by the Fetch standard, not only by an engine's leniency: a pass that
//! relied on `*` covering `Authorization` counts as a disagreement.
//!
//! Property tests and a fuzz target run this over generated policies and requests; `corsair
//! policy lint` could run it over a user's policy.

use super::decide::{decide, RequestView};
use super::Policy;
use crate::browser::Browser;
use crate::fetch::{Fetch, Next, Outgoing};
use crate::request::{Credentials, RequestSpec};
use crate::response::ResponseHead;
use std::fmt;

/// Where the policy and the browser model part ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The browser modelled.
    pub browser: Browser,
    /// What the policy's decisions said.
    pub policy_allowed: bool,
    /// What the browser concluded.
    pub browser_allowed: bool,
    /// The browser allowed it only by letting `*` cover `Authorization`, which the Fetch
    /// standard does not.
    pub by_leniency: bool,
    /// The browser's console message, when it blocked.
    pub console: Option<String>,
    /// Each exchange: method, the request's CORS headers, the answer's status and headers.
    pub trace: Vec<String>,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: the policy says {}, the browser says {}",
            self.browser,
            if self.policy_allowed {
                "allowed"
            } else {
                "refused"
            },
            if self.browser_allowed {
                "allowed"
            } else {
                "blocked"
            }
        )?;
        if let Some(c) = &self.console {
            writeln!(f, "  console: {c}")?;
        }
        for t in &self.trace {
            writeln!(f, "  {t}")?;
        }
        Ok(())
    }
}

/// The most exchanges one request can take here (a preflight and the request; no redirects).
const MAX_EXCHANGES: usize = 4;

/// Runs `spec` through `browser`'s model against `policy`'s answers. `Ok(None)` when the
/// request is one a page cannot make (`fetch()` would throw) or is same-origin.
pub fn run(
    policy: &Policy,
    spec: &RequestSpec,
    browser: Browser,
) -> Result<Option<bool>, Disagreement> {
    run_against(policy, spec, browser, |_, d| answer_of(d))
}

/// The response a decision makes: a preflight's status and headers, or 200 with the headers.
pub fn answer_of(d: &super::Decision<'_>) -> ResponseHead {
    let status = if d.kind == super::RequestKind::Preflight {
        d.status
    } else {
        200
    };
    ResponseHead::new(
        status,
        d.headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string())),
    )
}

/// [`run`] with the answers made by `serve` (a layer or gateway in front of a server, say),
/// judged against `policy`'s decisions: `serve` gets each request the browser sends and the
/// policy's decision for it, and returns the response head it really produced.
pub fn run_against(
    policy: &Policy,
    spec: &RequestSpec,
    browser: Browser,
    mut serve: impl FnMut(&Outgoing, &super::Decision<'_>) -> ResponseHead,
) -> Result<Option<bool>, Disagreement> {
    let Ok(mut fetch) = Fetch::new(spec, browser) else {
        return Ok(None);
    };
    let mut policy_allowed = true;
    let mut trace = Vec::new();
    for _ in 0..MAX_EXCHANGES {
        let Next::Send(out) = fetch.poll() else { break };
        let get = |name: &str| {
            out.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_bytes())
        };
        let view = RequestView {
            method: &out.method,
            origin: get("origin"),
            request_method: get("access-control-request-method"),
            request_headers: get("access-control-request-headers"),
        };
        let d = decide(policy, &view);
        policy_allowed &= d.allowed;
        let head = serve(&out, &d);
        trace.push(format!(
            "{} {:?} -> {} {:?} ({})",
            out.method,
            out.headers
                .iter()
                .filter(|(n, _)| {
                    let n = n.to_ascii_lowercase();
                    n == "origin" || n.starts_with("access-control-")
                })
                .collect::<Vec<_>>(),
            head.status,
            head.headers
                .iter()
                .map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(v)))
                .collect::<Vec<_>>(),
            d.reason.id()
        ));
        fetch.receive(head);
    }
    let outcome = fetch.finish();
    if !outcome.cross_origin {
        return Ok(None);
    }
    let served = spec.credentials != Credentials::Include || policy.credentials();
    let expected = policy_allowed && served;
    let by_leniency = outcome
        .grant
        .as_ref()
        .is_some_and(|g| g.wildcard_covered_authorization);
    if outcome.allowed != expected || (outcome.allowed && by_leniency) {
        return Err(Disagreement {
            browser,
            policy_allowed: expected,
            browser_allowed: outcome.allowed,
            by_leniency,
            console: outcome.console(),
            trace,
        });
    }
    Ok(Some(outcome.allowed))
}

/// [`run`] for every modelled browser.
pub fn run_all(policy: &Policy, spec: &RequestSpec) -> Result<Option<bool>, Disagreement> {
    let mut verdict = None;
    for b in Browser::ALL {
        verdict = run(policy, spec, b)?;
    }
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySpec;

    fn policy(f: impl FnOnce(&mut PolicySpec)) -> Policy {
        let mut s = PolicySpec {
            origins: vec!["https://app.example".into()],
            ..Default::default()
        };
        f(&mut s);
        s.build().unwrap_or_else(|e| panic!("{e:?}")).0
    }

    fn req(method: &str, headers: &[(&str, &str)], credentials: Credentials) -> RequestSpec {
        RequestSpec {
            url: "https://api.example/x".into(),
            origin: "https://app.example".into(),
            method: method.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            credentials,
            ..Default::default()
        }
    }

    /// The findings of issue 11 that the loop exists to catch, each as a case.
    #[test]
    fn regression_the_loop_holds_for_wildcard_lists() {
        // Finding 3: methods = ["*"] must let PUT and DELETE through.
        let p = policy(|s| s.methods = vec!["*".into()]);
        for m in ["PUT", "DELETE", "PATCH"] {
            assert_eq!(
                run_all(&p, &req(m, &[], Credentials::Omit)),
                Ok(Some(true)),
                "{m}"
            );
        }
        let p = policy(|s| s.methods = vec!["*".into(), "PUT".into()]);
        assert_eq!(
            run_all(&p, &req("DELETE", &[], Credentials::Omit)),
            Ok(Some(true))
        );
        // Finding 4: Authorization named beside '*' must pass by the standard.
        let p = policy(|s| s.request_headers = vec!["Authorization".into(), "*".into()]);
        assert_eq!(
            run_all(
                &p,
                &req("GET", &[("Authorization", "Bearer x")], Credentials::Omit)
            ),
            Ok(Some(true))
        );
        // '*' alone refuses Authorization, and so must every browser, lenient or not.
        let p = policy(|s| s.request_headers = vec!["*".into()]);
        assert_eq!(
            run_all(
                &p,
                &req("GET", &[("Authorization", "Bearer x")], Credentials::Omit)
            ),
            Ok(Some(false))
        );
        assert_eq!(
            run_all(&p, &req("GET", &[("X-Token", "1")], Credentials::Omit)),
            Ok(Some(true))
        );
    }

    #[test]
    fn credentials_follow_the_policy() {
        let p = policy(|_| {});
        assert_eq!(
            run_all(&p, &req("GET", &[], Credentials::Include)),
            Ok(Some(false))
        );
        let p = policy(|s| s.credentials = true);
        assert_eq!(
            run_all(&p, &req("GET", &[], Credentials::Include)),
            Ok(Some(true))
        );
    }
}
