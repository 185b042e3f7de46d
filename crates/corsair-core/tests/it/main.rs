//! corsair-core's integration tests, in one binary: the closed loop of policy, decision and
//! browser model as a property test (`closed_loop`), and Chromium's observed header orders,
//! kept as data in `tests/vectors/` (`chromium_order`).

mod chromium_order;
mod closed_loop;
