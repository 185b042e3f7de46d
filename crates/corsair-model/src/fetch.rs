//! The browser model as a state machine: what a browser sends for a cross-origin request, one
//! exchange at a time, and what it concludes (<https://fetch.spec.whatwg.org/#main-fetch>,
//! <https://fetch.spec.whatwg.org/#http-fetch>, <https://fetch.spec.whatwg.org/#cors-preflight-fetch>,
//! <https://fetch.spec.whatwg.org/#http-redirect-fetch>).
//!
//! No IO: the caller asks [`Fetch::poll`] what to send, sends it however it likes, and hands the
//! response head back with [`Fetch::receive`] (or a transport failure with
//! [`Fetch::network_error`]). When `poll` says [`Next::Done`], [`Fetch::finish`] gives the verdict.
//!
//! ```
//! use corsair_model::{Browser, Fetch, Next, RequestSpec, ResponseHead};
//! let spec = RequestSpec {
//!     url: "https://api.example/items".into(),
//!     origin: "https://app.example".into(),
//!     method: "PUT".into(),
//!     ..Default::default()
//! };
//! let mut fetch = Fetch::new(&spec, Browser::Chromium).unwrap();
//! let Next::Send(preflight) = fetch.poll() else { unreachable!() };
//! assert_eq!(preflight.method, "OPTIONS");
//! fetch.receive(ResponseHead::new(204, [("Access-Control-Allow-Origin", "https://app.example")]));
//! assert!(matches!(fetch.poll(), Next::Done));
//! let outcome = fetch.finish();
//! assert!(!outcome.allowed);
//! assert!(outcome.console().unwrap().contains("Method PUT is not allowed"));
//! ```

use crate::browser::{Browser, RedirectPreflight};
use crate::catalogue;
use crate::check::cors_check;
use crate::failure::{Failure, FailureKind, Stage};
use crate::header;
use crate::host::Host;
use crate::lna::{self, AddressSpace};
use crate::origin::Origin;
use crate::preflight::{self, Ask, Grant};
use crate::redirect::{self, RedirectError};
use crate::request::{Classified, Mode, RequestError, RequestSpec};
use crate::response::ResponseHead;
use core::net::SocketAddr;
use serde::Serialize;
use url::Url;

/// Which of the two requests an exchange is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExchangeKind {
    /// The `OPTIONS` preflight.
    Preflight,
    /// The request itself (or a redirected hop of it).
    Actual,
}

/// A request the caller must send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outgoing {
    /// Preflight or actual.
    pub kind: ExchangeKind,
    /// The method on the request line.
    pub method: String,
    /// The URL.
    #[serde(serialize_with = "ser_url")]
    pub url: Url,
    /// Headers to send, in order. The caller adds `Host`, `User-Agent` and transport headers.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<String>,
}

fn ser_url<S: serde::Serializer>(u: &Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.as_str())
}

/// One request and, once received, its response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// What was sent.
    pub request: Outgoing,
    /// What came back (`None` after a network error).
    pub response: Option<ResponseHead>,
}

/// A transport failure, named as Chromium names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetError {
    /// Chromium's net error, e.g. `ERR_CONNECTION_REFUSED`.
    pub code: String,
    /// What happened, in words.
    pub detail: String,
}

/// What the caller should do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Send this request and call [`Fetch::receive`] with its response.
    Send(Outgoing),
    /// Nothing more to send: call [`Fetch::finish`].
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start,
    AwaitPreflight,
    SendActual,
    AwaitActual,
    Done,
}

/// One cross-origin fetch in progress.
#[derive(Debug)]
pub struct Fetch {
    browser: Browser,
    req: Classified,
    url: Url,
    origin: Origin,
    tainted: bool,
    method: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    redirects: u32,
    state: State,
    exchanges: Vec<Exchange>,
    preflight_sent: bool,
    /// The target of a redirect refused for its scheme.
    unsafe_redirect: Option<String>,
    grant: Option<Grant>,
    failure: Option<Failure>,
    net_error: Option<NetError>,
    lna: Option<LnaReport>,
}

