//! The whole ensemble as real processes: `keeper server` three (and five) times, each from its
//! own zoo.cfg and `dataDir/myid`, as the course sets a cluster up.
//!
//! This file owns the protocol's behaviour, on processes it starts, kills and cuts off
//! itself (what a student does with `keeper cluster` and the course's clients is
//! `tests/cluster.rs`'s). What is checked, with a client nobody here wrote
//! (`zookeeper-client`), `keeper status` and `keeper txnlog`: one leader and the rest
//! followers; a write through a follower is read back from every server; after a `kill -9`
//! of the leader, even under a steady write load, the others elect a new one, take writes
//! and lose none that was acknowledged; the old leader, restarted on its dataDir, catches up
//! and serves the same tree, and every server has logged the same txns; five servers
//! survive two deaths and stop at three; a member cut off from the rest (its peers reach it
//! through relays, [`PeerLinks`]) serves nothing until the heal; a leader back with a txn
//! no quorum logged truncates it. A zoo.cfg or myid that cannot start a member is refused
//! with the file named and nothing written.
//!
//! Ports are picked free on 127.0.0.1; one may be taken before a server binds it, and then
//! the whole ensemble starts again on new ports. Every wait is bounded; every process is
//! killed when its handle drops.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    distinct_ports, four_letter_word, run_for_stdout, run_to_end, wait_until, Guarded, PeerLinks,
    TempDir,
};
use zookeeper_client as zk;

/// The tick: short enough for a quick election, long enough that a loaded 2-core machine
/// does not make followers miss their syncLimit (5 ticks).
const TICK_MS: u64 = 300;
/// Starting, electing, catching up: generous for a loaded machine.
const WAIT: Duration = Duration::from_secs(60);
/// How many times an ensemble is started again when a picked port was taken meanwhile.
const START_ATTEMPTS: usize = 3;

/// One member: its folder (zoo.cfg, data/myid), its client port, its process if running.
struct Member {
    sid: u64,
    dir: PathBuf,
    client_port: u16,
    observer: bool,
    process: Option<Guarded>,
}

impl Member {
    fn config(&self) -> PathBuf {
        self.dir.join("zoo.cfg")
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    fn start(&mut self) {
        let config = self.config();
        let process = Guarded::spawn(
            &format!("keeper server {}", self.sid),
            env!("CARGO_BIN_EXE_keeper"),
            &["server", "--config", config.to_str().expect("a UTF-8 path")],
            &self.dir,
            None,
        )
        .expect("keeper server starts");
        self.process = Some(process);
    }

    /// Starts it again after a kill, on the same ports. Its ports are below the kernel's
    /// ephemeral range, so no connection was given one while it was down; but another test
    /// picking a free port may hold one for a moment. Then it exits with "cannot listen" and
    /// is started again, a few times, as an operator would.
    fn restart(&mut self) {
        for _ in 0..START_ATTEMPTS {
            self.start();
            let process = self.process.as_mut().expect("just started");
            let up = wait_until(WAIT, "the restarted server to serve or exit", || {
                if process.exited().is_some() {
                    return Some(false);
                }
                let answer = four_letter_word(self.client_port, "srvr").ok()?;
                answer.contains("Mode: ").then_some(true)
            });
            let lost_a_port = || {
                process
                    .wait_for_line(0, Duration::from_secs(5), |l| l.contains("cannot listen"))
                    .is_ok()
            };
            if up != Ok(false) || !lost_a_port() {
                return;
            }
        }
    }

    /// SIGKILL, as `kill -9` (the guard's watchdog sends it).
    fn kill(&mut self) {
        drop(self.process.take());
    }

    /// `Mode: ...` from `srvr`, if it answers and serves.
    fn mode(&self) -> Option<String> {
        let answer = four_letter_word(self.client_port, "srvr").ok()?;
        let mode = answer.lines().find_map(|l| l.strip_prefix("Mode: "))?;
        Some(mode.to_string())
    }

    fn log(&self) -> String {
        self.process.as_ref().map_or(String::new(), Guarded::output)
    }
}

/// A running ensemble in a temp folder.
struct Ensemble {
    members: Vec<Member>,
    /// The relays the members reach each other through, if they do ([`Ensemble::relayed`]).
    links: Option<PeerLinks>,
    _dir: TempDir,
}

impl Ensemble {
    /// Writes `n` zoo.cfg files and myids, starts every member, and waits until one leads
    /// and the others follow.
    fn start(n: u64) -> Ensemble {
        Ensemble::start_with(n, 0, "")
    }

    /// As [`Ensemble::start`], with observers ([`Ensemble::configure`]) and `extra` zoo.cfg
    /// lines.
    fn start_with(n: u64, observers: u64, extra: &str) -> Ensemble {
        Ensemble::start_configured(|| Ensemble::configure(n, observers, extra, false))
    }

    /// As [`Ensemble::start_with`], each member reaching the others through relays of its
    /// own ([`PeerLinks`]), so a test can cut one off or stall its links.
    fn relayed(n: u64, extra: &str) -> Ensemble {
        Ensemble::start_configured(|| Ensemble::configure(n, 0, extra, true))
    }

    fn start_configured(configure: impl Fn() -> Ensemble) -> Ensemble {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let mut ensemble = configure();
            for m in &mut ensemble.members {
                m.start();
            }
            match ensemble.wait_for_roles(None) {
                Ok(_) => return ensemble,
                Err(why) if ensemble.lost_a_port() => failures.push(why),
                Err(why) => panic!("{why}\n{}", ensemble.logs()),
            }
        }
        panic!("the ports kept being taken:\n{}", failures.join("\n"));
    }

