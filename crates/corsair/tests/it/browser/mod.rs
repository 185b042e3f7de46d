//! Suites that drive real browsers: headless Chromium, and Firefox and WebKit for the
//! differentials.

mod demo;
mod differential;
pub mod engines;
mod gateway;
mod lna;
mod lna_matrix;
mod relay;
mod ui;
