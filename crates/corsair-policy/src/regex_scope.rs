//! What an `origin_regex` can match, decided from its automaton rather than its text.
//!
//! The expression is compiled to a DFA (regex-automata) and intersected with DFAs for the
//! languages that matter: serialised origins as browsers send them
//! (<https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin>:
//! hosts, IPv4 addresses and ports by their grammar, default ports left out), loopback origins,
//! and the origins of the sites found so far. A breadth-first walk of the product finds the
//! shortest origin in each intersection, which becomes the evidence in the message, or proves
//! the intersection empty. Each witness is parsed as an origin; one that does not parse (an
//! IPv6 literal, whose grammar the probe only approximates) makes the analysis fail closed.

use crate::host::Host;
use crate::origin::Origin;
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::StateID;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind};
use std::collections::{HashSet, VecDeque};

/// How many distinct sites an expression may match before it counts as matching any site.
pub const MAX_SITES: usize = 8;

/// Bytes a serialised origin is made of, letters first so witnesses read naturally.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789.-_:/[]";

/// Largest product automaton explored, in states.
const MAX_PRODUCT_STATES: usize = 200_000;

/// Largest DFA built for one expression, in bytes.
const DFA_SIZE_LIMIT: usize = 8 << 20;

/// A DNS label as browsers accept it in a host (`_` included: `a_b.example.com` is a host).
const LABEL: &str = "[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?";
/// The last label of a name: one that starts with a digit would make the host an IPv4 address.
const TOP_LABEL: &str = "[a-z](?:[a-z0-9-]*[a-z0-9])?";
const OCTET: &str = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
/// A port as serialised: 1 to 65535, no leading zero (the default ports are excluded apart).
const PORT: &str = "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?";

/// Origins that spell out their scheme's default port, which browsers never send.
const DEFAULT_PORTS: &str = r"(?:http://.*:80|https://.*:443)";

/// What an expression can match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// The shortest plain-http origin it matches whose host is not loopback.
    pub plain_http: Option<String>,
    /// The sites (registrable domains, or addresses) of the origins it matches, in the order
    /// found, each with the shortest origin found for it. At most [`MAX_SITES`] + 1 entries.
    pub sites: Vec<(String, String)>,
    /// Whether it matches origins on more than [`MAX_SITES`] sites.
    pub unbounded: bool,
}

/// Why an expression could not be analysed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooComplex(pub String);

struct Lang {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
}

impl Lang {
    fn new(pattern: &str) -> Result<Lang, TooComplex> {
        let build = |unicode: bool| {
            dense::Builder::new()
                .syntax(syntax::Config::new().unicode(unicode).utf8(unicode))
                .thompson(thompson::Config::new().utf8(unicode))
                .configure(
                    dense::Config::new()
                        .match_kind(MatchKind::All)
                        .start_kind(StartKind::Anchored)
                        .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                        .determinize_size_limit(Some(DFA_SIZE_LIMIT)),
                )
                .build(pattern)
                .map_err(|e| e.to_string())
        };
        // Origins are ASCII, and on ASCII input the expression means the same with or without
        // Unicode classes; the ASCII automaton is far smaller. Expressions that need Unicode
        // (`\p{L}`) are built as written.
        let dfa = build(false).or_else(|_| build(true)).map_err(TooComplex)?;
        let start = dfa
            .start_state_forward(&Input::new("").anchored(Anchored::Yes))
            .map_err(|e| TooComplex(e.to_string()))?;
        Ok(Lang { dfa, start })
    }

    fn accepts(&self, s: StateID) -> bool {
        self.dfa.is_match_state(self.dfa.next_eoi_state(s))
    }
}

/// The regex for origins of `schemes` whose host is any domain (fully qualified or not), IPv4
/// or IPv6 address. Domains, IPv4 and ports follow their grammar exactly; IPv6 is looser, and a
/// witness that is no address makes the analysis fail closed.
fn origins(schemes: &str) -> String {
    format!(
        r"(?:{schemes})://(?:(?:{LABEL}\.)*{TOP_LABEL}\.?|{OCTET}(?:\.{OCTET}){{3}}|\[[0-9a-f:]+\]){PORT}"
    )
}

