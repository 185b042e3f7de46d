//! corsair-tower's integration tests, in one binary: the layer in a real axum app (`axum`) and
//! the closed loop through the layer (`closed_loop`). `tests/alloc.rs` stays a binary of its
//! own: it counts allocations with a global allocator, which would count every other test's too.

mod axum;
mod closed_loop;
