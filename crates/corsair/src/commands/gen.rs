//! `corsair gen TARGET --config corsair.toml`: the policy written for another server or
//! framework, ready to load or run.

use crate::cli::GenArgs;
use crate::config;
use crate::style::{BAD, WARN};
use crate::{EXIT_ERROR, EXIT_OK};
use anstream::eprintln;
use corsair_core::gen::{generate, Input, Target};

pub fn run(args: GenArgs) -> u8 {
    match run_inner(&args) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}

fn run_inner(args: &GenArgs) -> Result<(), String> {
    let target: Target = args.target.parse()?;
    let env = std::env::var("CORSAIR_ENV").ok().filter(|e| !e.is_empty());
    let (config, _) = config::load(&args.config, env.as_deref())?;
    let listen = args
        .listen
        .clone()
        .or(config.serve.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let upstream = args.upstream.clone().or(config.serve.upstream.clone());
    let g = generate(
        target,
        &Input {
            spec: config.policy.policy.spec(),
            listen: &listen,
            upstream: upstream.as_deref(),
            routes: config
                .policy
                .routes
                .iter()
                .map(|r| (r.prefix.as_str(), r.policy.spec()))
                .collect(),
        },
    )?;
    for w in &g.warnings {
        eprintln!("{WARN}warning:{WARN:#} {w}");
    }
    match &args.output {
        Some(path) => std::fs::write(path, &g.text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        None => print!("{}", g.text),
    }
    Ok(())
}
