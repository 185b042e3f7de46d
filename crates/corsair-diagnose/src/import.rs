//! Requests copied out of DevTools: "Copy as cURL" (bash or Windows cmd quoting) and "Copy as
//! fetch" (Chromium's, Firefox's). Each becomes what `corsair check` needs: the URL, method,
//! headers the page set, body, credentials mode and the page's origin (from `Origin`, else from
//! the referrer). Headers the browser sets itself (`sec-*`, `user-agent`, cookies, `priority`,
//! ...) are dropped and listed: they are in the copy because the browser sent them, not because
//! the page did, and checking with them would preflight where the browser did not.

use crate::header::forbidden;
use crate::origin::Origin;
use crate::Browser;

/// A request read from a DevTools copy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// The request URL.
    pub url: String,
    /// The method.
    pub method: String,
    /// The headers the page set, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<String>,
    /// Whether credentials were sent (cookies in the copy, or `credentials: "include"`).
    pub credentials: bool,
    /// The page's origin, when the copy says it (`Origin`, else the referrer's origin).
    pub origin: Option<String>,
    /// Where the origin came from: `Origin` or `Referer`.
    pub origin_from: Option<&'static str>,
    /// Headers dropped because the browser sets them, with the reason.
    pub dropped: Vec<(String, &'static str)>,
}

/// Why a copy could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} (fix: {fix})")]
pub struct ImportError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
}

fn error(message: impl Into<String>, fix: impl Into<String>) -> ImportError {
    ImportError {
        message: message.into(),
        fix: fix.into(),
    }
}

/// Why a header of the copy is not one the page set, or `None` when the page may have set it.
fn browser_set(name: &str, value: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "cookie" => return Some("the browser's cookies (kept as credentials: include)"),
        "user-agent" => return Some("set by the browser"),
        "priority" => return Some("set by Chromium"),
        "origin" => return Some("set by the browser (read as the page's origin)"),
        "referer" => {
            return Some(
                "set by the browser (the page's origin is read from it when there \
            is no Origin)",
            )
        }
        "cache-control" | "pragma" if value.trim().eq_ignore_ascii_case("no-cache") => {
            return Some(
                "set by the browser while DevTools' \"Disable cache\" is on (pass it with \
                -H if the page sets it)",
            )
        }
        _ => {}
    }
    forbidden(name, value, Browser::Chromium)
        .map(|_| "a forbidden request header: only the browser sets it")
}

/// Keeps the page's headers, drops the browser's, and reads the origin and credentials off them.
fn sort_headers(raw: Vec<(String, String)>, out: &mut Imported) {
    let mut referer = None;
    let (mut announced_method, mut announced_headers) = (None, None);
    for (name, value) in raw {
        let lower = name.to_ascii_lowercase();
        if lower == "access-control-request-method" {
            announced_method = Some(value.trim().to_string());
        } else if lower == "access-control-request-headers" {
            announced_headers = Some(value.trim().to_string());
        }
        if lower == "origin" && out.origin.is_none() {
            out.origin = Some(value.trim().to_string());
            out.origin_from = Some("Origin");
        } else if lower == "referer" {
            referer = Some(value.trim().to_string());
        } else if lower == "cookie" {
            out.credentials = true;
        }
        match browser_set(&name, &value) {
            Some(why) => out.dropped.push((name, why)),
            None => out.headers.push((name, value)),
        }
    }
    if out.origin.is_none() {
        if let Some(r) = referer {
            out.set_referrer_origin(&r);
        }
    }
    // A DevTools row of the preflight itself: check the request it announces, as the page
    // makes it (the browser then sends this very preflight).
    if let (true, Some(method)) = (out.method.eq_ignore_ascii_case("OPTIONS"), announced_method) {
        out.method = method.clone();
        for name in announced_headers.iter().flat_map(|h| h.split(',')) {
            let name = name.trim();
            if name.is_empty()
                || out
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                continue;
            }
            // The preflight names the headers, not their values: a value that keeps each one
            // outside the safelist, as the page's was.
            let value = match name.to_ascii_lowercase().as_str() {
                "content-type" => "application/json",
                "authorization" => "Bearer copied-from-a-preflight",
                _ => "1",
            };
            out.headers.push((name.to_string(), value.to_string()));
        }
        out.dropped.push((
            "OPTIONS".to_string(),
            "the copy is the preflight: checked as the request it announces (its \
            Access-Control-Request-Method and -Headers; header values made up)",
        ));
    }
}

