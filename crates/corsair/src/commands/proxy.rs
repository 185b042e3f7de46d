//! `corsair proxy`: check the file, then run the relay (`corsair_proxy`).

use crate::cli::ProxyArgs;
use crate::style::{BAD, GOOD, WARN};
use crate::{EXIT_ERROR, EXIT_OK};
use anstream::{eprintln, println};
use std::net::SocketAddr;

pub fn run(args: ProxyArgs) -> u8 {
    let (relay, file, warnings) = match corsair_proxy::load(&args.config) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{BAD}{e}{BAD:#}");
            eprintln!("{BAD}error:{BAD:#} {} is refused", args.config.display());
            return EXIT_ERROR;
        }
    };
    for w in &warnings {
        eprintln!("{WARN}{w}{WARN:#}");
    }
    if args.check {
        println!(
            "{GOOD}ok{GOOD:#}: {} ({} origin(s), {} target(s){}{})",
            args.config.display(),
            relay.policy.spec().origins.len(),
            relay.targets.len(),
            relay
                .rate
                .map(|r| format!(", {} requests per {} ms per client", r.count, r.per_ms))
                .unwrap_or_default(),
            if relay.inject.is_empty() {
                String::new()
            } else {
                format!(", {} injected header(s)", relay.inject.len())
            },
        );
        return EXIT_OK;
    }
    let addr = |what: &str, text: &str| -> Result<SocketAddr, String> {
        text.parse()
            .map_err(|_| format!("{what} '{text}' is not ADDR:PORT, e.g. 127.0.0.1:8787"))
    };
    let settings = (|| -> Result<corsair_proxy::Settings, String> {
        let listen = args
            .listen
            .as_deref()
            .or(file.listen.as_deref())
            .unwrap_or("127.0.0.1:8787");
        let resolve = args
            .resolve
            .iter()
            .map(|r| r.parse::<corsair_net::client::Resolve>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok(corsair_proxy::Settings {
            path: args.config.clone(),
            relay,
            listen: addr("listen", listen)?,
            admin: file
                .admin
                .as_deref()
                .map(|a| addr("admin", a))
                .transpose()?,
            resolve,
            cacert: args.cacert.clone(),
        })
    })();
    let settings = match settings {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            return EXIT_ERROR;
        }
    };
    super::serve::init_logging(args.log_format);
    match corsair_proxy::run(settings) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}
