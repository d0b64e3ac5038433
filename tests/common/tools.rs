//! The outside tools the interop tests drive, and whether this machine has
//! them.
//!
//! All come from Debian packages (`zookeeper`, `python3-kazoo`, a JDK for
//! `javac`), which `.ci/run` installs; each check answers `Err(reason)` so a
//! test can say exactly what is missing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Debian's ZooKeeper 3.8 jar; its manifest brings the other jars it needs.
pub const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
/// One slf4j binding, the silent one, so server and clients log nothing.
pub const SLF4J_NOP_JAR: &str = "/usr/share/java/slf4j-nop.jar";
/// Debian's python, the one `python3-kazoo` installs for (another `python3`
/// earlier on PATH may not see kazoo).
pub const PYTHON: &str = "/usr/bin/python3";

/// The options every test JVM starts with, before its own. A JVM here lives seconds: the
/// C1 compiler alone and the serial collector start ZooKeeper's server with a third less CPU
/// (zkCli with a sixth) than the default C2 and G1, which pay off only over minutes. Neither
/// prints anything, so transcripts are unchanged.
pub const JVM_OPTIONS: [&str; 2] = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"];

/// The classpath for ZooKeeper's server, zkCli and Java clients.
pub fn zookeeper_classpath() -> String {
    format!("{ZOOKEEPER_JAR}:{SLF4J_NOP_JAR}")
}

/// Whether `program args` succeeds, asked once per test process: `java -version` is a JVM
/// start, and dozens of tests ask before each check.
fn runs(program: &'static str, args: &'static [&'static str]) -> bool {
    type Asked = (&'static str, &'static [&'static str], bool);
    static ASKED: Mutex<Vec<Asked>> = Mutex::new(Vec::new());
    let mut asked = ASKED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, _, answer)) = asked.iter().find(|(p, a, _)| (*p, *a) == (program, args)) {
        return *answer;
    }
    let answer = ask(program, args);
    asked.push((program, args, answer));
    answer
}

fn ask(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn jars_present() -> Result<(), String> {
    for jar in [ZOOKEEPER_JAR, SLF4J_NOP_JAR] {
        if !Path::new(jar).exists() {
            return Err(format!("{jar} is missing (apt-get install zookeeper)"));
        }
    }
    Ok(())
}

/// A JVM and the ZooKeeper 3.8 jars: enough for the real server and zkCli.
pub fn java() -> Result<(), String> {
    if !runs("java", &["-version"]) {
        return Err("no `java` on PATH (apt-get install zookeeper brings one)".into());
    }
    jars_present()
}

/// `java()` plus a compiler, for the Java client programs.
pub fn javac() -> Result<(), String> {
    java()?;
    if !runs("javac", &["-version"]) {
        return Err("no `javac` on PATH (apt-get install default-jdk-headless)".into());
    }
    Ok(())
}

/// Debian's python with the kazoo client library.
pub fn kazoo() -> Result<(), String> {
    if !runs(PYTHON, &["-c", "import kazoo"]) {
        return Err(format!(
            "{PYTHON} cannot import kazoo (apt-get install python3-kazoo)"
        ));
    }
    Ok(())
}

/// Debian's `zkServer.sh`, whose `status` command `keeper status` mirrors.
pub const ZKSERVER_SH: &str = "/usr/share/zookeeper/bin/zkServer.sh";

/// `java()` plus the `zkServer.sh` script.
pub fn zkserver_sh() -> Result<(), String> {
    java()?;
    if !Path::new(ZKSERVER_SH).exists() {
        return Err(format!(
            "{ZKSERVER_SH} is missing (apt-get install zookeeper)"
        ));
    }
    Ok(())
}
