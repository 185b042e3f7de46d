//! corsair-model: the browser's side of CORS, with no IO: origins and hosts, request
//! classification, the CORS and preflight checks, redirects, the preflight cache, the failure
//! catalogue with each engine's console text, the fetch state machine, and Local Network Access.
//!
//! Everything here is decided from values: an origin string, a request description, the status and
//! headers of a response. Nothing opens a socket, reads a file or looks at a clock; callers push
//! responses in and pull decisions out (see [`fetch::Fetch`]). The authority is the WHATWG Fetch
//! standard (<https://fetch.spec.whatwg.org/>); where a browser departs from it, [`Browser`] says so
//! and the model follows the browser, because the browser is what users meet.
//!
//! Out of scope: the server's policy (`corsair-policy`), configuration generation (`corsair-gen`),
//! diagnosis (`corsair-diagnose`), the audit (`corsair-audit`) and the relay (`corsair-relay`), all
//! of which build on this crate; HTTP parsing (the gateway's HTTP/1.1 framing is the `corsair-http1` crate), TLS, DNS
//! and timers. The `corsair` binary does those.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod browser;
pub mod cache;
pub mod catalogue;
pub mod check;
pub mod chromium_order;
pub mod failure;
pub mod fetch;
pub mod header;
pub mod host;
pub mod lna;
pub mod method;
pub mod mime;
pub mod origin;
pub mod preflight;
pub mod redirect;
pub mod request;
pub mod response;

pub use browser::{Browser, UnknownBrowser};
pub use failure::{Failure, FailureKind, Stage};
pub use fetch::{Fetch, Next, Outcome};
pub use origin::Origin;
pub use request::{Credentials, RequestApi, RequestSpec};
pub use response::ResponseHead;
