//! Chromium's Local Network Access (LNA): a page in a less private address space (public) that
//! calls a more private one (local, the LAN; loopback, this machine) needs the user's
//! permission. Without it the console reads like a CORS error, "Access to fetch at '…' from
//! origin '…' has been blocked by CORS policy: Permission was denied for this request to access
//! the `loopback` address space.", yet no response header can fix it: the request never reaches
//! the server.
//!
//! [`check`] decides, for one connection, what Chromium does (the model `corsair check` runs,
//! proven against headless Chromium by the LNA differential). Reading a pasted console message
//! back, in every era's wording, is diagnosis: `corsair_diagnose::explain::lna`.
//!
//! Address spaces follow Chromium's `IPAddressToIPAddressSpace`: loopback (127.0.0.0/8, ::1),
//! local (RFC 1918, link-local, CGNAT 100.64.0.0/10, unique-local fc00::/7, fe80::/10, and the
//! IPv4-mapped forms), public (everything else). Messages name `unknown` when Chromium could not
//! tell (a proxy, an address not yet known).
//!
//! What Chromium 156 does, in order, for each connection a request makes (preflight, request,
//! every redirect hop), as observed in the installed browser:
//! 1. `fetch(url, { targetAddressSpace })` names a space and the address is in another one: the
//!    request fails ("Request had a target IP address space of `local` yet the resource is in
//!    address space `loopback`."), whatever the page's own space.
//! 2. The target is no more private than the page (public to public, local to local or
//!    loopback, loopback to anything): no LNA check. Chromium 156 lets a local page reach
//!    loopback without asking.
//! 3. A public page calling local or loopback from a non-secure context (plain http on a name
//!    that is not localhost) fails ("The request client is not a secure context and the
//!    resource is in more-private address space `loopback`."); no permission can be granted to
//!    such a page.
//! 4. Otherwise the page needs a permission: `loopback-network` for loopback targets,
//!    `local-network` for local ones (one "local network access" prompt for the user). Granted:
//!    the request goes ahead, then CORS applies as usual. Denied: "Permission was denied for this
//!    request to access the `loopback` address space." In a fresh profile the permission is
//!    undecided: a desktop browser shows the prompt and holds the request until the user
//!    answers; headless Chromium (and any automation) denies it at once.
//!
//! An iframe's requests are decided on the top-level page's permission: in Chromium 156 a
//! cross-site iframe got through once the top-level origin had it, with or without
//! `allow="local-network-access"`, and was refused (the message naming the frame's origin)
//! while it was undecided.
//!
//! History: Chromium 94 blocked non-secure public pages from private addresses (the
//! "not a secure context" message). Chromium 104 to 141 sent Private Network Access preflights
//! (`Access-Control-Request-Private-Network: true`, answered with
//! `Access-Control-Allow-Private-Network: true`) but never enforced them in stable releases;
//! Electron apps and managed browsers built on those versions may still ask for the header.
//! Those builds named the spaces differently: `local` meant this machine (today's loopback) and
//! `private` meant the LAN (today's local). Chromium 138 brought LNA behind a flag and
//! Chromium 142 turned it on for everyone; from then on the preflight and its header do nothing.

use crate::Browser;
use core::net::IpAddr;
use serde::{Deserialize, Serialize};

/// An address space, from the most to the least private.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

    /// The space Chromium gives the page at `origin` when only the origin is known: an IP
    /// address's own space, loopback for `localhost` and names under it, and public for any
    /// other name (Chromium really takes the address the page was loaded from; a page served
    /// from the LAN under a name needs `--page-space local`).
    pub fn of_origin(origin: &crate::Origin) -> AddressSpace {
        let Some(t) = origin.tuple() else {
            return AddressSpace::Public;
        };
        match crate::host::Host::parse(&t.host) {
            Ok(crate::host::Host::Ipv4(a)) => AddressSpace::of_ip(IpAddr::V4(a)),
            Ok(crate::host::Host::Ipv6(a)) => AddressSpace::of_ip(IpAddr::V6(a)),
            Ok(h) if h.is_loopback() => AddressSpace::Loopback,
            _ => AddressSpace::Public,
        }
    }

    /// Whether this space is more private than `other` (loopback over local over public).
    pub fn is_more_private_than(self, other: AddressSpace) -> bool {
        self != AddressSpace::Unknown && other != AddressSpace::Unknown && self < other
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

/// A name that is no address space's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpaceError {
    /// `private`, the name Chromium before 142 gave the LAN.
    #[error(
        "'private' is the old name of the local space (Chromium before 142 called the LAN \
         'private' and this machine 'local'): use local for a LAN address, loopback for this \
         machine"
    )]
    OldName,
    /// Any other name.
    #[error("unknown address space '{0}': use public, local or loopback")]
    Unknown(String),
}

