//! Every integration test of this package, as modules of one test binary.
//!
//! Each test binary links the package and all its dev-dependencies, so one binary per file
//! costs far more to build than one per package. One file's tests:
//! `cargo test -p ch07-persistence --test all FILE::` (one test: `--test all FILE::NAME`).
//! The workspace's `test_binaries` check fails when a file under `tests/` has no `mod` line
//! here, so none silently stops running.

mod cli;
mod crash_drill;
mod file_storage;
mod lab;
