//! Where a cluster lives on disk: one folder per server, laid out as ZooKeeper's own install is.
//!
//! The course gives each machine a ZooKeeper install with `conf/zoo.cfg`, a `dataDir` holding
//! the `myid` file, and `logs/`; on one machine, each server gets its own copy of that tree:
//!
//! ```text
//! DIR/server1/conf/zoo.cfg       the course's zoo.cfg, with every server.N line
//! DIR/server1/data/myid          "1": which server.N line is this server
//! DIR/server1/data/zookeeper_server.pid   the running process, as zkServer.sh records it
//! DIR/server1/logs/keeper.out    the server's stdout and stderr
//! DIR/server2/...
//! ```
//!
//! The zoo.cfg files are the only record of the cluster: a later command reads the servers,
//! their ports and their count back from them, so a student may edit them between runs as
//! they would edit a real install's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ch03_sessions::config::ZooCfg;

/// One server of the cluster: its id (`server.N`, `myid`) and its three ports on 127.0.0.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub sid: u64,
    /// Where clients connect (`clientPort`, 2181 in the course).
    pub client_port: u16,
    /// Where followers connect to the leader (2888 in the course).
    pub quorum_port: u16,
    /// Where servers exchange election votes (3888 in the course).
    pub election_port: u16,
}

/// The loopback address every server of the cluster uses, for every port.
pub const HOST: &str = "127.0.0.1";

/// The settings the course's zoo.cfg sets (its `tickTime`, `initLimit`, `syncLimit`), plus
/// what a server needs on a shared machine: its client port on loopback only, every
/// four-letter word on (`keeper status` and the student use them).
const COMMON_SETTINGS: &str = "\
tickTime=2000
initLimit=10
syncLimit=5
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
";

/// A cluster's folder and its servers, in `sid` order.
#[derive(Clone, Debug)]
pub struct Layout {
    pub dir: PathBuf,
    pub members: Vec<Member>,
}

impl Layout {
    /// A new cluster in `dir` (absolute), not yet written.
    pub fn new(dir: PathBuf, members: Vec<Member>) -> Layout {
        Layout { dir, members }
    }

    /// `DIR/serverN`: everything about server N.
    pub fn home(&self, sid: u64) -> PathBuf {
        home(&self.dir, sid)
    }

    pub fn zoo_cfg(&self, sid: u64) -> PathBuf {
        zoo_cfg(&self.dir, sid)
    }

    pub fn data_dir(&self, sid: u64) -> PathBuf {
        self.home(sid).join("data")
    }

    /// Where zkServer.sh keeps the pid: `$dataDir/zookeeper_server.pid`.
    pub fn pid_file(&self, sid: u64) -> PathBuf {
        self.data_dir(sid).join("zookeeper_server.pid")
    }

    pub fn log_file(&self, sid: u64) -> PathBuf {
        self.home(sid).join("logs").join("keeper.out")
    }

    /// The server with this id, or a clear error naming the ones there are.
    pub fn member(&self, sid: u64) -> Result<Member, String> {
        self.members
            .iter()
            .find(|m| m.sid == sid)
            .copied()
            .ok_or_else(|| {
                format!(
                    "unknown server {sid}: the cluster in {} has servers 1 to {}",
                    self.dir.display(),
                    self.members.len()
                )
            })
    }

    /// What a client passes to reach the whole ensemble: `127.0.0.1:2181,127.0.0.1:2182,...`.
    pub fn connect_string(&self) -> String {
        let hosts: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{HOST}:{}", m.client_port))
            .collect();
        hosts.join(",")
    }

    /// Writes every server's zoo.cfg (with the `KEY=VALUE` lines of `settings` added) and
    /// myid, and makes its `logs/` folder.
    pub fn write(&self, settings: &[String]) -> std::io::Result<()> {
        for member in &self.members {
            let home = self.home(member.sid);
            std::fs::create_dir_all(home.join("conf"))?;
            std::fs::create_dir_all(self.data_dir(member.sid))?;
            std::fs::create_dir_all(home.join("logs"))?;
            let mut text = self.zoo_cfg_text(member);
            for setting in settings {
                let _ = writeln!(text, "{setting}");
            }
            std::fs::write(self.zoo_cfg(member.sid), text)?;
            // zkServer.sh's users write it with `echo 1 > myid`: a number and a newline.
            std::fs::write(
                self.data_dir(member.sid).join("myid"),
                format!("{}\n", member.sid),
            )?;
        }
        Ok(())
    }