    /// `n` members, the last `observers` of them observers. With observers, each client port
    /// is on its server line (`;127.0.0.1:port`) instead of a clientPort line, the other way
    /// ZooKeeper 3.8 reads it. `relayed`: each member's lines for the others name relays.
    fn configure(n: u64, observers: u64, extra: &str, relayed: bool) -> Ensemble {
        let dir = TempDir::new("ensemble");
        let ports = distinct_ports(n);
        let on_lines = observers > 0;
        let links = relayed.then(|| {
            let peer_ports: Vec<(u16, u16)> = ports.iter().map(|(_, q, e)| (*q, *e)).collect();
            let taken: Vec<u16> = ports.iter().flat_map(|(c, q, e)| [*c, *q, *e]).collect();
            PeerLinks::new(&peer_ports, &taken)
        });
        // Member `me`'s server lines: the others' ports, or the relays to them.
        let server_lines = |me: u64| -> String {
            ports
                .iter()
                .zip(1..)
                .map(|((c, q, e), sid)| {
                    let role = if sid > n - observers { ":observer" } else { "" };
                    let client = if on_lines {
                        format!(";127.0.0.1:{c}")
                    } else {
                        String::new()
                    };
                    let address = links
                        .as_ref()
                        .and_then(|l| l.server_address(me, sid))
                        .unwrap_or_else(|| format!("127.0.0.1:{q}:{e}"));
                    format!("server.{sid}={address}{role}{client}\n")
                })
                .collect()
        };
        let members = ports
            .iter()
            .zip(1..)
            .map(|((client, _, _), sid)| {
                let home = dir.path().join(format!("s{sid}"));
                let data = home.join("data");
                std::fs::create_dir_all(&data).expect("a data dir");
                std::fs::write(data.join("myid"), format!("{sid}\n")).expect("myid");
                let client_lines = match on_lines {
                    true => String::new(),
                    false => format!("clientPort={client}\nclientPortAddress=127.0.0.1\n"),
                };
                // Sessions may outlast an election on a loaded machine: 20 ticks (6 s) are
                // too few for a client whose server is killed to find another.
                let cfg = format!(
                    "tickTime={TICK_MS}\ninitLimit=10\nsyncLimit=5\nmaxSessionTimeout=30000\n\
                     dataDir={}\n\
                     {client_lines}4lw.commands.whitelist=*\n{}{extra}",
                    data.display(),
                    server_lines(sid)
                );
                std::fs::write(home.join("zoo.cfg"), cfg).expect("zoo.cfg");
                Member {
                    sid,
                    dir: home,
                    client_port: *client,
                    observer: sid > n - observers,
                    process: None,
                }
            })
            .collect();
        Ensemble {
            members,
            links,
            _dir: dir,
        }
    }

    /// Whether a member exited because a port was taken before it bound it. Its last line
    /// may still be on its way from the pipe when the exit is seen, so it is waited for.
    fn lost_a_port(&mut self) -> bool {
        self.members.iter_mut().any(|m| {
            m.process.as_mut().is_some_and(|p| {
                p.exited().is_some()
                    && p.wait_for_line(0, Duration::from_secs(5), |l| l.contains("cannot listen"))
                        .is_ok()
            })
        })
    }

    /// Waits until every running member serves, one as leader (not `not_leader`) and the
    /// rest as followers; returns the leader's index.
    fn wait_for_roles(&mut self, not_leader: Option<usize>) -> Result<usize, String> {
        let all: Vec<usize> = (0..self.members.len()).collect();
        self.wait_for_roles_among(&all, not_leader)
    }

    /// As [`Ensemble::wait_for_roles`], looking only at the members `among` (indexes).
    fn wait_for_roles_among(
        &mut self,
        among: &[usize],
        not_leader: Option<usize>,
    ) -> Result<usize, String> {
        wait_until(WAIT, "one leader and the rest followers", || {
            let mut leader = None;
            for (i, m) in self.members.iter_mut().enumerate() {
                if !among.contains(&i) {
                    continue;
                }
                let Some(process) = m.process.as_mut() else {
                    continue;
                };
                if process.exited().is_some() {
                    return Some(Err(format!("server {} exited", m.sid)));
                }
                match m.mode()?.as_str() {
                    "leader" if leader.is_none() && Some(i) != not_leader => leader = Some(i),
                    "follower" if !m.observer => {}
                    "observer" if m.observer => {}
                    _ => return None,
                }
            }
            leader.map(Ok)
        })
        .and_then(|found| found)
    }

