//! The quorum peer over real sockets: processes of the chapter's binary on 127.0.0.1 elect,
//! sync and replicate writes sent through any of them, keep every committed write when the
//! leader is killed, and drop malformed quorum packets without missing a beat.
//!
//! Every wait is on a server's own lines or a client's answer, bounded by [`BOUND`]; nothing
//! sleeps, and nothing is asserted that was not read first.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch01_znode::{Acl, Epoch, SessionId, Sid, Txn, TxnHeader, TxnOp, Zxid};
use ch03_sessions::client::{Client, ClientConfig};
use ch03_sessions::pipeline::Forward;
use ch03_sessions::proto::{Request, SyncRequest};
use ch05_election::notification::Notification;
use ch05_election::vote::{Round, ServerState, Vote};
use ch05_election::wire::{write_frame, InitialMessage};
use ch06_zab::message::Message;
use ch06_zab::packet::{Packet, QuorumReader};
use ch06_zab::txn_codec::TxnEntry;
use ch06_zab::wire::{encode, read_message};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::time::{timeout, Instant};

/// The longest any one wait may take (the machine may be busy).
pub(crate) const BOUND: Duration = Duration::from_secs(60);

/// `n` ports nobody uses right now, all different: each is picked while the others are still
/// held. Ports picked one at a time (each released before the next is asked for) can come
/// back twice, and an ensemble whose `--peer` lines name a port twice is refused before any
/// server listens. They are below the kernel's ephemeral range, so a server killed and run
/// again finds its ports free: no connection can have been given one meanwhile. A server
/// that loses a port to someone else says so, and the ensemble starts again on other ports.
pub(crate) fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<StdListener> = (0..n)
        .map(|_| crate::free_port::listen_on_a_free_port("127.0.0.1").expect("bind"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect()
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Everything the servers of a test printed, and a counter that moves with every line.
#[derive(Clone)]
struct Transcripts {
    lines: Arc<Mutex<BTreeMap<Sid, Vec<String>>>>,
    grew: Arc<watch::Sender<u64>>,
}

impl Transcripts {
    fn new() -> Transcripts {
        Transcripts {
            lines: Arc::default(),
            grew: Arc::new(watch::channel(0).0),
        }
    }

    fn of(&self, sid: Sid) -> Vec<String> {
        let lines = self.lines.lock().expect("transcript lock");
        lines.get(&sid).cloned().unwrap_or_default()
    }

    fn dump(&self) -> String {
        let lines = self.lines.lock().expect("transcript lock");
        let mut out = String::new();
        for (sid, lines) in lines.iter() {
            out.push_str(&format!("--- n{sid}\n{}\n", lines.join("\n")));
        }
        out
    }

    /// Collects `stream`'s lines as `sid`'s.
    fn collect(&self, sid: Sid, stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                this.lines
                    .lock()
                    .expect("transcript lock")
                    .entry(sid)
                    .or_default()
                    .push(line);
                this.grew.send_modify(|n| *n += 1);
            }
        });
    }

    /// Waits until `found` finds something in what the servers printed (or panics after
    /// [`BOUND`], showing everything they printed).
    async fn until<T>(
        &self,
        what: &str,
        mut found: impl FnMut(&BTreeMap<Sid, Vec<String>>) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + BOUND;
        let mut grew = self.grew.subscribe();
        loop {
            if let Some(t) = found(&self.lines.lock().expect("transcript lock")) {
                return t;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if timeout(left, grew.changed()).await.is_err() {
                panic!("timed out after {BOUND:?} waiting for {what}");
            }
        }
    }

    /// Waits for a line of `sid` containing `text` after its first `from` lines; returns
    /// its index.
    async fn line(&self, sid: Sid, from: usize, text: &str) -> usize {
        let what = format!("n{sid} to print {text:?}");
        self.until(&what, |all| {
            let lines = all.get(&sid)?;
            let at = lines.iter().skip(from).position(|l| l.contains(text))?;
            Some(from + at)
        })
        .await
    }
}

/// Shows what the servers printed when a test fails.
struct ShowOnPanic(Transcripts);

impl Drop for ShowOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the servers printed:\n{}", self.0.dump());
        }
    }
}

