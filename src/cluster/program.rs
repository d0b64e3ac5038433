//! Which program serves the cluster: Keeper, or the real ZooKeeper 3.8 on the same files.
//!
//! The files `keeper cluster` writes are ZooKeeper's own, so the real thing runs on them
//! unchanged: `keeper cluster start --zookeeper` starts each server as ZooKeeper's
//! `QuorumPeerMain` with that server's zoo.cfg, what `zkServer.sh start` runs. A student can
//! then compare Keeper's ensemble with ZooKeeper's through the same commands, and the tests
//! check their expectations on ZooKeeper first. The choice is recorded in `DIR/program`, so
//! `restart N` starts the same program again.

use std::path::Path;
use std::process::Command;

/// The file recording the choice.
const RECORD: &str = "program";

/// Debian's ZooKeeper 3.8 jar (its manifest brings the jars it needs) and a logger that
/// writes to stderr, hence to the server's log file.
const ZOOKEEPER_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    Keeper,
    ZooKeeper,
}

impl Program {
    /// The program recorded for the cluster in `dir`; Keeper when none is.
    pub fn recorded(dir: &Path) -> Program {
        match std::fs::read_to_string(dir.join(RECORD)) {
            Ok(text) if text.trim() == "zookeeper" => Program::ZooKeeper,
            _ => Program::Keeper,
        }
    }

    pub fn record(self, dir: &Path) -> std::io::Result<()> {
        let name = match self {
            Program::Keeper => "keeper",
            Program::ZooKeeper => "zookeeper",
        };
        std::fs::write(dir.join(RECORD), format!("{name}\n"))
    }

    /// The command that runs one server on `zoo_cfg`.
    pub fn command(self, zoo_cfg: &Path) -> Result<Command, String> {
        match self {
            Program::Keeper => {
                let keeper = std::env::current_exe()
                    .map_err(|e| format!("cannot find the keeper program itself: {e}"))?;
                let mut command = Command::new(keeper);
                command.arg("server").arg("--config").arg(zoo_cfg);
                Ok(command)
            }
            Program::ZooKeeper => {
                let jar = ZOOKEEPER_CLASSPATH.split(':').next().unwrap_or_default();
                if !Path::new(jar).exists() {
                    return Err(format!(
                        "{jar} is missing: --zookeeper needs ZooKeeper 3.8 (apt-get install zookeeper)"
                    ));
                }
                let mut command = Command::new("java");
                // Without the flag every server's admin web server would take port 8080.
                command
                    .arg("-Xmx256m")
                    .arg("-Dzookeeper.admin.enableServer=false")
                    .arg("-cp")
                    .arg(ZOOKEEPER_CLASSPATH)
                    .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                    .arg(zoo_cfg);
                Ok(command)
            }
        }
    }
}