    fn logs(&self) -> String {
        self.members
            .iter()
            .map(|m| format!("--- server {}:\n{}", m.sid, m.log()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `keeper status --config`'s stdout and exit code.
fn status(config: &Path) -> (String, bool) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keeper"));
    command.args(["status", "--config", config.to_str().expect("a UTF-8 path")]);
    let done = run_for_stdout(command, Duration::from_secs(20)).expect("keeper status ends");
    (done.output, done.status.success())
}

/// Debian's `zkServer.sh status` on the same zoo.cfg, stdout and success, if it is here.
fn zkserver_status(config: &Path, log_dir: &Path) -> Option<(String, bool)> {
    if let Err(why) = common::tools::zkserver_sh() {
        common::skip("zkServer.sh status on the ensemble", &why);
        return None;
    }
    let mut command = Command::new(common::tools::ZKSERVER_SH);
    command
        .arg("status")
        .arg(config)
        .env("ZOO_LOG_DIR", log_dir);
    let done = run_for_stdout(command, Duration::from_secs(60)).expect("zkServer.sh ends");
    Some((done.output, done.status.success()))
}

/// Runs `op` on a fresh session with `address` until it succeeds, within [`WAIT`]: a server
/// that is electing or syncing closes new connections, as ZooKeeper's does.
fn with_client<T, F, Fut>(rt: &tokio::runtime::Runtime, address: &str, op: F) -> Result<T, String>
where
    F: Fn(zk::Client) -> Fut,
    Fut: std::future::Future<Output = Result<T, zk::Error>>,
{
    wait_until(WAIT, &format!("a successful request to {address}"), || {
        rt.block_on(async {
            let attempt = async {
                let client = zk::Client::connector()
                    .with_session_timeout(Duration::from_secs(10))
                    .with_connection_timeout(Duration::from_secs(3))
                    .connect(address)
                    .await
                    .ok()?;
                op(client).await.ok()
            };
            tokio::time::timeout(Duration::from_secs(10), attempt)
                .await
                .ok()
                .flatten()
        })
    })
}

fn create(rt: &tokio::runtime::Runtime, address: &str, path: &str, data: &'static [u8]) {
    with_client(rt, address, |c| async move {
        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        match c.create(path, data, &options).await {
            Ok(_) | Err(zk::Error::NodeExists) => Ok(()),
            Err(e) => Err(e),
        }
    })
    .unwrap_or_else(|why| panic!("create {path} through {address}: {why}"));
}

/// Every node outside `/zookeeper` with its data and the zxids that made it: what must be
/// the same on every server. (`/zookeeper/config`'s mtime is each server's start time.)
type Tree = BTreeMap<String, (Vec<u8>, i64, i64, i32)>;

fn tree(rt: &tokio::runtime::Runtime, address: &str) -> Result<Tree, String> {
    with_client(rt, address, |c| async move {
        let mut nodes = Tree::new();
        let mut todo = vec!["/".to_string()];
        while let Some(path) = todo.pop() {
            let (children, _) = c.get_children(&path).await?;
            for child in children {
                let full = match path.as_str() {
                    "/" => format!("/{child}"),
                    _ => format!("{path}/{child}"),
                };
                if full == "/zookeeper" {
                    continue;
                }
                let (data, stat) = c.get_data(&full).await?;
                nodes.insert(full.clone(), (data, stat.czxid, stat.mzxid, stat.version));
                todo.push(full);
            }
        }
        Ok(nodes)
    })
}

/// Waits until every running member holds the same tree, containing each of `paths`.
fn same_tree_everywhere(rt: &tokio::runtime::Runtime, ensemble: &Ensemble, paths: &[&str]) {
    let running: Vec<&Member> = ensemble
        .members
        .iter()
        .filter(|m| m.process.is_some())
        .collect();
    let agreed = wait_until(WAIT, "the same tree on every server", || {
        let trees: Vec<Tree> = running
            .iter()
            .map(|m| tree(rt, &m.address()))
            .collect::<Result<_, _>>()
            .ok()?;
        let complete = paths.iter().all(|p| trees[0].contains_key(*p));
        (complete && trees.iter().all(|t| *t == trees[0])).then_some(())
    });
    if let Err(why) = agreed {
        let shown: Vec<String> = running
            .iter()
            .map(|m| format!("server {}: {:?}", m.sid, tree(rt, &m.address())))
            .collect();
        panic!("{why}\n{}\n{}", shown.join("\n"), ensemble.logs());
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The course's cluster: elect, serve through any member, survive the leader's `kill -9`,
/// and bring it back (Zab: a new leader is elected among the rest and syncs them; a
/// returning server syncs from it, DIFF or SNAP, before it serves).
#[test]
fn three_servers_elect_replicate_and_survive_the_leaders_kill() {
    let rt = runtime();
    let mut ensemble = Ensemble::start(3);
    let leader = ensemble.wait_for_roles(None).expect("roles");

    // keeper status says what zkServer.sh status says, on each member.
    for (i, m) in ensemble.members.iter().enumerate() {
        let (out, ok) = status(&m.config());
        let mode = if i == leader { "leader" } else { "follower" };
        assert!(ok, "{out}");
        assert_eq!(
            out,
            format!(
                "Client port found: {}. Client address: 127.0.0.1. Client SSL: false.\nMode: {mode}\n",
                m.client_port
            )
        );
    }

    // Only the leader's srvr reports proposal sizes: none yet (upstream `StatCommand`). Its
    // Zxid is the last one it handed out, the new epoch's first (a real 3.8 leader of a fresh
    // ensemble says 0x100000000); a follower's is the last txn it applied: none.
    for (i, m) in ensemble.members.iter().enumerate() {
        let srvr = four_letter_word(m.client_port, "srvr").expect("srvr");
        let sizes = srvr.lines().find(|l| l.starts_with("Proposal sizes"));
        let expected = (i == leader).then_some("Proposal sizes last/min/max: -1/-1/-1");
        assert_eq!(sizes, expected, "server {}: {srvr}", m.sid);
        let zxid = srvr.lines().find(|l| l.starts_with("Zxid: "));
        let expected = if i == leader {
            "Zxid: 0x100000000"
        } else {
            "Zxid: 0x0"
        };
        assert_eq!(zxid, Some(expected), "server {}: {srvr}", m.sid);
    }

    // A write through a follower is read back from every server.
    let follower = (leader + 1) % 3;
    create(
        &rt,
        &ensemble.members[follower].address(),
        "/through-a-follower",
        b"1",
    );
    same_tree_everywhere(&rt, &ensemble, &["/through-a-follower"]);

    // kill -9 the leader: the two left elect another and take writes.
    ensemble.members[leader].kill();
    let (out, ok) = status(&ensemble.members[leader].config());
    assert!(!ok);
    assert!(
        out.ends_with("Error contacting service. It is probably not running.\n"),
        "{out}"
    );
    let new_leader = ensemble
        .wait_for_roles(Some(leader))
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    assert_ne!(new_leader, leader);
    let survivor = ensemble.members[(leader + 1) % 3].address();
    create(&rt, &survivor, "/after-the-kill", b"2");

    // The old leader comes back on its dataDir, follows, and catches up.
    ensemble.members[leader].restart();
    ensemble
        .wait_for_roles(Some(leader))
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    same_tree_everywhere(&rt, &ensemble, &["/through-a-follower", "/after-the-kill"]);
    let (out, _) = status(&ensemble.members[leader].config());
    assert!(out.ends_with("Mode: follower\n"), "{out}");
}

/// Writes `/load/w{i}` one after another through `hosts` (a connect string) until `stop`,
/// recording each write whose success reached the client. A write that failed with the
/// connection may or may not have happened; it is tried again, and NodeExists then means
/// it did (it is in the tree, so it counts as acknowledged).
fn write_load(hosts: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<String>>>) {
    let rt = runtime();
    rt.block_on(async {
        let connect = || async {
            loop {
                let connected = zk::Client::connector()
                    .with_session_timeout(Duration::from_secs(10))
                    .with_connection_timeout(Duration::from_secs(3))
                    .connect(&hosts)
                    .await;
                if let Ok(client) = connected {
                    return client;
                }
            }
        };
        let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        let mut client = connect().await;
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            let path = format!("/load/w{i}");
            let sent = tokio::time::timeout(
                Duration::from_secs(10),
                client.create(&path, b"w", &options),
            );
            match sent.await {
                Ok(Ok(_)) | Ok(Err(zk::Error::NodeExists)) => {
                    acked.lock().expect("acked").push(path);
                    i += 1;
                }
                Ok(Err(zk::Error::SessionExpired)) | Err(_) => client = connect().await,
                Ok(Err(_)) => {}
            }
        }
    });
}

/// Issue 11's promise: kill -9 of the leader under a steady write load loses no write
/// whose success reached a client (Zab: a txn is acknowledged only once a quorum logged
/// it, and the next leader is elected from a quorum, so it has it). Restarted, the old
/// leader catches up and takes part in the writes that follow; in the end every server
/// holds the same tree and has logged the same txns in the same order.
#[test]
fn a_leader_killed_under_write_load_loses_no_acknowledged_write() {
    let rt = runtime();
    let mut ensemble = Ensemble::start(3);
    let leader = ensemble.wait_for_roles(None).expect("roles");
    create(&rt, &ensemble.members[leader].address(), "/load", b"");
    // The writer talks to the two followers, and moves between them.
    let hosts: Vec<String> = (1..3)
        .map(|k| ensemble.members[(leader + k) % 3].address())
        .collect();
    let (stop, acked) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(Mutex::new(Vec::new())),
    );
    let writer = {
        let (stop, acked) = (Arc::clone(&stop), Arc::clone(&acked));
        let hosts = hosts.join(",");
        std::thread::spawn(move || write_load(hosts, stop, acked))
    };
    let count = || acked.lock().expect("acked").len();
    let wait_for = |n: usize| {
        wait_until(WAIT, &format!("{n} acknowledged writes"), || {
            (count() >= n).then_some(())
        })
    };

    wait_for(50).unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    ensemble.members[leader].kill();
    let before = count();
    ensemble
        .wait_for_roles(Some(leader))
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    wait_for(before + 50).unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    ensemble.members[leader].restart();
    ensemble
        .wait_for_roles(Some(leader))
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    // Writes go on once it is back, and it logs them with the others.
    wait_for(count() + 20).unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("the writer ends");

    let acked = acked.lock().expect("acked").clone();
    let wanted: Vec<&str> = acked.iter().map(String::as_str).collect();
    same_tree_everywhere(&rt, &ensemble, &wanted);
    same_logs_everywhere(&ensemble);
    eprintln!("{} acknowledged writes on all three servers", acked.len());
}

/// A client given every server moves to another when its own dies, and keeps its session,
/// its ephemeral node and its watch (the session lives in the replicated tree, not in the
/// server; on reconnecting the client re-registers its watches with setWatches).
#[test]
fn a_client_moves_when_its_server_dies_and_keeps_its_session_ephemerals_and_watches() {
    let rt = runtime();
    let mut ensemble = Ensemble::start(3);
    let hosts: Vec<String> = ensemble.members.iter().map(Member::address).collect();
    let hosts = hosts.join(",");
    let (client, watcher, session) = rt.block_on(async {
        let client = zk::Client::connector()
            .with_session_timeout(Duration::from_secs(20))
            .connect(&hosts)
            .await
            .expect("a session");
        let ephemeral = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
        let persistent = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        client
            .create("/mine", b"e", &ephemeral)
            .await
            .expect("create /mine");
        client
            .create("/watched", b"0", &persistent)
            .await
            .expect("create /watched");
        let (_, _, watcher) = client.get_and_watch_data("/watched").await.expect("watch");
        let session = client.session_id().0;
        (client, watcher, session)
    });
    // Which server the client is on: the one whose `cons` lists its session.
    let on = format!("sid=0x{session:x},");
    let home = ensemble
        .members
        .iter()
        .position(|m| four_letter_word(m.client_port, "cons").is_ok_and(|c| c.contains(&on)))
        .expect("the client's server lists it");
    ensemble.members[home].kill();
    ensemble
        .wait_for_roles(Some(home))
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));

    let elsewhere = ensemble.members[(home + 1) % 3].address();
    with_client(&rt, &elsewhere, |c| async move {
        c.set_data("/watched", b"1", None).await
    })
    .expect("setData /watched");
    rt.block_on(async {
        let event = tokio::time::timeout(WAIT, watcher.changed())
            .await
            .expect("the watch fires");
        assert_eq!(event.event_type, zk::EventType::NodeDataChanged);
        assert_eq!(client.session_id().0, session, "the same session");
    });
    let owner = with_client(&rt, &elsewhere, |c| async move {
        c.check_stat("/mine")
            .await
            .map(|s| s.map(|s| s.ephemeral_owner))
    })
    .expect("exists /mine");
    assert_eq!(owner, Some(session), "the ephemeral outlived its server");
}

/// Five servers: two may die, the leader among them, and the three left still elect and
/// serve; with a third gone the two left serve nothing, one coming back restores the quorum,
/// and the rest catch up when they return (the course's cluster-size arithmetic: a quorum is
/// a majority of all five, alive or not).
#[test]
fn five_servers_keep_serving_with_two_down() {
    let rt = runtime();
    let mut ensemble = Ensemble::start(5);
    let leader = ensemble.wait_for_roles(None).expect("roles");
    create(&rt, &ensemble.members[leader].address(), "/five", b"5");
    ensemble.members[leader].kill();
    ensemble.members[(leader + 1) % 5].kill();
    ensemble
        .wait_for_roles(Some(leader))
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    let survivor = ensemble.members[(leader + 2) % 5].address();
    create(&rt, &survivor, "/two-down", b"3");
    same_tree_everywhere(&rt, &ensemble, &["/five", "/two-down"]);

    // A third down leaves two of five: no quorum, so they stop serving, and take no write.
    let third = (leader + 2) % 5;
    ensemble.members[third].kill();
    let minority: Vec<usize> = (3..5).map(|k| (leader + k) % 5).collect();
    wait_until(WAIT, "the two left to stop serving", || {
        minority
            .iter()
            .all(|i| {
                four_letter_word(ensemble.members[*i].client_port, "srvr")
                    .is_ok_and(|a| a.contains("not currently serving"))
            })
            .then_some(())
    })
    .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    // zkServer.sh finds no Mode line in what a server without a quorum answers.
    let (out, ok) = status(&ensemble.members[minority[0]].config());
    assert!(
        !ok && out.ends_with("Error contacting service. It is probably not running.\n"),
        "{out}"
    );
    let refused = rt.block_on(async {
        let attempt = async {
            let c = zk::Client::connector()
                .with_session_timeout(Duration::from_secs(4))
                .with_connection_timeout(Duration::from_secs(2))
                .connect(&ensemble.members[minority[0]].address())
                .await?;
            let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
            c.create("/minority", b"", &options).await
        };
        tokio::time::timeout(Duration::from_secs(5), attempt).await
    });
    assert!(!matches!(refused, Ok(Ok(_))), "a minority took a write");

    // One back makes three of five: a quorum again, with every write so far.
    ensemble.members[third].restart();
    ensemble
        .wait_for_roles(None)
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    create(
        &rt,
        &ensemble.members[minority[0]].address(),
        "/three-again",
        b"3",
    );
    same_tree_everywhere(&rt, &ensemble, &["/five", "/two-down", "/three-again"]);

    // The other two back: all five follow one leader, each caught up.
    for i in [leader, (leader + 1) % 5] {
        ensemble.members[i].restart();
    }
    ensemble
        .wait_for_roles(None)
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    same_tree_everywhere(&rt, &ensemble, &["/five", "/two-down", "/three-again"]);
}

/// An observer learns every commit and serves clients, but never votes: `keeper status`
/// says `Mode: observer`, finding the client port on the server line through myid, as
/// zkServer.sh does; a write through it reaches everyone.
#[test]
fn an_observer_serves_and_status_finds_ports_on_the_server_lines() {
    let rt = runtime();
    let ensemble = Ensemble::start_with(4, 1, "");
    let observer = &ensemble.members[3];
    let (out, ok) = status(&observer.config());
    assert!(ok, "{out}");
    assert_eq!(
        out,
        format!(
            "Client port found: {}. Client address: 127.0.0.1. Client SSL: false.\nMode: observer\n",
            observer.client_port
        )
    );
    // Debian's own script agrees on every member: leader, followers and observer.
    let logs = TempDir::new("zkserver-logs");
    for m in &ensemble.members {
        if let Some(expected) = zkserver_status(&m.config(), logs.path()) {
            assert_eq!(status(&m.config()), expected, "server {}", m.sid);
        }
    }
    create(&rt, &observer.address(), "/through-an-observer", b"o");
    same_tree_everywhere(&rt, &ensemble, &["/through-an-observer"]);
    let mntr = four_letter_word(observer.client_port, "mntr").expect("mntr");
    assert!(
        mntr.contains("zk_peer_state\tobserving - broadcast\n"),
        "{mntr}"
    );
}

/// Every member snapshots every snapCount or so txns (upstream SyncRequestProcessor), and a
/// member killed and restarted recovers from its newest snapshot and the log after it.
#[test]
fn members_snapshot_every_snap_count_and_recover_from_it() {
    let rt = runtime();
    let mut ensemble = Ensemble::start_with(3, 0, "snapCount=4\n");
    let leader = ensemble.wait_for_roles(None).expect("roles");
    let paths: Vec<String> = (0..16).map(|i| format!("/n{i}")).collect();
    for path in &paths {
        create(&rt, &ensemble.members[leader].address(), path, b"x");
    }
    let wanted: Vec<&str> = paths.iter().map(String::as_str).collect();
    same_tree_everywhere(&rt, &ensemble, &wanted);
    for m in &ensemble.members {
        let snapshots = std::fs::read_dir(m.dir.join("data/version-2"))
            .expect("version-2")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("snapshot."))
            })
            .count();
        assert!(snapshots > 1, "server {} has {snapshots} snapshots", m.sid);
    }
    let follower = (leader + 1) % 3;
    ensemble.members[follower].kill();
    ensemble.members[follower].restart();
    ensemble
        .wait_for_roles(None)
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    same_tree_everywhere(&rt, &ensemble, &wanted);
}

