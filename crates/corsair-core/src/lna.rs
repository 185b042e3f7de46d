//! Chromium's Local Network Access (LNA, Chromium 142 and later), as far as `explain` reads it:
//! a page in a less private address space (public) that calls a more private one (local, the
//! LAN; loopback, this machine) needs the user's permission. Without it the console reads like a
//! CORS error, "Access to fetch at '…' from origin '…' has been blocked by CORS policy:
//! Permission was denied for this request to access the `loopback` address space.", yet no
//! response header can fix it: the request never reaches the server.
//!
//! Address spaces follow Chromium's `IPAddressToIPAddressSpace`: loopback (127.0.0.0/8, ::1),
//! local (RFC 1918, link-local, CGNAT 100.64.0.0/10, unique-local fc00::/7, fe80::/10, and the
//! IPv4-mapped forms), public (everything else). Messages name `unknown` when Chromium could not
//! tell (a proxy, an address not yet known).

use crate::Browser;
use core::net::IpAddr;
use regex::Regex;
use serde::Serialize;
use std::sync::OnceLock;

/// An address space, from the most to the least private.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressSpace {
    /// This machine.
    Loopback,
    /// The local network.
    Local,
    /// The internet.
    Public,
    /// Not known to the browser when it decided.
    Unknown,
}

impl AddressSpace {
    /// The space Chromium gives an IP address.
    pub fn of_ip(ip: IpAddr) -> AddressSpace {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(v4) if v4.is_loopback() => AddressSpace::Loopback,
            IpAddr::V6(v6) if v6.is_loopback() => AddressSpace::Loopback,
            IpAddr::V4(v4) => {
                let [a, b, ..] = v4.octets();
                if v4.is_private() || v4.is_link_local() || (a == 100 && (64..128).contains(&b)) {
                    AddressSpace::Local
                } else {
                    AddressSpace::Public
                }
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 {
                    AddressSpace::Local
                } else {
                    AddressSpace::Public
                }
            }
        }
    }

    /// The name in Chromium's messages.
    pub fn name(self) -> &'static str {
        match self {
            AddressSpace::Loopback => "loopback",
            AddressSpace::Local => "local",
            AddressSpace::Public => "public",
            AddressSpace::Unknown => "unknown",
        }
    }
}

/// A Local Network Access refusal read from a console message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LnaRefusal {
    /// The browser whose wording it is (Chromium and browsers built on it).
    pub browser: Browser,
    /// The space the request was refused for.
    pub space: AddressSpace,
    /// What asked: `fetch`, `XMLHttpRequest`, `script`, `font`, `image`, `stylesheet`, ...
    pub destination: Option<String>,
    /// The URL requested, when the message names it.
    pub url: Option<String>,
    /// The page's origin, when the message names it.
    pub origin: Option<String>,
    /// Why it happened.
    pub cause: String,
    /// What can fix it, most likely first. None of them is a response header.
    pub fixes: Vec<String>,
}

fn pattern() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?:Access to (\w+) at '?([^'\s]*)'? from origin '?([^'\s]*)'? has been blocked by CORS policy: )?Permission was denied for this request to access the [`'‘’]?(loopback|local|public|unknown)[`'‘’]? address space")
            .expect("a valid pattern")
    })
}

