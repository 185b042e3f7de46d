//! corsair-net: what corsair's commands and servers share on the network.
//!
//! - [`client`]: the HTTP/1.1 client `check`, `audit`, `demo` and the relay servers send with
//!   (hyper over TCP or rustls, one connection per exchange, curl's `--resolve`, `--cacert`,
//!   `--insecure`, an optional HTTP proxy), whose failures carry Chromium's error names;
//! - [`serving`]: a long-running server's life: SIGTERM and Ctrl-C, reloads on SIGHUP or a new
//!   modification time, and the admin server for `/metrics`, `/healthz` and `/readyz`.
//!
//! The decisions are the browser model's (`corsair-model`); this crate only moves bytes.

pub mod client;
mod error;
pub mod serving;

pub use client::{Client, Resolve};
pub use error::SettingError;
