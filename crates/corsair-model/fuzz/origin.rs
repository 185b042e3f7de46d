//! Origin parsing never panics, and a parsed origin's serialisation parses back to itself.
#![no_main]

use corsair_core::Origin;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok((origin, _spelling)) = Origin::spelling(s) {
        let serial = origin.to_string();
        let again = Origin::parse_lenient(&serial).expect("a serialised origin parses");
        assert_eq!(again.to_string(), serial);
        assert!(Origin::spelling(&serial).unwrap().1.is_empty() || origin.is_opaque());
    }
});