impl std::str::FromStr for AddressSpace {
    type Err = SpaceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "loopback" => Ok(AddressSpace::Loopback),
            "local" => Ok(AddressSpace::Local),
            "public" => Ok(AddressSpace::Public),
            "private" => Err(SpaceError::OldName),
            other => Err(SpaceError::Unknown(other.to_string())),
        }
    }
}

/// The state of one of the page's permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// The user (or an administrator, or automation) allowed it.
    Granted,
    /// The user blocked it.
    Denied,
    /// Never decided: a fresh profile. A desktop browser prompts; headless Chromium denies.
    #[default]
    Prompt,
}

/// The page's two Local Network Access permissions (Chromium 156 keeps one for each space; the
/// prompt asks for the one the request needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Permissions {
    /// `loopback-network`: apps on this device.
    pub loopback: Permission,
    /// `local-network`: devices on the local network.
    pub local: Permission,
}

impl Permissions {
    /// Both permissions in one state.
    pub fn both(p: Permission) -> Permissions {
        Permissions {
            loopback: p,
            local: p,
        }
    }

    /// The permission a request to `space` needs, with its Chromium name.
    pub fn for_space(&self, space: AddressSpace) -> (Permission, &'static str) {
        match space {
            AddressSpace::Loopback => (self.loopback, "loopback-network"),
            _ => (self.local, "local-network"),
        }
    }
}

/// How an engine applies Local Network Access ([`crate::Browser::local_network_access`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rules {
    /// A public page that is not a secure context is refused outright (Chromium); otherwise it
    /// may ask like any other (Firefox).
    pub secure_context_required: bool,
    /// `fetch(url, { targetAddressSpace })` is checked against the address (Chromium).
    pub honours_target_address_space: bool,
    /// An undecided permission holds the request until the user answers the prompt (Firefox,
    /// headless or not), rather than being denied at once (headless Chromium).
    pub undecided_waits: bool,
}

/// What the page brings to a Local Network Access check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Context {
    /// The page's address space.
    pub page_space: AddressSpace,
    /// Whether the page is a secure context (https, or http on loopback / localhost).
    pub secure_context: bool,
    /// The page's permissions.
    pub permissions: Permissions,
    /// The `targetAddressSpace` option of `fetch()`, when the page set it.
    pub target_address_space: Option<AddressSpace>,
}

/// Why Chromium refused to connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Blocked {
    /// `targetAddressSpace` named another space than the address is in.
    TargetSpaceMismatch {
        /// What the page declared.
        declared: AddressSpace,
        /// Where the address really is.
        actual: AddressSpace,
    },
    /// A non-secure page reached for a more private space.
    InsecureContext {
        /// The target's space.
        space: AddressSpace,
    },
    /// The permission was denied, or (fresh profile, headless) never granted.
    PermissionDenied {
        /// The target's space.
        space: AddressSpace,
        /// Whether the permission was undecided (a desktop browser would have prompted).
        undecided: bool,
    },
}

impl Blocked {
    /// The reason as Chromium 156 words it, after "has been blocked by CORS policy: ".
    pub fn reason(&self) -> String {
        match self {
            Blocked::TargetSpaceMismatch { declared, actual } => format!(
                "Request had a target IP address space of `{}` yet the resource is in address \
                    space `{}`.",
                declared.name(),
                actual.name()
            ),
            Blocked::InsecureContext { space } => format!(
                "The request client is not a secure context and the resource is in more-private \
                    address space `{}`.",
                space.name()
            ),
            Blocked::PermissionDenied { space, .. } => format!(
                "Permission was denied for this request to access the `{}` address space.",
                space.name()
            ),
        }
    }

