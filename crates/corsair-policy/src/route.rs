//! Which `[[routes]]` entry a request path falls under, read as the upstream will serve it.
//!
//! A gateway chooses the route on the path it receives, and the upstream serves the path it
//! reads. Servers read the same bytes differently: nginx and Caddy decode every `%XX` and merge
//! repeated slashes before they match a location; ASGI and WSGI servers hand the application
//! the decoded path; Express matches the path as sent but ignores letter case; Tomcat and Jetty
//! drop `;parameters`; Rails serves `/admin.json` as `/admin`. If the route were chosen on one
//! reading while the upstream serves another, a page allowed on one route would read another
//! route's data (`GET /%61dmin/users` under the default policy, served as `/admin/users`).
//!
//! So every reading below is routed, and the route decides only when they all agree. The
//! answer is the RFC 3986 normal form's route ([§6.2.2], percent-encoded unreserved characters
//! decoded, repeated slashes merged); a path whose readings disagree is [`Ambiguous`], and a
//! gateway refuses it (400) rather than guess which server is behind it. Browsers and curl send
//! none of these forms unprompted: they resolve dot segments, keep the case, and encode only
//! what must be encoded.
//!
//! With no `[[routes]]` there is one policy and nothing to confuse; nothing is refused here.
//! Dot segments and backslashes as sent are refused by the gateway before this (they are
//! ambiguous with or without routes).
//!
//! [§6.2.2]: https://www.rfc-editor.org/rfc/rfc3986#section-6.2.2

use super::Route;
use std::borrow::Cow;

/// A way an upstream reads a request path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reading {
    /// The bytes as sent (Express, and most routers that match before decoding).
    AsSent,
    /// As sent, ignoring ASCII letter case (Express's and ASP.NET's default, IIS).
    AsSentIgnoringCase,
    /// The RFC 3986 normal form: unreserved `%XX` decoded, repeated slashes merged.
    Normalized,
    /// The normal form, ignoring ASCII letter case.
    NormalizedIgnoringCase,
    /// Every `%XX` decoded once (`%2F` becomes a separator) and nothing else: the path ASGI and
    /// WSGI servers hand Starlette, FastAPI, Django and Flask (`/admin%2F..%2Fx` is served
    /// under `/admin`).
    Decoded,
    /// Decoded once, then slashes merged and dot segments resolved: nginx's and Caddy's
    /// location match.
    DecodedResolved,
    /// Decoded twice, as behind a proxy that decodes before a server that decodes again.
    DecodedTwice,
    /// `;parameters` dropped from every segment (Tomcat, Jetty, Spring).
    WithoutParameters,
    /// The last segment's `.extension` dropped (Rails's `(.:format)`, Spring's suffix match).
    WithoutExtension,
    /// Decoded twice, parameters dropped and case ignored, at once.
    Everything,
}

impl Reading {
    /// Which servers read a path this way, for messages.
    pub fn who(self) -> &'static str {
        match self {
            Reading::AsSent => "as sent (Express and other routers that match before decoding)",
            Reading::AsSentIgnoringCase => "ignoring letter case (Express, ASP.NET, IIS)",
            Reading::Normalized => "RFC 3986-normalised",
            Reading::NormalizedIgnoringCase => "normalised and ignoring letter case",
            Reading::Decoded => "percent-decoded (ASGI and WSGI servers)",
            Reading::DecodedResolved => "percent-decoded and resolved (nginx, Caddy)",
            Reading::DecodedTwice => "percent-decoded twice (a decoding proxy before a server)",
            Reading::WithoutParameters => "without ;parameters (Tomcat, Jetty, Spring)",
            Reading::WithoutExtension => "without its .extension (Rails, Spring's suffix match)",
            Reading::Everything => "decoded, without parameters, ignoring case",
        }
    }
}

/// Why a path's route cannot be told: its readings fall under different routes, or it has
/// bytes that servers cut or mangle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Ambiguous {
    /// A percent-encoded control byte (`%00` to `%1F`, `%7F`): C servers end the path at `%00`.
    #[error("the path has a percent-encoded control byte")]
    ControlByte,
    /// Percent-encoded bytes that are not UTF-8, such as the overlong `%C0%AF` that old decoders
    /// read as `/`.
    #[error("the path's percent-encoded bytes are not UTF-8")]
    NotUtf8,
    /// Read this way, the path falls under another route than its normal form does.
    #[error("read {}, the path falls under another route", .0.who())]
    Reading(Reading),
}