/// `/zookeeper/config` holds the membership as ZooKeeper 3.8 writes it, and `conf` lists
/// the quorum keys after the standalone ones (checked against a real 3.8 ensemble).
#[test]
fn the_config_node_and_conf_describe_the_ensemble() {
    let rt = runtime();
    let ensemble = Ensemble::start(3);
    let cfg = std::fs::read_to_string(ensemble.members[0].config()).expect("zoo.cfg");
    let lines: Vec<String> = cfg
        .lines()
        .filter(|l| l.starts_with("server."))
        .map(|l| format!("{l}:participant"))
        .collect();
    let expected = format!("{}\nversion=0", lines.join("\n"));
    for m in &ensemble.members {
        let (data, stat) = with_client(&rt, &m.address(), |c| async move {
            c.get_data("/zookeeper/config").await
        })
        .expect("getData /zookeeper/config");
        assert_eq!(String::from_utf8_lossy(&data), expected);
        assert_eq!((stat.version, stat.mzxid), (-1, 0));
        let conf = four_letter_word(m.client_port, "conf").expect("conf");
        assert!(
            conf.ends_with(&format!("peerType=0\nmembership: \n{expected}")),
            "{conf}"
        );
        assert!(
            conf.contains(&format!(
                "serverId={}\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\n",
                m.sid
            )),
            "{conf}"
        );
    }
    // ZooKeeper's own zkCli on a member: `config` prints the text, and `reconfig` is refused
    // as ZooKeeper 3.8 refuses it with reconfigEnabled=false.
    if let Err(why) = common::tools::java() {
        common::skip("zkCli config and reconfig on the ensemble", &why);
        return;
    }
    let mut zkcli = Command::new("java");
    zkcli.args([
        "-cp",
        &common::tools::zookeeper_classpath(),
        "org.apache.zookeeper.ZooKeeperMain",
        "-server",
        &ensemble.members[1].address(),
    ]);
    let done = run_to_end(
        zkcli,
        "config\nreconfig -remove 3\nquit\n",
        Duration::from_secs(60),
    )
    .expect("zkCli ends");
    assert!(
        done.output.contains(&format!("{expected}\n")),
        "{}",
        done.output
    );
    assert!(
        done.output
            .contains("KeeperErrorCode = Reconfig is disabled"),
        "{}",
        done.output
    );
}

