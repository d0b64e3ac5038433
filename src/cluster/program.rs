//! Which program serves each server of the cluster: Keeper, or the real ZooKeeper 3.8 on the
//! same files.
//!
//! The files `keeper cluster` writes are ZooKeeper's own, so the real thing runs on them
//! unchanged: a server run by ZooKeeper is its `QuorumPeerMain` with that server's zoo.cfg,
//! what `zkServer.sh start` runs. `--zookeeper` has ZooKeeper serve every server, so a student
//! can compare Keeper's ensemble with ZooKeeper's through the same commands, and the tests
//! check their expectations on ZooKeeper first. `--zookeeper-servers 1,2` has it serve only
//! those: a mixed ensemble, where Keeper and ZooKeeper elect, sync and replicate together
//! because both speak the same bytes on the election and quorum ports.
//!
//! The choice is recorded in `DIR/program` (`keeper`, `zookeeper`, or `zookeeper 1,2`), so
//! `restart N` starts the same program again.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The file recording the choice.
const RECORD: &str = "program";

/// Debian's ZooKeeper 3.8 jar (its manifest brings the jars it needs) and a logger that
/// writes to stderr, hence to the server's log file.
const ZOOKEEPER_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";

/// What one server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    Keeper,
    ZooKeeper,
}

/// What every server of a cluster runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Programs {
    /// Every server runs this program.
    All(Program),
    /// These servers run ZooKeeper, the others Keeper.
    ZooKeeperOn(BTreeSet<u64>),
}

impl Programs {
    /// The choice of a `start` command's flags.
    pub fn chosen(zookeeper: bool, zookeeper_servers: &[u64]) -> Programs {
        match (zookeeper, zookeeper_servers) {
            (true, _) => Programs::All(Program::ZooKeeper),
            (false, []) => Programs::All(Program::Keeper),
            (false, sids) => Programs::ZooKeeperOn(sids.iter().copied().collect()),
        }
    }

    /// The choice recorded for the cluster in `dir`; Keeper everywhere when none is.
    pub fn recorded(dir: &Path) -> Programs {
        let text = std::fs::read_to_string(dir.join(RECORD)).unwrap_or_default();
        Programs::parse(text.trim()).unwrap_or(Programs::All(Program::Keeper))
    }

    fn parse(text: &str) -> Option<Programs> {
        match text.split_once(' ') {
            None if text == "zookeeper" => Some(Programs::All(Program::ZooKeeper)),
            None if text == "keeper" => Some(Programs::All(Program::Keeper)),
            Some(("zookeeper", sids)) => sids
                .split(',')
                .map(|sid| sid.trim().parse().ok())
                .collect::<Option<BTreeSet<u64>>>()
                .map(Programs::ZooKeeperOn),
            _ => None,
        }
    }

    /// The text `DIR/program` holds.
    fn text(&self) -> String {
        match self {
            Programs::All(Program::Keeper) => "keeper".to_string(),
            Programs::All(Program::ZooKeeper) => "zookeeper".to_string(),
            Programs::ZooKeeperOn(sids) => {
                let sids: Vec<String> = sids.iter().map(u64::to_string).collect();
                format!("zookeeper {}", sids.join(","))
            }
        }
    }

    pub fn record(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join(RECORD), format!("{}\n", self.text()))
    }

    /// What server `sid` runs.
    pub fn of(&self, sid: u64) -> Program {
        match self {
            Programs::All(program) => *program,
            Programs::ZooKeeperOn(sids) if sids.contains(&sid) => Program::ZooKeeper,
            Programs::ZooKeeperOn(_) => Program::Keeper,
        }
    }

    /// A server id that is not one of the cluster's `servers`, if the choice names one.
    pub fn unknown_server(&self, servers: u64) -> Option<u64> {
        match self {
            Programs::ZooKeeperOn(sids) => sids.iter().copied().find(|&s| s == 0 || s > servers),
            Programs::All(_) => None,
        }
    }
}

impl Program {
    /// The name a person knows it by, for what `start` prints.
    pub fn name(self) -> &'static str {
        match self {
            Program::Keeper => "keeper",
            Program::ZooKeeper => "zookeeper",
        }
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
                        "{jar} is missing: ZooKeeper servers need ZooKeeper 3.8 (apt-get install zookeeper)"
                    ));
                }
                let mut command = Command::new("java");
                // Without the flag every server's admin web server would take port 8080.
                command
                    .arg("-Xmx256m")
                    .arg("-Dzookeeper.admin.enableServer=false");
                // As zkServer.sh, the JVM takes the words of SERVER_JVMFLAGS: a test turns on a
                // logger's trace this way (-Dorg.slf4j.simpleLogger.log.CLASS=trace).
                command.args(server_jvm_flags(
                    std::env::var("SERVER_JVMFLAGS").ok().as_deref(),
                ));
                command
                    .arg("-cp")
                    .arg(ZOOKEEPER_CLASSPATH)
                    .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                    .arg(zoo_cfg);
                Ok(command)
            }
        }
    }
}

/// The flags `SERVER_JVMFLAGS` holds, split on whitespace as zkServer.sh's unquoted use does.
fn server_jvm_flags(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_jvm_flags_are_split_as_the_shell_does() {
        assert!(server_jvm_flags(None).is_empty());
        assert_eq!(
            server_jvm_flags(Some(" -Da=1  -Db=trace\t")),
            ["-Da=1", "-Db=trace"]
        );
    }

    #[test]
    fn a_mixed_choice_is_recorded_and_read_back() {
        let mixed = Programs::chosen(false, &[2, 1]);
        assert_eq!(mixed.text(), "zookeeper 1,2");
        assert_eq!(Programs::parse(&mixed.text()), Some(mixed.clone()));
        let each: Vec<Program> = (1..=3).map(|sid| mixed.of(sid)).collect();
        assert_eq!(
            each,
            [Program::ZooKeeper, Program::ZooKeeper, Program::Keeper]
        );
    }

    #[test]
    fn the_uniform_choices_keep_their_one_word_records() {
        for (programs, text) in [
            (Programs::chosen(false, &[]), "keeper"),
            (Programs::chosen(true, &[]), "zookeeper"),
        ] {
            assert_eq!(programs.text(), text);
            assert_eq!(Programs::parse(text), Some(programs));
        }
    }

    #[test]
    fn a_server_outside_the_cluster_is_found() {
        assert_eq!(Programs::chosen(false, &[1, 4]).unknown_server(3), Some(4));
        assert_eq!(Programs::chosen(false, &[0]).unknown_server(3), Some(0));
        assert_eq!(Programs::chosen(false, &[3]).unknown_server(3), None);
    }
}
