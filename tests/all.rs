//! Every integration test of this package, as modules of one test binary.
//!
//! Each test binary links the package and all its dev-dependencies, so one binary per file
//! costs far more to build than one per package. One file's tests:
//! `cargo test --test all FILE::` (one test: `--test all FILE::NAME`).
//! The workspace's `test_binaries` check fails when a file under `tests/` has no `mod` line
//! here, so none silently stops running.

mod common;

mod cluster;
mod cluster_size;
mod durability;
mod ensemble;
mod ensemble_lab;
mod interop_bad_input;
mod interop_four_letter_words;
mod interop_handshake;
mod interop_java_lab;
mod interop_kazoo;
mod interop_limits;
mod interop_persistence;
mod interop_rust_client;
mod interop_rust_client_features;
mod interop_status;
mod interop_wire_order;
mod interop_zkcli;
mod lab_command;
mod mixed_ensemble;
mod recipes;
mod test_binaries;
