//! One module per subcommand.

pub mod check;
pub mod demo;
pub mod explain;
pub mod gen;
pub mod origin;
pub mod policy;
pub mod serve;

use crate::cli::StackArg;
use crate::style::{DIM, HEAD};
use anstream::println;
use corsair_core::fix::{Fix, Stack};

/// Prints the fix's snippets for the stacks `--stack` chose, or a hint about `--stack`.
pub(crate) fn print_snippets(fix: &Fix, stack: Option<StackArg>) {
    let stacks: Vec<Stack> = match stack {
        None => vec![],
        Some(StackArg::All) => Stack::ALL.to_vec(),
        Some(StackArg::Express) => vec![Stack::Express],
        Some(StackArg::Fastapi) => vec![Stack::Fastapi],
        Some(StackArg::Nginx) => vec![Stack::Nginx],
        Some(StackArg::Apache) => vec![Stack::Apache],
        Some(StackArg::Axum) => vec![Stack::Axum],
    };
    for sn in fix.snippets.iter().filter(|s| stacks.contains(&s.stack)) {
        println!("\n  {HEAD}{}{HEAD:#}", sn.stack.name());
        for line in sn.code.lines() {
            println!("    {line}");
        }
    }
    if stacks.is_empty() {
        println!("  {DIM}(--stack express|fastapi|nginx|apache|axum|all prints it as code){DIM:#}");
    }
}
