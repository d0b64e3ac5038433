//! The course's own tools against Keeper: Debian's zkCli (ZooKeeper 3.8's Java client) and
//! kazoo. CI installs them (`.ci/run`); without them these tests say so and pass.
//!
//! The zkCli test plays the seed's session (`tests/clients/seed-session.zk`) against Keeper
//! and against a real ZooKeeper 3.8 server started here, and compares the two transcripts with
//! the times masked: same zxids, same Stat fields, same error texts.

mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{four_letter_word, KeeperProcess};

const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
const SLF4J_NOP_JAR: &str = "/usr/share/java/slf4j-nop.jar";
const PYTHON: &str = "/usr/bin/python3";

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

fn java_available() -> bool {
    let java = Command::new("java").arg("-version").output();
    java.is_ok_and(|o| o.status.success())
        && Path::new(ZOOKEEPER_JAR).exists()
        && Path::new(SLF4J_NOP_JAR).exists()
}

fn classpath() -> String {
    format!("{ZOOKEEPER_JAR}:{SLF4J_NOP_JAR}")
}

/// A real ZooKeeper 3.8 standalone server on a free loopback port; killed on drop.
struct RealZooKeeper {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl RealZooKeeper {
    fn start() -> RealZooKeeper {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("keeper-real-zk-{}-{port}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).expect("temp dir");
        let cfg = dir.join("zoo.cfg");
        std::fs::write(
            &cfg,
            format!(
                "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\n\
                 clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n",
                dir.join("data").display()
            ),
        )
        .expect("write zoo.cfg");
        let child = Command::new("java")
            .args(["-Xmx256m", "-cp", &classpath()])
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ZooKeeper");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = RealZooKeeper { child, addr, dir };
        // The JVM takes a couple of seconds, and `ruok` answers before sessions are served;
        // wait until `srvr` reports a mode, within a bound.
        let deadline = Instant::now() + Duration::from_secs(60);
        let serving = |addr| {
            TcpStream::connect(addr).is_ok() && four_letter_word(addr, "srvr").contains("Mode: ")
        };
        while !serving(addr) {
            assert!(
                Instant::now() < deadline,
                "ZooKeeper did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for RealZooKeeper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Pipes a zkCli script through the real zkCli and returns what it printed.
fn zkcli(addr: SocketAddr, script: &str) -> String {
    let mut child = Command::new("java")
        .args([
            "-cp",
            &classpath(),
            "org.apache.zookeeper.ZooKeeperMain",
            "-server",
        ])
        .arg(addr.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zkCli");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the script");
    let out = child.wait_with_output().expect("zkCli runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

/// The transcript without what differs by nature: times, the port, and the connection
/// event that zkCli prints from another thread whenever it happens to arrive.
fn masked(transcript: &str) -> String {
    transcript
        .lines()
        .filter(|l| {
            !l.is_empty()
                && *l != "WATCHER::"
                && !l.starts_with("WatchedEvent state:SyncConnected type:None")
        })
        .filter(|l| !l.starts_with("Connecting to "))
        .map(|l| match l.split_once(" = ") {
            Some((key @ ("ctime" | "mtime"), _)) => format!("{key} = <time>"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_seed_zkcli_session_prints_the_same_on_keeper_and_on_zookeeper() {
    if !java_available() {
        eprintln!(
            "skipped: needs java and Debian's zookeeper package ({ZOOKEEPER_JAR}); \
             apt-get install zookeeper"
        );
        return;
    }
    let script = std::fs::read_to_string(clients_dir().join("seed-session.zk")).unwrap();
    let keeper = KeeperProcess::start("");
    let on_keeper = masked(&zkcli(keeper.addr, &script));
    let zookeeper = RealZooKeeper::start();
    let on_zookeeper = masked(&zkcli(zookeeper.addr, &script));
    assert!(on_zookeeper.contains("Created /sanguo"), "{on_zookeeper}");
    assert_eq!(on_keeper, on_zookeeper);
}

#[test]
fn kazoo_recipes_work_against_keeper() {
    let kazoo = Command::new(PYTHON).args(["-c", "import kazoo"]).output();
    if !kazoo.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: needs {PYTHON} with kazoo; apt-get install python3-kazoo");
        return;
    }
    let keeper = KeeperProcess::start("");
    let out = Command::new(PYTHON)
        .arg(clients_dir().join("recipes.py"))
        .arg(keeper.connect_string())
        .output()
        .expect("run the kazoo script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "ensure_path",
        "ChildrenWatch",
        "DataWatch",
        "Lock",
        "Election",
        "transaction",
    ] {
        assert!(
            stdout.contains(&format!("{step} ok")),
            "{step} missing:\n{stdout}"
        );
    }
}
