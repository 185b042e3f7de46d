//! Header-list parsing and classification never panic: Allow-Methods/-Headers lists,
//! safelist rules, MIME essences, unsafe-name lists, Max-Age.
#![no_main]

use corsair_core::{header, mime, preflight, Browser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(items) = preflight::parse_list(s) {
        assert!(items.iter().all(|i| corsair_core::method::is_token(i)));
    }
    let _ = mime::essence(s);
    for b in Browser::ALL {
        let _ = preflight::max_age(Some(s), b);
        let pairs: Vec<(&str, &str)> = s
            .split('\n')
            .filter_map(|l| l.split_once(':'))
            .collect();
        let names = header::unsafe_names(pairs.iter().copied(), b);
        assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted and deduplicated");
        for (n, v) in pairs {
            let _ = header::is_safelisted(n, v, b);
            let _ = header::forbidden(n, v, b);
        }
    }
});