/// Everything about a member is checked before anything is written: a missing myid, one no
/// server line names, and a port used twice each stop start-up with the file named.
#[test]
fn a_member_that_cannot_start_says_why_and_writes_nothing() {
    let ensemble = Ensemble::configure(3, 0, "", false);
    let member = &ensemble.members[0];
    let data = member.dir.join("data");
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keeper"));
        command.args([
            "server",
            "--config",
            member.config().to_str().expect("UTF-8"),
        ]);
        let done = run_to_end(command, "", Duration::from_secs(20)).expect("keeper server ends");
        assert_eq!(done.status.code(), Some(2), "{}", done.output);
        assert!(!data.join("version-2").exists(), "nothing is written");
        done.output
    };

    std::fs::remove_file(data.join("myid")).expect("myid");
    let out = run();
    assert!(
        out.contains(&format!(
            "{}: myid file is missing",
            data.join("myid").display()
        )),
        "{out}"
    );

    std::fs::write(data.join("myid"), "7\n").expect("myid");
    let out = run();
    assert!(
        out.contains("myid is 7, and there is no server.7 line"),
        "{out}"
    );

    std::fs::write(data.join("myid"), "one\n").expect("myid");
    assert!(run().contains("serverid one is not a number"));

    std::fs::write(data.join("myid"), "1\n").expect("myid");
    let cfg = std::fs::read_to_string(member.config()).expect("zoo.cfg");
    let second = cfg
        .lines()
        .find(|l| l.starts_with("server.2="))
        .expect("server.2");
    let election = second.rsplit(':').next().expect("a port");
    let clash = cfg.replace(second, &format!("server.2=127.0.0.1:{election}:{election}"));
    std::fs::write(member.config(), clash).expect("zoo.cfg");
    let out = run();
    let line = 9 + 1; // eight settings, then server.1, then server.2
    assert!(
        out.contains(&format!(
            "{} line {line}: server.2: election port",
            member.config().display()
        )),
        "{out}"
    );
}