impl Imported {
    fn set_referrer_origin(&mut self, referrer: &str) {
        if let Ok(url) = url::Url::parse(referrer) {
            let o = Origin::of_url(&url);
            if o.tuple().is_some() {
                self.origin = Some(o.to_string());
                self.origin_from = Some("Referer");
            }
        }
    }
}

/// Reads a "Copy as cURL" command, bash or cmd quoting.
pub fn from_curl(text: &str) -> Result<Imported, ImportError> {
    let words = if is_cmd(text) {
        cmd_words(text)?
    } else {
        bash_words(text)?
    };
    let mut words = words.into_iter();
    match words.next() {
        Some(w) if w == "curl" || w.ends_with("/curl") || w.eq_ignore_ascii_case("curl.exe") => {}
        _ => {
            return Err(error(
                "this is not a curl command",
                "paste DevTools' \"Copy as cURL\" (bash or cmd), starting with `curl`",
            ))
        }
    }
    let mut out = Imported::default();
    let mut method = None;
    let mut url = None;
    let mut raw = Vec::new();
    let mut head = false;
    while let Some(w) = words.next() {
        let mut value = |flag: &str| {
            words.next().ok_or_else(|| {
                error(
                    format!("`{flag}` has no value"),
                    "paste the whole command, with every continuation line",
                )
            })
        };
        match w.as_str() {
            "-X" | "--request" => method = Some(value(&w)?),
            "-H" | "--header" => {
                let h = value(&w)?;
                match h.split_once(':') {
                    Some((n, v)) if !n.trim().is_empty() => {
                        raw.push((n.trim().to_string(), v.trim().to_string()))
                    }
                    _ => {
                        return Err(error(
                            format!("the header '{h}' has no name"),
                            "headers are written 'Name: value'",
                        ))
                    }
                }
            }
            "-d" | "--data" | "--data-ascii" | "--data-binary" | "--data-raw" => {
                let d = value(&w)?;
                if w != "--data-raw" && d.starts_with('@') {
                    return Err(error(
                        format!("`{w} {d}` reads the body from a file"),
                        "paste the body itself with --data-raw",
                    ));
                }
                out.body = Some(match out.body.take() {
                    // curl joins repeated data with '&'.
                    Some(b) => format!("{b}&{d}"),
                    None => d,
                });
            }
            "-b" | "--cookie" => {
                value(&w)?;
                out.credentials = true;
                out.dropped.push((
                    "Cookie".into(),
                    "the browser's cookies (kept as credentials: include)",
                ));
            }
            "-A" | "--user-agent" => {
                value(&w)?;
                out.dropped
                    .push(("User-Agent".into(), "set by the browser"));
            }
            "-e" | "--referer" => raw.push(("Referer".into(), value(&w)?)),
            "-u" | "--user" => {
                value(&w)?;
                out.credentials = true;
            }
            "--url" => url = Some(value(&w)?),
            "-I" | "--head" => head = true,
            "--compressed" | "-k" | "--insecure" | "-s" | "--silent" | "-L" | "--location"
            | "-i" | "--include" | "-v" | "--verbose" | "-g" | "--globoff" | "--http1.1"
            | "--http2" => {}
            f if f.starts_with('-') && f.len() > 1 => {
                return Err(error(
                    format!("the curl option `{f}` is not one DevTools writes"),
                    "paste DevTools' \"Copy as cURL\" unchanged, or give the request with -X, -H \
                        and -d",
                ))
            }
            _ if url.is_none() => url = Some(w),
            _ => {
                return Err(error(
                    format!("a second URL, '{w}'"),
                    "paste one request's command",
                ))
            }
        }
    }
    out.url = url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| error("the command has no URL", "paste the whole command"))?;
    out.method = match (method, head) {
        (Some(m), _) => m,
        (None, true) => "HEAD".into(),
        (None, false) if out.body.is_some() => "POST".into(),
        (None, false) => "GET".into(),
    };
    if out.method.trim().is_empty() {
        return Err(error(
            "`-X` gives an empty method",
            "write the method, e.g. -X PUT",
        ));
    }
    sort_headers(raw, &mut out);
    Ok(out)
}

