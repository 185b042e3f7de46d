//! `corsair gen TARGET --config corsair.toml`: the policy written for another server or
//! framework, ready to load or run.

use crate::cli::GenArgs;
use crate::gateway;
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
    let (config, _) = gateway::load_file(&args.config, env.as_deref())?;
    if !config.routes.is_empty() {
        return Err(format!(
            "{} has [[routes]]; `corsair gen {}` does not write per-route policies yet, and applying [policy] alone could be less strict than a route. Generate without routes, or serve the file with `corsair serve`",
            args.config.display(),
            target.name()
        ));
    }
    let listen = args
        .listen
        .clone()
        .or(config.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let upstream = args.upstream.clone().or(config.upstream.clone());
    let g = generate(
        target,
        &Input {
            spec: config.policy.spec(),
            listen: &listen,
            upstream: upstream.as_deref(),
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