/// The leader a server serves with, if the last thing it said about serving was that it
/// does (`⇨ serving clients, leader nX`).
fn serving_leader(lines: &[String]) -> Option<Sid> {
    let mut leader = None;
    for line in lines {
        if let Some((_, sid)) = line.split_once("⇨ serving clients, leader n") {
            leader = sid.trim().parse().ok().map(Sid);
        } else if line.contains("⇨ not serving clients") || line.contains("⇨ LOOKING") {
            leader = None;
        }
    }
    leader
}

/// What a server's first line says about its start: it listens (`Ok(true)`), or lost a port
/// to someone else (`Ok(false)`: start again on other ports); `None` while it has said nothing.
/// Any other first line is a server that refused to start (a configuration it rejects, which
/// it says and exits): `Err` with it, rather than a wait for a line that will not come.
fn bound(lines: &[String]) -> Option<Result<bool, String>> {
    let first = lines.first()?;
    Some(match first {
        l if l.contains("(Ctrl-C stops)") => Ok(true),
        l if l.starts_with("cannot listen") => Ok(false),
        other => Err(other.clone()),
    })
}

/// One member's ports.
#[derive(Clone, Copy)]
struct Ports {
    client: u16,
    quorum: u16,
    election: u16,
}

/// Processes of the chapter's binary, one per member started.
struct Ensemble {
    ports: BTreeMap<Sid, Ports>,
    /// The `--peer` words every server gets.
    peers: Vec<String>,
    children: BTreeMap<Sid, Child>,
    out: Transcripts,
    _show: ShowOnPanic,
}

impl Ensemble {
    /// Starts voters `1..=n` (plus, in the configuration only, observers that never run),
    /// on fresh ports, with `tickTime` 1 s. If a port was taken meanwhile, tries again.
    async fn start(n: u64, observers: &[u64]) -> Ensemble {
        for _attempt in 0..5 {
            if let Some(ensemble) = Ensemble::try_start(n, observers).await {
                return ensemble;
            }
        }
        panic!("could not find free ports five times in a row");
    }

    async fn try_start(n: u64, observers: &[u64]) -> Option<Ensemble> {
        let sids: Vec<u64> = (1..=n).chain(observers.iter().copied()).collect();
        let free = free_ports(sids.len() * 3);
        let ports: BTreeMap<Sid, Ports> = sids
            .iter()
            .zip(free.chunks(3))
            .map(|(&sid, p)| {
                let ports = Ports {
                    client: p[0],
                    quorum: p[1],
                    election: p[2],
                };
                (Sid(sid), ports)
            })
            .collect();
        let peers: Vec<String> = ports
            .iter()
            .map(|(sid, p)| {
                let kind = if observers.contains(&sid.0) {
                    ":observer"
                } else {
                    ""
                };
                format!("{sid}=127.0.0.1:{}:{}{kind}", p.quorum, p.election)
            })
            .collect();
        let out = Transcripts::new();
        let mut ensemble = Ensemble {
            ports: ports.clone(),
            peers: peers.clone(),
            children: BTreeMap::new(),
            _show: ShowOnPanic(out.clone()),
            out,
        };
        for sid in (1..=n).map(Sid) {
            ensemble.run(sid);
        }
        // Each server says it listens, or that it cannot.
        for sid in (1..=n).map(Sid) {
            let up = ensemble
                .out
                .until("every server to bind its ports", |all| {
                    bound(all.get(&sid)?)
                })
                .await
                .unwrap_or_else(|why| panic!("n{sid} did not start: {why}"));
            if !up {
                return None;
            }
        }
        Some(ensemble)
    }

    fn client_addr(&self, sid: Sid) -> SocketAddr {
        local(self.ports[&sid].client)
    }

    fn quorum_addr(&self, sid: Sid) -> SocketAddr {
        local(self.ports[&sid].quorum)
    }

    /// Waits until every server of `sids` serves, all with the same leader; returns it.
    async fn agreed(&self, sids: &[Sid]) -> Sid {
        self.agreed_since(sids, &BTreeMap::new()).await
    }

