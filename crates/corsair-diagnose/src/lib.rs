//! corsair-diagnose: from a failure to what to do about it. Reading pasted console errors back
//! (`explain`), requests copied out of DevTools as cURL or fetch (`import`), and fixes: the
//! policy a failed request needs, as `corsair gen` writes it for each stack (`fix`).
//!
//! Sans IO, like the crates below it: the browser model (`corsair-model`), the server policy
//! (`corsair-policy`) and the generators (`corsair-gen`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The browser model and the crates below this one, under the paths this code has always used.
use corsair_gen as gen;
use corsair_model::{
    browser, failure, header, lna, method, origin, request, Browser, Origin, ResponseHead,
};
use corsair_policy as policy;

pub mod diagnosis;
pub mod explain;
pub mod fix;
pub mod import;