/// The session every cut-off test's client holds: long enough that no session of it expires
/// (a closeSession txn) while a member is cut off, on a loaded machine.
const LONG_SESSION: Duration = Duration::from_secs(30);

/// A session of [`LONG_SESSION`] with the one server at `address` (retried until it serves).
fn connect_to(rt: &tokio::runtime::Runtime, address: &str) -> zk::Client {
    wait_until(WAIT, &format!("a session with {address}"), || {
        rt.block_on(async {
            let connecting = zk::Client::connector()
                .with_session_timeout(LONG_SESSION)
                .with_connection_timeout(Duration::from_secs(3))
                .connect(address);
            tokio::time::timeout(Duration::from_secs(10), connecting)
                .await
                .ok()?
                .ok()
        })
    })
    .unwrap_or_else(|why| panic!("{why}"))
}

/// A member cut off from the other two is a minority of one: it finds it has no quorum,
/// stops serving and takes no write, while the two others go on (electing a new leader if
/// it led) and take writes. Healed, it rejoins and syncs from the leader, and serves every
/// write made without it (Zab: only a quorum commits; upstream `Follower.followLeader` ends
/// on a lost leader, and a `LOOKING` server closes its clients' connections).
#[test]
fn a_member_cut_off_from_the_rest_takes_no_write_and_rejoins_with_every_write() {
    let rt = runtime();
    let mut ensemble = Ensemble::relayed(3, "");
    let leader = ensemble.wait_for_roles(None).expect("roles");
    let cut = (leader + 1) % 3;
    let other = (leader + 2) % 3;
    create(&rt, &ensemble.members[leader].address(), "/before", b"1");
    same_tree_everywhere(&rt, &ensemble, &["/before"]);
    let client = connect_to(&rt, &ensemble.members[cut].address());

    let links = ensemble.links.as_ref().expect("relayed");
    links.isolate(ensemble.members[cut].sid);
    wait_until(WAIT, "the cut-off member to stop serving", || {
        four_letter_word(ensemble.members[cut].client_port, "srvr")
            .is_ok_and(|a| a.contains("not currently serving"))
            .then_some(())
    })
    .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    // Its client's write: refused (ConnectionLoss) or held by the client while it has no
    // server, never acknowledged while the member is cut off.
    let write = {
        let client = client.clone();
        rt.spawn(async move {
            let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
            client.create("/on-the-minority", b"m", &options).await
        })
    };

    // The two others keep a leader and a follower, and take writes through either.
    ensemble
        .wait_for_roles_among(&[leader, other], None)
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    create(&rt, &ensemble.members[other].address(), "/during", b"2");
    create(
        &rt,
        &ensemble.members[leader].address(),
        "/during-too",
        b"3",
    );
    assert!(
        four_letter_word(ensemble.members[cut].client_port, "srvr")
            .is_ok_and(|a| a.contains("not currently serving")),
        "the cut-off member serves"
    );
    if write.is_finished() {
        let refused = rt.block_on(write).expect("the write task");
        assert!(
            matches!(refused, Err(zk::Error::ConnectionLoss)),
            "the cut-off member's client got {refused:?}"
        );
    }
    let majority = tree(&rt, &ensemble.members[other].address()).expect("the majority's tree");
    assert!(!majority.contains_key("/on-the-minority"), "{majority:?}");

    ensemble.links.as_ref().expect("relayed").heal();
    ensemble
        .wait_for_roles(None)
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    same_tree_everywhere(&rt, &ensemble, &["/before", "/during", "/during-too"]);
    // A client that held its write while it had no server (zookeeper-client does; the Java
    // client fails it with ConnectionLoss) sends it once it is back on a server: then the
    // quorum commits it after the writes made without the member, never before.
    let tree = tree(&rt, &ensemble.members[cut].address()).expect("the healed member's tree");
    if let Some((_, czxid, _, _)) = tree.get("/on-the-minority") {
        assert!(*czxid > tree["/during-too"].1, "{tree:?}");
    }
    drop(client);
}

/// Every txn in a member's log files, oldest first, as `keeper txnlog` prints them (one line
/// each), and the tool's other lines (headers, the summary) left out.
fn logged_txns(member: &Member) -> Vec<String> {
    let dir = member.dir.join("data/version-2");
    let mut logs: Vec<(u64, PathBuf)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    let first = u64::from_str_radix(name.strip_prefix("log.")?, 16).ok()?;
                    Some((first, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    logs.sort();
    let mut txns = Vec::new();
    for (_, path) in logs {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keeper"));
        command.arg("txnlog").arg(&path);
        let done = run_for_stdout(command, Duration::from_secs(20)).expect("keeper txnlog ends");
        let txns_only = done.output.lines().filter(|l| {
            !l.starts_with("ZooKeeper Transactional Log File") && !l.starts_with("EOF reached")
        });
        txns.extend(txns_only.map(str::to_string));
    }
    txns
}

/// What a member recovers from on disk: its newest snapshot's zxid, and the txns its logs
/// hold after it, as (zxid, the txn as `keeper txnlog` prints it). A txn older than the
/// snapshot is no longer its history, even if a log still holds it (a member synced by SNAP
/// keeps its old log files; recovery starts from the snapshot).
fn recoverable_txns(member: &Member) -> (u64, Vec<(u64, String)>) {
    let dir = member.dir.join("data/version-2");
    let newest_snapshot = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    u64::from_str_radix(name.strip_prefix("snapshot.")?, 16).ok()
                })
                .max()
        })
        .ok()
        .flatten()
        .unwrap_or(0);
    let mut txns: Vec<(u64, String)> = Vec::new();
    for line in logged_txns(member) {
        let zxid = line
            .split(" zxid 0x")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|hex| u64::from_str_radix(hex, 16).ok());
        match (zxid, txns.last_mut()) {
            (Some(zxid), _) => txns.push((zxid, line)),
            // A txn printed over several lines (an ACL list ends on the next one).
            (None, Some((_, txn))) => {
                txn.push('\n');
                txn.push_str(&line);
            }
            (None, None) => {}
        }
    }
    txns.retain(|(zxid, _)| *zxid > newest_snapshot);
    (newest_snapshot, txns)
}

