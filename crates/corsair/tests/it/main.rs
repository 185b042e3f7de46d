//! corsair's integration tests, in one binary (one link, one process; `cargo test --test it`).
//!
//! - the CLI and the gateway against servers started here: `cli`, `demo`, `explain`, `audit`,
//!   `gateway`, `gateway_h1`, `gateway_load`, `gateway_routes`, `relay`, `relay_secrets`, `tls`;
//! - `browser::`: the suites that drive headless Chromium (the differential, the demo, the
//!   gateway and the ui in a real browser);
//! - `peers::`: the suites that start real peer servers (nginx, Apache, Caddy, Express, the
//!   Python frameworks, an axum build) from generated configs and snippets.
//!
//! Run one family with a filter: `cargo test --test it browser::`, or everything but the
//! browser and peer suites with `cargo test --test it -- --skip browser:: --skip peers::`.

mod audit;
mod audit_fleet;
mod book;
mod browser;
mod cli;
mod clinic;
mod demo;
mod deploy;
pub mod dev;
mod explain;
mod gateway;
mod gateway_h1;
mod gateway_load;
mod gateway_routes;
mod golden;
mod peers;
mod relay;
mod relay_secrets;
mod support;
mod tls;
