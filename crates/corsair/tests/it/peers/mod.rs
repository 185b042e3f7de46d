//! Suites that start real peer servers from what corsair generates.

mod fix_snippets;
mod gen;