/// Waits until the members' logs agree: past each one's newest snapshot, any two hold the
/// same txns in the same order where both reach, and every one ends at the same zxid. That
/// is what a quorum committed, and nothing else (a txn in flight may be on some logs and not
/// yet on others; one no quorum logged is truncated away or left behind a snapshot).
fn same_logs_everywhere(ensemble: &Ensemble) {
    let mut last = Vec::new();
    let agreed = wait_until(WAIT, "the same txns in every member's log", || {
        last = ensemble.members.iter().map(recoverable_txns).collect();
        let end = |(snapshot, txns): &(u64, Vec<(u64, String)>)| {
            txns.last().map_or(*snapshot, |(z, _)| *z)
        };
        let same_end = last.iter().all(|m| end(m) == end(&last[0]));
        let pairs_agree = last.iter().all(|(snap_a, a)| {
            last.iter().all(|(snap_b, b)| {
                let start = *snap_a.max(snap_b);
                let after = |t: &Vec<(u64, String)>| -> Vec<(u64, String)> {
                    t.iter().filter(|(z, _)| *z > start).cloned().collect()
                };
                after(a) == after(b)
            })
        });
        (same_end && pairs_agree).then_some(())
    });
    if let Err(why) = agreed {
        let shown: Vec<String> = (1..)
            .zip(&last)
            .map(|(sid, (snapshot, txns))| {
                let lines: Vec<&str> = txns.iter().map(|(_, t)| t.as_str()).collect();
                format!(
                    "--- server {sid}'s log after snapshot 0x{snapshot:x}:\n{}",
                    lines.join("\n")
                )
            })
            .collect();
        panic!("{why}\n{}\n{}", shown.join("\n"), ensemble.logs());
    }
}

/// A leader that logged a proposal no follower ever saw, then was cut off, comes back with a
/// longer log than the leader elected without it; the new leader tells it to cut its log
/// back (TRUNC) before it follows, so the txn that never had a quorum is gone from its log
/// and tree, and every member's log is the same sequence of txns (Zab's sync phase:
/// upstream `LearnerHandler.syncFollower`, `Learner.syncWithLeader`, `FileTxnLog.truncate`).
///
/// The proposal is made real: the leader's links are stalled (they stay open and lose every
/// byte), a client writes through it, and once the txn is in the leader's log the leader is
/// cut off. No session is opened or expires on the others until it is back, so the new
/// leader's history ends where the quorum's did and the sync is a TRUNC, not a SNAP.
#[test]
fn a_leader_back_with_a_txn_no_quorum_logged_truncates_it() {
    let rt = runtime();
    // syncLimit long enough (3 s) that the stalled leader logs the write before it finds
    // its followers silent, on a loaded machine.
    let mut ensemble = Ensemble::relayed(3, "syncLimit=10\n");
    let leader = ensemble.wait_for_roles(None).expect("roles");
    let old = &ensemble.members[leader];
    let client = connect_to(&rt, &old.address());
    let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    rt.block_on(client.create("/committed", b"1", &options))
        .expect("create /committed");
    same_logs_everywhere(&ensemble);

    let links = ensemble.links.as_ref().expect("relayed");
    links.stall(old.sid);
    let write = {
        let (client, options) = (client.clone(), options.clone());
        rt.spawn(async move {
            let write = client.create("/uncommitted", b"2", &options);
            tokio::time::timeout(WAIT, write).await
        })
    };
    let logged = wait_until(WAIT, "the leader to log the write", || {
        logged_txns(old)
            .into_iter()
            .find(|txn| txn.contains(" /uncommitted,"))
    })
    .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    links.isolate(old.sid);

    // The two others elect one of them, from a history without the txn.
    let others: Vec<usize> = (1..3).map(|k| (leader + k) % 3).collect();
    ensemble
        .wait_for_roles_among(&others, None)
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    let outcome = rt.block_on(write).expect("the write task");
    assert!(
        !matches!(outcome, Ok(Ok(_))),
        "a write no quorum logged was acknowledged"
    );

    ensemble.links.as_ref().expect("relayed").heal();
    ensemble
        .wait_for_roles(Some(leader))
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    let old = &ensemble.members[leader];
    assert!(
        !logged_txns(old).contains(&logged),
        "the old leader's log kept the txn no quorum logged: {logged}\n{}",
        ensemble.logs()
    );
    same_logs_everywhere(&ensemble);
    same_tree_everywhere(&rt, &ensemble, &["/committed"]);
    let tree = tree(&rt, &old.address()).expect("the old leader's tree");
    assert!(!tree.contains_key("/uncommitted"), "{tree:?}");
}

/// Member `sid`'s (quorum, election) ports, from the server line of `member`'s zoo.cfg.
fn peer_ports(member: &Member, sid: u64) -> (u16, u16) {
    let cfg = std::fs::read_to_string(member.config()).expect("zoo.cfg");
    let line = cfg
        .lines()
        .find_map(|l| l.strip_prefix(&format!("server.{sid}=")))
        .expect("a server line");
    let ports: Vec<u16> = line
        .split(':')
        .skip(1)
        .take(2)
        .map(|p| p.parse().expect("a port"))
        .collect();
    (ports[0], ports[1])
}

/// Sends `bytes` to `port` and returns whether the server closed the connection (read to
/// the end of the stream, whatever it answered first) within [`WAIT`].
fn closed_after(port: u16, bytes: &[u8]) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(WAIT));
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// A FastLeaderElection notification (3.8's, version 2, no config) from `sid`, voting for
/// itself with the history `zxid` of epoch `epoch`, in round `round`, framed.
fn vote_frame(sid: i64, zxid: i64, epoch: i64, round: i64) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.extend(0i32.to_be_bytes()); // LOOKING
    payload.extend(sid.to_be_bytes());
    payload.extend(zxid.to_be_bytes());
    payload.extend(round.to_be_bytes());
    payload.extend(epoch.to_be_bytes());
    payload.extend(2i32.to_be_bytes());
    payload.extend(0i32.to_be_bytes());
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend(payload);
    frame
}

