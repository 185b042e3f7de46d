//! One module per subcommand.

pub mod check;
pub mod demo;
pub mod explain;
pub mod gen;
pub mod origin;
pub mod policy;
pub mod serve;