/// The Local Network Access refusal in `text`, if there is one.
pub fn refusal(text: &str) -> Option<LnaRefusal> {
    let c = pattern().captures(text)?;
    let space = match &c[4] {
        "loopback" => AddressSpace::Loopback,
        "local" => AddressSpace::Local,
        "public" => AddressSpace::Public,
        _ => AddressSpace::Unknown,
    };
    let destination = c.get(1).map(|m| m.as_str().to_string());
    let url = c.get(2).map(|m| m.as_str().to_string());
    let origin = c.get(3).map(|m| m.as_str().to_string());
    let page = origin.as_deref().unwrap_or("your page");
    let target = match space {
        AddressSpace::Loopback => "this machine (localhost, 127.0.0.1)",
        AddressSpace::Local => "the local network (a LAN, VPN or CGNAT address such as 192.168.x.x, 10.x.x.x or 100.64.x.x)",
        AddressSpace::Public => "the public internet",
        AddressSpace::Unknown => "an address space Chromium could not determine (often a proxy, or an address resolved late)",
    };
    let cause = format!(
        "Local Network Access (Chromium 142 and later): {page} is in a less private address space than the target, which is on {target}, and the user has not allowed {page} to reach it. The request never reached the server, so no response header (CORS, or the old Access-Control-Allow-Private-Network) can fix this."
    );
    let mut fixes = vec![
        format!("Allow it in the browser: click the icon left of the address bar on {page}, open Site settings, and allow the site's local network access (the permission for devices on your network, or for apps on this device). A page can only ask from a secure context (https://), and the prompt shows on the first such request."),
        "Serve the page from the same address space as the API during development (open it at http://localhost:PORT), or put both behind one origin with a dev proxy (Vite's server.proxy, webpack's devServer.proxy): the rule does not apply within one space.".to_string(),
        "From an https page to a plain-http device or service, pass the target's space to fetch, fetch(url, { targetAddressSpace: \"local\" }) (or \"loopback\"), or the request is also blocked as mixed content; the space must be the one the address really is in, or the request fails.".to_string(),
        "In a managed browser, an administrator can allow origins with the enterprise policy LocalNetworkAccessAllowedForUrls.".to_string(),
        "In an iframe, the embedding page must delegate the permission: <iframe allow=\"local-network-access\">.".to_string(),
    ];
    if space == AddressSpace::Unknown {
        fixes.insert(0, "Find out what the URL resolves to: a proxy or PAC file makes Chromium treat the space as unknown; try without the proxy, or use the IP address the API really has.".to_string());
    }
    Some(LnaRefusal {
        browser: Browser::Chromium,
        space,
        destination,
        url,
        origin,
        cause,
        fixes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_fall_in_chromiums_spaces() {
        let space = |s: &str| AddressSpace::of_ip(s.parse().unwrap());
        for (ip, want) in [
            ("127.0.0.1", AddressSpace::Loopback),
            ("127.255.0.9", AddressSpace::Loopback),
            ("::1", AddressSpace::Loopback),
            ("::ffff:127.0.0.1", AddressSpace::Loopback),
            ("10.1.2.3", AddressSpace::Local),
            ("172.16.0.1", AddressSpace::Local),
            ("172.31.255.255", AddressSpace::Local),
            ("192.168.1.10", AddressSpace::Local),
            ("169.254.169.254", AddressSpace::Local),
            ("100.92.215.42", AddressSpace::Local),
            ("::ffff:192.168.0.1", AddressSpace::Local),
            ("fd12:3456::1", AddressSpace::Local),
            ("fe80::1", AddressSpace::Local),
            ("172.32.0.1", AddressSpace::Public),
            ("100.128.0.1", AddressSpace::Public),
            ("8.8.8.8", AddressSpace::Public),
            ("2001:4860:4860::8888", AddressSpace::Public),
        ] {
            assert_eq!(space(ip), want, "{ip}");
        }
        assert!(
            AddressSpace::Loopback < AddressSpace::Local
                && AddressSpace::Local < AddressSpace::Public
        );
    }

    #[test]
    fn refusals_are_read_with_their_space_destination_url_and_origin() {
        let r = refusal("Access to fetch at 'http://127.0.0.1:8080/x' from origin 'https://app.example.com' has been blocked by CORS policy: Permission was denied for this request to access the `loopback` address space.").unwrap();
        assert_eq!(r.space, AddressSpace::Loopback);
        assert_eq!(r.destination.as_deref(), Some("fetch"));
        assert_eq!(r.url.as_deref(), Some("http://127.0.0.1:8080/x"));
        assert_eq!(r.origin.as_deref(), Some("https://app.example.com"));
        assert!(r.cause.contains("never reached the server"));
        assert!(r
            .fixes
            .iter()
            .all(|f| !f.contains("Access-Control-Allow-Origin")));
        let r = refusal("Access to script at 'https://analytics.example/sdk.js' from origin 'https://site.example' has been blocked by CORS policy: Permission was denied for this request to access the `local` address space.").unwrap();
        assert_eq!(
            (r.space, r.destination.as_deref()),
            (AddressSpace::Local, Some("script"))
        );
        // Quotes eaten by a shell, the bare reason, an unknown space.
        let r = refusal("Access to fetch at http://localhost:8000/api from origin https://sora.example has been blocked by CORS policy: Permission was denied for this request to access the unknown address space.").unwrap();
        assert_eq!(r.space, AddressSpace::Unknown);
        assert!(r.fixes[0].contains("proxy"));
        let r = refusal(
            "Permission was denied for this request to access the 'loopback' address space",
        )
        .unwrap();
        assert_eq!((r.url, r.origin), (None, None));
        assert_eq!(
            refusal("No 'Access-Control-Allow-Origin' header is present"),
            None
        );
    }
}
