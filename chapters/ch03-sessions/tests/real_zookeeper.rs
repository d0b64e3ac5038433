//! Our client against the real ZooKeeper 3.8 server (Debian's `zookeeper`
//! package; CI installs it). When the jar is not on this machine the tests
//! say so and pass without checking anything.
//!
//! The main check is the one a student can see: the seed's zkCli session,
//! run through chapter 1's shell over our wire client against a fresh real
//! server, prints exactly what the real zkCli prints against another fresh
//! real server, with only wall-clock dates and session ids masked.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ch03_sessions::client::shell::{run_cli, run_one_command};
use ch03_sessions::client::{Client, ClientConfig};
use ch03_sessions::jute::Record;
use ch03_sessions::proto::{
    decode_request, encode_frame, ConnectRequest, FrameDecoder, OpCode, ReplyHeader, ZkError,
};

const JAR: &str = "/usr/share/java/zookeeper.jar";
const NOP: &str = "/usr/share/java/slf4j-nop.jar";

/// A real ZooKeeper standalone server on a free loopback port, killed on drop.
struct RealZooKeeper {
    /// A shell that started the JVM and exits with it. It holds a pipe
    /// from this test: when this test process ends, even killed, the pipe
    /// closes and the shell's watchdog stops the server, so no JVM outlives
    /// its test.
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// Runs `"$@"` in the background, kills it when our stdin reaches EOF, and
/// exits when it exits (so a JVM that died shows as an exited child). The
/// watchdog reads fd 3, a copy of the pipe: a non-interactive shell gives
/// background jobs /dev/null as stdin.
const WATCHDOG: &str = r#"exec 3<&0 0</dev/null
"$@" &
pid=$!
(cat <&3 >/dev/null; kill "$pid" 2>/dev/null) &
exec 3<&-
wait "$pid""#;

/// How many times a server may lose the race for its port: the port is
/// free when picked, but another process can bind it before the JVM does.
const START_ATTEMPTS: usize = 3;

impl RealZooKeeper {
    fn available() -> bool {
        let here = Path::new(JAR).exists() && Path::new(NOP).exists();
        if !here {
            eprintln!("{JAR} not installed: skipping the real-ZooKeeper checks");
        }
        here
    }

    /// Starts a server, on a new port if a first one was lost to a race.
    fn start(name: &str) -> RealZooKeeper {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match RealZooKeeper::try_start(name) {
                Ok(zk) => return zk,
                Err(why) => failures.push(why),
            }
        }
        panic!("ZooKeeper did not start:\n{}", failures.join("\n"));
    }

    fn try_start(name: &str) -> Result<RealZooKeeper, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("keeper-ch03-{name}-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let cfg = dir.join("zoo.cfg");
        std::fs::write(
            &cfg,
            format!(
                "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
                 admin.enableServer=false\n4lw.commands.whitelist=*\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new("sh")
            .args(["-c", WATCHDOG, "sh", "java", "-Xmx256m", "-cp"])
            .arg(format!("{JAR}:{NOP}"))
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(&cfg)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh runs");
        let mut zk = RealZooKeeper { child, port, dir };
        zk.wait_until_serving()?;
        Ok(zk)
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Asks `srvr` until the server reports a `Mode:` (before that it
    /// accepts connections but closes them), for at most 60 s. A JVM that
    /// exits first lost its port (or cannot run): that is an error. The
    /// server must also be ours: `conf` names our data directory, which no
    /// other server on the port would.
    fn wait_until_serving(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let ours = format!("dataDir={}/", self.dir.join("data").display());
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("port {}: the JVM exited ({status})", self.port));
            }
            if self.four_letter_word("srvr").contains("Mode: ")
                && self.four_letter_word("conf").contains(&ours)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("port {}: not serving after 60 s", self.port))
    }

    /// The server's answer to `word`, or "" if it gives none within 1 s.
    fn four_letter_word(&self, word: &str) -> String {
        let mut answer = String::new();
        if let Ok(mut s) = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1)) {
            // A server still starting may accept and then say nothing:
            // never wait on it for long.
            let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
            let _ = s.write_all(word.as_bytes());
            let _ = std::io::Read::read_to_string(&mut s, &mut answer);
        }
        answer
    }
}

