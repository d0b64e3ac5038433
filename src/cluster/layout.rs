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
//! These files are the only record of the cluster: a later command finds the servers by their
//! folders and reads each one's ports back from its own zoo.cfg, so a student may edit them
//! between runs as they would edit a real install's (and break one without locking the others
//! out of `stop`, `kill` or `status`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ch01_znode::Sid;
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

/// A cluster's folder and its servers' ids, in order: where every file is. What each
/// server's zoo.cfg says is read only when asked ([`Layout::member`]), one server at a time,
/// so that one broken file stops only what needs it: `stop` and `kill` need a pid file,
/// `status` asks each server on its own, `restart N` needs server N's zoo.cfg alone.
#[derive(Clone, Debug)]
pub struct Layout {
    pub dir: PathBuf,
    pub sids: Vec<u64>,
}

impl Layout {
    /// The cluster of `members` in `dir` (absolute), not yet written.
    pub fn new(dir: PathBuf, members: &[Member]) -> Layout {
        let sids = members.iter().map(|m| m.sid).collect();
        Layout { dir, sids }
    }

    /// The cluster in `dir`, found by its folders `server1`, `server2`, ... alone (whatever
    /// their files hold); None when there is no `server1`.
    pub fn find(dir: &Path) -> Option<Layout> {
        let sids: Vec<u64> = (1..).take_while(|&sid| home(dir, sid).is_dir()).collect();
        (!sids.is_empty()).then(|| Layout {
            dir: dir.to_path_buf(),
            sids,
        })
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

    /// `sid` if the cluster has that server, or a clear error naming the ones there are.
    pub fn known(&self, sid: u64) -> Result<u64, String> {
        if self.sids.contains(&sid) {
            return Ok(sid);
        }
        Err(format!(
            "unknown server {sid}: the cluster in {} has servers 1 to {}",
            self.dir.display(),
            self.sids.len()
        ))
    }

    /// Server `sid` as its own zoo.cfg describes it: its `clientPort`, and the quorum and
    /// election ports of its own `server.N` line (the ones it listens on).
    pub fn member(&self, sid: u64) -> Result<Member, String> {
        let path = self.zoo_cfg(self.known(sid)?);
        let cfg = load(&path)?;
        let client_port = cfg
            .client_port
            .ok_or_else(|| format!("{}: clientPort is not set", path.display()))?;
        let line = cfg
            .servers
            .get(&Sid(sid))
            .ok_or_else(|| format!("{}: there is no server.{sid} line", path.display()))?;
        Ok(Member {
            sid,
            client_port,
            quorum_port: line.quorum_port,
            election_port: line.election_port,
        })
    }

    /// Every server, each as [`Layout::member`] reads it; the first that cannot be read is
    /// the error.
    pub fn members(&self) -> Result<Vec<Member>, String> {
        self.sids.iter().map(|&sid| self.member(sid)).collect()
    }

    /// Writes every server's zoo.cfg (with the `KEY=VALUE` lines of `settings` added) and
    /// myid, and makes its `logs/` folder.
    pub fn write(&self, members: &[Member], settings: &[String]) -> std::io::Result<()> {
        for member in members {
            let home = self.home(member.sid);
            std::fs::create_dir_all(home.join("conf"))?;
            std::fs::create_dir_all(self.data_dir(member.sid))?;
            std::fs::create_dir_all(home.join("logs"))?;
            let mut text = self.zoo_cfg_text(members, member);
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
    /// the same `server.N` lines (one per member) as every other server's.
    pub fn zoo_cfg_text(&self, members: &[Member], me: &Member) -> String {
        let mut text = format!(
            "# Server {} of the cluster in {} (written by `keeper cluster start`).\n",
            me.sid,
            self.dir.display()
        );
        text.push_str(COMMON_SETTINGS);
        let _ = writeln!(text, "dataDir={}", self.data_dir(me.sid).display());
        let _ = writeln!(text, "clientPort={}", me.client_port);
        text.push_str("#############cluster################\n");
        for m in members {
            let _ = writeln!(
                text,
                "server.{}={HOST}:{}:{}",
                m.sid, m.quorum_port, m.election_port
            );
        }
        text
    }
}

/// What a client passes to reach the whole ensemble: `127.0.0.1:2181,127.0.0.1:2182,...`.
pub fn connect_string(members: &[Member]) -> String {
    let hosts: Vec<String> = members
        .iter()
        .map(|m| format!("{HOST}:{}", m.client_port))
        .collect();
    hosts.join(",")
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

    fn members() -> Vec<Member> {
        (1..=3)
            .map(|sid| Member {
                sid,
                client_port: 2180 + sid as u16,
                quorum_port: 2887 + sid as u16,
                election_port: 3887 + sid as u16,
            })
            .collect()
    }

    fn three() -> Layout {
        Layout::new(PathBuf::from("/tmp/c"), &members())
    }

    /// The files of a three-server cluster, written in a fresh folder.
    fn written(label: &str) -> (tempfile::TempDir, Layout) {
        let dir = tempfile::Builder::new()
            .prefix(&format!("keeper-layout-{label}-"))
            .tempdir()
            .expect("a scratch folder");
        let layout = Layout::new(dir.path().to_path_buf(), &members());
        layout.write(&members(), &[]).expect("the files");
        (dir, layout)
    }

    #[test]
    fn each_zoo_cfg_lists_every_server_and_its_own_client_port_and_data_dir() {
        let (layout, members) = (three(), members());
        let text = layout.zoo_cfg_text(&members, &members[1]);
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
        let members = members();
        let layout = Layout::new(PathBuf::from("/home/you/keeper-cluster"), &members);
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(layout.zoo_cfg_text(&members, &members[1]));
        });
    }

    #[test]
    fn the_connect_string_names_every_client_port() {
        assert_eq!(
            connect_string(&members()),
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

    #[test]
    fn the_servers_are_read_back_from_their_folders_and_their_own_files() {
        let (_dir, layout) = written("read-back");
        let found = Layout::find(&layout.dir).expect("a cluster");
        assert_eq!(found.sids, [1, 2, 3]);
        assert_eq!(found.members(), Ok(members()));
        assert!(Layout::find(&layout.dir.join("server1")).is_none());
    }

    /// One broken zoo.cfg is that server's error alone: the others are still read, and the
    /// cluster is still found (so `stop` and `kill` still work on every server).
    #[test]
    fn a_broken_zoo_cfg_is_the_error_of_its_own_server_only() {
        let (_dir, layout) = written("broken");
        let edit = |sid: u64, from: &str, to: &str| {
            let text = std::fs::read_to_string(layout.zoo_cfg(sid)).unwrap();
            std::fs::write(layout.zoo_cfg(sid), text.replace(from, to)).unwrap();
        };
        edit(3, "clientPort=2183", "clientPort=21x3");
        edit(1, "server.3=127.0.0.1:2890:3890", "server.3=127.0.0.1:2890");
        std::fs::remove_file(layout.zoo_cfg(2)).unwrap();

        let found = Layout::find(&layout.dir).expect("a cluster");
        assert_eq!(found.sids, [1, 2, 3]);
        let errors: Vec<String> = (1..=3).map(|sid| found.member(sid).unwrap_err()).collect();
        let path = |sid: u64| layout.zoo_cfg(sid).display().to_string();
        assert_eq!(
            errors[0],
            format!(
                "{} line 12: server.3=127.0.0.1:2890: expected \
                 host:quorumPort:electionPort[:participant|observer]",
                path(1)
            )
        );
        assert!(
            errors[1].starts_with(&format!("{}: cannot read it: ", path(2))),
            "{}",
            errors[1]
        );
        assert_eq!(
            errors[2],
            format!("{} line 8: clientPort=21x3 is not a valid number", path(3))
        );
        edit(
            1,
            "server.3=127.0.0.1:2890\n",
            "server.3=127.0.0.1:2890:3890\n",
        );
        assert_eq!(found.member(1), Ok(members()[0]));
        assert_eq!(found.members(), Err(errors[1].clone()));
    }
}
