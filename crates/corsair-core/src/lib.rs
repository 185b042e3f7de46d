//! corsair-core: the whole sans-IO CORS engine behind one name. It re-exports, under the module
//! names the `corsair` binary uses:
//!
//! - the browser model (`corsair-model`): origins, hosts, request classification, the CORS and
//!   preflight checks, redirects, the preflight cache, the failure catalogue, the fetch state
//!   machine, Local Network Access;
//! - the server policy (`corsair-policy`) as [`policy`];
//! - configuration generation (`corsair-gen`) as [`gen`];
//! - diagnosis (`corsair-diagnose`): [`explain`], [`import`], [`fix`];
//! - the audit (`corsair-audit`) as [`audit`];
//! - the relay rules of `corsair proxy` (`corsair-relay`) as [`relay`].
//!
//! Each of those crates depends only on the ones listed before it, and none does IO: no socket,
//! file or clock (CI checks each). A library that needs less depends on less: `corsair-tower`
//! takes the model and the policy only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use corsair_audit as audit;
pub use corsair_diagnose::{diagnosis, explain, fix, import};
pub use corsair_gen as gen;
pub use corsair_model::*;
pub use corsair_policy as policy;
pub use corsair_relay as relay;
