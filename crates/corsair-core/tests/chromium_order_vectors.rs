//! Every observed Chromium 156 wire order in `vectors/chromium_header_order.json` is reproduced
//! by the header-map model.

use corsair_core::chromium_order::chromium_header_order;

#[test]
fn all_observed_cases_from_vector_file() {
    let text = include_str!("vectors/chromium_header_order.json");
    let cases: Vec<serde_json::Value> = serde_json::from_str(text).expect("vector file is JSON");
    assert_eq!(cases.len(), 60);
    for case in &cases {
        let strings = |k: &str| -> Vec<String> {
            case[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        };
        let set = strings("set_order");
        let wire = strings("wire_order");
        let names: Vec<&str> = set.iter().map(String::as_str).collect();
        let got: Vec<&str> = chromium_header_order(&names)
            .into_iter()
            .map(|i| names[i])
            .collect();
        assert_eq!(got, wire, "set in order {set:?}");
    }
}
