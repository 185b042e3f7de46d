//! `corsair demo`: the classic CORS failures reproduced on embedded loopback servers, each
//! checked against its broken server (blocked, with the console message, cause and fix) and
//! against a fixed server (allowed).

pub mod cases;

pub mod server;
