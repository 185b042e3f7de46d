//! Reading a DevTools copy ("Copy as cURL" in bash or cmd quoting, "Copy as fetch") never
//! panics, and what it returns is a request a check can be built from.
#![no_main]

use corsair_core::import::{from_curl, from_fetch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for r in [from_curl(text), from_fetch(text)].into_iter().flatten() {
        assert!(!r.url.trim().is_empty() && !r.method.trim().is_empty());
        // Every header kept is one the page could have set.
        for (name, value) in &r.headers {
            assert!(corsair_core::header::forbidden(name, value, corsair_core::Browser::Chromium).is_none());
        }
    }
});
