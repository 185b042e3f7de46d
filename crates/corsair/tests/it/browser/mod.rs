//! Suites that drive headless Chromium.

mod demo;
mod differential;
mod gateway;
mod lna;
mod lna_matrix;
mod relay;
mod ui;
