//! Why the gateway could not start, or its file could not be loaded.

use corsair_policy::file::Diagnostic;
use std::path::PathBuf;

/// The gateway did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// An address cannot be bound (in use, or not an address of this host).
    #[error(transparent)]
    Bind(#[from] corsair_net::serving::BindError),
    /// The `[tls]` files cannot be used; the message names the file and what is wrong with it.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The access log file cannot be opened.
    #[error("cannot open the access log {}: {source}", path.display())]
    AccessLog {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A runtime, thread or socket setting the gateway needs could not be had.
    #[error("cannot start: {0}")]
    System(#[from] std::io::Error),
}

/// A `corsair.toml` that cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file has errors; rendered one per diagnostic, `FILE:line:col: error [key]: ...`.
    #[error("{}", .diagnostics.iter().map(|d| crate::config::render(path, d)).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every error and warning, in file order.
        diagnostics: Vec<Diagnostic>,
    },
}