impl Drop for RealZooKeeper {
    fn drop(&mut self) {
        // Closing the shell's stdin makes it stop the JVM; the shell exits
        // with it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Masks what differs between any two runs: dates, session ids, and the
/// two servers' ports. Watch blocks are kept (their position is part of
/// what zkCli prints).
fn masked(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| match l.split_once(" = ") {
            _ if l.starts_with("Connecting to ") => "Connecting to <server>".into(),
            Some(("ctime" | "mtime", _)) => format!("{} = <date>", &l[..5]),
            Some(("ephemeralOwner", v)) if v != "0x0" => "ephemeralOwner = <session>".into(),
            _ => l.to_string(),
        })
        .collect()
}

/// zkCli prints its SyncConnected event from its own thread, racing the answer its main
/// thread prints, so the event's block (a blank line, `WATCHER::`, a blank line, the event)
/// comes before or after the answer from one run to the next; our client prints it after.
/// The block is moved to the end, so that either order compares equal and the block must
/// still be there, whole.
fn event_last(mut lines: Vec<String>) -> Vec<String> {
    let watcher = lines.iter().position(|l| l == "WATCHER::");
    let Some(start) = watcher.and_then(|at| at.checked_sub(1)) else {
        return lines;
    };
    if start + 4 <= lines.len() && lines[start].is_empty() {
        let block: Vec<String> = lines.drain(start..start + 4).collect();
        lines.extend(block);
    }
    lines
}

#[test]
fn the_event_block_is_moved_after_the_answer_it_raced() {
    let lines = |text: &str| -> Vec<String> { text.split('|').map(String::from).collect() };
    let event_first = lines("Connecting to <server>||WATCHER::||WatchedEvent x|[zookeeper]");
    let answer_first = lines("Connecting to <server>|[zookeeper]||WATCHER::||WatchedEvent x");
    assert_eq!(event_last(event_first), answer_first);
    assert_eq!(event_last(answer_first.clone()), answer_first);
}

/// A session file: chapter 1's (`seed`) or this chapter's own.
fn commands(path: &str) -> String {
    let path = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs `commands` through the real zkCli and through ours, each against
/// its own fresh real server, and compares both streams.
fn same_as_real_zkcli(commands: &str) {
    if !RealZooKeeper::available() {
        return;
    }
    let run = |name: &'static str, cli: fn(&RealZooKeeper, &str) -> (String, String)| {
        let (tx, rx) = std::sync::mpsc::channel();
        let commands = commands.to_string();
        std::thread::spawn(move || {
            let server = RealZooKeeper::start(name);
            let printed = cli(&server, &commands);
            // Stopped (and its directory removed) before the test may end.
            drop(server);
            tx.send(printed)
        });
        rx
    };
    let (theirs, ours) = (run("zkcli", real_zkcli), run("ours", our_cli));
    // A wedged server or client fails the test instead of hanging it.
    let bound = Duration::from_secs(180);
    let theirs = theirs.recv_timeout(bound).expect("real zkCli finished");
    let ours = ours.recv_timeout(bound).expect("our shell finished");
    let quits = commands.lines().last() == Some("quit");
    let theirs_stdout = as_if_the_event_thread_won(&theirs.0, quits);
    assert_eq!(masked(&ours.0), masked(&theirs_stdout), "stdout");
    assert_eq!(masked(&ours.1), masked(&theirs.1), "stderr");
}

/// zkCli prints connection events from its event thread, racing its main
/// thread and its exit: the SyncConnected event may come before the
/// banner's last line or after the first command's answer; after `quit` the JVM may exit before it prints the
/// Closed event, and the server's close of the socket may reach zkCli before
/// zkCli marks itself closing, which it reports as a Disconnected event.
/// These are put as they are when the event thread wins and zkCli closes
/// first, which is how our shell prints them, so that a race on a loaded
/// machine is not mistaken for a difference; that ours prints them there is
/// still compared.
fn as_if_the_event_thread_won(transcript: &str, quits: bool) -> String {
    const BANNER: &str = "JLine support is disabled\n";
    const CONNECTED: &str = "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n";
    const CLOSED: &str = "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n";
    const DISCONNECTED: &str =
        "\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n";
    let mut settled = transcript.to_string();
    if quits {
        while let Some(earlier) = settled
            .strip_suffix(CLOSED)
            .or_else(|| settled.strip_suffix(DISCONNECTED))
        {
            settled.truncate(earlier.len());
        }
    }
    if let Some(event) = settled.find(CONNECTED) {
        settled.replace_range(event..event + CONNECTED.len(), "");
        let after_banner = settled
            .find(BANNER)
            .map_or(event, |banner| banner + BANNER.len());
        settled.insert_str(after_banner, CONNECTED);
    }
    if quits {
        settled.push_str(CLOSED);
    }
    settled
}

fn real_zkcli(server: &RealZooKeeper, commands: &str) -> (String, String) {
    zkcli(server, &[], commands)
}

/// Runs the real zkCli against `server`, with `args` after `-server h:p`
/// and `input` on its stdin; returns its stdout and stderr.
fn zkcli(server: &RealZooKeeper, args: &[&str], input: &str) -> (String, String) {
    let mut child = Command::new("java")
        .args(["-cp", &format!("{JAR}:{NOP}")])
        .arg("org.apache.zookeeper.ZooKeeperMain")
        .args(["-server", &format!("127.0.0.1:{}", server.port)])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("java runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    // zkCli retries a lost connection forever; bound the wait, and kill it
    // (by its own pid) if it overstays.
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let out = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("zkCli did not finish within 120 s");
        }
    };
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn our_cli(server: &RealZooKeeper, commands: &str) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run_cli(
        &format!("127.0.0.1:{}", server.port),
        &mut commands.as_bytes(),
        &mut out,
        &mut err,
        false,
    )
    .unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// issue 2's seed session: same stdout and stderr as the real zkCli 3.8,
/// each against a fresh real ZooKeeper 3.8 server.
#[test]
fn the_seed_session_through_our_client_prints_what_real_zkcli_prints() {
    same_as_real_zkcli(&commands("../ch01-znode/tests/zkcli/seed.commands"));
}

/// Watches (`get -w`, `ls -w`, `stat -w`) print zkCli's `WATCHER::` blocks
/// where zkCli prints them; addauth, whoami, sync, getEphemerals,
/// getAllChildrenNumber, ACLs and `quit` (with its Closed event) too. Each
/// trigger is followed by `sync /`: zkCli prints events from its own thread,
/// racing the next answers, but completes `sync` on that thread after them.
#[test]
fn a_session_with_watches_and_auth_prints_what_real_zkcli_prints() {
    same_as_real_zkcli(&commands("tests/zkcli/wire.commands"));
}

/// `zkCli.sh -server h:p ls /`: one command, no welcome banner, same output.
#[test]
fn a_one_command_run_prints_what_real_zkcli_prints() {
    if !RealZooKeeper::available() {
        return;
    }
    let ours = |zk: &RealZooKeeper| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let server = format!("127.0.0.1:{}", zk.port);
        run_one_command(&server, "ls /", &mut out, &mut err).unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    let theirs = |zk: &RealZooKeeper| zkcli(zk, &["ls", "/"], "");
    let zk = RealZooKeeper::start("one");
    let (ours, theirs) = (ours(&zk), theirs(&zk));
    assert_eq!(
        event_last(masked(&ours.0)),
        event_last(masked(&theirs.0)),
        "stdout"
    );
    assert_eq!(masked(&ours.1), masked(&theirs.1), "stderr");
}

/// Real ZooKeeper grants what we ask within 2..20 ticks and answers
/// pipelined requests in order.
#[test]
fn the_client_runs_a_pipelined_session_against_real_zookeeper() {
    if !RealZooKeeper::available() {
        return;
    }
    let zk = RealZooKeeper::start("client");
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Every await below is bounded together: a wedged session fails the
    // test instead of hanging it.
    let session = async {
        let config = ClientConfig {
            session_timeout_ms: 10_000,
            ..ClientConfig::default()
        };
        let (client, mut events) = Client::connect(zk.addr(), config).await.unwrap();
        assert_eq!(client.session_timeout_ms(), 10_000);
        assert_eq!(client.session_id().server_id(), ch01_znode::Sid(1));
        let acl = ch01_znode::Acl::open_unsafe();
        client.create("/p", b"", acl.clone(), 0).await.unwrap();
        let creates: Vec<_> = (0..50)
            .map(|i| {
                let (client, acl) = (client.clone(), acl.clone());
                tokio::spawn(async move { client.create(&format!("/p/n{i}"), b"x", acl, 0).await })
            })
            .collect();
        for c in creates {
            c.await.unwrap().unwrap();
        }
        let (_, stat) = client.get_data("/p", true).await.unwrap();
        assert_eq!(stat.num_children, 50);
        client.set_data("/p", b"changed", -1).await.unwrap();
        let _connected = events.recv().await.unwrap();
        let changed = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            changed.to_string(),
            "WatchedEvent state:SyncConnected type:NodeDataChanged path:/p"
        );
        client.close().await.unwrap();
    };
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(60), session).await })
        .expect("the session finishes within 60 s");
}

