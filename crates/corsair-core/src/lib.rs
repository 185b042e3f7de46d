//! corsair-core: the CORS engine with no IO.
//!
//! Everything here is decided from values: an origin string, a request description, the status and
//! headers of a response. Nothing opens a socket, reads a file or looks at a clock; callers push
//! responses in and pull decisions out (see [`fetch::Fetch`]). The authority is the WHATWG Fetch
//! standard (<https://fetch.spec.whatwg.org/>); where a browser departs from it, [`Browser`] says so
//! and the model follows the browser, because the browser is what users meet.
//!
//! Out of scope: HTTP parsing (the gateway's HTTP/1.1 framing is the `corsair-http1` crate), TLS, DNS
//! and timers. The `corsair` binary does those.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod browser;
pub mod cache;
pub mod catalogue;
pub mod check;
pub mod chromium_order;
pub mod explain;
pub mod failure;
pub mod fetch;
pub mod fix;
pub mod gen;
pub mod header;
pub mod host;
pub mod import;
pub mod lna;
pub mod method;
pub mod mime;
pub mod origin;
pub mod policy;
pub mod preflight;
pub mod redirect;
pub mod relay;
pub mod request;
pub mod response;

pub use browser::Browser;
pub use failure::{Failure, FailureKind, Stage};
pub use fetch::{Fetch, Next, Outcome};
pub use origin::Origin;
pub use request::{Api, Credentials, RequestSpec};
pub use response::ResponseHead;
