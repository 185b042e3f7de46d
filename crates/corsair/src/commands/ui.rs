//! `corsair ui`: parses the flags and starts the ui server (`crate::ui`).

use crate::cli::UiArgs;
use crate::style::BAD;
use crate::{EXIT_ERROR, EXIT_OK};
use anstream::eprintln;
use std::time::Duration;

pub fn run(args: UiArgs) -> u8 {
    let listen = match args.listen.parse() {
        Ok(a) => a,
        Err(_) => {
            eprintln!(
                "{BAD}error:{BAD:#} --listen '{}' must be ADDRESS:PORT, e.g. 127.0.0.1:7070",
                args.listen
            );
            return EXIT_ERROR;
        }
    };
    // clap has checked the range (cli::seconds).
    let serve_for = args.serve_for.map(Duration::from_secs_f64);
    let app_origin = match args.live_origin.as_deref().map(crate::ui::app_origin) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => {
            eprintln!("{BAD}error:{BAD:#} --live-origin: {e}");
            return EXIT_ERROR;
        }
    };
    match crate::ui::run(crate::ui::Settings {
        listen,
        open: args.open,
        serve_for,
        app_origin,
    }) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("{BAD}error:{BAD:#} {e}");
            EXIT_ERROR
        }
    }
}