    /// Why it happened, in one sentence or two.
    pub fn cause(&self, page: &str) -> String {
        match self {
            Blocked::TargetSpaceMismatch { declared, actual } => format!(
                "The page passed targetAddressSpace: \"{}\" to fetch(), but the server's address \
                    is in the {} space; Chromium refuses a request whose declared space is wrong, \
                    before it is sent.",
                declared.name(),
                actual.name()
            ),
            Blocked::InsecureContext { space } => format!(
                "Local Network Access: {page} is a public page that is not a secure context (plain \
                    http, not localhost), and the target is on {}. Chromium never lets such a page \
                    reach a more private space, and cannot even ask the user. The request was not \
                    sent, so no response header can fix it.",
                space_words(*space)
            ),
            Blocked::PermissionDenied { space, undecided } => {
                let who = if *undecided {
                    "the permission is undecided (a fresh profile): a desktop browser shows the \
                        prompt and holds the request until the user answers; headless and \
                        automated Chromium deny it at once"
                } else {
                    "the user has blocked it"
                };
                format!(
                    "Local Network Access (Chromium 142 and later): {page} is a public page and \
                        the target is on {}, which needs the page's {} permission; {who}. The \
                        request was not sent, so no response header (CORS, or the old \
                        Access-Control-Allow-Private-Network) can fix this.",
                    space_words(*space),
                    Permissions::default().for_space(*space).1
                )
            }
        }
    }

    /// [`Blocked::cause`] in `browser`'s terms (Firefox asks from any page and holds the
    /// request while the user decides).
    pub fn cause_in(&self, page: &str, browser: Browser) -> String {
        match (self, browser) {
            (Blocked::PermissionDenied { space, undecided }, Browser::Firefox) => {
                let who = if *undecided {
                    "the permission is undecided, so Firefox shows its prompt and holds the \
                        request until the user answers (headless, it waits for good)"
                } else {
                    "the user has blocked it"
                };
                format!(
                    "Local Network Access (Firefox, observed in ESR 153): {page} is a public page \
                        and the target is on {}, which needs the page's {} permission; {who}. The \
                        request was not sent, so no response header can fix this.",
                    space_words(*space),
                    Permissions::default().for_space(*space).1
                )
            }
            _ => self.cause(page),
        }
    }

    /// [`Blocked::fixes`] in `browser`'s terms.
    pub fn fixes_in(&self, page: &str, browser: Browser) -> Vec<String> {
        match (self, browser) {
            (Blocked::PermissionDenied { .. }, Browser::Firefox) => vec![
                format!("Allow it when Firefox asks on {page}, or later in the site's permissions \
                    (the icon left of the address bar): Firefox keeps a loopback-network and a \
                    local-network permission per site."),
                "Serve the page from the same address space as the API during development (open it \
                    at http://localhost:PORT), or put both behind one origin with a dev proxy \
                    (Vite's server.proxy, webpack's devServer.proxy): the rule does not apply \
                    within one space.".to_string(),
            ],
            _ => self.fixes(page),
        }
    }

    /// What can fix it, most likely first. None of them is a response header.
    pub fn fixes(&self, page: &str) -> Vec<String> {
        match self {
            Blocked::TargetSpaceMismatch { actual, .. } => vec![
                format!(
                    "Pass the space the address is really in, targetAddressSpace: \"{}\", or \
                    leave the option out (it is only needed to reach a plain-http device from an \
                    https page).",
                    actual.name()
                ),
                "Derive the space from the address (127.0.0.0/8 and ::1 are loopback; 10/8, \
                    172.16/12, 192.168/16, 169.254/16, 100.64/10, fc00::/7 and fe80::/10 are \
                    local) instead of hard-coding it."
                    .to_string(),
            ],
            Blocked::InsecureContext { .. } => {
                vec![
                format!("Serve {page} over https (or open it at http://localhost during \
                    development): only a secure context can ask for local network access."),
                "Or put the page and the API behind one origin with a dev proxy (Vite's \
                    server.proxy, webpack's devServer.proxy): same-space requests need no \
                    permission.".to_string(),
                "In a managed browser, an administrator can allow the origin with the enterprise \
                    policy LocalNetworkAccessAllowedForUrls.".to_string(),
            ]
            }
            Blocked::PermissionDenied { space, .. } => lna_fixes(page, *space),
        }
    }
}

