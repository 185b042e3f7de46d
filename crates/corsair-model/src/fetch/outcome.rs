//! What a fetch ended in ([`Outcome`]): the verdict, every exchange, the Local Network Access
//! report, and what the modelled engine prints and why.

#[allow(unused_imports)]
use super::*;

/// What Local Network Access made of the fetch (the engines that enforce it: Chromium, Firefox).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LnaReport {
    /// How the engine applies it.
    #[serde(skip)]
    pub rules: lna::Rules,
    /// The page's address space.
    pub page_space: AddressSpace,
    /// Whether the page is a secure context.
    pub secure_context: bool,
    /// The page's permissions as modelled.
    pub permissions: lna::Permissions,
    /// `fetch(url, { targetAddressSpace })`, when set.
    pub target_address_space: Option<AddressSpace>,
    /// The space of each connection, in order (preflight, request, redirect hops).
    pub hops: Vec<LnaHop>,
    /// Whether any connection needed a permission.
    pub permission_needed: bool,
    /// The permission that was needed: `loopback-network` or `local-network`.
    pub permission: Option<&'static str>,
    /// `not-applicable`, `allowed` (a permission let it through) or `blocked`.
    pub outcome: &'static str,
    /// Why it was blocked.
    pub blocked: Option<lna::Blocked>,
}

/// One connection's address space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LnaHop {
    /// The URL requested on it.
    pub url: String,
    /// Its address space.
    pub space: AddressSpace,
    /// The address connected to (`IP:PORT`), when the IO layer said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Whether the connection was for a preflight.
    pub preflight: bool,
}

/// The verdict, with everything that led to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The browser modelled.
    pub browser: Browser,
    /// Whether JavaScript could read the response.
    pub allowed: bool,
    /// Whether CORS applied at all (cross-origin, or made so by a redirect).
    pub cross_origin: bool,
    /// Whether the browser sent a preflight (an OPTIONS went on the wire, or was about to when
    /// the connection failed); false when nothing was sent, whatever the reason.
    pub preflight: bool,
    /// The CORS failure, when blocked by CORS.
    pub failure: Option<Failure>,
    /// The transport failure, when the server could not be reached.
    pub net_error: Option<NetError>,
    /// Every exchange, in order.
    pub exchanges: Vec<Exchange>,
    /// The request as the browser makes it.
    pub request: Classified,
    /// The last preflight's grant, when one passed.
    pub grant: Option<Grant>,
    /// The URL of the last response.
    pub final_url: String,
    /// Where a redirect the browser refused to follow pointed, when its scheme is not HTTP(S)
    /// (each engine words that refusal its own way).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsafe_redirect: Option<String>,
    /// Local Network Access, when the browser enforces it (Chromium, Firefox).
    pub lna: Option<LnaReport>,
}

impl Outcome {
    /// The console message the modelled browser prints, or `None` when the response is readable.
    pub fn console(&self) -> Option<String> {
        self.console_for(self.browser)
    }

    /// The Local Network Access refusal, when Chromium refused to connect.
    pub fn lna_blocked(&self) -> Option<&lna::Blocked> {
        self.lna.as_ref()?.blocked.as_ref()
    }

    /// The console message `browser` would print for this outcome.
    pub fn console_for(&self, browser: Browser) -> Option<String> {
        if browser == Browser::Firefox {
            if let Some(lines) = self.firefox_lna_lines() {
                return lines;
            }
        }
        if let Some(b) = self.lna_blocked() {
            let initial = self.request.url.as_str();
            let redirected = if self.final_url != initial {
                format!("(redirected from '{initial}') ")
            } else {
                String::new()
            };
            return Some(format!(
                "Access to {} at '{}' {redirected}from origin '{}' has been blocked by CORS \
                    policy: {}",
                self.request.api.chromium_resource(),
                self.final_url,
                self.request.origin,
                b.reason()
            ));
        }
        if let Some(f) = &self.failure {
            return Some(catalogue::console_message(f, self.request.api, browser));
        }
        if let Some(text) = self.unsafe_redirect.as_ref().and_then(|target| {
            catalogue::unsafe_redirect_console(
                browser,
                target,
                &self.final_url,
                self.request.url.as_str(),
                &self.request.origin.to_string(),
                self.request.api,
            )
        }) {
            return Some(text);
        }
        if let Some(text) = self.net_error.as_ref().and_then(|e| {
            catalogue::network_console(browser, &e.code, &self.final_url, self.request.api)
        }) {
            return Some(text);
        }
        if browser == Browser::Firefox && self.cross_origin && self.net_error.is_some() {
            return Some(catalogue::firefox_not_succeeded(&self.final_url));
        }
        // Chromium's DevTools line for a failed load; Firefox and WebKit log nothing for a
        // network error of a same-origin request (observed on WPT's redirect-count and
        // header-value-null-byte cases).
        if browser != Browser::Chromium {
            return None;
        }
        self.net_error.as_ref().map(|e| {
            let method = self
                .exchanges
                .last()
                .map_or("GET", |x| x.request.method.as_str());
            format!("{method} {} net::{}", self.final_url, e.code)
        })
    }

