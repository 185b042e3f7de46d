//! Choosing a `[[routes]]` entry never panics on any path, and a path that is routed keeps its
//! route once normalised by hand (an unreserved `%XX` decoded, `//` merged): the readings that
//! `corsair serve` routes either agree or refuse the path.
#![no_main]

use corsair_core::policy::{keys::Others, load, route::choose, PolicyFile};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const FILE: &str = "[policy]\norigins = [\"https://app.test\"]\n[[routes]]\npath = \"/admin\"\npolicy = { origins = [\"https://admin.test\"] }\n[[routes]]\npath = \"/api/v1/\"\npolicy = {}\n[[routes]]\npath = \"/Feed.xml\"\npolicy = {}\n";

fn file() -> &'static PolicyFile {
    static F: OnceLock<PolicyFile> = OnceLock::new();
    F.get_or_init(|| load(FILE, None, &Others::default()).expect("the fuzz policy loads").0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let f = file();
    let Ok(chosen) = choose(&f.routes, path) else { return };
    if let Some(i) = chosen {
        assert!(i < f.routes.len());
    }
    // One more way to write the same path: every `a` as `%61`. If that is routed too, it is
    // routed the same (or refused).
    let encoded = path.replace('a', "%61");
    if let Ok(other) = choose(&f.routes, &encoded) {
        assert_eq!(other, chosen, "{path} / {encoded}");
    }
});