fn loopback_origins() -> String {
    format!(
        r"https?://(?:(?:{LABEL}\.)*localhost|127(?:\.{OCTET}){{3}}|\[::1\]|\[::ffff:7f[0-9a-f]{{2}}:[0-9a-f]{{1,4}}\]){PORT}"
    )
}

/// Origins on any of `sites`: a registrable domain (or `localhost`) and every name under it; an
/// address, or a name that is itself a public suffix (`com`), exactly.
fn site_origins(sites: &[(String, String)]) -> String {
    let alternatives: Vec<String> = sites
        .iter()
        .map(|(site, _)| {
            let escaped = regex_syntax::escape(site);
            match Host::parse(site) {
                Ok(h) if h.is_loopback() => format!(r"(?:{LABEL}\.)*{escaped}\.?"),
                Ok(Host::Domain(d)) if !d.is_public_suffix() => {
                    format!(r"(?:{LABEL}\.)*{escaped}\.?")
                }
                _ => format!(r"{escaped}\.?"),
            }
        })
        .collect();
    format!(r"https?://(?:{}){PORT}", alternatives.join("|"))
}

/// The shortest string (letters first) in the intersection of `must` and the complement of
/// every `must_not`, found breadth-first over their product; `None` when it is empty.
fn shortest(must: &[&Lang], must_not: &[&Lang]) -> Result<Option<String>, TooComplex> {
    let all: Vec<&Lang> = must.iter().chain(must_not).copied().collect();
    let start: Vec<StateID> = all.iter().map(|l| l.start).collect();
    let mut nodes: Vec<(Vec<StateID>, usize, u8)> = vec![(start.clone(), usize::MAX, 0)];
    let mut seen: HashSet<Vec<StateID>> = HashSet::from([start]);
    let mut queue = VecDeque::from([0usize]);
    while let Some(i) = queue.pop_front() {
        let states = nodes[i].0.clone();
        let accepted = states[..must.len()]
            .iter()
            .zip(must)
            .all(|(&s, l)| l.accepts(s))
            && states[must.len()..]
                .iter()
                .zip(must_not)
                .all(|(&s, l)| !l.accepts(s));
        if accepted {
            let mut bytes = Vec::new();
            let mut at = i;
            while nodes[at].1 != usize::MAX {
                bytes.push(nodes[at].2);
                at = nodes[at].1;
            }
            bytes.reverse();
            return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
        }
        for &b in ALPHABET {
            let next: Vec<StateID> = states
                .iter()
                .zip(&all)
                .map(|(&s, l)| l.dfa.next_state(s, b))
                .collect();
            if next[..must.len()]
                .iter()
                .zip(must)
                .any(|(&s, l)| l.dfa.is_dead_state(s))
            {
                continue;
            }
            if seen.insert(next.clone()) {
                if nodes.len() >= MAX_PRODUCT_STATES {
                    return Err(TooComplex(format!(
                        "its intersection with the origins browsers send has more than \
                            {MAX_PRODUCT_STATES} states"
                    )));
                }
                nodes.push((next, i, b));
                queue.push_back(nodes.len() - 1);
            }
        }
    }
    Ok(None)
}

/// The shortest witness, checked: it must be an origin a browser sends (serialised form, a
/// valid host) that passes `keep`. The probe languages follow the grammar of hosts and ports,
/// so a witness that fails is one they could not rule out (an IPv6 literal that is no address):
/// the analysis then fails closed rather than looking past it.
fn first_origin(
    witness: Option<String>,
    keep: impl Fn(&Host) -> bool,
) -> Result<Option<(String, Host)>, TooComplex> {
    let Some(w) = witness else {
        return Ok(None);
    };
    let checked = Origin::spelling(&w).ok().and_then(|(origin, spelling)| {
        let t = origin.tuple()?;
        let host = Host::parse(&t.host).ok()?;
        (spelling.is_empty() && keep(&host)).then_some(host)
    });
    match checked {
        Some(host) => Ok(Some((w, host))),
        None => Err(TooComplex(format!(
            "it matches '{w}', which is not an origin browsers send, so what else it matches \
                cannot be enumerated"
        ))),
    }
}

