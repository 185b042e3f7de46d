//! Each subcommand's `--help`, so a changed flag or sentence is reviewed. The list is read from
//! `corsair --help` itself: a new subcommand gets its snapshot without editing this file.

use super::run;

/// The subcommands `corsair --help` lists, `help` aside, with the nested ones (`policy lint`).
fn subcommands() -> Vec<Vec<String>> {
    let top = run(&["--help"], None);
    let listed = top
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands: section")
        .split("\n\n")
        .next()
        .unwrap();
    let mut out = Vec::new();
    for line in listed.lines() {
        // A command's line starts with two spaces and its name; continuation lines are indented
        // further.
        let Some(name) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) else {
            continue;
        };
        let name = name.split_whitespace().next().unwrap().to_string();
        if name != "help" {
            out.push(vec![name]);
        }
    }
    out.push(vec!["policy".into(), "lint".into()]);
    out
}

#[test]
fn every_subcommand() {
    let all = subcommands();
    assert!(all.len() >= 14, "{all:?}");
    golden!("help", run(&["--help"], None));
    for words in all {
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.push("--help");
        golden!(format!("help-{}", words.join("-")), run(&args, None));
    }
}