    /// The same, counting only what each server printed after its first `since[sid]` lines.
    async fn agreed_since(&self, sids: &[Sid], since: &BTreeMap<Sid, usize>) -> Sid {
        self.out
            .until("the servers to serve with one leader", |all| {
                let leaders: Vec<Option<Sid>> = sids
                    .iter()
                    .map(|s| {
                        let lines = all.get(s)?;
                        let from = since.get(s).copied().unwrap_or(0).min(lines.len());
                        serving_leader(&lines[from..])
                    })
                    .collect();
                let first = leaders[0]?;
                leaders.iter().all(|l| *l == Some(first)).then_some(first)
            })
            .await
    }

    /// Starts server `sid` (again) on its ports, with `tickTime` 1 s.
    fn run(&mut self, sid: Sid) {
        let client = self.ports[&sid].client;
        let child = spawn(sid, client, &self.peers, &["--tick-ms", "1000"], &self.out);
        self.children.insert(sid, child);
    }

    /// SIGKILL, as `kill -9`: no goodbye on any socket.
    async fn kill(&mut self, sid: Sid) {
        let mut child = self.children.remove(&sid).expect("running");
        child.start_kill().expect("kill");
        let _ = child.wait().await;
    }
}

/// Starts server `sid` of `peers` with its client port on `client`.
fn spawn(sid: Sid, client: u16, peers: &[String], extra: &[&str], out: &Transcripts) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ch06-zab"));
    cmd.arg("--listen")
        .arg(format!("127.0.0.1:{client}"))
        .arg("--myid")
        .arg(sid.to_string())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for p in peers {
        cmd.arg("--peer").arg(p);
    }
    let mut child = cmd.spawn().expect("the chapter's binary runs");
    out.collect(sid, child.stdout.take().expect("piped"));
    out.collect(sid, child.stderr.take().expect("piped"));
    child
}

/// A chapter 3 client on `addr`.
pub(crate) async fn client(addr: SocketAddr) -> Client {
    let (client, _events) = Client::connect(addr, ClientConfig::default())
        .await
        .unwrap_or_else(|e| panic!("a session on {addr}: {e}"));
    client
}

/// What `path` holds as seen from `client`'s server after a `sync`: every write committed
/// before the sync reached the leader (zab.md §8).
pub(crate) async fn synced_read(client: &Client, path: &str) -> Option<Vec<u8>> {
    let sync = Request::Sync(SyncRequest {
        path: Some("/".into()),
    });
    timeout(BOUND, client.request(sync))
        .await
        .expect("sync in time")
        .expect("sync");
    let read = timeout(BOUND, client.get_data(path, false))
        .await
        .expect("read in time");
    read.ok().and_then(|(data, _)| data)
}

async fn create(client: &Client, path: &str, data: &str) {
    let created = timeout(
        BOUND,
        client.create(path, data.as_bytes(), Acl::open_unsafe(), 0),
    )
    .await
    .unwrap_or_else(|_| panic!("create {path} answered in time"));
    assert_eq!(created, Ok(path.to_string()));
}

