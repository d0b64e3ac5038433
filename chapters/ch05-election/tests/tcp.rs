//! The same election over real sockets on 127.0.0.1: three servers agree on
//! a leader, elect again when it dies, and shrug off malformed bytes.
//!
//! Every wait is on the servers' own reports, bounded by a timeout; nothing
//! sleeps to synchronise. A test asserts only on reports it has already
//! read: a server reports its decision and then, as a separate line, its new
//! state, so "everyone decided" is not yet "the leader said LEADING". Each
//! wait names the exact reports it needs and reads until it has them.

use ch01_znode::Sid;
use ch05_election::peer::{Durable, Note as ElectionNote};
use ch05_election::quorum::QuorumMaj;
use ch05_election::standin::{Config, Note};
use ch05_election::tcp::{serve, ServerSpec, TcpEvent, Traced};
use ch05_election::vote::{Round, ServerState};
use ch05_election::wire::{self, InitialMessage};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const BOUND: Duration = Duration::from_secs(30);

/// What the test has read of the servers' reports so far.
#[derive(Default)]
struct Seen {
    /// What each server last said it decided: (leader, round), or `None`
    /// while looking.
    decisions: BTreeMap<Sid, Option<(Sid, Round)>>,
    /// Each server's last reported state.
    states: BTreeMap<Sid, ServerState>,
    /// Every report, in the order read.
    log: Vec<String>,
}

impl Seen {
    fn record(&mut self, t: Traced) {
        self.log.push(t.to_string());
        match t.event {
            TcpEvent::Note(Note::Election(ElectionNote::Decided { leader, round, .. })) => {
                self.decisions.insert(t.sid, Some((leader, round)));
            }
            TcpEvent::Note(Note::Election(ElectionNote::Looking { .. })) => {
                self.decisions.insert(t.sid, None);
            }
            TcpEvent::State(state) => {
                self.states.insert(t.sid, state);
            }
            _ => {}
        }
    }

    fn reported(&self, text: &str) -> bool {
        self.log.iter().any(|l| l.contains(text))
    }

    /// The one (leader, round) all of `sids` decided, once every one of
    /// them has also reported the state that decision puts it in: the
    /// leader LEADING, the others FOLLOWING.
    fn settled(&self, sids: &[Sid]) -> Option<(Sid, Round)> {
        let (leader, round) = (*self.decisions.get(&sids[0])?)?;
        sids.iter()
            .all(|s| {
                let role = if *s == leader {
                    ServerState::Leading
                } else {
                    ServerState::Following
                };
                self.decisions.get(s) == Some(&Some((leader, round)))
                    && self.states.get(s) == Some(&role)
            })
            .then_some((leader, round))
    }
}

struct Ensemble {
    servers: BTreeMap<Sid, JoinHandle<()>>,
    addrs: BTreeMap<Sid, SocketAddr>,
    events: mpsc::UnboundedReceiver<Traced>,
    seen: Seen,
}

impl Ensemble {
    /// `n` voters on loopback ports bound before any server starts (so no
    /// other process can take them), with a fast heartbeat (100 ms ticks,
    /// so a silent leader is noticed after 500 ms).
    async fn start(n: u64) -> Ensemble {
        let mut listeners = BTreeMap::new();
        for sid in (1..=n).map(Sid) {
            let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            listeners.insert(sid, l);
        }
        let addrs: BTreeMap<Sid, SocketAddr> = listeners
            .iter()
            .map(|(sid, l)| (*sid, l.local_addr().expect("addr")))
            .collect();
        let mut config = Config::new(Arc::new(QuorumMaj::new((1..=n).map(Sid), [])));
        config.tick_ms = 100;
        let (tx, events) = mpsc::unbounded_channel();
        let servers = listeners
            .into_iter()
            .map(|(sid, listener)| {
                let spec = ServerSpec {
                    sid,
                    addrs: addrs.clone(),
                    config: config.clone(),
                    durable: Durable::default(),
                };
                (sid, tokio::spawn(serve(spec, listener, tx.clone())))
            })
            .collect();
        Ensemble {
            servers,
            addrs,
            events,
            seen: Seen::default(),
        }
    }

