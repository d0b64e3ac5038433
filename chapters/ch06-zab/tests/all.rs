//! Every integration test of this package, as modules of one test binary.
//!
//! Each test binary links the package and all its dev-dependencies, so one binary per file
//! costs far more to build than one per package. One file's tests:
//! `cargo test -p ch06-zab --test all FILE::` (one test: `--test all FILE::NAME`).
//! The workspace's `test_binaries` check fails when a file under `tests/` has no `mod` line
//! here, so none silently stops running.

mod book_excerpts;
mod cli;
mod disk_thread;
mod fast_forward;
mod fault_seeds;
mod lab;
mod lost_write_paths;
mod model_check;
mod peer_steps;
mod rejoin;
mod scenarios;
mod snap_wanted;
mod tcp;
mod write_path;
mod zookeeper_bytes;

/// The cluster runner's way to pick a port, below the kernel's ephemeral range.
#[path = "../../../src/cluster/free_port.rs"]
mod free_port;