const ALL_THREE: [Sid; 3] = [Sid(1), Sid(2), Sid(3)];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_replicate_writes_sent_to_any_of_them_and_keep_them_when_the_leader_dies() {
    let mut e = Ensemble::start(3, &[]).await;
    let leader = e.agreed(&ALL_THREE).await;

    // A write through each server: a follower forwards it, the leader proposes it, a
    // quorum logs it, and the server the client is on answers (zab.md §6).
    let mut clients = BTreeMap::new();
    for sid in ALL_THREE {
        let c = client(e.client_addr(sid)).await;
        create(&c, &format!("/w{sid}"), &format!("via n{sid}")).await;
        clients.insert(sid, c);
    }
    for (sid, c) in &clients {
        for w in ALL_THREE {
            let data = synced_read(c, &format!("/w{w}")).await;
            assert_eq!(
                data,
                Some(format!("via n{w}").into_bytes()),
                "/w{w} on n{sid}"
            );
        }
    }

    // Kill the leader: the other two elect one of themselves, and every acknowledged write
    // is still there (a committed txn is on a quorum's disk, and the new leader has the
    // longest history of a quorum: election.md §9).
    drop(clients);
    let rest: Vec<Sid> = ALL_THREE.into_iter().filter(|s| *s != leader).collect();
    let before_kill: BTreeMap<Sid, usize> = rest.iter().map(|s| (*s, e.out.of(*s).len())).collect();
    e.kill(leader).await;
    let new_leader = e.agreed_since(&rest, &before_kill).await;
    assert_ne!(new_leader, leader);
    for sid in &rest {
        let c = client(e.client_addr(*sid)).await;
        for w in ALL_THREE {
            let data = synced_read(&c, &format!("/w{w}")).await;
            assert_eq!(
                data,
                Some(format!("via n{w}").into_bytes()),
                "/w{w} on n{sid}"
            );
        }
    }
    // And the pair goes on taking writes, through the follower too.
    let follower = *rest.iter().find(|s| **s != new_leader).expect("two left");
    let c = client(e.client_addr(follower)).await;
    create(&c, "/after", "the kill").await;
    let other = client(e.client_addr(new_leader)).await;
    assert_eq!(
        synced_read(&other, "/after").await,
        Some(b"the kill".to_vec())
    );

    // The killed server comes back with an empty disk (it is kept in memory for now): it
    // joins the new leader, which sends it the whole database (SNAP), and it serves it.
    let before_restart = e.out.of(new_leader).len();
    let since = BTreeMap::from([(leader, e.out.of(leader).len())]);
    e.run(leader);
    assert_eq!(e.agreed_since(&ALL_THREE, &since).await, new_leader);
    let back = client(e.client_addr(leader)).await;
    for (path, data) in [
        ("/w1", "via n1"),
        ("/w2", "via n2"),
        ("/w3", "via n3"),
        ("/after", "the kill"),
    ] {
        assert_eq!(
            synced_read(&back, path).await,
            Some(data.as_bytes().to_vec()),
            "{path}"
        );
    }
    let synced = format!("n{leader} has up to 0x0: syncs it by SNAP");
    e.out.line(new_leader, before_restart, &synced).await;
    let lines = e.out.of(new_leader);
    assert!(
        lines.iter().any(|l| l.contains("⇨ LEADING")),
        "{}",
        e.out.dump()
    );
}

/// Writes `msg` from server `from` on a quorum connection.
async fn say(w: &mut (impl tokio::io::AsyncWrite + Unpin), from: Sid, msg: &Message) {
    w.write_all(&encode(msg, from, Zxid(0)))
        .await
        .expect("the server reads its quorum port");
}

/// A raw quorum connection to `addr`.
async fn raw(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr)
        .await
        .expect("the quorum port answers")
}

/// Reads packets until one satisfies `wanted` (or panics after [`BOUND`]).
async fn read_until(
    reader: &mut QuorumReader<OwnedReadHalf>,
    wanted: impl Fn(&Message) -> bool,
) -> Message {
    let read = async {
        loop {
            let received = read_message(reader, false)
                .await
                .expect("a packet")
                .expect("the connection is open");
            if wanted(&received.msg) {
                return received.msg;
            }
        }
    };
    timeout(BOUND, read).await.expect("the packet in time")
}