impl Fetch {
    /// Starts a fetch of `spec` as `browser` would make it. Fails where `fetch()` would throw
    /// before sending anything.
    pub fn new(spec: &RequestSpec, browser: Browser) -> Result<Fetch, RequestError> {
        let req = spec.classify(browser)?;
        let lna = browser.local_network_access().map(|rules| LnaReport {
            rules,
            page_space: spec
                .lna
                .page_space
                .unwrap_or_else(|| AddressSpace::of_origin(&req.origin)),
            secure_context: req.origin.is_potentially_trustworthy(),
            permissions: spec.lna.permissions,
            target_address_space: spec.lna.target_address_space,
            hops: Vec::new(),
            permission_needed: false,
            permission: None,
            outcome: "not-applicable",
            blocked: None,
        });
        Ok(Fetch {
            lna,
            browser,
            url: req.url.clone(),
            origin: req.origin.clone(),
            tainted: false,
            method: req.method.clone(),
            headers: req.headers.clone(),
            body: spec.body.clone().filter(|_| req.body),
            redirects: 0,
            state: State::Start,
            exchanges: Vec::new(),
            preflight_sent: false,
            unsafe_redirect: None,
            grant: None,
            failure: None,
            net_error: None,
            req,
        })
    }

    /// The URL the page asked for.
    pub fn url(&self) -> Url {
        self.req.url.clone()
    }

    /// Tells the model the address space of the connection the last request [`Fetch::poll`]
    /// returned goes to, before it is sent (the IO layer knows it once it has resolved the
    /// host). Returns whether to send it: `false` when Chromium's Local Network Access refuses
    /// the connection, and the fetch is then over. Browsers without LNA always say `true`.
    pub fn connected(&mut self, space: AddressSpace) -> bool {
        self.connected_at(space, None)
    }

    /// [`Fetch::connected`], with the address connected to (Firefox's messages name it).
    pub fn connected_at(&mut self, space: AddressSpace, address: Option<SocketAddr>) -> bool {
        let Some(report) = self.lna.as_mut() else {
            return true;
        };
        report.hops.push(LnaHop {
            url: self.url.to_string(),
            space,
            address: address.map(|a| a.to_string()),
            preflight: self.state == State::AwaitPreflight,
        });
        let ctx = lna::Context {
            page_space: report.page_space,
            secure_context: report.secure_context,
            permissions: report.permissions,
            target_address_space: report.target_address_space,
        };
        if lna::needs_permission(ctx.page_space, space) {
            report.permission_needed = true;
            report.permission = Some(ctx.permissions.for_space(space).1);
        }
        match lna::check_with(&ctx, space, &report.rules) {
            Ok(needed) => {
                if needed {
                    report.outcome = "allowed";
                }
                true
            }
            Err(blocked) => {
                report.outcome = "blocked";
                report.blocked = Some(blocked);
                // Never sent: no exchange, and nothing more to send.
                if self.exchanges.last().is_some_and(|e| e.response.is_none()) {
                    self.exchanges.pop();
                }
                self.state = State::Done;
                false
            }
        }
    }

    /// The origin a preflight carries and is checked against: the request's, except that
    /// Firefox sends the page's own after a redirect to another origin, not `null`.
    fn preflight_origin(&self) -> &Origin {
        if self.tainted && self.browser.preflights_after_taint_with_page_origin() {
            &self.req.origin
        } else {
            &self.origin
        }
    }

    /// Whether CORS applies to the current hop.
    fn cors(&self) -> bool {
        self.tainted || !self.req.origin.same_origin(&Origin::of_url(&self.url))
    }

    fn unsafe_headers(&self) -> Vec<String> {
        header::unsafe_names(
            self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            self.browser,
        )
    }