impl Ambiguous {
    /// The body of a gateway's 400 answer: what is wrong and what to send instead.
    pub fn answer(self) -> &'static str {
        match self {
            Ambiguous::ControlByte => {
                "corsair: the path has a percent-encoded control byte, which some servers cut the \
                    path at\n"
            }
            Ambiguous::NotUtf8 => {
                "corsair: the path's percent-encoded bytes are not UTF-8 (an overlong form?): \
                    encode the path as UTF-8\n"
            }
            Ambiguous::Reading(r) => match r {
                Reading::AsSent | Reading::Normalized => {
                    "corsair: the path falls under another route once %XX of letters, digits or \
                        -._~ are decoded or // merged: send it normalised\n"
                }
                Reading::AsSentIgnoringCase | Reading::NormalizedIgnoringCase => {
                    "corsair: the path falls under another route when letter case is ignored, as \
                        Express and IIS do: send the route's own case\n"
                }
                Reading::Decoded | Reading::DecodedResolved | Reading::DecodedTwice => {
                    "corsair: the path falls under another route once percent-decoded, as nginx \
                        and ASGI/WSGI servers read it: send it decoded\n"
                }
                Reading::WithoutParameters => {
                    "corsair: the path falls under another route without its ;parameters, as \
                        Tomcat and Jetty read it\n"
                }
                Reading::WithoutExtension => {
                    "corsair: the path falls under another route without its .extension, as Rails \
                        reads it\n"
                }
                Reading::Everything => {
                    "corsair: the path falls under another route once decoded, without ;parameters \
                        and ignoring case: send it normalised\n"
                }
            },
        }
    }
}

/// The readings routed besides the normal form, each with how it transforms the path.
const READINGS: &[(Reading, Transform)] = &[
    (Reading::AsSent, Transform::AS_SENT),
    (
        Reading::AsSentIgnoringCase,
        Transform {
            fold: true,
            ..Transform::AS_SENT
        },
    ),
    (
        Reading::NormalizedIgnoringCase,
        Transform {
            fold: true,
            ..Transform::NORMAL
        },
    ),
    (
        Reading::Decoded,
        Transform {
            decode: Decode::All(1),
            ..Transform::AS_SENT
        },
    ),
    (
        Reading::DecodedResolved,
        Transform {
            decode: Decode::All(1),
            resolve_dots: true,
            ..Transform::NORMAL
        },
    ),
    (
        Reading::DecodedTwice,
        Transform {
            decode: Decode::All(2),
            resolve_dots: true,
            ..Transform::NORMAL
        },
    ),
    (
        Reading::DecodedTwice,
        Transform {
            decode: Decode::All(2),
            ..Transform::AS_SENT
        },
    ),
    (
        Reading::WithoutParameters,
        Transform {
            strip_parameters: true,
            ..Transform::NORMAL
        },
    ),
    (
        Reading::Everything,
        Transform {
            decode: Decode::All(2),
            strip_parameters: true,
            resolve_dots: true,
            fold: true,
            ..Transform::NORMAL
        },
    ),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Decode {
    None,
    Unreserved,
    /// Every `%XX`, this many times.
    All(u8),
}

#[derive(Clone, Copy)]
struct Transform {
    decode: Decode,
    merge_slashes: bool,
    resolve_dots: bool,
    strip_parameters: bool,
    fold: bool,
}

impl Transform {
    const AS_SENT: Transform = Transform {
        decode: Decode::None,
        merge_slashes: false,
        resolve_dots: false,
        strip_parameters: false,
        fold: false,
    };
    const NORMAL: Transform = Transform {
        decode: Decode::Unreserved,
        merge_slashes: true,
        ..Transform::AS_SENT
    };

    fn apply(self, path: &str) -> Result<Cow<'_, str>, Ambiguous> {
        let mut p: Cow<str> = Cow::Borrowed(path);
        match self.decode {
            Decode::None => {}
            Decode::Unreserved => {
                if p.contains('%') {
                    p = Cow::Owned(decode_unreserved(&p));
                }
            }
            Decode::All(times) => {
                for _ in 0..times {
                    if p.contains('%') {
                        p = Cow::Owned(decode_all(&p)?);
                    }
                }
                // Decoded separators: `%5C` is `/` to some servers.
                if p.contains('\\') {
                    p = Cow::Owned(p.replace('\\', "/"));
                }
            }
        }
        if self.merge_slashes {
            p = merge_slashes(p);
        }
        // `%2F..%2F` makes dot segments that a decoding server resolves (after merging
        // slashes, as nginx does).
        if self.resolve_dots {
            p = Cow::Owned(remove_dot_segments(&p));
        }
        if self.strip_parameters && p.contains(';') {
            p = Cow::Owned(
                p.split('/')
                    .map(|s| s.split_once(';').map_or(s, |(name, _)| name))
                    .collect::<Vec<_>>()
                    .join("/"),
            );
            if self.merge_slashes {
                p = merge_slashes(p);
            }
        }
        Ok(p)
    }
}