/// The address space in words, for causes and fixes.
pub fn space_words(space: AddressSpace) -> &'static str {
    match space {
        AddressSpace::Loopback => "this machine (localhost, 127.0.0.1)",
        AddressSpace::Local => {
            "the local network (a LAN, VPN or CGNAT address such as \
            192.168.x.x, 10.x.x.x or 100.64.x.x)"
        }
        AddressSpace::Public => "the public internet",
        AddressSpace::Unknown => {
            "an address space Chromium could not determine (often a proxy, or \
            an address resolved late)"
        }
    }
}

fn lna_fixes(page: &str, space: AddressSpace) -> Vec<String> {
    let mut fixes = vec![
        format!(
            "Allow it in the browser: click the icon left of the address bar on {page}, open \
            Site settings, and allow local network access (devices on your network, or apps on \
            this device). A page can only ask from a secure context (https://), and the prompt \
            shows on the first such request."
        ),
        "Serve the page from the same address space as the API during development (open it at \
            http://localhost:PORT), or put both behind one origin with a dev proxy (Vite's \
            server.proxy, webpack's devServer.proxy): the rule does not apply within one space."
            .to_string(),
        "From an https page to a plain-http device or service, pass the target's space to fetch, \
            fetch(url, { targetAddressSpace: \"local\" }) (or \"loopback\"), or the request is \
            also blocked as mixed content; the space must be the one the address really is in, or \
            the request fails."
            .to_string(),
        "In a managed browser, an administrator can allow origins with the enterprise policy \
            LocalNetworkAccessAllowedForUrls."
            .to_string(),
        "From an iframe, the top-level page's permission decides: allow the top-level site. \
            Chromium 156 did not need <iframe allow=\"local-network-access\"> for it; Chrome's \
            documentation asks for the attribute, so set it on cross-origin iframes that call the \
            local network."
            .to_string(),
    ];
    if space == AddressSpace::Unknown {
        fixes.insert(
            0,
            "Find out what the URL resolves to: a proxy or PAC file makes Chromium \
            treat the space as unknown; try without the proxy, or use the IP address the API \
            really has."
                .to_string(),
        );
    }
    fixes
}

/// What Chromium does about Local Network Access when a page in `ctx` connects to an address
/// in `target`: `Ok(true)` when the request needed (and had) the permission, `Ok(false)` when
/// LNA does not apply, `Err` when the connection is refused. See the module for the order.
pub fn check(ctx: &Context, target: AddressSpace) -> Result<bool, Blocked> {
    check_with(ctx, target, &CHROMIUM)
}

/// Chromium's rules (142 and later, observed in 156).
pub const CHROMIUM: Rules = Rules {
    secure_context_required: true,
    honours_target_address_space: true,
    undecided_waits: false,
};

/// Firefox's rules (observed in ESR 153).
pub const FIREFOX: Rules = Rules {
    secure_context_required: false,
    honours_target_address_space: false,
    undecided_waits: true,
};

/// [`check`] under an engine's own `rules`.
pub fn check_with(ctx: &Context, target: AddressSpace, rules: &Rules) -> Result<bool, Blocked> {
    if let Some(declared) = ctx
        .target_address_space
        .filter(|_| rules.honours_target_address_space)
    {
        if declared != target && target != AddressSpace::Unknown {
            return Err(Blocked::TargetSpaceMismatch {
                declared,
                actual: target,
            });
        }
    }
    if !needs_permission(ctx.page_space, target) {
        return Ok(false);
    }
    if !ctx.secure_context && rules.secure_context_required {
        return Err(Blocked::InsecureContext { space: target });
    }
    match ctx.permissions.for_space(target).0 {
        Permission::Granted => Ok(true),
        p => Err(Blocked::PermissionDenied {
            space: target,
            undecided: p == Permission::Prompt,
        }),
    }
}

/// Whether a page in `page` needs a permission to reach `target`: only a public page, and only
/// for local and loopback targets (Chromium 156 lets a local page reach loopback).
pub fn needs_permission(page: AddressSpace, target: AddressSpace) -> bool {
    page == AddressSpace::Public && target.is_more_private_than(page)
}

#[cfg(test)]
mod tests;
