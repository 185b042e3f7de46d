//! `corsair dev`: check the flags, then run the dev server (`crate::dev`).

use crate::cli::DevArgs;
use crate::dev::{self, DevRoute};
use crate::style::BAD;
use crate::{EXIT_ERROR, EXIT_OK};
use anstream::eprintln;

pub fn run(args: DevArgs) -> u8 {
    let parsed = (|| -> Result<_, String> {
        let listen = args.listen.parse().map_err(|_| {
            format!(
                "--listen '{}' is not ADDR:PORT, e.g. 127.0.0.1:3000",
                args.listen
            )
        })?;
        let front = dev::upstream(&args.to, "--to")?;
        let routes = args
            .routes
            .iter()
            .map(|r| r.parse::<DevRoute>())
            .collect::<Result<Vec<_>, _>>()?;
        let allowed = args
            .allow_hosts
            .iter()
            .map(|h| dev::allowed_host(h))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((listen, front, routes, allowed))
    })();
    let result = parsed
        .and_then(|(listen, front, routes, allowed)| dev::run(listen, front, routes, allowed));
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}
