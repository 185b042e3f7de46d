//! Blocks that read like CORS errors and are not: Cross-Origin-Embedder-Policy,
//! Cross-Origin-Resource-Policy, Opaque Response Blocking and mixed content, in each engine's
//! wording.

use serde::Serialize;

/// A block that is not CORS: Cross-Origin-Embedder-Policy, Cross-Origin-Resource-Policy,
/// Opaque Response Blocking, mixed content. No CORS header fixes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Block {
    /// `coep`, `corp`, `orb` or `mixed-content`.
    pub kind: &'static str,
    /// The words matched.
    pub matched: &'static str,
    /// Why the browser blocked it.
    pub cause: &'static str,
    /// What to do, one per item.
    pub fixes: &'static [&'static str],
}

const BLOCKS: &[Block] = &[
    Block {
        kind: "coep",
        matched: "ERR_BLOCKED_BY_RESPONSE.NotSameOriginAfterDefaultedToSameOriginByCoep",
        cause: "The page is cross-origin isolated (Cross-Origin-Embedder-Policy: require-corp) and \
            loads this resource without CORS; the resource sends no Cross-Origin-Resource-Policy, \
            so COEP treats it as same-origin only and blocks it. The server is up; CORS headers on \
            a no-cors load change nothing.",
        fixes: &[
            "send 'Cross-Origin-Resource-Policy: cross-origin' (or same-site) on the resource",
            "or load it with CORS (fetch mode 'cors', a crossorigin attribute) and answer with \
            Access-Control-Allow-Origin",
            "or serve the page with 'Cross-Origin-Embedder-Policy: credentialless'",
        ],
    },
    Block {
        kind: "corp",
        matched: "ERR_BLOCKED_BY_RESPONSE.NotSame",
        cause: "The resource's own Cross-Origin-Resource-Policy header (same-origin or same-site) \
            forbids this page from loading it. Not CORS: the server answered, and said no.",
        fixes: &[
            "send 'Cross-Origin-Resource-Policy: cross-origin' on resources other sites may embed",
            "or load it with CORS (fetch mode 'cors') and answer with Access-Control-Allow-Origin",
        ],
    },
    Block {
        kind: "corp",
        matched: "was blocked due to its Cross-Origin-Resource-Policy header",
        cause: "The resource's own Cross-Origin-Resource-Policy header (same-origin or same-site) \
            forbids this page from loading it (Firefox's wording). Not CORS.",
        fixes: &["send 'Cross-Origin-Resource-Policy: cross-origin' on resources other sites may embed"],
    },
    Block {
        kind: "orb",
        matched: "ERR_BLOCKED_BY_ORB",
        cause: "Opaque Response Blocking: a no-cors load (an <img>, a <script>, fetch with mode \
            'no-cors') got a response that is data, not an image, script or style (JSON, HTML, a \
            wrong Content-Type), so Chromium withheld it. Not a CORS header problem.",
        fixes: &[
            "read data with fetch() in cors mode (the default) and answer with \
            Access-Control-Allow-Origin",
            "or serve the resource with its real Content-Type (image/png, text/javascript, text/css)",
        ],
    },
    Block {
        kind: "mixed-content",
        matched: "Mixed Content:",
        cause: "The page is https and the request is plain http: the browser blocks it before \
            sending anything (mixed content). No server header changes that.",
        fixes: &["call the API over https (its URL, or the base URL in the app's configuration)"],
    },
    Block {
        kind: "mixed-content",
        matched: "Blocked loading mixed active content",
        cause: "The page is https and the request is plain http: Firefox blocks it before sending \
            anything (mixed content).",
        fixes: &["call the API over https"],
    },
    Block {
        kind: "mixed-content",
        matched: "requested insecure content from",
        cause: "The page is https and the request is plain http: Safari blocks it before sending \
            anything (mixed content).",
        fixes: &["call the API over https"],
    },
];

/// The non-CORS block the text reports, if any (COEP, CORP, ORB, mixed content).
pub fn block(text: &str) -> Option<&'static Block> {
    BLOCKS.iter().find(|b| text.contains(b.matched))
}