/// Chromium's "Copy as cURL (cmd)" escapes with `^` and ends continued lines with it.
fn is_cmd(text: &str) -> bool {
    text.contains("^\"") || text.lines().any(|l| l.trim_end().ends_with('^'))
}

/// Words as a shell splits them: characters go into the current word, whitespace outside
/// quotes ends it, and an empty pair of quotes is still a word.
#[derive(Default)]
struct Words {
    words: Vec<String>,
    cur: String,
    in_word: bool,
}

impl Words {
    fn push(&mut self, c: char) {
        self.cur.push(c);
        self.in_word = true;
    }

    /// A quote opened: the word exists even if it stays empty.
    fn open(&mut self) {
        self.in_word = true;
    }

    fn end(&mut self) {
        if self.in_word {
            self.words.push(std::mem::take(&mut self.cur));
            self.in_word = false;
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.end();
        self.words
    }
}

/// Splits a bash command line: single quotes, double quotes, `$'...'`, backslash escapes and
/// continuations.
fn bash_words(text: &str) -> Result<Vec<String>, ImportError> {
    let mut w = Words::default();
    let mut chars = text.chars().peekable();
    let unclosed = || {
        error(
            "a quote is not closed",
            "paste the whole command; if the shell ate quotes, copy it again from DevTools",
        )
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') => {}
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some(n) => w.push(n),
                None => {}
            },
            '\'' => {
                w.open();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => w.push(ch),
                        None => return Err(unclosed()),
                    }
                }
            }
            '"' => {
                w.open();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(n @ ('$' | '`' | '"' | '\\')) => w.push(n),
                            Some('\n') => {}
                            Some(n) => {
                                w.push('\\');
                                w.push(n);
                            }
                            None => return Err(unclosed()),
                        },
                        Some(ch) => w.push(ch),
                        None => return Err(unclosed()),
                    }
                }
            }
            '$' if chars.peek() == Some(&'\'') => {
                chars.next();
                w.open();
                ansi_c(&mut chars, &mut w.cur).ok_or_else(unclosed)?;
            }
            c if c.is_whitespace() => w.end(),
            c => w.push(c),
        }
    }
    Ok(w.finish())
}

/// The inside of `$'...'` (bash's ANSI-C quoting, which Chromium uses for values with quotes or
/// control characters); `None` when it is not closed.
fn ansi_c(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, cur: &mut String) -> Option<()> {
    loop {
        match chars.next()? {
            '\'' => return Some(()),
            '\\' => {
                let e = chars.next()?;
                match e {
                    'n' => cur.push('\n'),
                    't' => cur.push('\t'),
                    'r' => cur.push('\r'),
                    '0' => cur.push('\0'),
                    'x' | 'u' | 'U' => {
                        let max = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut hex = String::new();
                        while hex.len() < max && chars.peek().is_some_and(char::is_ascii_hexdigit) {
                            hex.push(chars.next()?);
                        }
                        let ch = u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)?;
                        cur.push(ch);
                    }
                    other => cur.push(other),
                }
            }
            c => cur.push(c),
        }
    }
}

/// Splits a Windows cmd command line as cmd and then curl's C runtime do: `^` escapes the next
/// character (`^` at a line end continues the line), then double quotes group and are removed,
/// with the C runtime's backslash rules.
fn cmd_words(text: &str) -> Result<Vec<String>, ImportError> {
    // cmd: remove the escapes, keep the quotes for the second pass.
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '^' if !quoted => match chars.next() {
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some('\r' | '\n') => {}
                Some(n) => line.push(n),
                None => {}
            },
            '"' => {
                quoted = !quoted;
                line.push('"');
            }
            '\r' | '\n' => line.push(' '),
            c => line.push(c),
        }
    }
    // The C runtime's argument splitting.
    let mut w = Words::default();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let mut n = 1;
                while chars.peek() == Some(&'\\') {
                    chars.next();
                    n += 1;
                }
                if chars.peek() == Some(&'"') {
                    (0..n / 2).for_each(|_| w.push('\\'));
                    if n % 2 == 1 {
                        chars.next();
                        w.push('"');
                    }
                } else {
                    (0..n).for_each(|_| w.push('\\'));
                }
                w.open();
            }
            '"' => {
                if quoted && chars.peek() == Some(&'"') {
                    chars.next();
                    w.push('"');
                } else {
                    quoted = !quoted;
                }
                w.open();
            }
            c if c.is_whitespace() && !quoted => w.end(),
            c => w.push(c),
        }
    }
    if quoted {
        return Err(error(
            "a quote is not closed",
            "paste the whole command, with every continuation line",
        ));
    }
    Ok(w.finish())
}

