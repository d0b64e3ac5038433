//! From zoo.cfg to one member of an ensemble: the server lines, `dataDir/myid`, the limits.
//!
//! The idea to take away: **every member reads the same file and finds itself in it by its
//! `myid`.** The `server.N` lines are the whole ensemble, the same on every machine; the one
//! thing that differs is the small `myid` file in each dataDir, which says which line is "me".
//! From that line a server knows its quorum and election ports; from the others, whom to call.
//! A ZooKeeper operator's most common mistakes live here, so each is a clear error before any
//! port is bound or any file written (upstream `QuorumPeerConfig.setupMyId`,
//! `setupClientPort`, `setupPeerType`, `checkValidity`):
//!
//! - a missing `myid` ("myid file is missing"), one that is not a number ("serverid x is not a
//!   number"), or one no server line names;
//! - `initLimit` or `syncLimit` not set;
//! - two members on the same address, or a client port on a member's port.
//!
//! The same parser serves the chapter's own `--peer` flags ([`super::cli`]): a `--peer` word
//! is a server line in one word.
//!
//! How it differs from ZooKeeper: upstream does not check for ports used twice (the second
//! bind fails, or worse, two members share one), and accepts ids outside 1..=255 that its
//! session ids cannot hold; here both are errors naming the line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ch01_znode::Sid;
use ch03_sessions::config::{ConfigError, ServerLine, ZooCfg};
use ch03_sessions::pipeline::Limits;
use ch03_sessions::server::ServerOptions;
use ch05_election::quorum::{QuorumMaj, QuorumVerifier};

use super::{Member, ServerSpec};
use crate::peer::Config;

/// `dataDir/myid` could not give this server its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MyidError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, in upstream's words where it has some.
    pub message: String,
}

impl std::fmt::Display for MyidError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for MyidError {}

// ANCHOR: myid
/// Reads `data_dir/myid`: its first line, a server id in 1..=255.
pub fn read_myid(data_dir: &Path) -> Result<Sid, MyidError> {
    let path = data_dir.join("myid");
    let error = |message: String| MyidError {
        path: path.clone(),
        message,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(error(
                "myid file is missing: a quorum server needs one, holding its N of server.N".into(),
            ))
        }
        Err(e) => return Err(error(format!("cannot read: {e}"))),
    };
    // The first line as Java's readLine gives it, parsed as Long.parseLong does: a space
    // anywhere makes it no number, for ZooKeeper as here.
    let first = text.lines().next().unwrap_or_default();
    match first.parse::<i64>() {
        Ok(id @ 1..=255) => Ok(Sid(id as u64)),
        Ok(id) => Err(error(format!("serverid {id} is out of range 1..=255"))),
        Err(_) if first.trim().parse::<i64>().is_ok() => Err(error(format!(
            "serverid {first} is not a number (the line holds spaces besides the number)"
        ))),
        Err(_) => Err(error(format!("serverid {first} is not a number"))),
    }
}
// ANCHOR_END: myid

/// The address `host:port` names: an IPv4 one when the name has both.
fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{host} has no address"))
}

/// The addresses a server line gives its member.
pub fn member(line: &ServerLine) -> Result<Member, String> {
    Ok(Member {
        quorum: resolve(&line.host, line.quorum_port)?,
        election: resolve(&line.host, line.election_port)?,
    })
}

/// Every member's addresses and the quorum rule (who votes) of a set of server lines; two
/// members on one address is an error on the line of the second.
pub fn members(
    lines: &BTreeMap<Sid, ServerLine>,
) -> Result<(BTreeMap<Sid, Member>, QuorumMaj), ConfigError> {
    let mut members = BTreeMap::new();
    let mut taken: BTreeMap<SocketAddr, (Sid, &str)> = BTreeMap::new();
    for (sid, line) in lines {
        let error = |message: String| ConfigError {
            line: Some(line.line),
            message: format!("server.{sid}: {message}"),
        };
        let member = member(line).map_err(error)?;
        for (addr, what) in [(member.quorum, "quorum"), (member.election, "election")] {
            if let Some((other, its)) = taken.insert(addr, (*sid, what)) {
                return Err(error(format!(
                    "{what} port {addr} is already server.{other}'s {its} port"
                )));
            }
        }
        members.insert(*sid, member);
    }
    let (observers, voters): (Vec<Sid>, Vec<Sid>) = lines.keys().partition(|s| lines[*s].observer);
    let qv = QuorumMaj::new(voters, observers);
    Ok((members, qv))
}

