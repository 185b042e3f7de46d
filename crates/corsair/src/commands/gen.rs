//! `corsair gen TARGET --config corsair.toml`: the policy written for another server or
//! framework, ready to load or run.

use crate::cli::GenArgs;
use crate::style::{BAD, WARN};
use crate::{EXIT_ERROR, EXIT_OK};
use anstream::eprintln;
use corsair_core::gen::{generate, Input, Target, UnknownTarget};
use corsair_gateway::config;
use std::str::FromStr;

pub fn run(args: GenArgs) -> u8 {
    match run_inner(&args) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}

/// `corsair gen vite|webpack|cra --dev --to URL --route PREFIX=URL...`.
fn dev(args: &GenArgs) -> Result<String, String> {
    use corsair_core::gen::dev::{generate, upstream, DevRoute, DevTarget, UnknownDevTarget};
    let target: DevTarget = args
        .target
        .parse()
        .map_err(|e: UnknownDevTarget| e.to_string())?;
    let front =
        upstream(args.to.as_deref().unwrap_or_default(), "--to").map_err(|e| e.to_string())?;
    let routes = args
        .routes
        .iter()
        .map(|r| r.parse::<DevRoute>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let host = front
        .host_str()
        .unwrap_or("127.0.0.1")
        .trim_start_matches('[')
        .trim_end_matches(']');
    generate(
        target,
        host,
        front.port_or_known_default().unwrap_or(80),
        &routes,
    )
    .map_err(|e| e.to_string())
}

fn run_inner(args: &GenArgs) -> Result<(), String> {
    if args.dev {
        let text = dev(args)?;
        return match &args.output {
            Some(path) => std::fs::write(path, &text)
                .map_err(|e| format!("cannot write {}: {e}", path.display())),
            None => {
                print!("{text}");
                Ok(())
            }
        };
    }
    if corsair_core::gen::dev::DevTarget::from_str(&args.target).is_ok() {
        return Err(format!(
            "{} writes a dev server's proxy, not a policy: add --dev --to URL --route PREFIX=URL",
            args.target
        ));
    }
    let target: Target = args
        .target
        .parse()
        .map_err(|e: UnknownTarget| e.to_string())?;
    let env = std::env::var("CORSAIR_ENV").ok().filter(|e| !e.is_empty());
    let (config, _) = config::load(&args.config, env.as_deref()).map_err(|e| e.to_string())?;
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
    )
    .map_err(|e| e.to_string())?;
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