    /// The unsafe header names when this hop needs a preflight, else `None`.
    fn preflight_needed(&self) -> Option<Vec<String>> {
        if !self.cors() {
            return None;
        }
        let unsafe_headers = self.unsafe_headers();
        let as_asked = self.redirects > 0
            && match self.browser.preflights_redirects() {
                RedirectPreflight::AsNeeded => false,
                RedirectPreflight::IfFirstNeededOne => !self.req.preflight_reasons.is_empty(),
                RedirectPreflight::AfterAPreflight => self.preflight_sent,
            };
        (as_asked || !crate::method::is_safelisted(&self.method) || !unsafe_headers.is_empty())
            .then_some(unsafe_headers)
    }

    fn fetch_metadata(&self) -> Vec<(String, String)> {
        let site = if !self.cors() {
            "same-origin"
        } else {
            match (
                self.req.origin.tuple(),
                Origin::of_url(&self.url).tuple().cloned(),
            ) {
                (Some(a), Some(b)) if a.scheme == b.scheme && same_site(&a.host, &b.host) => {
                    "same-site"
                }
                _ => "cross-site",
            }
        };
        let mode = match self.req.mode {
            Mode::Cors => "cors",
            Mode::NoCors => "no-cors",
        };
        vec![
            ("Sec-Fetch-Mode".into(), mode.into()),
            ("Sec-Fetch-Site".into(), site.into()),
            ("Sec-Fetch-Dest".into(), self.req.api.destination().into()),
        ]
    }

    fn referer(&self) -> Option<(String, String)> {
        (!self.req.origin.is_opaque())
            .then(|| ("Referer".to_string(), format!("{}/", self.req.origin)))
    }

    /// What to send next, or [`Next::Done`].
    pub fn poll(&mut self) -> Next {
        if self.state == State::Start {
            if let Some(unsafe_headers) = self.preflight_needed() {
                let ask = Ask {
                    origin: &self.origin,
                    method: &self.method,
                    headers: &unsafe_headers,
                    check_order: &[],
                    credentials: self.req.credentials,
                };
                let mut headers = preflight::request_headers(&ask);
                headers.push(("Origin".into(), self.preflight_origin().to_string()));
                headers.extend(self.fetch_metadata());
                headers.extend(self.referer());
                let out = Outgoing {
                    kind: ExchangeKind::Preflight,
                    method: "OPTIONS".into(),
                    url: self.url.clone(),
                    headers,
                    body: None,
                };
                self.preflight_sent = true;
                self.exchanges.push(Exchange {
                    request: out.clone(),
                    response: None,
                });
                self.state = State::AwaitPreflight;
                return Next::Send(out);
            }
            self.state = State::SendActual;
        }
        if self.state == State::SendActual {
            let mut headers = self.headers.clone();
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
            {
                headers.insert(0, ("Accept".into(), self.req.api.accept().into()));
            }
            if (self.cors() && self.req.mode == Mode::Cors)
                || !matches!(self.method.as_str(), "GET" | "HEAD")
            {
                headers.push(("Origin".into(), self.origin.to_string()));
            }
            headers.extend(self.fetch_metadata());
            headers.extend(self.referer());
            let out = Outgoing {
                kind: ExchangeKind::Actual,
                method: self.method.clone(),
                url: self.url.clone(),
                headers,
                body: self.body.clone(),
            };
            self.exchanges.push(Exchange {
                request: out.clone(),
                response: None,
            });
            self.state = State::AwaitActual;
            return Next::Send(out);
        }
        Next::Done
    }

    fn fail(
        &mut self,
        kind: FailureKind,
        stage: Stage,
        hint: Option<String>,
        status: Option<u16>,
        lines: usize,
    ) {
        self.fail_redirect(kind, stage, hint, status, lines, None)
    }

    /// [`Fetch::fail`] for a redirect the browser refuses to follow, naming where it led.
    fn fail_redirect(
        &mut self,
        kind: FailureKind,
        stage: Stage,
        hint: Option<String>,
        status: Option<u16>,
        lines: usize,
        redirect_to: Option<String>,
    ) {
        let initial = self.req.url.as_str();
        self.failure = Some(Failure {
            kind,
            stage,
            hint,
            status,
            allow_origin_lines: lines,
            url: self.url.to_string(),
            initial_url: (self.url.as_str() != initial).then(|| initial.to_string()),
            redirect_to,
            page_origin: self.req.origin.to_string(),
            sent_origin: self.origin.to_string(),
        });
        self.state = State::Done;
    }

