//! The README and the book (`docs/src`) say what the code does today: every `console` example is
//! run as written (trycmd: `$ ` starts a command, `? N` is its exit status, `...` stands for
//! lines left out and `[..]` for part of a line), every other block that shows a corsair command
//! says why it is not run (`<!-- not run: REASON -->` on the line before it), and every relative
//! link leads to a file, and to a heading of it when it names one. Links to other sites are not
//! followed: the tests reach nothing beyond loopback.

use std::path::{Path, PathBuf};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The README and every page of the book.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = vec![root().join("README.md")];
    walk(&root().join("docs/src"), &mut out);
    out.sort();
    assert!(out.len() > 15, "the book's pages: {out:?}");
    out
}

/// A fenced code block: its info string, its first line's number (1-based), its lines, and the
/// last non-empty line before it.
struct Block<'a> {
    info: &'a str,
    line: usize,
    body: Vec<&'a str>,
    before: &'a str,
}

/// The fenced blocks of a page, and its lines outside them (with their numbers).
fn split(text: &str) -> (Vec<Block<'_>>, Vec<(usize, &str)>) {
    let mut blocks = Vec::new();
    let mut prose = Vec::new();
    let mut lines = text.lines().enumerate();
    let mut before = "";
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        let fence = if trimmed.starts_with("```") {
            "```"
        } else if trimmed.starts_with("~~~") {
            "~~~"
        } else {
            ""
        };
        if fence.is_empty() {
            prose.push((n + 1, line));
            if !line.trim().is_empty() {
                before = line.trim();
            }
            continue;
        }
        let info = trimmed
            .trim_start_matches(fence.chars().next().unwrap())
            .trim();
        let body = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| !l.trim_start().starts_with(fence))
            .collect();
        blocks.push(Block {
            info,
            line: n + 1,
            body,
            before,
        });
        before = "";
    }
    (blocks, prose)
}

/// Whether a line of a code block runs corsair (as `corsair ...`, `$ corsair ...` or
/// `cargo run ... -- ...`).
fn runs_corsair(line: &str) -> bool {
    let line = line.trim_start();
    let line = line.strip_prefix("$ ").unwrap_or(line);
    line.starts_with("corsair ") || line.starts_with("cargo run ") || line.contains("&& corsair ")
}

#[test]
fn every_console_example_runs_as_written() {
    let mut cases = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        cases += split(&text)
            .0
            .iter()
            .filter(|b| b.info == "console")
            .count();
    }
    // The README's tour and the pages' examples.
    assert!(cases >= 8, "only {cases} console examples");
    let t = trycmd::TestCases::new();
    t.register_bin("corsair", PathBuf::from(env!("CARGO_BIN_EXE_corsair")))
        .env("NO_COLOR", "1");
    for page in pages() {
        t.case(page);
    }
    t.run();
}

#[test]
fn every_other_corsair_command_says_why_it_is_not_run() {
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for block in split(&text).0 {
            if block.info == "console" {
                let first = block.body.iter().find(|l| !l.trim().is_empty());
                assert!(
                    first.is_some_and(|l| l.starts_with("$ corsair ")),
                    "{}:{}: a console example starts with `$ corsair `",
                    page.display(),
                    block.line
                );
                continue;
            }
            let reason = block
                .before
                .strip_prefix("<!-- not run:")
                .and_then(|r| r.strip_suffix("-->"))
                .map(str::trim);
            if block.body.iter().any(|l| runs_corsair(l)) && reason.is_none_or(str::is_empty) {
                missing.push(format!("{}:{}", page.display(), block.line));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "blocks that show a corsair command but neither run it (```console) nor say why not \
         (<!-- not run: REASON --> on the line before):\n{}",
        missing.join("\n")
    );
}

/// The anchor mdBook (and GitHub) gives a heading: lowercase, spaces as `-`, other punctuation
/// dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The anchors of a page's headings.
fn anchors(text: &str) -> Vec<String> {
    split(text)
        .1
        .iter()
        .filter_map(|(_, l)| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#').trim()))
        .collect()
}

#[test]
fn every_relative_link_resolves() {
    let link = regex::Regex::new(r#"\]\(([^)\s]+)(?:\s+"[^"]*")?\)"#).unwrap();
    let code = regex::Regex::new(r"`[^`]*`").unwrap();
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (n, line) in split(&text).1 {
            let line = code.replace_all(line, "``");
            for m in link.captures_iter(&line) {
                let target = &m[1];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, fragment) = target.split_once('#').unwrap_or((target, ""));
                let file = if path.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap().join(path)
                };
                let fail = |why: &str| format!("{}:{n}: {target}: {why}", page.display());
                if !file.exists() {
                    broken.push(fail("no such file"));
                } else if !fragment.is_empty() {
                    let text = std::fs::read_to_string(&file).unwrap_or_default();
                    if !anchors(&text).iter().any(|a| a == fragment) {
                        broken.push(fail("no heading with that anchor"));
                    }
                }
            }
        }
    }
    assert!(checked >= 40, "only {checked} links checked");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_anchor_of_a_heading() {
    assert_eq!(anchor("`corsair check`"), "corsair-check");
    assert_eq!(
        anchor("The policy file: `corsair.toml`"),
        "the-policy-file-corsairtoml"
    );
    assert_eq!(
        anchor("Migrating from CORS Anywhere"),
        "migrating-from-cors-anywhere"
    );
}

#[test]
fn the_readme_fits_a_screen_or_two() {
    let lines = std::fs::read_to_string(root().join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines <= 250,
        "the README has {lines} lines; move the detail to the book"
    );
}
