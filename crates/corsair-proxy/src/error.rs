//! Why the proxy's file cannot be used, or the proxy could not start.

use std::path::PathBuf;

/// A proxy file that cannot be served.
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
    /// The file is not TOML, or has a key the proxy does not know.
    #[error("{}:{at}error: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// `LINE:COL: `, or nothing when the parser gives no place.
        at: String,
        /// The parser's message.
        message: String,
    },
    /// The relay's lint refused the file; one rendered problem per line,
    /// `FILE:LINE:COL: error: [proxy] KEY: MESSAGE; fix: FIX`.
    #[error("{}", .problems.join("\n"))]
    Refused {
        /// Every problem, rendered.
        problems: Vec<String>,
    },
}

/// The proxy did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// An address cannot be bound (in use, or not an address of this host).
    #[error(transparent)]
    Bind(#[from] corsair_net::serving::BindError),
    /// The TLS client settings (`--cacert`) cannot be used.
    #[error(transparent)]
    Client(#[from] corsair_net::SettingError),
    /// `redis` is set and Redis cannot be used; the message says why and what to do.
    #[error("[proxy] redis '{url}': {reason}")]
    Redis {
        /// The Redis URL.
        url: String,
        /// Why, and the fix.
        reason: String,
    },
    /// The runtime or a socket setting could not be had.
    #[error("cannot start: {0}")]
    System(#[from] std::io::Error),
}
