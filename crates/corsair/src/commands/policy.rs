//! `corsair policy lint FILE`: validate a policy file and print every problem with its line and
//! column, what is wrong and the fix. The file is linted once into a [`Lint`] that renders as
//! text or JSON.

use crate::cli::{Format, PolicyArgs, PolicyCommand};
use crate::style::{BAD, GOOD, WARN};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, print, println};
use corsair_core::policy::Level;
use corsair_gateway::config;
use std::path::{Path, PathBuf};

pub fn run(args: PolicyArgs) -> u8 {
    match args.command {
        PolicyCommand::Lint { file, env, format } => {
            let env = env
                .or_else(|| std::env::var("CORSAIR_ENV").ok())
                .filter(|e| !e.is_empty());
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{BAD}error:{BAD:#} cannot read {}: {e}", file.display());
                    return EXIT_ERROR;
                }
            };
            let lint = Lint::of(&file, &text, env.as_deref());
            match format {
                Format::Json => {
                    let json = serde_json::to_string_pretty(&lint.json()).expect("JSON");
                    println!("{json}");
                }
                Format::Text => print!("{}", lint.text()),
            }
            if lint.valid {
                EXIT_OK
            } else {
                EXIT_BLOCKED
            }
        }
    }
}

/// What linting a policy file found.
struct Lint {
    file: PathBuf,
    /// Whether the file is served (it may still have warnings).
    valid: bool,
    diagnostics: Vec<corsair_core::policy::file::Diagnostic>,
}

impl Lint {
    fn of(file: &Path, text: &str, env: Option<&str>) -> Lint {
        let (valid, diagnostics) = match config::parse(text, env) {
            Ok((_, warnings)) => (true, warnings),
            Err(problems) => (false, problems),
        };
        Lint {
            file: file.to_path_buf(),
            valid,
            diagnostics,
        }
    }

    fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Level::Error)
            .count()
    }

    fn json(&self) -> serde_json::Value {
        let errors = self.errors();
        serde_json::json!({
            "file": self.file,
            "valid": self.valid,
            "errors": errors,
            "warnings": self.diagnostics.len() - errors,
            "diagnostics": self.diagnostics,
        })
    }

    fn text(&self) -> String {
        let mut w = String::new();
        for d in &self.diagnostics {
            let style = if d.severity == Level::Error {
                BAD
            } else {
                WARN
            };
            out!(w, "{style}{}{style:#}", config::render(&self.file, d));
        }
        let (errors, warnings) = (self.errors(), self.diagnostics.len() - self.errors());
        let s = |n: usize| if n == 1 { "" } else { "s" };
        let file = self.file.display();
        if self.valid {
            out!(
                w,
                "{GOOD}{file} is valid{GOOD:#} ({warnings} warning{})",
                s(warnings)
            );
        } else {
            out!(
                w,
                "{BAD}{file} is refused{BAD:#}: {errors} error{}, {warnings} warning{}",
                s(errors),
                s(warnings)
            );
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_file_lists_each_problem_and_counts_them_in_both_renderings() {
        let text = "[policy]\norigins = [\"*\", \"https://app.example.com/\"]\n\
                    methods = [\"put\"]\ncredentials = true\n";
        let lint = Lint::of(Path::new("corsair.toml"), text, None);
        assert!(!lint.valid);
        let json = lint.json();
        assert_eq!(
            (json["errors"].as_u64(), json["warnings"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(json["diagnostics"].as_array().unwrap().len(), 3);
        let t = lint.text();
        assert!(t.contains("corsair.toml:3:12"), "{t}");
        assert!(t.contains("is refused"), "{t}");
        assert!(t.contains("2 errors, 1 warning"), "{t}");
    }

    #[test]
    fn a_valid_file_says_so_with_its_warnings() {
        let lint = Lint::of(
            Path::new("ok.toml"),
            "[policy]\norigins = [\"https://app.example.com\"]\nmax_age = 86400\n",
            None,
        );
        assert!(lint.valid);
        assert_eq!(lint.json()["warnings"], 1);
        assert!(lint.text().contains("ok.toml is valid"), "{}", lint.text());
        assert!(lint.text().contains("(1 warning)"), "{}", lint.text());
    }
}
