//! `corsair audit`, sans IO: which Origin mutations and preflights to send to a target, and
//! what the answers reveal. The caller sends [`probes`] (in order, concurrently or not) and
//! hands every answer to [`assess`], which returns every misconfiguration class found, each
//! with a severity from its exploitability, the evidence and the fix in corsair's policy
//! language.
//!
//! A mutation is reported under the root cause that explains it: when the origins one class
//! accepted are all accepted by another class's flawed check (a server that reflects any
//! origin also accepts the prefix and suffix tricks; one that trusts any origin containing
//! the trusted host also accepts `TRUSTED.attacker.example`), the finding is the root cause,
//! whose fix closes them all, and the others are listed as `implied` with their origins in
//! `also_allowed`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The browser model and the crates below this one, under the paths this code has always used.
use corsair_model::{browser, fetch, header, host, Origin};

mod class;
pub mod exposure;
mod findings;
mod fixes;
mod probe;
mod roots;

pub use class::{Class, Severity, UnknownSeverity};
pub use findings::{
    assess, engine_reach, Answers, EngineReach, Evidence, Finding, Reply, BODY_SAMPLE,
};
pub use fixes::fix;
pub use probe::{
    probes, Probe, ProbeKind, Relation, Subject, SubjectError, LABEL_CHARS, MISSING_SEGMENT,
    PROBE_HEADER, PROBE_METHOD, SPECIAL_CHARS, THIRD_PARTY,
};

// What the modules share, through `use crate::*`.
use crate::browser::Browser;
use crate::fetch::{ExchangeKind, Outgoing};
use corsair_model::lna::{self, AddressSpace};
use corsair_model::ResponseHead;

#[cfg(test)]
mod tests;