#[test]
fn connection_events_that_lost_the_race_are_put_where_the_event_thread_prints_them() {
    let connected = "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n";
    let closed = "\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n";
    let banner = "Welcome to ZooKeeper!\nJLine support is disabled\n";
    let won = format!("{banner}{connected}[zookeeper]\n{closed}");
    let lost = format!("{banner}[zookeeper]\n{connected}");
    assert_eq!(as_if_the_event_thread_won(&lost, true), won);
    assert_eq!(as_if_the_event_thread_won(&won, true), won);
    let early =
        format!("Welcome to ZooKeeper!\n{connected}JLine support is disabled\n[zookeeper]\n");
    assert_eq!(as_if_the_event_thread_won(&early, true), won);
    let disconnected = "\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n";
    assert_eq!(
        as_if_the_event_thread_won(&format!("{won}{disconnected}"), true),
        won
    );
    assert_eq!(
        as_if_the_event_thread_won(&lost, false),
        format!("{banner}{connected}[zookeeper]\n"),
        "no quit, no Closed event"
    );
}

/// Reads one whole frame from a blocking socket.
fn read_frame(stream: &mut TcpStream, decoder: &mut FrameDecoder) -> Vec<u8> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(frame) = decoder.next_frame().unwrap() {
            return frame;
        }
        let n = std::io::Read::read(stream, &mut buf).expect("an answer in time");
        assert!(n > 0, "the server hung up");
        decoder.extend(&buf[..n]);
    }
}