    /// Hands over the response head to the request [`Fetch::poll`] returned last.
    pub fn receive(&mut self, resp: ResponseHead) {
        let resp = if self.browser.skips_empty_repeated_lines() {
            without_empty_repeats(resp)
        } else {
            resp
        };
        if let Some(ex) = self.exchanges.last_mut() {
            ex.response = Some(resp.clone());
        }
        if resp.status == 407 && self.browser.refuses_unexpected_proxy_auth() {
            return self.network_error(
                "ERR_UNEXPECTED_PROXY_AUTH",
                "the server answered 407 Proxy Authentication Required, and no proxy is in use",
            );
        }
        match self.state {
            State::AwaitPreflight => self.on_preflight(resp),
            State::AwaitActual => self.on_actual(resp),
            _ => {}
        }
    }

    fn on_preflight(&mut self, resp: ResponseHead) {
        if resp.redirect_location().is_some() {
            return self.fail(
                FailureKind::PreflightDisallowedRedirect,
                Stage::Preflight,
                None,
                Some(resp.status),
                0,
            );
        }
        let unsafe_headers = self.unsafe_headers();
        let check_order = header::check_order(
            self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            self.browser,
            self.req.origin.is_potentially_trustworthy(),
        );
        let ask = Ask {
            origin: self.preflight_origin(),
            method: &self.method,
            headers: &unsafe_headers,
            check_order: &check_order,
            credentials: self.req.credentials,
        };
        match preflight::check_response(&resp, &ask, self.browser) {
            Ok(grant) => {
                self.grant = Some(grant);
                self.state = State::SendActual;
            }
            Err(e) => self.fail(
                e.kind,
                Stage::Preflight,
                e.hint,
                Some(resp.status),
                e.allow_origin_lines,
            ),
        }
    }

    fn on_actual(&mut self, resp: ResponseHead) {
        if self.cors() && self.req.mode == Mode::Cors {
            if let Err(e) = cors_check(&resp, &self.origin, self.req.credentials, self.browser) {
                let redirect_to = resp
                    .redirect_location()
                    .and_then(|l| self.url.join(&l).ok())
                    .map(without_credentials);
                return self.fail_redirect(
                    e.kind,
                    Stage::Actual,
                    e.hint,
                    Some(resp.status),
                    e.allow_origin_lines,
                    redirect_to,
                );
            }
        }
        let Some(location) = resp.redirect_location() else {
            self.state = State::Done;
            return;
        };
        self.redirects += 1;
        if self.redirects > redirect::MAX_REDIRECTS {
            return self.network_error("ERR_TOO_MANY_REDIRECTS", "more than 20 redirects");
        }
        match redirect::resolve(
            &self.url,
            &location,
            &self.req.origin,
            self.tainted,
            self.cors(),
        ) {
            Ok(next) => {
                let dropped = self.browser.headers_dropped_on_redirect();
                let keep = self.browser.keeps_first_request_headers_on_redirect();
                // Fetch removes Authorization when a redirect changes origin
                // (https://fetch.spec.whatwg.org/#http-redirect-fetch, step 13).
                let changes_origin = !Origin::of_url(&self.url).same_origin(&Origin::of_url(&next));
                self.headers.retain(|(n, _)| {
                    let n = n.to_ascii_lowercase();
                    keep || !(dropped.contains(&n.as_str())
                        || (changes_origin && n == "authorization"))
                });
                if redirect::taints(&self.req.origin, &self.url, &next) {
                    self.tainted = true;
                    self.origin = Origin::Opaque;
                }
                let (method, drop_body) = redirect::method_after(resp.status, &self.method);
                if drop_body {
                    self.body = None;
                    self.headers.retain(|(n, _)| {
                        keep || !matches!(
                            n.to_ascii_lowercase().as_str(),
                            "content-encoding"
                                | "content-language"
                                | "content-location"
                                | "content-type"
                        )
                    });
                }
                self.method = method;
                self.url = next;
                self.state = State::Start;
            }
            Err(RedirectError::Credentials(loc)) => {
                let redirect_to = Url::parse(&loc).ok().map(without_credentials);
                self.fail_redirect(
                    FailureKind::RedirectContainsCredentials,
                    Stage::Actual,
                    Some(loc),
                    Some(resp.status),
                    0,
                    redirect_to,
                )
            }
            Err(RedirectError::TooMany) => {
                self.network_error("ERR_TOO_MANY_REDIRECTS", "more than 20 redirects")
            }
            Err(RedirectError::BadLocation(l)) => self.network_error(
                "ERR_INVALID_REDIRECT",
                &format!("the Location '{l}' is not a valid URL"),
            ),
            Err(RedirectError::NotHttp(l)) => {
                self.network_error(
                    "ERR_UNSAFE_REDIRECT",
                    &format!("the redirect to '{l}' leaves http(s)"),
                );
                self.unsafe_redirect = Some(l);
            }
        }
    }

