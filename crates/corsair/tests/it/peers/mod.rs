//! Suites that start real peer servers from what corsair generates.

mod dev_gen;
mod fix_snippets;
mod gen;
mod gen_errors;