/// Server `myid` of the ensemble `cfg` describes, with the warnings upstream would log.
pub fn server_spec(cfg: &ZooCfg, myid: Sid) -> Result<(ServerSpec, Vec<String>), ConfigError> {
    let error = |line: Option<usize>, message: String| ConfigError { line, message };
    let me = cfg.servers.get(&myid).ok_or_else(|| {
        let listed: Vec<String> = cfg.servers.keys().map(|s| format!("server.{s}")).collect();
        error(
            None,
            format!(
                "myid is {myid}, and there is no server.{myid} line (the lines are {})",
                listed.join(", ")
            ),
        )
    })?;
    let init_limit = cfg
        .init_limit
        .filter(|l| *l > 0)
        .ok_or_else(|| error(None, "initLimit is not set".into()))?;
    let sync_limit = cfg
        .sync_limit
        .filter(|l| *l > 0)
        .ok_or_else(|| error(None, "syncLimit is not set".into()))?;
    let (members, qv) = members(&cfg.servers)?;

    let mut warnings = Vec::new();
    if me.observer != cfg.peer_type_observer {
        let role = |observer| if observer { "observer" } else { "participant" };
        warnings.push(format!(
            "Peer type from servers list ({}) doesn't match peerType ({}). Defaulting to servers list.",
            role(me.observer),
            role(cfg.peer_type_observer)
        ));
    }
    match qv.voting_members().len() {
        0..=2 => warnings
            .push("No server failure will be tolerated. You need at least 3 servers.".into()),
        n if n % 2 == 0 => {
            warnings.push("Non-optimal configuration, consider an odd number of servers.".into())
        }
        _ => {}
    }

    // The client port: the server line's `;[addr:]port` if it has one, else clientPort
    // (upstream setupClientPort; a static address that disagrees is an error there too).
    let mut client = ServerOptions::from_config(cfg);
    if let Some(port) = me.client_port() {
        if cfg.client_port.is_some_and(|p| p != port) {
            return Err(error(
                Some(me.line),
                format!(
                    "server.{myid}'s client port {port} is different from clientPort={}",
                    cfg.client_port.unwrap_or_default()
                ),
            ));
        }
        client.listen.set_port(port);
    }
    for (sid, m) in &members {
        for addr in [m.quorum, m.election] {
            if addr.port() == client.listen.port() && same_host(addr, client.listen) {
                return Err(error(
                    Some(cfg.servers[sid].line),
                    format!("server.{sid} uses {addr}, this server's client port"),
                ));
            }
        }
    }

    let mut config = Config::new(Arc::new(qv));
    config.tick_ms = u64::from(cfg.tick_time_ms);
    config.init_limit = init_limit;
    config.sync_limit = sync_limit;
    config.snap_count = cfg.snap_count;
    config.commit_log_count = cfg.commit_log_count as usize;
    config.limits = Limits {
        min_session_timeout_ms: cfg.min_session_timeout_ms as i32,
        max_session_timeout_ms: cfg.max_session_timeout_ms as i32,
    };
    let spec = ServerSpec {
        sid: myid,
        members,
        config,
        client,
        membership: membership(&cfg.servers),
        // `keeper server` prints a quorum member's story, not a line per write.
        per_request_events: false,
    };
    Ok((spec, warnings))
}

/// Whether two listeners would clash: same address, or either on every interface.
fn same_host(a: SocketAddr, b: SocketAddr) -> bool {
    a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified()
}

// ANCHOR: membership
/// The ensemble's configuration as ZooKeeper writes it into `/zookeeper/config` and prints
/// after `conf`'s `membership:` (upstream `QuorumMaj.toString`): one `server.N=` line per
/// member, `host:quorumPort:electionPort:participant|observer`, then `;addr:clientPort` when
/// the line gave one, and last `version=` with the config's version in hex. No newline at
/// the end. A config read from zoo.cfg (no reconfig) has version 0.
pub fn membership(lines: &BTreeMap<Sid, ServerLine>) -> String {
    let mut text = String::new();
    for (sid, line) in lines {
        let host = bracketed(&line.host);
        let role = if line.observer {
            "observer"
        } else {
            "participant"
        };
        let _ = write!(
            text,
            "server.{sid}={host}:{}:{}:{role}",
            line.quorum_port, line.election_port
        );
        if let (Some(client), Some(port)) = (&line.client, line.client_port()) {
            // `;2181` alone is a client port on every interface.
            let addr = match client.rsplit_once(':') {
                Some((addr, _)) => addr.trim_start_matches('[').trim_end_matches(']'),
                None => "0.0.0.0",
            };
            let _ = write!(text, ";{}:{port}", bracketed(addr));
        }
        text.push('\n');
    }
    text.push_str("version=0");
    text
}
// ANCHOR_END: membership

