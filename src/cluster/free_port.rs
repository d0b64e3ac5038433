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
//! A port is free again as soon as its server is down, and another cluster starting then could
//! pick it. So a pick does not start at random: every picker on the machine shares one cursor, a
//! file in the temporary folder that says where the last pick ended, and takes the next free
//! port after it. A port comes round again only after every other pickable one (some twenty
//! thousand picks), long after a killed server has restarted.
//!
//! The cluster runner and the tests' servers both pick their ports here (the tests include
//! this file by path, as the root package is a binary).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::TcpListener;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::path::Path;

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

/// A listener on the first free port of `host` in [`pickable`] after the machine's last pick
/// (from a random start if the cursor cannot be read). It holds the port until it is dropped:
/// a caller that needs several different ports keeps them all until it has them.
pub fn listen_on_a_free_port(host: &str) -> io::Result<TcpListener> {
    listen_on_a_free_port_after(host, &std::env::temp_dir().join(CURSOR_FILE))
}

/// The shared cursor's file, in the temporary folder.
const CURSOR_FILE: &str = "keeper-last-picked-port";

/// [`listen_on_a_free_port`] with the cursor kept in `cursor` (a test's own file).
pub fn listen_on_a_free_port_after(host: &str, cursor: &Path) -> io::Result<TcpListener> {
    let ports = pickable();
    let span = usize::from(ports.end - ports.start);
    // Locked until the pick is written back, so two pickers never start from the same place.
    let mut cursor = Cursor::lock(cursor);
    let last = cursor.as_mut().and_then(Cursor::read);
    let start = match last {
        Some(port) if ports.contains(&port) => usize::from(port - ports.start) + 1,
        _ => random() as usize % span,
    };
    let listener = (0..span)
        .map(|i| ports.start + ((start + i) % span) as u16)
        .find_map(|port| TcpListener::bind((host, port)).ok())
        .ok_or_else(|| no_free_port(host, ports))?;
    if let Some(cursor) = cursor.as_mut() {
        // A cursor that cannot be written only makes the next pick start at random.
        let _ = cursor.write(listener.local_addr()?.port());
    }
    Ok(listener)
}

/// The cursor's file, locked (`flock`) while it is open: the lock goes with the file's
/// closing, also when the process dies holding it.
struct Cursor(File);

impl Cursor {
    /// Opens and locks the file, creating it if needed; `None` if that fails (a file of
    /// another user's, a read-only folder): the pick then starts at random.
    fn lock(path: &Path) -> Option<Cursor> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .ok()?;
        // SAFETY: flock on a descriptor this function owns; it touches no memory.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0;
        locked.then_some(Cursor(file))
    }

    /// The last port picked, if the file holds one.
    fn read(&mut self) -> Option<u16> {
        let mut text = String::new();
        self.0.read_to_string(&mut text).ok()?;
        text.trim().parse().ok()
    }

    /// Records `port` as the last one picked.
    fn write(&mut self, port: u16) -> io::Result<()> {
        self.0.set_len(0)?;
        self.0.seek(SeekFrom::Start(0))?;
        writeln!(self.0, "{port}")
    }
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