    /// Reads reports until `done` holds on what was read (or panics after
    /// BOUND, with every report read).
    async fn until(&mut self, what: &str, done: impl Fn(&Seen) -> bool) {
        let wait = async {
            while !done(&self.seen) {
                let t = self.events.recv().await.expect("servers report");
                self.seen.record(t);
            }
        };
        if tokio::time::timeout(BOUND, wait).await.is_err() {
            panic!(
                "timed out waiting until {what}; reports:\n{}",
                self.seen.log.join("\n")
            );
        }
    }

    /// Kill a server: its task, sockets and timers are gone at once.
    async fn kill(&mut self, sid: Sid) {
        let handle = self.servers.remove(&sid).expect("running");
        handle.abort();
        let _ = handle.await;
        self.seen.decisions.remove(&sid);
        self.seen.states.remove(&sid);
    }
}

/// The servers of `Ensemble::start(3)`.
const ALL_THREE: [Sid; 3] = [Sid(1), Sid(2), Sid(3)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_elect_over_tcp_and_elect_again_when_the_leader_dies() {
    let mut e = Ensemble::start(3).await;
    e.until("all three agree and report their roles", |s| {
        s.settled(&ALL_THREE).is_some()
    })
    .await;
    let (leader, round) = e.seen.settled(&ALL_THREE).unwrap();
    assert!(
        e.seen.reported(&format!("n{leader} ⇨ LEADING")),
        "{}",
        e.seen.log.join("\n")
    );

    e.kill(leader).await;
    let rest: Vec<Sid> = ALL_THREE.into_iter().filter(|s| *s != leader).collect();
    e.until("the other two settle on a new leader", |s| {
        s.settled(&rest).is_some_and(|(l, _)| l != leader)
    })
    .await;
    let (new_leader, new_round) = e.seen.settled(&rest).unwrap();
    assert!(rest.contains(&new_leader));
    assert!(new_round > round, "a new election is a new round");
    // A follower looks again only once its own silence timer fires, and it
    // says so before its new decision, which was read above.
    for s in &rest {
        assert!(
            e.seen
                .reported(&format!("n{s} • leader n{leader} went silent")),
            "{}",
            e.seen.log.join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bytes_are_dropped_and_the_election_goes_on() {
    let mut e = Ensemble::start(3).await;
    let target = e.addrs[&Sid(1)];

    // An unknown protocol version.
    let mut s = TcpStream::connect(target).await.unwrap();
    s.write_all(&(-7i64).to_be_bytes()).await.unwrap();

    // A proper handshake from a larger sid, then an oversized frame.
    let mut s2 = TcpStream::connect(target).await.unwrap();
    let hello = InitialMessage {
        sid: Sid(9),
        addr: "127.0.0.1:1".into(),
    };
    s2.write_all(&hello.encode()).await.unwrap();
    s2.write_all(&(600 * 1024i32).to_be_bytes()).await.unwrap();

    // Another, then a notification with state 9 (no such state).
    let mut s3 = TcpStream::connect(target).await.unwrap();
    let hello = InitialMessage {
        sid: Sid(8),
        addr: "127.0.0.1:2".into(),
    };
    s3.write_all(&hello.encode()).await.unwrap();
    let mut bad = vec![0u8; 44];
    bad[..4].copy_from_slice(&9i32.to_be_bytes());
    wire::write_frame(&mut s3, &bad).await.unwrap();

    e.until("all three agree", |s| s.settled(&ALL_THREE).is_some())
        .await;
    e.until("each malformed input is reported", |s| {
        s.reported("unknown protocol version -7")
            && s.reported("invalid length 614400")
            && s.reported("unknown server state 9; message skipped")
    })
    .await;
    drop((s, s2, s3));
    assert!(
        e.servers.values().all(|h| !h.is_finished()),
        "no server died"
    );
}
