//! Reading a pasted console message (CORS kinds, Local Network Access and legacy Private Network
//! Access refusals, bare JavaScript errors) never panics, and what LNA reads is consistent: a
//! mismatch names the declared space, every refusal has a cause and fixes, and none of today's
//! refusals offers a response header as the fix.
#![no_main]

use corsair_core::explain::{bare_error, explain, is_network_failure};
use corsair_core::explain::lna::{refusal, RefusalKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = explain(text);
    let _ = bare_error(text);
    let _ = is_network_failure(text);
    if let Some(r) = refusal(text) {
        assert_eq!(r.declared.is_some(), r.kind == RefusalKind::TargetSpaceMismatch);
        assert!(!r.cause.is_empty() && !r.fixes.is_empty());
        if !r.legacy {
            // The fixes name the page and the URL the message gave, which may hold any text:
            // what is left must offer no header.
            let named = |f: &str| {
                let mut f = f.to_string();
                for n in r.origin.iter().chain(r.url.iter()).filter(|n| !n.is_empty()) {
                    f = f.replace(n.as_str(), "");
                }
                f
            };
            assert!(r.fixes.iter().all(|f| !named(f).contains("Access-Control-Allow")), "{text}");
        }
    }
});