    /// Reports that the last request got no usable response (connection refused, timeout, TLS or
    /// parse failure). `code` is Chromium's name for it (`ERR_CONNECTION_REFUSED`, ...).
    pub fn network_error(&mut self, code: &str, detail: &str) {
        self.net_error = Some(NetError {
            code: code.to_string(),
            detail: detail.to_string(),
        });
        self.state = State::Done;
    }

    /// The verdict. Call once [`Fetch::poll`] has returned [`Next::Done`].
    pub fn finish(self) -> Outcome {
        let cross_origin = self.req.cross_origin || self.tainted;
        let lna_blocked = self.lna.as_ref().is_some_and(|l| l.blocked.is_some());
        Outcome {
            browser: self.browser,
            allowed: self.failure.is_none()
                && self.net_error.is_none()
                && !lna_blocked
                && self.state == State::Done,
            cross_origin,
            // What went on the wire: a preflight Local Network Access refused before it was
            // sent does not count, nor one a request refused up front never needed.
            preflight: self
                .exchanges
                .iter()
                .any(|e| e.request.kind == ExchangeKind::Preflight),
            final_url: self.url.to_string(),
            failure: self.failure,
            net_error: self.net_error,
            exchanges: self.exchanges,
            grant: self.grant,
            unsafe_redirect: self.unsafe_redirect,
            request: self.req,
            lna: self.lna,
        }
    }
}

/// `resp` without the empty field lines of a header that has other, non-empty lines: Firefox
/// merges repeated lines skipping empty ones (`nsHttpHeaderArray::MergeHeader`), so
/// `Access-Control-Allow-Origin:` followed by `Access-Control-Allow-Origin: *` is one `*`
/// (WPT's cors/origin.htm "Disallow multiple headers (, *)", allowed in Firefox 153).
fn without_empty_repeats(mut resp: ResponseHead) -> ResponseHead {
    let blank = |v: &[u8]| v.iter().all(|b| matches!(b, b' ' | b'\t'));
    let full: Vec<String> = resp
        .headers
        .iter()
        .filter(|(_, v)| !blank(v))
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    resp.headers
        .retain(|(n, v)| !blank(v) || !full.contains(&n.to_ascii_lowercase()));
    resp
}

/// Whether two serialised hosts are the same site ([`Host::same_site`]), read as hosts.
fn same_site(a: &str, b: &str) -> bool {
    match (Host::parse(a), Host::parse(b)) {
        (Ok(a), Ok(b)) => a.same_site(&b),
        _ => a == b,
    }
}

/// `url` without its user name and password: the URL a browser follows.
fn without_credentials(mut url: Url) -> String {
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

mod outcome;
#[cfg(test)]
mod tests;

pub use outcome::{LnaHop, LnaReport, Outcome};
