//! corsair: the command-line front end. Thin by design: argument definitions live in `cli`,
//! each subcommand in `commands/`; every CORS decision is made by `corsair-core`'s crates, and
//! the servers are libraries of their own (`corsair-gateway`, `corsair-proxy`, `corsair-dev`,
//! `corsair-ui`, `corsair-demo`, over `corsair-net`).

mod cli;
mod commands;
mod style;

use clap::Parser;
use std::process::ExitCode;

/// Exit status: the request is allowed / the command succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit status: the request is blocked (or the origins differ).
pub const EXIT_BLOCKED: u8 = 1;
/// Exit status: bad usage, bad input, or the server could not be reached.
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let code = match args.command {
        cli::Command::Audit(a) => commands::audit::run(a),
        cli::Command::Check(a) => commands::check::run(a),
        cli::Command::Demo(a) => commands::demo::run(a),
        cli::Command::Explain(a) => commands::explain::run(a),
        cli::Command::Gen(a) => commands::gen::run(a),
        cli::Command::Origin(a) => commands::origin::run(a),
        cli::Command::Serve(a) => commands::serve::run(a),
        cli::Command::Proxy(a) => commands::proxy::run(a),
        cli::Command::Dev(a) => commands::dev::run(a),
        cli::Command::Ui(a) => commands::ui::run(a),
        cli::Command::Policy(a) => commands::policy::run(a),
        cli::Command::Completions(a) => commands::shell::completions(a),
        cli::Command::Man => commands::shell::man(),
    };
    ExitCode::from(code)
}