/// Analyses `pattern`, an expression matched against the whole origin (`^(?:pattern)$`).
pub fn analyse(pattern: &str) -> Result<Scope, TooComplex> {
    let re = Lang::new(&format!("^(?:{pattern})$"))?;
    let http = Lang::new(&format!("^{}$", origins("http")))?;
    let any = Lang::new(&format!("^{}$", origins("https?")))?;
    let loopback = Lang::new(&format!("^{}$", loopback_origins()))?;
    let default_ports = Lang::new(&format!("^{DEFAULT_PORTS}$"))?;
    let mut scope = Scope {
        plain_http: first_origin(
            shortest(&[&re, &http], &[&loopback, &default_ports])?,
            |h| !h.is_loopback(),
        )?
        .map(|(w, _)| w),
        ..Scope::default()
    };
    while scope.sites.len() <= MAX_SITES {
        let candidates = if scope.sites.is_empty() {
            shortest(&[&re, &any], &[&default_ports])?
        } else {
            let known = Lang::new(&format!("^{}$", site_origins(&scope.sites)))?;
            shortest(&[&re, &any], &[&known, &default_ports])?
        };
        let known: Vec<String> = scope.sites.iter().map(|(s, _)| s.clone()).collect();
        match first_origin(candidates, |h| !known.contains(&h.site()))? {
            Some((w, h)) => scope.sites.push((h.site(), w)),
            None => break,
        }
    }
    scope.unbounded = scope.sites.len() > MAX_SITES;
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(re: &str) -> Scope {
        analyse(re).unwrap()
    }

    #[test]
    fn plain_http_is_found_whatever_the_text_says() {
        assert_eq!(
            scope(r"http://.*|localhost").plain_http.as_deref(),
            Some("http://a")
        );
        assert_eq!(
            scope(r"http://(evil\.example|localhost)")
                .plain_http
                .as_deref(),
            Some("http://evil.example")
        );
        assert_eq!(scope(r"http://localhost(:\d+)?").plain_http, None);
        assert_eq!(scope(r"http://([a-z]+\.)?localhost:5173").plain_http, None);
        assert_eq!(scope(r"http://127\.0\.0\.1:\d+").plain_http, None);
        assert!(
            scope(r"http://127\..*").plain_http.is_some(),
            "127.attacker.example"
        );
        assert_eq!(scope(r"https://[a-z]+\.example\.com").plain_http, None);
    }

    #[test]
    fn sites_are_counted_on_the_automaton() {
        let s = scope(r"https://([a-z0-9-]+\.)*example\.com");
        assert_eq!(s.sites.len(), 1, "{s:?}");
        assert_eq!(s.sites[0].0, "example.com");
        assert!(!s.unbounded);
        let s = scope(r"https://(app\.example\.com|admin\.example\.org)");
        assert_eq!(s.sites.len(), 2, "{s:?}");
        for loose in [
            r"https://.*example\.com",
            r"https://example\.com.*",
            r"https://[a-z]+.example.com",
            r"https://app\.example\.[a-z]+",
            r"https://[a-z]+\.github\.io",
        ] {
            let s = scope(loose);
            assert!(s.unbounded, "{loose}: {s:?}");
        }
    }

    /// From review: a name that is itself a public suffix is one host, not a site with every
    /// name under it; `_` is a host character; an IPv6 pattern fails closed.
    #[test]
    fn regression_public_suffix_hosts_underscores_and_ipv6() {
        for loose in [
            r"https://([a-z0-9-]+\.)*com",
            r"https://([a-z0-9-]+\.)*github\.io",
            r"https://.*_.*",
        ] {
            let s = scope(loose);
            assert!(s.unbounded, "{loose}: {s:?}");
        }
        assert!(analyse(r"http://\[[0-9a-f:]+\]").is_err());
        assert_eq!(scope(r"http://\[::1\]:[0-9]+").plain_http, None);
        let s = scope(r"http://([a-z]+\.)?localhost:5173");
        assert_eq!(
            (s.plain_http, s.sites.len()),
            (None, 1),
            "*.localhost is one site"
        );
        assert_eq!(
            scope(r"https://app\.example\.com(:443)?").sites.len(),
            1,
            "the default port is no other origin"
        );
    }

    #[test]
    fn unicode_classes_still_analyse() {
        let s = scope(r"https://\p{Ll}+\.example\.com");
        assert_eq!(s.sites.len(), 1, "{s:?}");
    }
}
