//! `--listen`: one real server of an ensemble, printing what it does.
//!
//! ```sh
//! P="--peer 1=127.0.0.1:2888:3888 --peer 2=127.0.0.1:2889:3889 --peer 3=127.0.0.1:2890:3890"
//! cargo run -p ch06-zab -- --listen 127.0.0.1:2181 --myid 1 $P
//! cargo run -p ch06-zab -- --listen 127.0.0.1:2182 --myid 2 $P
//! cargo run -p ch06-zab -- --listen 127.0.0.1:2183 --myid 3 $P
//! ```
//!
//! Each `--peer` is a zoo.cfg `server.N` line in one word (`N=host:quorumPort:electionPort`,
//! optionally `:observer`); `--listen` is this server's client port, where zkCli connects.
//! The disk is in memory for now: a server that is stopped forgets everything, and comes
//! back as a new member that the leader syncs with a SNAP.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use ch01_znode::Sid;
use ch03_sessions::config::ServerLine;
use ch03_sessions::pipeline::Limits;
use ch03_sessions::server::ServerOptions;
use colored::Colorize;

use super::ensemble::{member, members, membership};
use super::{serve, Listeners, ServerSpec, TcpEvent};
use crate::peer::Config;
use crate::storage::Disk;
use crate::trace::{Note, ZabNote};

// ANCHOR: flags
/// The flags of one real server.
#[derive(clap::Args, Debug, Clone)]
pub struct ListenFlags {
    /// Run one real server over TCP instead: this server's client port.
    #[arg(long, value_name = "HOST:PORT", requires_all = ["myid", "peer"])]
    pub listen: Option<SocketAddr>,
    /// This server's id (with --listen).
    #[arg(long)]
    pub myid: Option<u64>,
    /// Every member of the ensemble, this one included, as zoo.cfg's server lines:
    /// SID=HOST:QUORUM_PORT:ELECTION_PORT, or with :observer at the end.
    #[arg(long, value_name = "SID=HOST:QPORT:EPORT")]
    pub peer: Vec<String>,
    /// `tickTime`, ms (with --listen).
    #[arg(long, default_value_t = 2000)]
    pub tick_ms: u64,
    /// `initLimit`, ticks (with --listen).
    #[arg(long, default_value_t = 10)]
    pub init_limit: u32,
    /// `syncLimit`, ticks (with --listen).
    #[arg(long, default_value_t = 5)]
    pub sync_limit: u32,
    /// Print no line per write (its commit and its apply) or per client connection, only
    /// the rarer story: role changes, syncs, problems (with --listen). A server under load
    /// then spends nothing per write on its terminal, like a ZooKeeper logging at INFO.
    #[arg(long)]
    pub quiet: bool,
}
// ANCHOR_END: flags

/// One `--peer` word: a zoo.cfg server line in one word, `SID=` and the line's value, read
/// by the same parser as zoo.cfg's (`position` stands in for its line number).
pub fn parse_peer(word: &str, position: usize) -> Result<(Sid, ServerLine), String> {
    let bad = |why: String| {
        format!("--peer {word}: {why}; expected SID=HOST:QUORUM_PORT:ELECTION_PORT[:observer], e.g. 2=127.0.0.1:2889:3889")
    };
    let (sid, rest) = word.split_once('=').ok_or_else(|| bad("no '='".into()))?;
    let sid = Sid(sid
        .parse()
        .map_err(|_| bad(format!("{sid} is not a server id")))?);
    let line = ServerLine::parse(rest, position).map_err(bad)?;
    member(&line).map_err(bad)?;
    Ok((sid, line))
}

/// The server `flags` describe.
pub fn spec(flags: &ListenFlags) -> Result<ServerSpec, String> {
    let listen = flags.listen.ok_or("--listen is missing")?;
    let mut lines = BTreeMap::new();
    for (position, word) in flags.peer.iter().enumerate() {
        let (sid, line) = parse_peer(word, position + 1)?;
        if lines.insert(sid, line).is_some() {
            return Err(format!("--peer {word}: server {sid} is listed twice"));
        }
    }
    let (members, qv) = members(&lines).map_err(|e| match e.line {
        Some(position) => format!("--peer {}: {}", flags.peer[position - 1], e.message),
        None => e.message,
    })?;
    let sid = flags
        .myid
        .map(Sid)
        .filter(|id| members.contains_key(id))
        .ok_or("--myid must be one of the --peer sids")?;
    let mut config = Config::new(Arc::new(qv));
    config.tick_ms = flags.tick_ms;
    config.init_limit = flags.init_limit;
    config.sync_limit = flags.sync_limit;
    config.limits = Limits::for_tick(flags.tick_ms as u32);
    let mut client = ServerOptions::local(flags.tick_ms as u32);
    client.listen = listen;
    Ok(ServerSpec {
        sid,
        members,
        config,
        client,
        membership: membership(&lines),
        per_request_events: !flags.quiet,
    })
}