/// Bytes that are no peer's, on a member's election and quorum ports, cost the sender its
/// connection and nothing else. A server of another ensemble (a sid no server line lists)
/// that keeps voting for itself with a history far ahead of ours, all through an election,
/// is not followed: its vote does not count (upstream `FastLeaderElection` only counts
/// `validVoter`s). The two left after the leader's kill elect one of them, in the next epoch.
#[test]
fn garbage_and_a_stranger_on_the_peer_ports_change_nothing() {
    let rt = runtime();
    let mut ensemble = Ensemble::start(3);
    let leader = ensemble.wait_for_roles(None).expect("roles");
    let others: Vec<usize> = (1..3).map(|k| (leader + k) % 3).collect();
    let ports = |i: usize| peer_ports(&ensemble.members[0], ensemble.members[i].sid);
    // The epoch it leads: a write's zxid says (srvr's Zxid is 0x0 until the first one).
    let epoch_of = |path: &str, address: &str| {
        let tree = tree(&rt, address).expect("a tree");
        tree[path].1 as u64 >> 32
    };
    create(&rt, &ensemble.members[leader].address(), "/before", b"0");
    let epoch = epoch_of("/before", &ensemble.members[leader].address());

    let garbage = [0xffu8; 64];
    assert!(
        closed_after(ports(others[0]).1, &garbage),
        "election port kept garbage"
    );
    assert!(
        closed_after(ports(leader).0, &garbage),
        "quorum port kept garbage"
    );

    // The stranger: an initial message (protocol -65536, sid 9, its address) to each of the
    // two that will be left, then its vote again and again.
    let mut hello = (-65536i64).to_be_bytes().to_vec();
    hello.extend(9i64.to_be_bytes());
    let address = b"127.0.0.1:9";
    hello.extend((address.len() as i32).to_be_bytes());
    hello.extend(address);
    let mut stranger: Vec<std::net::TcpStream> = others
        .iter()
        .map(|&i| {
            let mut s =
                std::net::TcpStream::connect(("127.0.0.1", ports(i).1)).expect("an election port");
            std::io::Write::write_all(&mut s, &hello).expect("the stranger's hello");
            s
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let voting = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            for round in 1_000.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let vote = vote_frame(9, 0x7fff_0000_0000_0000, 0x7fff, round);
                for s in &mut stranger {
                    // A peer that closed on it: the rest still hear it.
                    let _ = std::io::Write::write_all(s, &vote);
                }
                std::thread::sleep(Duration::from_millis(20)); // its pace, not a wait
            }
        })
    };

    ensemble.members[leader].kill();
    let new = ensemble
        .wait_for_roles(Some(leader))
        .unwrap_or_else(|why| panic!("{why}\n{}", ensemble.logs()));
    create(&rt, &ensemble.members[new].address(), "/after", b"1");
    stop.store(true, Ordering::Relaxed);
    voting.join().expect("the stranger's thread");
    assert_eq!(
        epoch_of("/after", &ensemble.members[new].address()),
        epoch + 1,
        "not the next epoch\n{}",
        ensemble.logs()
    );
    same_tree_everywhere(&rt, &ensemble, &["/before", "/after"]);
}

/// A FOLLOWERINFO that names a member's sid, from someone who is not that member, does not
/// cut the member off: the leader answers it (LEADERINFO) but keeps the member's own
/// connection until the newcomer acknowledges the epoch, which this one never does. Upstream
/// keeps both `LearnerHandler`s too. Every follower still takes writes, and none of them
/// stopped following.
#[test]
fn an_impostors_followerinfo_cuts_no_follower_off() {
    use ch01_znode::{Epoch, Sid, Zxid};
    use ch06_zab::message::Message;
    use ch06_zab::packet::PacketType;
    use ch06_zab::wire;
    use std::io::{Read, Write};
    let rt = runtime();
    let mut ensemble = Ensemble::start(3);
    let leader = ensemble.wait_for_roles(None).expect("roles");
    let quorum_port = peer_ports(&ensemble.members[0], ensemble.members[leader].sid).0;
    let followers: Vec<usize> = (1..3).map(|k| (leader + k) % 3).collect();
    // The lines each follower logged up to serving this leader: an election at start-up may
    // already have made one stop following a server that lost the lead within its
    // finalizeWait, which is not the impostor's doing.
    let serving = format!("serving clients, leader n{}", ensemble.members[leader].sid);
    let logged_before: Vec<usize> = followers
        .iter()
        .map(|&f| {
            let process = ensemble.members[f].process.as_ref().expect("running");
            process
                .wait_for_line(0, WAIT, |line| line.contains(&serving))
                .expect("the follower says it serves");
            process.output().lines().count()
        })
        .collect();
    let mut impostors = Vec::new();
    for &f in &followers {
        // The FOLLOWERINFO the member itself would send, in chapter 6's bytes.
        let hello = Message::LearnerInfo {
            observer: false,
            accepted_epoch: Epoch(1),
        };
        let packet = wire::encode(&hello, Sid(ensemble.members[f].sid), Zxid(0));
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", quorum_port)).expect("the quorum port");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream
            .write_all(&packet)
            .expect("the impostor's FOLLOWERINFO");
        // The leader has taken it in once it answers: a packet's first field is its type.
        let mut kind = [0u8; 4];
        stream.read_exact(&mut kind).expect("an answer");
        assert_eq!(
            i32::from_be_bytes(kind),
            PacketType::LeaderInfo.code(),
            "LEADERINFO"
        );
        impostors.push(stream);
    }
    for (n, &f) in followers.iter().enumerate() {
        create(
            &rt,
            &ensemble.members[f].address(),
            &format!("/through-{n}"),
            b"1",
        );
    }
    for (&f, &before) in followers.iter().zip(&logged_before) {
        let log = ensemble.members[f].log();
        let gave_up = log
            .lines()
            .skip(before)
            .any(|l| l.contains("stops following"));
        assert!(!gave_up, "{log}");
    }
    drop(impostors);
}
