//! What can be wrong in `corsair dev`'s arguments, or in starting it.

/// An argument that cannot be used; each message names the flag, the value and the form that
/// works.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArgError {
    /// A `--route` or `--to` that cannot work (its message names the form that does).
    #[error(transparent)]
    Route(#[from] corsair_gen::dev::RouteError),
    /// An `--allow-host` that is not a host name.
    #[error("--allow-host '{0}' is not a host name (no scheme or port), e.g. myapp.test")]
    AllowHost(String),
}

/// The dev server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// An address cannot be bound (in use, or not an address of this host).
    #[error(transparent)]
    Bind(#[from] corsair_net::serving::BindError),
    /// The TLS client for https upstreams cannot be built.
    #[error(transparent)]
    Client(#[from] corsair_net::SettingError),
    /// The runtime or a socket setting could not be had.
    #[error("cannot start: {0}")]
    System(#[from] std::io::Error),
}