/// A watcher type or addWatch mode 3.8 does not define gets from the real
/// server the answer our codec gives it (MarshallingError, under its xid).
#[test]
fn an_undefined_watch_code_gets_the_answer_real_zookeeper_gives() {
    if !RealZooKeeper::available() {
        return;
    }
    let zk = RealZooKeeper::start("codes");
    let mut stream = TcpStream::connect(zk.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let hello = ConnectRequest {
        time_out: 10_000,
        passwd: vec![0; 16],
        read_only: Some(false),
        ..ConnectRequest::default()
    };
    stream.write_all(&encode_frame(&hello.to_bytes())).unwrap();
    let mut decoder = FrameDecoder::default();
    read_frame(&mut stream, &mut decoder);
    let cases: [(OpCode, i32); 3] = [
        (OpCode::CheckWatches, 4),
        (OpCode::RemoveWatches, 9),
        (OpCode::AddWatch, 2),
    ];
    for (xid, (op, code)) in (1i32..).zip(cases) {
        let payload = [
            &xid.to_be_bytes()[..],
            &op.code().to_be_bytes(),
            &1i32.to_be_bytes(),
            b"/",
            &code.to_be_bytes(),
        ]
        .concat();
        let ours = decode_request(&payload).unwrap_err().reply_error();
        stream.write_all(&encode_frame(&payload)).unwrap();
        let reply = ReplyHeader::from_bytes(&read_frame(&mut stream, &mut decoder)).unwrap();
        assert_eq!(reply.xid, xid, "{op} {code}");
        assert_eq!(ZkError::from_code(reply.err), ours, "{op} {code}");
    }
}
