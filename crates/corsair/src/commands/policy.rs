//! `corsair policy lint FILE`: validate a policy file and print every problem with its line and
//! column, what is wrong and the fix.

use crate::cli::{Format, PolicyArgs, PolicyCommand};
use crate::style::{BAD, GOOD, WARN};
use crate::{EXIT_BLOCKED, EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, println};
use corsair_core::policy::Level;
use corsair_gateway::config;

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
            let (ok, diags) = match config::parse(&text, env.as_deref()) {
                Ok((_, w)) => (true, w),
                Err(d) => (false, d),
            };
            let errors = diags.iter().filter(|d| d.severity == Level::Error).count();
            let warnings = diags.len() - errors;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({"file": file, "valid": ok, "errors": errors, "warnings": warnings, "diagnostics": diags})).expect("JSON")
                ),
                Format::Text => {
                    for d in &diags {
                        let style = if d.severity == Level::Error { BAD } else { WARN };
                        println!("{style}{}{style:#}", config::render(&file, d));
                    }
                    if ok {
                        println!("{GOOD}{} is valid{GOOD:#} ({warnings} warning{})", file.display(), if warnings == 1 { "" } else { "s" });
                    } else {
                        println!("{BAD}{} is refused{BAD:#}: {errors} error{}, {warnings} warning{}", file.display(), if errors == 1 { "" } else { "s" }, if warnings == 1 { "" } else { "s" });
                    }
                }
            }
            if ok {
                EXIT_OK
            } else {
                EXIT_BLOCKED
            }
        }
    }
}