/// An IPv6 literal in brackets, as upstream's `delimitedHostString`.
fn bracketed(host: &str) -> String {
    match host.contains(':') {
        true => format!("[{host}]"),
        false => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> ZooCfg {
        ZooCfg::parse(text).expect("a valid zoo.cfg").0
    }

    const THREE: &str = "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nclientPort=2181\n\
        server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n";

    /// Every member finds itself by myid; the limits and ports come from the file
    /// (upstream `QuorumPeerConfig.parseProperties` and `setupClientPort`).
    #[test]
    fn the_course_cluster_gives_each_member_its_ports_and_the_limits() {
        let (spec, warnings) = server_spec(&cfg(THREE), Sid(2)).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(spec.sid, Sid(2));
        assert_eq!(spec.members.len(), 3);
        assert_eq!(
            spec.members[&Sid(2)].quorum,
            "127.0.0.1:2889".parse().unwrap()
        );
        assert_eq!(
            spec.members[&Sid(2)].election,
            "127.0.0.1:3889".parse().unwrap()
        );
        assert_eq!(spec.client.listen, "127.0.0.1:2181".parse().unwrap());
        assert_eq!(
            (
                spec.config.tick_ms,
                spec.config.init_limit,
                spec.config.sync_limit
            ),
            (2000, 10, 5)
        );
        assert_eq!(spec.config.limits.max_session_timeout_ms, 40_000);
        assert_eq!(spec.config.snap_count, 100_000);
        assert_eq!(spec.config.commit_log_count, 500);
    }

    /// The server line's `;port` is the client port when there is no clientPort line.
    #[test]
    fn a_client_port_on_the_server_line_is_used() {
        let text = "initLimit=10\nsyncLimit=5\ndataDir=/d\n\
            server.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;127.0.0.1:2182\n\
            server.3=127.0.0.1:2890:3890:observer\n";
        let (spec, warnings) = server_spec(&cfg(text), Sid(2)).unwrap();
        assert_eq!(spec.client.listen.port(), 2182);
        assert_eq!(
            warnings,
            ["No server failure will be tolerated. You need at least 3 servers."]
        );
        assert_eq!(
            membership(&cfg(text).servers),
            "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n\
             server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n\
             server.3=127.0.0.1:2890:3890:observer\nversion=0"
        );
    }

    /// What a real 3.8 ensemble shows in `/zookeeper/config` for the course's three lines.
    #[test]
    fn the_membership_text_is_zookeepers() {
        assert_eq!(
            membership(&cfg(THREE).servers),
            "server.1=127.0.0.1:2888:3888:participant\n\
             server.2=127.0.0.1:2889:3889:participant\n\
             server.3=127.0.0.1:2890:3890:participant\nversion=0"
        );
    }

    #[test]
    fn a_myid_with_no_server_line_or_missing_limits_is_an_error() {
        let err = server_spec(&cfg(THREE), Sid(4)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "zoo.cfg: myid is 4, and there is no server.4 line (the lines are server.1, server.2, server.3)"
        );
        let no_init = THREE.replace("initLimit=10\n", "");
        let err = server_spec(&cfg(&no_init), Sid(1)).unwrap_err();
        assert_eq!(err.to_string(), "zoo.cfg: initLimit is not set");
    }

    #[test]
    fn a_port_used_twice_is_an_error_on_the_second_line() {
        let twice = THREE.replace("127.0.0.1:2890:3890", "127.0.0.1:2890:3889");
        let err = server_spec(&cfg(&twice), Sid(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "zoo.cfg line 8: server.3: election port 127.0.0.1:3889 is already server.2's election port"
        );
        let on_client = THREE.replace("clientPort=2181", "clientPort=3890");
        let err = server_spec(&cfg(&on_client), Sid(1)).unwrap_err();
        assert_eq!(err.line, Some(8));
    }

    #[test]
    fn myid_must_be_a_number_in_range() {
        let dir = std::env::temp_dir().join(format!("keeper-myid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = read_myid(&dir).unwrap_err();
        assert!(
            missing.message.starts_with("myid file is missing"),
            "{missing}"
        );
        for (text, expected) in [
            ("3\n", Ok(Sid(3))),
            ("x\n", Err("serverid x is not a number")),
            ("7\r\n", Ok(Sid(7))),
            (
                "2 \n",
                Err("serverid 2  is not a number (the line holds spaces besides the number)"),
            ),
            ("-1", Err("serverid -1 is out of range 1..=255")),
            ("256", Err("serverid 256 is out of range 1..=255")),
        ] {
            std::fs::write(dir.join("myid"), text).unwrap();
            let got = read_myid(&dir).map_err(|e| e.message);
            assert_eq!(got, expected.map_err(String::from), "{text:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
