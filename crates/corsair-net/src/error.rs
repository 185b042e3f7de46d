//! What can be wrong in a client's settings. Each message names the flag, the value and the
//! form that works.

use std::path::PathBuf;

/// A client setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingError {
    /// A `--resolve` entry that is not `HOST:PORT:ADDR[,ADDR...]`.
    #[error(
        "--resolve '{0}' must be HOST:PORT:ADDR[,ADDR...], e.g. api.example.com:443:127.0.0.1"
    )]
    Resolve(String),
    /// A `--proxy` value that is not a URL.
    #[error("--proxy '{url}' is not a URL ({reason}): write http://HOST:PORT")]
    ProxyNotUrl {
        /// The value given.
        url: String,
        /// Why the URL parser refused it.
        reason: url::ParseError,
    },
    /// A `--proxy` URL that is not `http://` with a host.
    #[error("--proxy '{0}' must be an http:// proxy URL with a host, e.g. http://127.0.0.1:3128")]
    ProxyScheme(String),
    /// The `--cacert` file cannot be read.
    #[error("cannot read --cacert {}: {source}", path.display())]
    CaUnreadable {
        /// The file.
        path: PathBuf,
        /// The read error.
        source: std::io::Error,
    },
    /// The `--cacert` file holds no PEM certificate.
    #[error("--cacert {}: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)", path.display())]
    CaEmpty {
        /// The file.
        path: PathBuf,
    },
    /// A certificate in the `--cacert` file that rustls refuses.
    #[error("--cacert {}: {reason}", path.display())]
    CaRefused {
        /// The file.
        path: PathBuf,
        /// rustls's reason.
        reason: rustls::Error,
    },
    /// rustls cannot build a client configuration (no protocol version in common).
    #[error("TLS client configuration: {0}")]
    Tls(rustls::Error),
}
