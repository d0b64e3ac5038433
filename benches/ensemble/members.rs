//! Three servers of one program on 127.0.0.1, from the same zoo.cfg settings: each its own
//! process, started, killed with SIGKILL and restarted on its dataDir, as `keeper cluster`
//! and `zkServer.sh` run a real install.
//!
//! Both programs read the same files: one zoo.cfg per server (the interop harness's, with
//! `forceSync=yes`, the course's `tickTime=2000`, `initLimit=10`, `syncLimit=5`, and the three
//! `server.N=127.0.0.1:quorumPort:electionPort` lines) and a `myid` in each fresh dataDir.
//! Every process is a [`Guarded`]: killed by its watchdog when its handle drops, or when the
//! bench itself dies, so none outlives the bench.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::{
    distinct_ports, four_letter_word, tools, wait_until, zoo_cfg, Guarded, TempDir,
};

/// Which program serves the ensemble.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// `keeper server --config zoo.cfg` in quorum mode.
    Keeper,
    /// ZooKeeper 3.8's `QuorumPeerMain`, what `zkServer.sh start` runs.
    ZooKeeper,
}

impl Program {
    pub fn name(self) -> &'static str {
        match self {
            Program::Keeper => "Keeper",
            Program::ZooKeeper => "ZooKeeper 3.8",
        }
    }
}

/// The heap each ZooKeeper member's JVM may grow to.
pub const ZOOKEEPER_HEAP: &str = "-Xmx512m";

/// zoo.cfg keys both programs get on top of the harness's loopback-only defaults
/// (`maxClientCnxns=0`: the memory bench holds thousands of sessions from one address).
const SETTINGS: [(&str, &str); 3] = [
    ("tickTime", "2000"),
    ("forceSync", "yes"),
    ("maxClientCnxns", "0"),
];

/// One member: its folder (zoo.cfg, data/myid), its client address, its process if running.
struct Member {
    sid: u64,
    dir: PathBuf,
    client: SocketAddr,
    process: Option<Guarded>,
}

/// Three members of one program; every process is killed and the files removed on drop.
pub struct Ensemble {
    pub program: Program,
    members: Vec<Member>,
    /// Dropped after the members (fields drop in order), so no server writes into a removed
    /// folder.
    _files: TempDir,
}

impl Ensemble {
    /// Writes three servers' files on fresh ports of 127.0.0.1; starts nothing.
    pub fn write(program: Program) -> Result<Ensemble, String> {
        let files = TempDir::new("ensemble-bench");
        let ports = distinct_ports(3);
        let lines: Vec<(String, String)> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, quorum, election))| {
                (
                    format!("server.{}", i + 1),
                    format!("127.0.0.1:{quorum}:{election}"),
                )
            })
            .collect();
        let mut settings: Vec<(&str, &str)> = SETTINGS.to_vec();
        settings.extend(lines.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut members = Vec::new();
        for (i, (client, _, _)) in ports.iter().enumerate() {
            let sid = i as u64 + 1;
            let dir = files.path().join(format!("server{sid}"));
            let data = dir.join("data");
            let io = |e: std::io::Error| format!("{}: {e}", data.display());
            std::fs::create_dir_all(&data).map_err(io)?;
            std::fs::write(data.join("myid"), format!("{sid}\n")).map_err(io)?;
            let cfg = zoo_cfg(*client, &data.display().to_string(), &settings);
            std::fs::write(dir.join("zoo.cfg"), cfg).map_err(io)?;
            members.push(Member {
                sid,
                dir,
                client: SocketAddr::from(([127, 0, 0, 1], *client)),
                process: None,
            });
        }
        Ok(Ensemble {
            program,
            members,
            _files: files,
        })
    }

    /// The process id of member `i`'s server (the program the watchdog shell started), if it
    /// runs: the memory bench weighs it, this one counts its threads' context switches.
    pub fn pid(&self, i: usize) -> Option<u32> {
        let shell = self.members[i].process.as_ref()?.pid();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"));
        children.ok()?.split_whitespace().find_map(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            (comm.trim() != "sh").then(|| pid.parse().ok()).flatten()
        })
    }

    /// Every member's client address, in `sid` order.
    pub fn clients(&self) -> Vec<SocketAddr> {
        self.members.iter().map(|m| m.client).collect()
    }

    /// Starts every member that is not running.
    pub fn start_all(&mut self) -> Result<(), String> {
        for i in 0..self.members.len() {
            if self.members[i].process.is_none() {
                self.start(i)?;
            }
        }
        Ok(())
    }

    /// Starts member `i` (an index into [`Ensemble::clients`]) on its files.
    pub fn start(&mut self, i: usize) -> Result<(), String> {
        let classpath = tools::zookeeper_classpath();
        let member = &mut self.members[i];
        let name = format!("{} server {}", self.program.name(), member.sid);
        let spawned = match self.program {
            Program::Keeper => Guarded::spawn(
                &name,
                env!("CARGO_BIN_EXE_keeper"),
                &["server", "--config", "zoo.cfg"],
                &member.dir,
                None,
            ),
            Program::ZooKeeper => Guarded::spawn(
                &name,
                "java",
                &[
                    ZOOKEEPER_HEAP,
                    "-cp",
                    &classpath,
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                    "zoo.cfg",
                ],
                &member.dir,
                None,
            ),
        };
        member.process = Some(spawned.map_err(|e| format!("cannot start {name}: {e}"))?);
        Ok(())
    }

    /// SIGKILL to member `i`, as `kill -9`; returns once the process is gone.
    pub fn kill(&mut self, i: usize) {
        drop(self.members[i].process.take());
    }

    /// Waits, at most `bound`, until every member answers `srvr` with a mode, one `leader`
    /// and the rest `follower`; returns the leader's index and a follower's. A member that
    /// exits meanwhile (its port was taken before it bound it) fails the wait at once.
    pub fn serving(&mut self, bound: Duration) -> Result<(usize, usize), String> {
        let clients = self.clients();
        let mut exited = None;
        let found = wait_until(bound, "one leader and two followers", || {
            for m in &mut self.members {
                if let Some(status) = m.process.as_mut().and_then(Guarded::exited) {
                    exited = Some(format!("server {} exited ({status})", m.sid));
                    return Some(None);
                }
            }
            let modes: Vec<Option<String>> = clients.iter().map(|c| mode(*c)).collect();
            let of = |wanted: &str| {
                (0..modes.len())
                    .filter(|&i| modes[i].as_deref() == Some(wanted))
                    .collect::<Vec<_>>()
            };
            let (leaders, followers) = (of("leader"), of("follower"));
            (leaders.len() == 1 && followers.len() == modes.len() - 1)
                .then(|| Some((leaders[0], followers[0])))
        });
        match (found, exited) {
            (Ok(Some(roles)), _) => Ok(roles),
            (_, Some(why)) | (Err(why), None) => Err(self.explain(&why)),
            (Ok(None), None) => unreachable!("a member exited, and said why"),
        }
    }

    /// `why`, followed by what each running member printed.
    pub fn explain(&self, why: &str) -> String {
        let mut out = why.to_string();
        for m in &self.members {
            if let Some(p) = &m.process {
                let _ = write!(out, "\n--- server {} printed:\n{}", m.sid, p.output());
            }
        }
        out
    }
}

/// The `Mode:` a server's `srvr` reports, if it serves.
fn mode(addr: SocketAddr) -> Option<String> {
    let answer = four_letter_word(addr.port(), "srvr").ok()?;
    let mode = answer.lines().find_map(|l| l.strip_prefix("Mode: "))?;
    Some(mode.trim().to_string())
}