fn merge_slashes(p: Cow<'_, str>) -> Cow<'_, str> {
    if !p.contains("//") {
        return p;
    }
    let mut merged = String::with_capacity(p.len());
    for c in p.chars() {
        if !(c == '/' && merged.ends_with('/')) {
            merged.push(c);
        }
    }
    Cow::Owned(merged)
}

fn drop_extension(p: Cow<'_, str>) -> Cow<'_, str> {
    let last = p.rfind('/').map_or(0, |i| i + 1);
    match p[last..].find('.') {
        // `.hidden` keeps its name: only a stem with an extension loses the extension.
        Some(dot) if dot > 0 => Cow::Owned(p[..last + dot].to_string()),
        _ => p,
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `%XX` at `i` of `b`, decoded.
fn escape_at(b: &[u8], i: usize) -> Option<u8> {
    if b.get(i) != Some(&b'%') {
        return None;
    }
    Some(hex(*b.get(i + 1)?)? << 4 | hex(*b.get(i + 2)?)?)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 §6.2.2.2: percent-encoded unreserved characters decoded, other escapes kept.
fn decode_unreserved(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len());
    let mut i = 0;
    while i < b.len() {
        match escape_at(b, i) {
            Some(c) if is_unreserved(c) => {
                out.push(c as char);
                i += 3;
            }
            _ => {
                // `i` is on a char boundary (the start, after an ASCII escape, or on a `%`):
                // copy up to the next `%`.
                let from = if b[i] == b'%' { i + 1 } else { i };
                let next = p[from..].find('%').map_or(b.len(), |j| from + j);
                out.push_str(&p[i..next]);
                i = next;
            }
        }
    }
    out
}

/// Every `%XX` decoded; the bytes must be UTF-8 and free of control bytes.
fn decode_all(p: &str) -> Result<String, Ambiguous> {
    let b = p.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match escape_at(b, i) {
            Some(c) => {
                if c < 0x20 || c == 0x7f {
                    return Err(Ambiguous::ControlByte);
                }
                out.push(c);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Ambiguous::NotUtf8)
}

/// RFC 3986 §5.2.4, on a path.
fn remove_dot_segments(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = p.split('/').collect();
    for (i, s) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *s {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if p.starts_with('/') && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Whether `path` is under `prefix`, on segment boundaries.
fn under(path: &str, prefix: &str, fold: bool) -> bool {
    let (p, q) = (path.as_bytes(), prefix.as_bytes());
    if p.len() < q.len() {
        return false;
    }
    let head = &p[..q.len()];
    let same = if fold {
        head.eq_ignore_ascii_case(q)
    } else {
        head == q
    };
    same && (p.len() == q.len() || q.ends_with(b"/") || p[q.len()] == b'/')
}

/// The index of the longest route whose prefix `path` is under.
fn lookup(routes: &[Route], path: &str, fold: bool) -> Option<usize> {
    // Longest first (the file sorts them so), so the first match is the longest.
    routes.iter().position(|r| under(path, &r.prefix, fold))
}

/// The route of `path` (without its query): the index into `routes`, `None` for the default
/// policy, or why no route can be told.
pub fn choose(routes: &[Route], path: &str) -> Result<Option<usize>, Ambiguous> {
    if routes.is_empty() {
        return Ok(None);
    }
    // Most paths have nothing a server could read differently: one lookup.
    let suspect = path
        .bytes()
        .any(|b| matches!(b, b'%' | b';' | b'.' | b'\\') || b.is_ascii_uppercase())
        || path.contains("//");
    if !suspect {
        return Ok(lookup(routes, path, false));
    }
    let normal = Transform::NORMAL.apply(path)?;
    let chosen = lookup(routes, &normal, false);
    for &(reading, t) in READINGS {
        let read = t.apply(path)?;
        if lookup(routes, &read, t.fold) != chosen {
            return Err(Ambiguous::Reading(reading));
        }
    }
    // Dropping an extension can only move a path into a longer route (`/admin.json` to
    // `/admin`); a route that names a file (`/feed.xml`) keeps it.
    let stem = drop_extension(normal.clone());
    if let Some(i) = lookup(routes, &stem, false) {
        let longer = chosen.is_none_or(|c| routes[i].prefix.len() > routes[c].prefix.len());
        if longer {
            return Err(Ambiguous::Reading(Reading::WithoutExtension));
        }
    }
    Ok(chosen)
}

/// Why a `[[routes]]` path cannot be a route prefix: it must be its own normal form under every
/// reading, or requests could never be matched to it unambiguously.
pub(crate) fn prefix_problem(prefix: &str) -> Option<(String, &'static str)> {
    if !prefix.starts_with('/') {
        return Some((
            format!("path = \"{prefix}\" does not start with '/'"),
            "write a path prefix such as \"/api\"",
        ));
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/-._~!$&'()*+,=:@".contains(*c)))
    {
        return Some((
            format!(
                "path = \"{prefix}\" has {c:?}, which servers decode, split or drop differently"
            ),
            "write the prefix as the decoded path, with letters, digits and - . _ ~ ! $ & ' ( ) * \
                + , = : @ only",
        ));
    }
    if prefix.contains("//") {
        return Some((
            format!("path = \"{prefix}\" has an empty segment (//), which servers merge"),
            "write each / once",
        ));
    }
    if prefix.split('/').any(|s| s == "." || s == "..") {
        return Some((
            format!("path = \"{prefix}\" has a dot segment, which servers resolve"),
            "write the resolved path",
        ));
    }
    None
}

#[cfg(test)]
mod tests;
