//! Why the ui did not start, why `--live-origin` is refused, and why an API call is.

use std::net::{IpAddr, SocketAddr};

/// An API call the backend refuses; the message is the page's to show (answered 400).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

/// A `--live-origin` that cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveOriginError {
    /// Not a serialised origin; the origin parser's message names the fix.
    #[error("{0}")]
    NotOrigin(String),
    /// `null`.
    #[error("the origin is opaque (null); give your app's origin, e.g. http://localhost:5173")]
    Opaque,
    /// Not `http:`.
    #[error(
        "'{0}' is not http: the ui serves the live page over plain http on loopback; give e.g. \
        http://localhost:5173"
    )]
    NotHttp(String),
    /// Not on loopback.
    #[error(
        "'{0}' is not on this machine: give a loopback origin (localhost, 127.0.0.1 or [::1]) \
        with its port, e.g. http://localhost:5173"
    )]
    NotLoopback(String),
    /// No port.
    #[error("'{0}' has no port: give the port your app is served on, e.g. http://localhost:5173")]
    NoPort(String),
}

/// The ui did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The main address cannot be bound.
    #[error("cannot listen on {addr}: {source} (choose another with --listen 127.0.0.1:PORT)")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No port is free on loopback for the second origin's live page.
    #[error("cannot listen on {ip} for the live page: {source}")]
    LivePage {
        /// The loopback address.
        ip: IpAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// `--live-origin`'s port cannot be bound (often: the app itself is running there).
    #[error("cannot serve the live page at {origin}: {}", app_origin_reason(.source))]
    AppOrigin {
        /// The origin.
        origin: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No randomness for the token (beyond loopback).
    #[error("cannot read /dev/urandom for the ui token: {0}")]
    Token(std::io::Error),
    /// The runtime or a socket setting could not be had.
    #[error("cannot start: {0}")]
    System(#[from] std::io::Error),
}

fn app_origin_reason(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        "its port is in use (is your app running there? stop it while you test, or leave out \
            --live-origin to use the second origin)"
            .into()
    } else {
        e.to_string()
    }
}
