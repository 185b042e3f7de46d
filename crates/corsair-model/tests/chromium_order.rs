//! Chromium's header orders, observed in Chromium 156 and kept as data in `vectors/`, are
//! reproduced by the header-map model:
//! - `chromium_header_order.json`: the names as a page set them (`set_order`) and as Chromium
//!   sent them (`wire_order`);
//! - `chromium_cors_error_header.json`: the names a preflight allowed none of, and the one
//!   Chromium named in "Request header field ... is not allowed by Access-Control-Allow-Headers
//!   in preflight response."

use corsair_model::chromium_order::{chromium_cors_header_order, chromium_header_order};

fn cases(text: &str) -> Vec<serde_json::Value> {
    serde_json::from_str(text).expect("vector file is JSON")
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_observed_wire_order() {
    let cases = cases(include_str!("vectors/chromium_header_order.json"));
    assert_eq!(cases.len(), 67);
    for case in &cases {
        let set = strings(&case["set_order"]);
        let wire = strings(&case["wire_order"]);
        let names: Vec<&str> = set.iter().map(String::as_str).collect();
        let order = chromium_header_order(&names);
        let mut seen = order.clone();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..names.len()).collect::<Vec<_>>(),
            "not a permutation"
        );
        let got: Vec<String> = order
            .iter()
            .map(|&i| names[i].to_ascii_lowercase())
            .collect();
        let want: Vec<String> = wire.iter().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(got, want, "set in order {set:?}");
    }
}

#[test]
fn every_observed_cors_error_names_the_first_header_in_map_order() {
    let cases = cases(include_str!("vectors/chromium_cors_error_header.json"));
    assert_eq!(cases.len(), 6);
    for case in &cases {
        let names = strings(&case["names"]);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let order = chromium_cors_header_order(&names);
        assert_eq!(names[order[0]], case["named"], "names {names:?}");
    }
    // On the wire, the same request puts Cache-Control first instead.
    let names = [
        "x-foo",
        "x-custom",
        "cache-control",
        "x-e",
        "if-match",
        "x-b",
    ];
    assert_eq!(names[chromium_header_order(&names)[0]], "cache-control");
}