/// Runs the server `flags` describe until Ctrl-C, printing one line per event.
pub fn run(flags: &ListenFlags, color: bool) -> ExitCode {
    let spec = match spec(flags) {
        Ok(spec) => spec,
        Err(why) => {
            eprintln!("{why}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async move {
        let listeners = match Listeners::bind(&spec).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("cannot listen: {e}");
                return ExitCode::FAILURE;
            }
        };
        let me = spec.members[&spec.sid];
        println!(
            "n{}: client port {}, quorum port {}, election port {}; ensemble of {} (Ctrl-C stops)",
            spec.sid,
            spec.client.listen,
            me.quorum,
            me.election,
            spec.members.len()
        );
        let (tx, mut rx) = tokio::sync::mpsc::channel(super::EVENT_QUEUE);
        let mut server = tokio::spawn(serve(spec, listeners, Disk::default(), tx));
        loop {
            tokio::select! {
                traced = rx.recv() => {
                    let Some(t) = traced else { break };
                    print_line(&t, flags.quiet, color);
                }
                failed = &mut server => {
                    // Lines reported before it stopped come first.
                    while let Ok(t) = rx.try_recv() {
                        print_line(&t, flags.quiet, color);
                    }
                    match failed {
                        Ok(e) => eprintln!("stopped: {e}"),
                        Err(e) => eprintln!("stopped: {e}"),
                    }
                    return ExitCode::FAILURE;
                }
            }
        }
        ExitCode::SUCCESS
    })
}

/// Whether `event` comes once per write or per client connection: what `--quiet` leaves out.
pub fn per_request(event: &TcpEvent) -> bool {
    matches!(
        event,
        TcpEvent::Applied(_)
            | TcpEvent::Connected(_)
            | TcpEvent::Note(Note::Zab(ZabNote::Committed { .. }))
    )
}

/// Prints `t`, unless `quiet` and it is a [`per_request`] line.
fn print_line(t: &super::Traced, quiet: bool, color: bool) {
    if quiet && per_request(&t.event) {
        return;
    }
    let line = t.to_string();
    let line = match &t.event {
        _ if !color => line,
        TcpEvent::State(_) | TcpEvent::Serving(_) => line.bold().to_string(),
        TcpEvent::Dropped(_) | TcpEvent::Lost(_) => line.red().to_string(),
        TcpEvent::Connected(_) | TcpEvent::Applied(_) => line.dimmed().to_string(),
        TcpEvent::Note(_) => line.yellow().to_string(),
    };
    println!("{line}");
    if let TcpEvent::State(state) = t.event {
        if let Some(mode) = state.mode() {
            let status = format!("  zkServer.sh status → Mode: {mode}");
            println!(
                "{}",
                if color {
                    status.green().to_string()
                } else {
                    status
                }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::Zxid;
    use ch05_election::vote::ServerState;

    #[test]
    fn a_peer_word_is_a_zoo_cfg_server_line() {
        let (sid, line) = parse_peer("2=127.0.0.1:2889:3889", 1).unwrap();
        assert_eq!(sid, Sid(2));
        let member = member(&line).unwrap();
        assert_eq!(member.quorum, "127.0.0.1:2889".parse().unwrap());
        assert_eq!(member.election, "127.0.0.1:3889".parse().unwrap());
        assert!(!line.observer);
        assert!(
            parse_peer("4=127.0.0.1:2891:3891:observer", 1)
                .unwrap()
                .1
                .observer
        );
        for bad in [
            "2=127.0.0.1:2889",
            "x=127.0.0.1:1:2",
            "2=no-such-host.invalid:1:2",
            "2=127.0.0.1:1:2:boss",
        ] {
            assert!(parse_peer(bad, 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn quiet_leaves_out_the_per_write_lines_and_keeps_roles_and_problems() {
        let committed = ZabNote::Committed {
            zxid: Zxid(0x1_0000_0001),
            acks: vec![Sid(1), Sid(2)],
        };
        assert!(per_request(&TcpEvent::Note(Note::Zab(committed))));
        assert!(per_request(&TcpEvent::Connected(
            "client 127.0.0.1:5000".into()
        )));
        let kept = [
            TcpEvent::State(ServerState::Leading),
            TcpEvent::Serving(Some(Sid(1))),
            TcpEvent::Dropped("quorum link to n2 broke".into()),
            TcpEvent::Lost(3),
            TcpEvent::Note(Note::Zab(ZabNote::Unexpected("ACK from n9".into()))),
            TcpEvent::Note(Note::Zab(ZabNote::Quit {
                role: "leading",
                why: "lost its quorum".into(),
            })),
        ];
        for event in kept {
            assert!(!per_request(&event), "{event}");
        }
    }
}
