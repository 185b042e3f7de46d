//! What can be wrong in `corsair dev`'s arguments, or in starting it.

use std::net::SocketAddr;

/// An argument that cannot be used; each message names the flag, the value and the form that
/// works.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArgError {
    /// A `--route` without `=`.
    #[error("--route '{0}' must be PREFIX=URL, e.g. /api=http://127.0.0.1:8080")]
    RouteForm(String),
    /// A `--route` whose prefix does not start with `/`.
    #[error("--route '{route}': the prefix '{prefix}' must start with '/', e.g. /{prefix}={to}")]
    RoutePrefix {
        /// The whole argument.
        route: String,
        /// Its prefix.
        prefix: String,
        /// Its URL.
        to: String,
    },
    /// An upstream without `scheme://`.
    #[error("{flag} '{text}' has no scheme; did you mean http://{text}?")]
    NoScheme {
        /// The flag (`--to`, `--route`).
        flag: String,
        /// The value.
        text: String,
    },
    /// An upstream the URL parser refuses.
    #[error("{flag} '{text}' is not a URL ({reason})")]
    NotUrl {
        /// The flag.
        flag: String,
        /// The value.
        text: String,
        /// The parser's reason.
        reason: url::ParseError,
    },
    /// An upstream that is not http(s) with a host.
    #[error("{flag} '{text}' must be an http:// or https:// URL with a host")]
    Scheme {
        /// The flag.
        flag: String,
        /// The value.
        text: String,
    },
    /// An upstream with a path or query: the path is forwarded unchanged.
    #[error(
        "{flag} '{text}': the path is forwarded unchanged, so give the server alone, e.g. {origin}"
    )]
    HasPath {
        /// The flag.
        flag: String,
        /// The value.
        text: String,
        /// The server alone.
        origin: String,
    },
    /// An `--allow-host` that is not a host name.
    #[error("--allow-host '{0}' is not a host name (no scheme or port), e.g. myapp.test")]
    AllowHost(String),
}

/// The dev server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The listening address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The TLS client for https upstreams cannot be built.
    #[error(transparent)]
    Client(#[from] corsair_net::SettingError),
    /// The runtime or a socket setting could not be had.
    #[error("cannot start: {0}")]
    System(#[from] std::io::Error),
}
