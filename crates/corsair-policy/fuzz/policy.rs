//! Loading a policy file never panics, and a loaded policy decides any request without panicking.
#![no_main]

use corsair_core::policy::keys::Others;
use corsair_core::policy::{decide, load, RequestView};
use libfuzzer_sys::fuzz_target;

/// The keys `corsair serve` reads from the same file.
const SERVE: Others = Others {
    top: &["listen", "upstream", "admin", "gateway"],
    tables: &[],
};

fuzz_target!(|data: &[u8]| {
    // First line: a request (method, origin, ACRM, ACRH separated by '|'); the rest: the file.
    let Ok(s) = std::str::from_utf8(data) else { return };
    let (req, file) = s.split_once('\n').unwrap_or(("", s));
    let mut parts = req.split('|');
    let method = parts.next().unwrap_or("GET");
    let origin = parts.next();
    let acrm = parts.next();
    let acrh = parts.next();
    for env in [None, Some("development")] {
        if let Ok((config, _)) = load(file, env, &SERVE) {
            let view = RequestView {
                method,
                origin: origin.map(str::as_bytes),
                request_method: acrm.map(str::as_bytes),
                request_headers: acrh.map(str::as_bytes),
            };
            let policy = config.policy_for("/x").expect("/x is read alike by every upstream");
            let d = decide(policy, &view);
            assert!(d.headers.len() <= 7);
        }
    }
});
