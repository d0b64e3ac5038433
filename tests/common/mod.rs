//! The interoperability harness: real servers and real clients, started and
//! stopped by the tests themselves.
//!
//! Keeper claims to speak ZooKeeper's client protocol. The only honest proof
//! is to point clients nobody here wrote (zkCli, kazoo, the Java client, a
//! Rust client crate) at it and compare with what they see against the real
//! ZooKeeper 3.8 server. So every interop test is written against a server
//! *address*, and this harness provides the addresses:
//!
//! - [`servers_under_test`] lists the servers each check runs against. The
//!   real ZooKeeper comes first: it is the oracle the others are compared with.
//! - [`Server`] starts one of them on 127.0.0.1 with a free port and a fresh
//!   data directory, waits (bounded) until it serves (`ruok`, then `srvr`),
//!   and kills it on drop.
//! - [`Guarded`] is any child process (a server, a Java client) that cannot
//!   outlive the test, even when the test binary itself is killed.
//! - [`Proxy`] relays a client's connection so a test can cut it and watch
//!   the session survive; [`PeerLinks`] relays an ensemble's peers the same
//!   way, so a test can cut a member off or stall its links.
//! - [`cluster`] runs `keeper cluster` for a test, the real ZooKeeper 3.8
//!   first when asked.
//! - [`java_lab`] compiles and starts the course's Java lab programs.
//! - [`raw`] speaks the wire by hand, for bytes no client would send.
//! - [`leader_kills`] kills a `keeper cluster`'s leaders one by one: how many may die.
//! - [`rust_client`] runs a `zookeeper-client` check on every server.
//! - [`tools`] finds Java, javac and kazoo; a test whose tools are missing
//!   prints why and skips, because CI installs them (`.ci/run`) but a
//!   student's laptop may not have them.
//!
//! Every wait is bounded: a test fails with the server's log, it never hangs.

// Each test file uses a different part of the harness.
#![allow(dead_code, unused_imports)]

pub mod cluster;
pub mod java_lab;
pub mod leader_kills;
mod peer_links;
mod process;
mod proxy;
pub mod raw;
pub mod reaper;
pub mod rust_client;
mod server;
mod tempdir;
pub mod tools;

pub use peer_links::PeerLinks;
pub use process::{run_for_stdout, run_script, run_to_end, wait_until, Finished, Guarded, Typed};
pub use proxy::Proxy;
pub use server::{
    distinct_ports, four_letter_bytes, four_letter_word, free_port, servers_under_test, serving,
    zoo_cfg, Server, ServerKind, TICK_TIME_MS,
};
pub use tempdir::TempDir;

use std::io::Write;

/// Says, outside the test harness's output capture, that a test did not run
/// and why: a skipped interop test must be visible in a plain `cargo test`.
pub fn skip(test: &str, reason: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}