    /// One server's zoo.cfg: the course's file, with this server's dataDir and clientPort and
    /// the same `server.N` lines as every other server's.
    pub fn zoo_cfg_text(&self, me: &Member) -> String {
        let mut text = format!(
            "# Server {} of the cluster in {} (written by `keeper cluster start`).\n",
            me.sid,
            self.dir.display()
        );
        text.push_str(COMMON_SETTINGS);
        let _ = writeln!(text, "dataDir={}", self.data_dir(me.sid).display());
        let _ = writeln!(text, "clientPort={}", me.client_port);
        text.push_str("#############cluster################\n");
        for m in &self.members {
            let _ = writeln!(
                text,
                "server.{}={HOST}:{}:{}",
                m.sid, m.quorum_port, m.election_port
            );
        }
        text
    }

    /// Reads back the cluster in `dir`: `Ok(None)` when there is none (no `server1/conf/zoo.cfg`).
    /// The servers are those of server 1's `server.N` lines; each one's client port is its own
    /// zoo.cfg's `clientPort`.
    pub fn read(dir: &Path) -> Result<Option<Layout>, String> {
        let first = zoo_cfg(dir, 1);
        if !first.exists() {
            return Ok(None);
        }
        let cfg = load(&first)?;
        if cfg.servers.is_empty() {
            return Err(format!(
                "{} has no server.N lines: not a cluster's zoo.cfg",
                first.display()
            ));
        }
        let mut members = Vec::new();
        for (index, (sid, line)) in cfg.servers.iter().enumerate() {
            let expected = index as u64 + 1;
            if sid.0 != expected {
                return Err(format!(
                    "{}: the servers must be numbered 1 to {}, found server.{}",
                    first.display(),
                    cfg.servers.len(),
                    sid.0
                ));
            }
            let own = load(&zoo_cfg(dir, expected))?;
            let client_port = own.client_port.ok_or_else(|| {
                format!(
                    "{}: clientPort is not set",
                    zoo_cfg(dir, expected).display()
                )
            })?;
            members.push(Member {
                sid: expected,
                client_port,
                quorum_port: line.quorum_port,
                election_port: line.election_port,
            });
        }
        Ok(Some(Layout::new(dir.to_path_buf(), members)))
    }
}

fn home(dir: &Path, sid: u64) -> PathBuf {
    dir.join(format!("server{sid}"))
}

fn zoo_cfg(dir: &Path, sid: u64) -> PathBuf {
    home(dir, sid).join("conf").join("zoo.cfg")
}

fn load(path: &Path) -> Result<ZooCfg, String> {
    ZooCfg::load(path)
        .map(|(cfg, _warnings)| cfg)
        .map_err(|e| e.in_file(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Layout {
        let members = (1..=3)
            .map(|sid| Member {
                sid,
                client_port: 2180 + sid as u16,
                quorum_port: 2887 + sid as u16,
                election_port: 3887 + sid as u16,
            })
            .collect();
        Layout::new(PathBuf::from("/tmp/c"), members)
    }

    #[test]
    fn each_zoo_cfg_lists_every_server_and_its_own_client_port_and_data_dir() {
        let layout = three();
        let text = layout.zoo_cfg_text(&layout.members[1]);
        assert!(text.contains("dataDir=/tmp/c/server2/data\n"), "{text}");
        assert!(text.contains("clientPort=2182\n"), "{text}");
        assert!(text.contains(
            "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n"
        ));
        let (cfg, _) = ZooCfg::parse(&text).expect("the written zoo.cfg parses");
        assert_eq!(cfg.servers.len(), 3);
        assert_eq!(cfg.tick_time_ms, 2000);
    }

    /// Server 2's zoo.cfg of a three-server cluster on the course's ports, whole: chapter 8 of
    /// the book shows it.
    #[test]
    fn the_course_cluster_zoo_cfg_of_server_2() {
        let members = three().members;
        let layout = Layout::new(PathBuf::from("/home/you/keeper-cluster"), members);
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(layout.zoo_cfg_text(&layout.members[1]));
        });
    }

    #[test]
    fn the_connect_string_names_every_client_port() {
        assert_eq!(
            three().connect_string(),
            "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183"
        );
    }

    #[test]
    fn an_unknown_server_is_a_clear_error() {
        let err = three().member(4).unwrap_err();
        assert_eq!(
            err,
            "unknown server 4: the cluster in /tmp/c has servers 1 to 3"
        );
    }
}
