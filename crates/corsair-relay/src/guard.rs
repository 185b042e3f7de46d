//! The private-address guard: which resolved addresses the proxy never connects to, read
//! from the parsed address.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The range an address is in when the proxy must not connect to it, or `None` for a public
/// unicast address. Reads the parsed address: IPv4-mapped, IPv4-compatible, NAT64 and 6to4
/// forms are judged by the IPv4 address they carry.
pub fn forbidden_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "0.0.0.0/8 (this network, unspecified)",
        (10, ..) => "10.0.0.0/8 (private, RFC 1918)",
        (100, 64..=127, _) => "100.64.0.0/10 (carrier-grade NAT)",
        (127, ..) => "127.0.0.0/8 (loopback)",
        (169, 254, _) => "169.254.0.0/16 (link-local, cloud metadata)",
        (172, 16..=31, _) => "172.16.0.0/12 (private, RFC 1918)",
        (192, 0, 0) => "192.0.0.0/24 (IETF protocol assignments)",
        (192, 0, 2) => "192.0.2.0/24 (documentation)",
        (192, 88, 99) => "192.88.99.0/24 (6to4 relay anycast)",
        (192, 168, _) => "192.168.0.0/16 (private, RFC 1918)",
        (198, 18..=19, _) => "198.18.0.0/15 (benchmarking)",
        (198, 51, 100) => "198.51.100.0/24 (documentation)",
        (203, 0, 113) => "203.0.113.0/24 (documentation)",
        (224..=239, ..) => "224.0.0.0/4 (multicast)",
        (255, 255, 255) if ip.is_broadcast() => "255.255.255.255 (broadcast)",
        (240..=255, ..) => "240.0.0.0/4 (reserved)",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if ip.is_unspecified() {
        return Some("::/128 (unspecified)");
    }
    if ip.is_loopback() {
        return Some("::1/128 (loopback)");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4)
            .map(|_| "::ffff:0:0/96 (IPv4-mapped form of a forbidden IPv4 address)");
    }
    match s {
        // IPv4-compatible (deprecated): ::a.b.c.d.
        [0, 0, 0, 0, 0, 0, hi, lo] => forbidden_v4(embedded(hi, lo))
            .map(|_| "::/96 (IPv4-compatible form of a forbidden IPv4 address)")
            .or(Some("::/96 (IPv4-compatible, deprecated)")),
        // NAT64 well-known prefix: judged by the IPv4 address it carries.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => forbidden_v4(embedded(hi, lo))
            .map(|_| "64:ff9b::/96 (NAT64 form of a forbidden IPv4 address)"),
        [0x64, 0xff9b, 1, ..] => Some("64:ff9b:1::/48 (local-use NAT64)"),
        // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
        [0x2002, hi, lo, ..] => forbidden_v4(embedded(hi, lo))
            .map(|_| "2002::/16 (6to4 form of a forbidden IPv4 address)"),
        [0x2001, 0, ..] => Some("2001::/32 (Teredo)"),
        [0x2001, 0xdb8, ..] => Some("2001:db8::/32 (documentation)"),
        [0x100, 0, 0, 0, ..] => Some("100::/64 (discard-only)"),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some("fc00::/7 (unique local)"),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some("fe80::/10 (link-local)"),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some("fec0::/10 (site-local, deprecated)"),
        [first, ..] if first & 0xff00 == 0xff00 => Some("ff00::/8 (multicast)"),
        _ => None,
    }
}