/// Introduces itself as observer `sid` to the leader at `addr` and follows the sync up to
/// NEWLEADER; returns the connection and the leader's epoch.
async fn observer_up_to_new_leader(
    addr: SocketAddr,
    sid: Sid,
) -> (
    QuorumReader<OwnedReadHalf>,
    tokio::net::tcp::OwnedWriteHalf,
    Epoch,
) {
    let (read, mut write) = raw(addr).await.into_split();
    let hello = Message::LearnerInfo {
        observer: true,
        accepted_epoch: Epoch(0),
    };
    say(&mut write, sid, &hello).await;
    let mut reader = QuorumReader::new(read);
    let Message::LeaderInfo { epoch } =
        read_until(&mut reader, |m| matches!(m, Message::LeaderInfo { .. })).await
    else {
        unreachable!()
    };
    let ack = Message::AckEpoch {
        current_epoch: Some(Epoch(0)),
        last_zxid: Zxid(0),
    };
    say(&mut write, sid, &ack).await;
    read_until(&mut reader, |m| matches!(m, Message::NewLeader { .. })).await;
    (reader, write, epoch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_quorum_packets_are_logged_and_dropped_and_the_leader_keeps_serving() {
    // Server 4 is an observer nobody runs: the test speaks for it.
    let e = Ensemble::start(3, &[4]).await;
    let leader = e.agreed(&ALL_THREE).await;
    let quorum = e.quorum_addr(leader);
    // A write first, so that a new learner is sent the whole database (SNAP).
    let at_leader = client(e.client_addr(leader)).await;
    create(&at_leader, "/before", "the garbage").await;
    let from = e.out.of(leader).len();

    // An unknown packet type.
    let mut s = raw(quorum).await;
    s.write_all(&[0, 0, 0, 99, 0, 0, 0, 0]).await.unwrap();
    e.out.line(leader, from, "unknown packet type 99").await;

    // A truncated packet: the first 10 bytes of a FOLLOWERINFO, then the end.
    let mut s = raw(quorum).await;
    let hello = Message::LearnerInfo {
        observer: true,
        accepted_epoch: Epoch(0),
    };
    s.write_all(&encode(&hello, Sid(4), Zxid(0))[..10])
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    e.out.line(leader, from, "after 10 of its bytes").await;

    // An oversized one: an ACK whose data claims 2 GiB.
    let mut s = raw(quorum).await;
    let mut huge = Packet::Ack(Zxid(1)).encode();
    huge.truncate(12);
    huge.extend(i32::MAX.to_be_bytes());
    s.write_all(&huge).await.unwrap();
    e.out.line(leader, from, "over the limit").await;

    // A stranger: FOLLOWERINFO from a server that is not a member.
    let mut s = raw(quorum).await;
    let stranger = Message::LearnerInfo {
        observer: false,
        accepted_epoch: Epoch(0),
    };
    say(&mut s, Sid(9), &stranger).await;
    e.out
        .line(leader, from, "from n9, which is not a member")
        .await;

    // A stale epoch: observer 4 syncs, then acknowledges NEWLEADER of the epoch before.
    let (_reader, mut write, epoch) = observer_up_to_new_leader(quorum, Sid(4)).await;
    e.out
        .line(leader, from, "n4 has up to 0x0: syncs it by SNAP")
        .await;
    let stale = Message::Ack(Epoch(epoch.0 - 1).first_zxid());
    say(&mut write, Sid(4), &stale).await;
    e.out.line(leader, from, "stale epoch: ACK").await;

    // Zxids going backwards: observer 4 again, properly synced, then ACKs 5 and 3.
    let (mut reader, mut write, epoch) = observer_up_to_new_leader(quorum, Sid(4)).await;
    let ack = |counter: i64| Message::Ack(Zxid(epoch.first_zxid().0 | counter));
    say(&mut write, Sid(4), &ack(0)).await;
    read_until(&mut reader, |m| *m == Message::UpToDate).await;
    for counter in [5, 3] {
        say(&mut write, Sid(4), &ack(counter)).await;
    }
    e.out.line(leader, from, "zxid going backwards: ACK").await;

    // The leader never stopped: it still leads, and a write through a follower commits.
    let lines = e.out.of(leader);
    assert!(
        !lines[from..].iter().any(|l| l.contains("not serving")),
        "{}",
        e.out.dump()
    );
    let follower = *ALL_THREE
        .iter()
        .find(|s| **s != leader)
        .expect("a follower");
    let c = client(e.client_addr(follower)).await;
    create(&c, "/still", "serving").await;
    assert_eq!(
        synced_read(&at_leader, "/still").await,
        Some(b"serving".to_vec())
    );
    assert_eq!(e.agreed(&ALL_THREE).await, leader);
}

// ---- a fake leader, to see what a follower does with a broken one -------------------------

/// Tells server 1, on its election port, that server 3 leads and server 2 follows it
/// (election.md §6: a quorum of FOLLOWING/LEADING votes, with the leader's own, is followed
/// at once).
async fn announce_leader_3(
    election: SocketAddr,
    me_addrs: &BTreeMap<Sid, SocketAddr>,
) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    for (sid, state) in [
        (Sid(3), ServerState::Leading),
        (Sid(2), ServerState::Following),
    ] {
        let mut s = TcpStream::connect(election)
            .await
            .expect("the election port");
        let hello = InitialMessage {
            sid,
            addr: me_addrs[&sid].to_string(),
        };
        s.write_all(&hello.encode()).await.unwrap();
        let vote = Vote {
            leader: Sid(3),
            zxid: Zxid(0),
            peer_epoch: Epoch(0),
        };
        let n = Notification::new(state, vote, Round(1));
        write_frame(&mut s, &n.encode()).await.unwrap();
        streams.push(s);
    }
    streams
}

/// Plays leader on one connection from server 1, from its FOLLOWERINFO to its last ACK of
/// UPTODATE, in `epoch`, syncing it with a DIFF.
async fn sync_as_leader(
    listener: &TcpListener,
    epoch: Epoch,
) -> (QuorumReader<OwnedReadHalf>, tokio::net::tcp::OwnedWriteHalf) {
    let (mut reader, mut write, last_zxid) = join_as_leader(listener, epoch).await;
    say(&mut write, Sid(3), &Message::Diff { zxid: last_zxid }).await;
    say(&mut write, Sid(3), &Message::NewLeader { epoch }).await;
    read_until(&mut reader, |m| *m == Message::Ack(epoch.first_zxid())).await;
    say(&mut write, Sid(3), &Message::UpToDate).await;
    read_until(&mut reader, |m| *m == Message::Ack(epoch.first_zxid())).await;
    (reader, write)
}

fn txn(zxid: i64, session: SessionId, op: TxnOp) -> Txn {
    TxnHeader {
        session,
        cxid: 0,
        zxid: Zxid(zxid),
        time_ms: 1000,
    }
    .txn(op)
}

fn nothing(zxid: i64) -> Message {
    Message::Proposal(Arc::new(TxnEntry::new(txn(
        zxid,
        SessionId(1),
        TxnOp::Delete {
            path: "/none".into(),
        },
    ))))
}

/// Server 1 of an ensemble whose servers 2 and 3 are the test: nobody listens on their
/// election ports (the test calls server 1 instead, as the larger sids do), and server 3's
/// quorum port is the test's.
struct Alone {
    out: Transcripts,
    elections: BTreeMap<Sid, SocketAddr>,
    fake_quorum: TcpListener,
    client: u16,
    _server: Child,
}

impl Alone {
    /// [`Alone::start`], on other ports while a port is taken meanwhile (five tries).
    async fn start_somewhere() -> Alone {
        for _ in 0..5 {
            if let Some(alone) = Alone::start().await {
                return alone;
            }
        }
        panic!("could not find free ports five times in a row");
    }

    /// `None` if a port was taken meanwhile.
    async fn start() -> Option<Alone> {
        let fake_quorum = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let free = free_ports(6);
        let ports = Ports {
            client: free[0],
            quorum: free[1],
            election: free[2],
        };
        let (election_2, election_3, quorum_2) = (free[3], free[4], free[5]);
        let elections: BTreeMap<Sid, SocketAddr> = [
            (Sid(1), local(ports.election)),
            (Sid(2), local(election_2)),
            (Sid(3), local(election_3)),
        ]
        .into();
        let quorums = [
            (Sid(1), local(ports.quorum)),
            (Sid(2), local(quorum_2)),
            (Sid(3), fake_quorum.local_addr().unwrap()),
        ];
        let peers: Vec<String> = quorums
            .iter()
            .map(|(sid, q)| format!("{sid}={}:{}:{}", q.ip(), q.port(), elections[sid].port()))
            .collect();
        let out = Transcripts::new();
        // Long limits: the test's leader never pings.
        let limits = [
            "--tick-ms",
            "500",
            "--init-limit",
            "20",
            "--sync-limit",
            "20",
        ];
        let server = spawn(Sid(1), ports.client, &peers, &limits, &out);
        let up = out
            .until("server 1 to bind its ports", |all| bound(all.get(&Sid(1))?))
            .await
            .unwrap_or_else(|why| panic!("n1 did not start: {why}"));
        up.then_some(Alone {
            out,
            elections,
            fake_quorum,
            client: ports.client,
            _server: server,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_drops_a_leader_that_goes_back_in_time_and_follows_a_sound_one() {
    // Server 1 is real; 2 and 3 are this test.
    let alone = Alone::start_somewhere().await;
    let Alone {
        out,
        elections,
        fake_quorum,
        client: client_port,
        _server,
    } = alone;
    let _show = ShowOnPanic(out.clone());
    let n1 = Sid(1);
    out.line(n1, 0, "⇨ LOOKING").await;

    // 1. Zxids going backwards: PROPOSAL 2, then PROPOSAL 1.
    let _votes = announce_leader_3(elections[&n1], &elections).await;
    let (_reader, mut write) = sync_as_leader(&fake_quorum, Epoch(1)).await;
    for zxid in [0x100000002, 0x100000001] {
        say(&mut write, Sid(3), &nothing(zxid)).await;
    }
    let dropped = out
        .line(
            n1,
            0,
            "zxid going backwards: PROPOSAL 0x100000001 after 0x100000002",
        )
        .await;
    let looking = out.line(n1, dropped, "⇨ LOOKING").await;

    // 2. A stale epoch: after NEWLEADER of epoch 2, a proposal of epoch 1.
    let _votes = announce_leader_3(elections[&n1], &elections).await;
    let (_reader, mut write) = sync_as_leader(&fake_quorum, Epoch(2)).await;
    say(&mut write, Sid(3), &nothing(0x100000007)).await;
    let dropped = out
        .line(
            n1,
            looking,
            "stale epoch: PROPOSAL 0x100000007 is from epoch 1",
        )
        .await;
    let looking = out.line(n1, dropped, "⇨ LOOKING").await;

    // 3. A leader whose epoch is older than the one server 1 has promised (zab.md §4, step 5).
    let _votes = announce_leader_3(elections[&n1], &elections).await;
    let (stream, _) = timeout(BOUND, fake_quorum.accept())
        .await
        .expect("in time")
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = QuorumReader::new(read);
    read_until(&mut reader, |m| matches!(m, Message::LearnerInfo { .. })).await;
    let old = Message::LeaderInfo { epoch: Epoch(1) };
    say(&mut write, Sid(3), &old).await;
    let dropped = out
        .line(
            n1,
            looking,
            "leader's epoch 1 is less than our accepted epoch 2",
        )
        .await;
    let looking = out.line(n1, dropped, "⇨ LOOKING").await;

    // 4. A sound leader: server 1 follows it and serves a client, whose new session it
    //    forwards as a REQUEST and applies when it is committed.
    let _votes = announce_leader_3(elections[&n1], &elections).await;
    let (mut reader, mut write) = sync_as_leader(&fake_quorum, Epoch(3)).await;
    out.line(n1, looking, "⇨ serving clients, leader n3").await;
    let addr = local(client_port);
    let connecting = tokio::spawn(async move { client(addr).await });
    let Message::Request(forwarded) =
        read_until(&mut reader, |m| matches!(m, Message::Request(_))).await
    else {
        unreachable!()
    };
    let Forward::CreateSession { timeout_ms } = forwarded.op else {
        panic!("a new session first, not {:?}", forwarded.op);
    };
    let zxid = Epoch(3).first_zxid().0 + 1;
    let create = Message::Proposal(Arc::new(TxnEntry::new(txn(
        zxid,
        forwarded.session,
        TxnOp::CreateSession { timeout_ms },
    ))));
    say(&mut write, Sid(3), &create).await;
    read_until(&mut reader, |m| *m == Message::Ack(Zxid(zxid))).await;
    let commit = Message::Commit(Zxid(zxid));
    say(&mut write, Sid(3), &commit).await;
    let c = timeout(BOUND, connecting)
        .await
        .expect("connected in time")
        .unwrap();
    assert_eq!(c.session_id(), forwarded.session);
    let (_, stat) = timeout(BOUND, c.get_data("/", false))
        .await
        .expect("in time")
        .expect("a read is answered by the follower itself");
    assert_eq!(stat.czxid, Zxid(0));
}

/// Plays leader 3 on one connection from server 1 as far as its ACKEPOCH, in `epoch`: the
/// connection and the last zxid server 1 says it has.
async fn join_as_leader(
    listener: &TcpListener,
    epoch: Epoch,
) -> (
    QuorumReader<OwnedReadHalf>,
    tokio::net::tcp::OwnedWriteHalf,
    Zxid,
) {
    let (stream, _) = timeout(BOUND, listener.accept())
        .await
        .expect("server 1 connects in time")
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = QuorumReader::new(read);
    read_until(&mut reader, |m| matches!(m, Message::LearnerInfo { .. })).await;
    say(&mut write, Sid(3), &Message::LeaderInfo { epoch }).await;
    let Message::AckEpoch { last_zxid, .. } =
        read_until(&mut reader, |m| matches!(m, Message::AckEpoch { .. })).await
    else {
        unreachable!()
    };
    (reader, write, last_zxid)
}

/// Sends server 1 a SNAP of a database holding the sessions created at `zxids`, then
/// NEWLEADER and UPTODATE, reading its ACKs.
async fn snap_new_leader_up_to_date(
    reader: &mut QuorumReader<OwnedReadHalf>,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    epoch: Epoch,
    zxids: &[i64],
) {
    let mut db = ch03_sessions::pipeline::Database::default();
    for &z in zxids {
        db.apply(&txn(
            z,
            SessionId(z),
            TxnOp::CreateSession { timeout_ms: 30_000 },
        ));
    }
    let zxid = db.last_processed_zxid();
    say(
        write,
        Sid(3),
        &Message::Snap {
            zxid,
            db: Box::new(db),
        },
    )
    .await;
    say(write, Sid(3), &Message::NewLeader { epoch }).await;
    read_until(reader, |m| *m == Message::Ack(epoch.first_zxid())).await;
    say(write, Sid(3), &Message::UpToDate).await;
    read_until(reader, |m| *m == Message::Ack(epoch.first_zxid())).await;
}

/// A SNAP from a leader whose epoch never began leaves a snapshot holding a txn that leader
/// never committed; the next leader's TRUNC below it cannot be carried out (no log holds that
/// txn, the snapshot does). Server 1 refuses it, leaves, and tells the same leader it has
/// nothing (last zxid -1), which gets it a SNAP; its next vote names that SNAP's last zxid,
/// not the txn the TRUNC was for. (ZooKeeper cuts the log and reloads the snapshot, txn and
/// all.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunc_below_a_snapshot_is_refused_and_a_snap_asked_for_instead() {
    let alone = Alone::start_somewhere().await;
    let Alone {
        out,
        elections,
        fake_quorum,
        _server,
        ..
    } = alone;
    let _show = ShowOnPanic(out.clone());
    let n1 = Sid(1);
    out.line(n1, 0, "⇨ LOOKING").await;
    let (one, two) = (0x100000001, 0x100000002);

    // Epoch 1: a SNAP up to 0x100000002, written down as a snapshot at NEWLEADER.
    let _votes = announce_leader_3(elections[&n1], &elections).await;
    let (mut reader, mut write, last) = join_as_leader(&fake_quorum, Epoch(1)).await;
    assert_eq!(last, Zxid(0));
    snap_new_leader_up_to_date(&mut reader, &mut write, Epoch(1), &[one, two]).await;
    let serving = out.line(n1, 0, "⇨ serving clients, leader n3").await;
    drop((reader, write));
    let looking = out.line(n1, serving, "⇨ LOOKING").await;

    // Epoch 2's leader never had 0x100000002: TRUNC to 0x100000001, which is refused.
    let _votes = announce_leader_3(elections[&n1], &elections).await;
    let (_reader, mut write, last) = join_as_leader(&fake_quorum, Epoch(2)).await;
    assert_eq!(last, Zxid(two));
    say(&mut write, Sid(3), &Message::Trunc { zxid: Zxid(one) }).await;
    let refused = out
        .line(n1, looking, "cannot cut its log back to 0x100000001")
        .await;
    let looking = out.line(n1, refused, "⇨ LOOKING").await;

    // The same leadership again: "nothing", then a SNAP up to 0x100000001.
    let _votes = announce_leader_3(elections[&n1], &elections).await;
    let (mut reader, mut write, last) = join_as_leader(&fake_quorum, Epoch(2)).await;
    assert_eq!(last, Zxid(-1), "server 1 asks for a SNAP");
    snap_new_leader_up_to_date(&mut reader, &mut write, Epoch(2), &[one]).await;
    let serving = out.line(n1, looking, "⇨ serving clients, leader n3").await;
    drop((reader, write));
    out.line(
        n1,
        serving,
        "votes for itself, n1 (epoch 2, zxid 0x100000001)",
    )
    .await;
}
