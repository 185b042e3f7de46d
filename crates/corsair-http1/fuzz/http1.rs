//! HTTP/1.1 framing never panics and keeps its promises on any input: the chunked decoder
//! (whatever the split of the reads) and the request and response head rules.
#![no_main]

use corsair_http1::{inspect_response, route_request, Chunked, Framing, RequestRoute};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };

    // The decoder: one pass whole, one pass in reads of `split` bytes; the same outcome.
    let mut whole = Vec::new();
    let a = Chunked::default().decode(rest, &mut whole);
    let mut pieces = Vec::new();
    let mut dec = Chunked::default();
    let step = usize::from(split.max(1));
    let mut used_total = 0;
    let mut b = Ok((0, false));
    for part in rest.chunks(step) {
        b = dec.decode(part, &mut pieces);
        match b {
            Ok((used, done)) => {
                used_total += used;
                if done {
                    break;
                }
                assert_eq!(used, part.len(), "an unfinished body uses every byte");
            }
            Err(_) => break,
        }
    }
    match (a, b) {
        (Ok((used, done)), Ok((_, done2))) => {
            assert_eq!(done, done2);
            assert_eq!(used, used_total);
            assert_eq!(whole, pieces);
            if done {
                // The re-encoding is complete chunked framing on its own.
                let mut again = Vec::new();
                assert_eq!(Chunked::default().decode(&whole, &mut again), Ok((whole.len(), true)));
            }
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!("whole {a:?} but split {b:?}"),
    }

    // A request target: a path with a `..` segment as a server resolving them reads it (a
    // `;` and what follows dropped, `%2e` decoded) is always refused.
    let refused = corsair_http1::path_refusal(rest).is_some();
    let path = rest.split(|&b| b == b'?' || b == b'#').next().unwrap_or(&[]);
    let resolved_dots = path.split(|&b| b == b'/').any(|seg| {
        let name = seg.split(|&b| b == b';').next().unwrap_or(&[]);
        let text = String::from_utf8_lossy(name).to_ascii_lowercase().replace("%2e", ".");
        text == "." || text == ".."
    });
    assert!(!resolved_dots || refused, "a dot segment passed: {:?}", String::from_utf8_lossy(rest));

    // Heads: lines of `name: value`.
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let pairs: Vec<(&[u8], &[u8])> = text
        .split('\n')
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().as_bytes(), v.trim().as_bytes()))
        .collect();
    let route = route_request(split % 3, "GET", "/x", pairs.iter().copied());
    if let RequestRoute::Take(f) = route {
        assert!(split % 3 == 1, "only HTTP/1.1 is taken");
        assert!(!pairs.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"transfer-encoding")));
        let _ = f.content_length;
    }
    let status = 100 + u16::from(split) * 2;
    if let Ok(r) = inspect_response(status, split % 2, split & 4 != 0, pairs.iter().copied()) {
        if r.framing == Framing::UntilClose {
            assert!(r.close, "a body delimited by the close ends the connection");
        }
        if split & 4 != 0 {
            assert_eq!(r.framing, Framing::None, "a HEAD answer has no body");
        }
    }
});
