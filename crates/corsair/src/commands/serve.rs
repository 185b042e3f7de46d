//! `corsair serve`: load and validate the policy file, then run the gateway.

use crate::cli::{LogFormat, ServeArgs};
use crate::style::{BAD, WARN};
use crate::{EXIT_ERROR, EXIT_OK};
use anstream::eprintln;
use corsair_gateway::config;
use corsair_gateway::{self as gateway, Settings};
use std::net::SocketAddr;

pub fn run(args: ServeArgs) -> u8 {
    let env = args
        .env
        .clone()
        .or_else(|| std::env::var("CORSAIR_ENV").ok())
        .filter(|e| !e.is_empty());
    let (mut config, warnings) = match config::load(&args.config, env.as_deref()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} the policy is refused; nothing was started:\n{e}");
            return EXIT_ERROR;
        }
    };
    for w in &warnings {
        eprintln!("{WARN}{}{WARN:#}", config::render(&args.config, w));
    }
    if let Some(u) = &args.upstream {
        match url::Url::parse(u) {
            Ok(url) if url.scheme() == "http" && url.host().is_some() => {
                config.serve.upstream = Some(u.clone())
            }
            _ => {
                eprintln!(
                    "{BAD}error:{BAD:#} --upstream '{u}' is not an http:// URL; write e.g. \
                    --upstream http://127.0.0.1:9000"
                );
                return EXIT_ERROR;
            }
        }
    }
    if config.serve.upstream.is_none() {
        eprintln!(
            "{BAD}error:{BAD:#} no upstream: set upstream = \"http://127.0.0.1:9000\" in {} \
            or pass --upstream",
            args.config.display()
        );
        return EXIT_ERROR;
    }
    let listen = match args.listen.as_deref().or(config.serve.listen.as_deref()) {
        Some(l) => match l.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => {
                eprintln!(
                    "{BAD}error:{BAD:#} listen address '{l}' is not address:port; write e.g. \
                    127.0.0.1:8080"
                );
                return EXIT_ERROR;
            }
        },
        None => {
            eprintln!(
                "{BAD}error:{BAD:#} no listen address: set listen = \"127.0.0.1:8080\" in {} \
                or pass --listen",
                args.config.display()
            );
            return EXIT_ERROR;
        }
    };
    let admin = match args
        .admin
        .as_deref()
        .or(config.serve.admin.as_deref())
        .map(str::parse::<SocketAddr>)
    {
        Some(Ok(a)) => Some(a),
        Some(Err(_)) => {
            eprintln!(
                "{BAD}error:{BAD:#} the admin address is not address:port; write e.g. \
                127.0.0.1:9090"
            );
            return EXIT_ERROR;
        }
        None => None,
    };
    init_logging(args.log_format);
    let settings = Settings {
        config_path: args.config.clone(),
        config,
        listen,
        admin,
        env,
        upstream_override: args.upstream.clone(),
    };
    let workers = args
        .workers
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    match gateway::run(settings, workers) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}

pub(crate) fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CORSAIR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
