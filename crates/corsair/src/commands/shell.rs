//! `corsair completions SHELL` and `corsair man`: the command line described for shells and
//! `man`, generated from the same clap definitions as `--help`.

use crate::cli::{Cli, CompletionsArgs, ShellArg};
use crate::{EXIT_ERROR, EXIT_OK};
use clap::CommandFactory;
use clap_complete::Shell;

pub fn completions(args: CompletionsArgs) -> u8 {
    let shell = match args.shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
        ShellArg::Powershell => Shell::PowerShell,
    };
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "corsair", &mut std::io::stdout());
    EXIT_OK
}

pub fn man() -> u8 {
    let mut out = std::io::stdout();
    match clap_mangen::Man::new(Cli::command()).render(&mut out) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: cannot write the manual page: {e}");
            EXIT_ERROR
        }
    }
}
