//! A free port for a server that will be killed and restarted: one below the kernel's
//! ephemeral range, which no outgoing connection can be given.
//!
//! The port the kernel picks for a listener on port 0 comes from the ephemeral range
//! (`net.ipv4.ip_local_port_range`), the same range every outgoing connection takes its local
//! port from. A server's port is fixed for its life, so while it is down any connection (a
//! peer's, a client's, another program's) may be handed that port, hold it, and the server
//! cannot listen again when it restarts. Below that range the kernel hands out nothing by
//! itself: a port there stays free unless some program asks for it by number.
//!
//! The cluster runner and the tests' servers both pick their ports here (the tests include
//! this file by path, as the root package is a binary).

use std::io;
use std::net::TcpListener;
use std::ops::Range;

/// The lowest port a pick may take: above the well-known ports and the course's
/// (2181, 2888, 3888 and the ports after them).
const LOWEST: u16 = 10_000;

/// The ports a pick may take: from [`LOWEST`] up to where the ephemeral range starts.
pub fn pickable() -> Range<u16> {
    LOWEST..ephemeral_start().max(LOWEST + 1_000)
}

/// Where the kernel's ephemeral range starts (Linux's default when it cannot be read).
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// A listener on a free port of `host` in [`pickable`], tried from a random start so that
/// two processes picking at once rarely try the same ports. It holds the port until it is
/// dropped: a caller that needs several different ports keeps them all until it has them.
pub fn listen_on_a_free_port(host: &str) -> io::Result<TcpListener> {
    let ports = pickable();
    let span = usize::from(ports.end - ports.start);
    let start = random() as usize % span;
    (0..span)
        .map(|i| ports.start + ((start + i) % span) as u16)
        .find_map(|port| TcpListener::bind((host, port)).ok())
        .ok_or_else(|| no_free_port(host, ports))
}

/// The error when every pickable port is taken. (Its own function so that both rustfmt
/// configurations of the crates that include this file lay it out alike.)
fn no_free_port(host: &str, ports: Range<u16>) -> io::Error {
    let (first, last) = (ports.start, ports.end);
    let message = format!("no free port on {host} between {first} and {last}");
    io::Error::new(io::ErrorKind::AddrInUse, message)
}

/// A pseudo-random number, different in each process and each call.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}
