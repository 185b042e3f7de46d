//! A whole fetch decision never panics, whatever the request and whatever the server answers.
#![no_main]

use corsair_core::{Browser, Credentials, Fetch, Next, RequestSpec, ResponseHead};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    // Line 1: method and request headers; the rest: responses, one per blank-line-separated block.
    let mut blocks = s.split("\n\n");
    let first = blocks.next().unwrap_or("");
    let mut lines = first.lines();
    let method = lines.next().unwrap_or("GET").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    for browser in Browser::ALL {
        let spec = RequestSpec {
            url: "http://api.test/x".into(),
            origin: "http://app.test".into(),
            method: method.clone(),
            headers: headers.clone(),
            credentials: if data.len() % 2 == 0 { Credentials::Include } else { Credentials::SameOrigin },
            ..Default::default()
        };
        let Ok(mut fetch) = Fetch::new(&spec, browser) else { continue };
        let mut responses = blocks.clone();
        let mut steps = 0;
        while let Next::Send(_) = fetch.poll() {
            steps += 1;
            assert!(steps < 64, "the state machine must terminate");
            let Some(block) = responses.next() else {
                fetch.network_error("ERR_EMPTY_RESPONSE", "fuzz input ended");
                continue;
            };
            let mut ls = block.lines();
            let status = ls.next().and_then(|l| l.trim().parse().ok()).unwrap_or(200);
            let hs: Vec<(String, Vec<u8>)> = ls
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect();
            fetch.receive(ResponseHead { status, headers: hs });
        }
        let outcome = fetch.finish();
        let _ = outcome.console();
        let _ = outcome.cause();
        if let Some(f) = &outcome.failure {
            let _ = corsair_core::fix::fix(f, &outcome.request);
        }
    }
});
