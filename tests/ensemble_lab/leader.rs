//! Lab 8.2: down, or without a quorum?
//!
//! `keeper status` (like `zkServer.sh status`) prints "Error contacting service. It is probably
//! not running." in two quite different situations: nothing listens on the server's client
//! port, or the server runs but has no leader to follow. The four-letter word `srvr` tells
//! them apart. Write [`read_srvr`]: from what a server answered to `srvr` (or `None` when
//! nothing answered), say what it is. `cargo run -- lab check 8.2` asks three real servers,
//! compares your reading with what their `mntr` reports, then kills two of them and asks again.

/// What one server is, as far as its client port tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Leader,
    Follower,
    Observer,
    /// A server without `server.N` lines: its own ensemble of one.
    Standalone,
    /// Running, but not serving: it is looking for a leader and has no quorum (yet).
    NoQuorum,
    /// Nothing answered on its client port.
    NotRunning,
}

// ANCHOR: read_srvr
/// What a server is, from its answer to `srvr` (`None`: the connection was refused).
pub fn read_srvr(answer: Option<&str>) -> Seen {
    // LAB 8.2 ANSWER (lab start puts the //> lines here)
    //> let _ = answer;
    //> todo!("lab 8.2: read the Mode line, and the answer of a server that is not serving")
    let Some(answer) = answer else {
        return Seen::NotRunning;
    };
    let mode = answer.lines().find_map(|line| line.strip_prefix("Mode: "));
    match mode.map(str::trim) {
        Some("leader") => Seen::Leader,
        Some("follower") => Seen::Follower,
        Some("observer") => Seen::Observer,
        Some("standalone") => Seen::Standalone,
        _ => Seen::NoQuorum,
    }
    // LAB 8.2 END
}
// ANCHOR_END: read_srvr
