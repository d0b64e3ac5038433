//! Our election port against the real thing: a ZooKeeper 3.8 server and two
//! of ours form one ensemble on 127.0.0.1 and elect a leader together.
//!
//! The ensemble has five voters: ours are sids 1 and 2, the real server is
//! sid 5, and 3 and 4 are never started. A quorum is three, so nobody can
//! decide without both sides reading each other's handshakes and
//! notifications (ZooKeeper's carry its configuration as text; ours carry
//! none). ZooKeeper wins on sid; it then waits for followers on its Zab
//! port, which ours do not speak (chapter 6), but the election is over.
//!
//! Skipped, with a message, where no ZooKeeper is installed (CI installs it).

use ch01_znode::Sid;
use ch05_election::peer::{Durable, Note as ElectionNote};
use ch05_election::quorum::QuorumMaj;
use ch05_election::standin::{Config, Note};
use ch05_election::tcp::{serve, ServerSpec, TcpEvent};
use ch05_election::vote::ServerState;
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::mpsc;

const JARS: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";
const BOUND: Duration = Duration::from_secs(60);
/// The real server's sid.
const ZK: Sid = Sid(5);
/// How many times ZooKeeper may lose a race for its ports.
const START_ATTEMPTS: usize = 3;

/// `N` distinct ports nobody uses right now (all are held until each is picked, so none
/// repeats). They are below the ephemeral range: one the OS picked for bind(0) and let go
/// could be handed to any outgoing connection before ZooKeeper listens on it.
fn free_ports<const N: usize>() -> [u16; N] {
    let held: [StdListener; N] = std::array::from_fn(|_| {
        crate::free_port::listen_on_a_free_port("127.0.0.1").expect("bind")
    });
    held.map(|l| l.local_addr().expect("addr").port())
}

/// Whether a line of ZooKeeper's log says it read n1's notification, sent
/// while LOOKING in our version-2 format.
fn read_our_notification(line: &str) -> bool {
    line.contains("n.sid:1, n.state:LOOKING") && line.contains("message format version:0x2")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_zookeeper_and_two_of_ours_elect_one_leader() {
    if !Path::new("/usr/share/java/zookeeper.jar").exists()
        || !Path::new("/usr/share/java/slf4j-simple.jar").exists()
    {
        eprintln!("skipped: ZooKeeper 3.8 is not installed (apt-get install zookeeper)");
        return;
    }
    // Our two servers' election ports, bound now.
    let ours = [
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    ];
    let mut addrs: BTreeMap<Sid, SocketAddr> = BTreeMap::new();
    addrs.insert(Sid(1), ours[0].local_addr().unwrap());
    addrs.insert(Sid(2), ours[1].local_addr().unwrap());

    let dir = std::env::temp_dir().join(format!("ch05-real-zk-{}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("myid"), format!("{ZK}\n")).unwrap();

    // ZooKeeper's ports are free when chosen, but another process may take
    // one before the JVM binds it: ZooKeeper then exits before it listens,
    // and it starts again on new ports. Ours start once it listens, so that
    // its vote takes part.
    let mut seen = Vec::new();
    let (mut zk, mut zk_log) = 'started: {
        for attempt in 1..=START_ATTEMPTS {
            let attempt_log = seen.len();
            // ZooKeeper's three ports, the absent servers' election ports,
            // and a quorum port per server line (ZooKeeper's is its own).
            let [zk_quorum, zk_election, zk_client, absent3, absent4, others @ ..] =
                free_ports::<10>();
            for (sid, port) in [(Sid(3), absent3), (Sid(4), absent4), (ZK, zk_election)] {
                addrs.insert(sid, SocketAddr::from(([127, 0, 0, 1], port)));
            }
            let mut cfg = format!(
                "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={zk_client}\n\
                 clientPortAddress=127.0.0.1\nadmin.enableServer=false\n",
                data.display()
            );
            for ((sid, addr), other) in addrs.iter().zip(others) {
                let quorum = if *sid == ZK { zk_quorum } else { other };
                cfg.push_str(&format!(
                    "server.{sid}=127.0.0.1:{quorum}:{}\n",
                    addr.port()
                ));
            }
            let cfg_path = dir.join("zoo.cfg");
            std::fs::write(&cfg_path, cfg).unwrap();

            let mut zk = Command::new("java")
                .args(["-Xmx256m", "-cp", JARS])
                .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                .arg(&cfg_path)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("java runs");
            let mut zk_log = BufReader::new(zk.stderr.take().unwrap()).lines();
            let listening = tokio::time::timeout(BOUND, async {
                while let Ok(Some(line)) = zk_log.next_line().await {
                    if line.contains("is accepting connections now") {
                        return true;
                    }
                    seen.push(format!("zk: {line}"));
                }
                false
            })
            .await;
            match listening {
                Ok(true) => break 'started (zk, zk_log),
                Ok(false)
                    if seen[attempt_log..]
                        .iter()
                        .any(|l| l.contains("Address already in use")) =>
                {
                    seen.push(format!("attempt {attempt} lost a port race; again"));
                }
                _ => break,
            }
        }
        panic!("ZooKeeper starts:\n{}", seen.join("\n"));
    };

    let config = Config::new(Arc::new(QuorumMaj::new((1..=5).map(Sid), [])));
    let (tx, mut events) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for (sid, listener) in [Sid(1), Sid(2)].into_iter().zip(ours) {
        let spec = ServerSpec {
            sid,
            addrs: addrs.clone(),
            config: config.clone(),
            durable: Durable::default(),
        };
        tasks.push(tokio::spawn(serve(spec, listener, tx.clone())));
    }

    // Wait, on both sides' own reports, until ours have decided, ZooKeeper
    // says it leads, and it has logged reading a notification of ours.
    let mut ours_decided: BTreeMap<Sid, (Sid, ServerState)> = BTreeMap::new();
    let mut zk_leads = false;
    let mut zk_read_ours = false;
    let outcome = tokio::time::timeout(BOUND, async {
        while !(zk_leads && zk_read_ours && ours_decided.len() == 2) {
            tokio::select! {
                Some(t) = events.recv() => {
                    seen.push(t.to_string());
                    if let TcpEvent::Note(Note::Election(ElectionNote::Decided {
                        state,
                        leader,
                        ..
                    })) = t.event
                    {
                        ours_decided.insert(t.sid, (leader, state));
                    }
                }
                line = zk_log.next_line() => match line {
                    Ok(Some(line)) => {
                        zk_leads |= line.contains("LEADING - LEADER ELECTION TOOK");
                        zk_read_ours |= read_our_notification(&line);
                        if line.contains("FastLeaderElection") || line.contains("LEADING") {
                            seen.push(format!("zk: {line}"));
                        }
                    }
                    _ => panic!("ZooKeeper exited:\n{}", seen.join("\n")),
                },
            }
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "no common leader within {BOUND:?}:\n{}",
        seen.join("\n")
    );
    for sid in [Sid(1), Sid(2)] {
        assert_eq!(ours_decided[&sid], (ZK, ServerState::Following), "n{sid}");
    }
    // ZooKeeper read our version-2 notifications (waited for above).
    assert!(
        seen.iter().any(|l| read_our_notification(l)),
        "{}",
        seen.join("\n")
    );
    for t in tasks {
        t.abort();
    }
    zk.kill().await.ok();
    std::fs::remove_dir_all(&dir).ok();
}
