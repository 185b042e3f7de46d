//! HTTPS to clients (`[tls]`): rustls with TLS 1.2 and 1.3 only, ALPN `h2` and `http/1.1`, an
//! optional client-certificate check, and the certificate and key reloaded on change and on
//! SIGHUP like the policy: a pair that does not load (unreadable, not PEM, a key that is not the
//! certificate's) is refused and logged, and the old pair keeps serving.

use crate::config::TlsSettings;
use arc_swap::ArcSwap;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// Why the `[tls]` files cannot be used: each names the file and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The certificate file is unreadable, not PEM, or holds no certificate.
    #[error("[tls] cert {}: {reason}", path.display())]
    Cert {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file is unreadable or holds no private key in PEM.
    #[error("[tls] key {}: {reason}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key is not the certificate's.
    #[error("[tls] the key {} does not go with the certificate {}: {reason}", key.display(), cert.display())]
    Mismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
        /// rustls's reason.
        reason: String,
    },
    /// The client CA file (`client_ca`) is unreadable or holds no usable CA certificate.
    #[error("[tls] client_ca {}: {reason}", path.display())]
    ClientCa {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the protocol settings.
    #[error("[tls]: {0}")]
    Rustls(String),
}

/// The files of `[tls]`, resolved against the config file's directory.
#[derive(Clone, Debug)]
pub struct Files {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

impl Files {
    pub fn new(settings: &TlsSettings, config_path: &Path) -> Files {
        let dir = config_path.parent().unwrap_or(Path::new("."));
        Files {
            cert: dir.join(&settings.cert),
            key: dir.join(&settings.key),
            client_ca: settings.client_ca.as_ref().map(|c| dir.join(c)),
        }
    }

    /// Builds an acceptor from the files as they are now.
    pub fn load(&self) -> Result<TlsAcceptor, TlsError> {
        let cert = |e: &dyn std::fmt::Display| TlsError::Cert {
            path: self.cert.clone(),
            reason: e.to_string(),
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| cert(&e))?
            .collect::<Result<_, _>>()
            .map_err(|e| cert(&e))?;
        if chain.is_empty() {
            return Err(cert(
                &"no certificate in it (a PEM file with -----BEGIN CERTIFICATE-----)",
            ));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| TlsError::Key {
            path: self.key.clone(),
            reason: e.to_string(),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // Refuses a key that is not the certificate's.
        let certified =
            rustls::sign::CertifiedKey::from_der(chain, key, &provider).map_err(|e| {
                TlsError::Mismatch {
                    key: self.key.clone(),
                    cert: self.cert.clone(),
                    reason: e.to_string(),
                }
            })?;
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let client_ca = |e: &dyn std::fmt::Display| TlsError::ClientCa {
                    path: ca.clone(),
                    reason: e.to_string(),
                };
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca).map_err(|e| client_ca(&e))? {
                    roots
                        .add(c.map_err(|e| client_ca(&e))?)
                        .map_err(|e| client_ca(&e))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| client_ca(&e))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config =
            builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// The files to watch for a reload.
    pub fn watched(&self) -> Vec<PathBuf> {
        let mut v = vec![self.cert.clone(), self.key.clone()];
        v.extend(self.client_ca.clone());
        v
    }
}

/// Reloads `acceptor` from `files` when one of them changes or on SIGHUP; a pair that does not
/// load is refused and logged, and the old one keeps serving.
pub async fn watch(
    files: Files,
    acceptor: Arc<ArcSwap<TlsAcceptor>>,
    hups: Vec<Option<tokio::signal::unix::Signal>>,
) {
    for (path, hup) in files.watched().into_iter().zip(hups) {
        let (files, acceptor) = (files.clone(), acceptor.clone());
        tokio::spawn(corsair_net::serving::watch_file(
            path,
            hup,
            move |reason| match files.load() {
                Ok(a) => {
                    acceptor.store(Arc::new(a));
                    tracing::info!(reason, cert = %files.cert.display(), "TLS certificate reloaded");
                }
                Err(e) => tracing::error!(
                    reason,
                    "TLS reload refused; the previous certificate keeps serving: {e}"
                ),
            },
        ));
    }
}