    /// Firefox's console when a connection went to a more private space than the page's
    /// (`None` when none did): its "Local Network Access" line (a warning, whether the request
    /// then passes or not), then what else it logs for the request. An undecided permission
    /// leaves the request waiting for the prompt, with one line saying so. Firefox writes the
    /// two lines from two processes, in either order; the model puts the LNA line first.
    fn firefox_lna_lines(&self) -> Option<Option<String>> {
        let report = self.lna.as_ref()?;
        let hop = report
            .hops
            .iter()
            .find(|h| h.space.is_more_private_than(report.page_space))?;
        let page = format!("{}/", self.request.origin);
        let via = match self.request.api {
            crate::request::RequestApi::Fetch => "fetch",
            crate::request::RequestApi::Xhr => "xhr",
            _ => "http",
        };
        let target = format!(
            "“{}” ({})",
            hop.url,
            hop.address.as_deref().unwrap_or("(unknown address)")
        );
        let secure = if report.secure_context {
            "True"
        } else {
            "False"
        };
        // Firefox logs its LNA lines for the page's own request, not for a preflight: a
        // preflight held for the prompt logs nothing, and a refused one fails like any failed
        // preflight, the request after it too.
        let not_succeeded = catalogue::firefox_not_succeeded(&hop.url);
        if hop.preflight && report.blocked.is_some() {
            return Some(match report.blocked {
                Some(lna::Blocked::PermissionDenied {
                    undecided: true, ..
                }) => None,
                _ => Some(format!("{not_succeeded}\n{not_succeeded}")),
            });
        }
        if let Some(lna::Blocked::PermissionDenied {
            undecided: true, ..
        }) = report.blocked
        {
            return Some(Some(format!(
                "Local Network Access permission required: top-level site \
                “{page}”, initiator “{page}”, attempting to access target {target} via {via}. \
                Secure context: {secure}"
            )));
        }
        let action = match (report.blocked.is_some(), report.permission_needed) {
            (true, _) => "auto_deny",
            (false, true) => "auto_allow",
            (false, false) => "(null)",
        };
        let detected = format!(
            "Local Network Access detected: top-level site “{page}”, initiator \
            “{page}”, accessing target {target} via {via}. Secure context: {secure}, prompt \
            action: {action}"
        );
        if report.blocked.is_some() {
            // Refused before it was sent: a CORS request reads as one that did not succeed.
            if self.request.mode == Mode::NoCors {
                return Some(Some(detected));
            }
            return Some(Some(format!("{detected}\n{not_succeeded}")));
        }
        if self.allowed {
            return Some(None);
        }
        let rest = self
            .failure
            .as_ref()
            .map(|f| catalogue::console_message(f, self.request.api, Browser::Firefox))
            .or_else(|| {
                self.net_error
                    .as_ref()
                    .map(|_| catalogue::firefox_not_succeeded(&self.final_url))
            });
        Some(Some(match rest {
            Some(r) => format!("{detected}\n{r}"),
            None => detected,
        }))
    }

    /// The failure's cause in one sentence.
    pub fn cause(&self) -> Option<String> {
        if let Some(b) = self.lna_blocked() {
            return Some(b.cause_in(&self.request.origin.to_string(), self.browser));
        }
        if let Some(f) = &self.failure {
            return Some(catalogue::cause(f));
        }
        self.net_error
            .as_ref()
            .map(|e| format!("The browser got no response: {}.", e.detail))
    }
}