/// Reads a "Copy as fetch" call (Chromium's or Firefox's, `await` or not).
pub fn from_fetch(text: &str) -> Result<Imported, ImportError> {
    let start = text.find("fetch(").ok_or_else(|| {
        error(
            "this is not a fetch call",
            "paste DevTools' \"Copy as fetch\", starting with `fetch(`",
        )
    })?;
    let rest = text[start + "fetch(".len()..].trim_start();
    let (url, rest) = js_string(rest).ok_or_else(|| {
        error(
            "the fetch call's first argument is not a string",
            "paste the call unchanged: fetch(\"https://...\", { ... })",
        )
    })?;
    let rest = rest.trim_start();
    let init: serde_json::Map<String, serde_json::Value> = if let Some(r) = rest.strip_prefix(',') {
        let r = r.trim_start();
        let end = object_end(r).ok_or_else(|| {
            error(
                "the fetch call's options object is not closed",
                "paste the whole call, through `});`",
            )
        })?;
        serde_json::from_str(&without_trailing_commas(&r[..end])).map_err(|e| {
            error(
                format!("the fetch call's options are not JSON as DevTools writes it: {e}"),
                "paste DevTools' \"Copy as fetch\" unchanged",
            )
        })?
    } else {
        serde_json::Map::new()
    };
    let mut out = Imported {
        url,
        method: "GET".into(),
        ..Default::default()
    };
    let text_of = |v: &serde_json::Value| v.as_str().map(str::to_string);
    if let Some(m) = init.get("method").and_then(text_of) {
        out.method = m;
    }
    if out.url.trim().is_empty() || out.method.trim().is_empty() {
        return Err(error(
            "the fetch call has an empty URL or method",
            "paste DevTools' \"Copy as fetch\" unchanged",
        ));
    }
    out.body = init.get("body").and_then(text_of);
    if init
        .get("body")
        .is_some_and(|b| !b.is_null() && !b.is_string())
    {
        return Err(error(
            "the fetch call's body is not a string",
            "give the body as a string, or use --from-curl",
        ));
    }
    let mut raw = Vec::new();
    if let Some(h) = init.get("headers").and_then(|h| h.as_object()) {
        for (n, v) in h {
            raw.push((n.clone(), v.as_str().unwrap_or_default().to_string()));
        }
    }
    sort_headers(raw, &mut out);
    match init.get("credentials").and_then(|c| c.as_str()) {
        Some("include") => out.credentials = true,
        Some("omit" | "same-origin") | None => {}
        Some(other) => {
            return Err(error(
                format!("credentials: \"{other}\" is not a credentials mode"),
                "use \"omit\", \"same-origin\" or \"include\"",
            ))
        }
    }
    if out.origin.is_none() {
        if let Some(r) = init.get("referrer").and_then(text_of) {
            out.set_referrer_origin(&r);
        }
    }
    Ok(out)
}

/// A JavaScript string literal at the start of `s` ("...", '...' or a backtick string without
/// substitutions), and the text after it.
fn js_string(s: &str) -> Option<(String, &str)> {
    let quote = s.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
            }
            '$' if quote == '`' && s[i..].starts_with("${") => return None,
            c if c == quote => return Some((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// The length of the `{ ... }` object at the start of `s`, strings skipped.
fn object_end(s: &str) -> Option<usize> {
    if !s.starts_with('{') {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                in_string = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => in_string = Some(c),
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// JSON with the trailing commas Firefox writes removed (`{"a": 1,}`), strings untouched.
fn without_trailing_commas(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
