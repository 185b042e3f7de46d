//! `corsair dev`: check the flags, then run the dev server (`corsair_dev`).

use crate::cli::DevArgs;
use crate::style::BAD;
use crate::{EXIT_ERROR, EXIT_OK};
use anstream::eprintln;
use corsair_dev::{self as dev, DevRoute};

pub fn run(args: DevArgs) -> u8 {
    let parsed = (|| -> Result<_, String> {
        let listen = args.listen.parse().map_err(|_| {
            format!(
                "--listen '{}' is not ADDR:PORT, e.g. 127.0.0.1:3000",
                args.listen
            )
        })?;
        let front = dev::upstream(&args.to, "--to").map_err(|e| e.to_string())?;
        let routes = args
            .routes
            .iter()
            .map(|r| r.parse::<DevRoute>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let allowed = args
            .allow_hosts
            .iter()
            .map(|h| dev::allowed_host(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        Ok((listen, front, routes, allowed))
    })();
    let result = parsed.and_then(|(listen, front, routes, allowed)| {
        dev::run(listen, front, routes, allowed).map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}
