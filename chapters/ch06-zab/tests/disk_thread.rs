//! The disk on its own thread, over real sockets: a leader whose fdatasync does not return
//! still commits writes on its followers' ACKs, and a disk that fails stops its server with
//! the disk's own error.
//!
//! Three servers run in this process, each on a [`Gated`] disk whose sync the test can hold
//! or break. Every wait is on a server's report or a client's answer, bounded by [`BOUND`].
//! A third test gives the disks a real fdatasync and has a follower snapshot every two txns
//! under a stream of writes: it must ACK every txn, in order.

use std::fs::File;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use ch01_znode::{Acl, Sid, Zxid};
use ch03_sessions::client::Client;
use ch03_sessions::pipeline::Database;
use ch06_zab::peer::{Epochs, Recovered};
use ch06_zab::storage::{Disk, Storage};
use ch06_zab::tcp::cli::{spec, ListenFlags};
use ch06_zab::tcp::{serve, Listeners, TcpEvent, Traced};
use ch06_zab::txn_codec::TxnEntry;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::tcp::{client, synced_read, BOUND};

/// What the test does to a server's syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sync {
    Pass,
    /// Each sync waits until the gate changes.
    Hold,
    /// Each sync fails.
    Fail,
}

/// A server's sync, as the test sets it, and how many syncs wait at the gate.
#[derive(Default)]
struct Gate {
    state: Mutex<(Option<Sync>, usize)>,
    changed: Condvar,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, (Option<Sync>, usize)> {
        self.state.lock().expect("gate")
    }

    fn set(&self, sync: Sync) {
        self.lock().0 = Some(sync);
        self.changed.notify_all();
    }

    /// Syncs waiting at the gate now.
    fn held(&self) -> usize {
        self.lock().1
    }

    /// Waits (on the disk thread) as the gate says; `Err` if the sync must fail.
    fn pass(&self) -> io::Result<()> {
        let mut state = self.lock();
        state.1 += 1;
        self.changed.notify_all();
        while state.0 == Some(Sync::Hold) {
            state = self.changed.wait(state).expect("gate");
        }
        state.1 -= 1;
        match state.0 {
            Some(Sync::Fail) => Err(io::Error::other("injected: the disk is gone")),
            _ => Ok(()),
        }
    }

    /// Waits until `n` syncs are held.
    fn wait_held(&self, n: usize) {
        let mut state = self.lock();
        while state.1 < n {
            let (next, timed_out) = self.changed.wait_timeout(state, BOUND).expect("gate");
            assert!(!timed_out.timed_out(), "{n} syncs held in time");
            state = next;
        }
    }
}

/// Chapter 6's memory disk, its syncs passing through a [`Gate`], and taking as long as a
/// real one if it has a `scratch` file to fdatasync.
struct Gated {
    disk: Disk,
    gate: Arc<Gate>,
    scratch: Option<File>,
}

impl Storage for Gated {
    fn recover(&mut self, recent: usize) -> io::Result<Recovered> {
        Storage::recover(&mut self.disk, recent)
    }
    fn save_epochs(&mut self, epochs: Epochs) -> io::Result<()> {
        self.disk.save_epochs(epochs)
    }
    fn append(&mut self, entry: &TxnEntry) -> io::Result<()> {
        self.disk.append(entry)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.gate.pass()?;
        if let Some(file) = &mut self.scratch {
            file.write_all(b".")?;
            file.sync_data()?;
        }
        self.disk.sync()
    }
    fn truncate(&mut self, zxid: Zxid, recent: usize) -> io::Result<Option<Recovered>> {
        Storage::truncate(&mut self.disk, zxid, recent)
    }
    fn sync_snapshot(&mut self, db: &Database) -> io::Result<()> {
        Storage::sync_snapshot(&mut self.disk, db)
    }
    fn begin_snapshot(&mut self, db: &Database) -> io::Result<bool> {
        Storage::begin_snapshot(&mut self.disk, db)
    }
}

/// A server running in this process: its gate, why its disk failed, how it ended.
struct Server {
    gate: Arc<Gate>,
    failed: watch::Receiver<Option<String>>,
    task: JoinHandle<io::Error>,
    client: SocketAddr,
}

/// Whom each of the three serves under.
type Serving = watch::Receiver<[Option<Sid>; 3]>;

/// How the servers of [`ensemble`] differ from the defaults.
#[derive(Clone, Copy, Default)]
struct Setup {
    /// `snapCount`, if not the default.
    snap_count: Option<u32>,
    /// Each sync also fdatasyncs a scratch file, so it lasts as long as a real disk's.
    real_syncs: bool,
}

/// A file to fdatasync, already unlinked: nothing is left behind.
fn scratch(i: usize) -> File {
    let path = std::env::temp_dir().join(format!("keeper-disk-thread-{}-{i}", std::process::id()));
    let file = File::create(&path).expect("a scratch file");
    std::fs::remove_file(&path).expect("unlinked");
    file
}

/// Three servers on 127.0.0.1, each on its own gated memory disk.
async fn ensemble(setup: Setup) -> (Vec<Server>, Serving) {
    // Below the ephemeral range: a port picked by bind(0) and let go could be handed to any
    // outgoing connection (another test's) before the server listens on it again.
    let ports = super::tcp::free_ports(9);
    let peers: Vec<String> = (0..3)
        .map(|i| format!("{}=127.0.0.1:{}:{}", i + 1, ports[3 * i], ports[3 * i + 1]))
        .collect();
    let mut servers = Vec::new();
    let (serving_tx, serving) = watch::channel([None; 3]);
    let serving_tx = Arc::new(serving_tx);
    for i in 0..3 {
        let client = SocketAddr::from(([127, 0, 0, 1], ports[3 * i + 2]));
        let flags = ListenFlags {
            listen: Some(client),
            myid: Some(i as u64 + 1),
            peer: peers.clone(),
            tick_ms: 2000,
            init_limit: 10,
            sync_limit: 5,
            quiet: true,
        };
        let mut spec = spec(&flags).expect("a sound spec");
        if let Some(snap_count) = setup.snap_count {
            spec.config.snap_count = snap_count;
        }
        let listeners = Listeners::bind(&spec).await.expect("free ports");
        let gate = Arc::new(Gate::default());
        let disk = Gated {
            disk: Disk::default(),
            gate: gate.clone(),
            scratch: setup.real_syncs.then(|| scratch(i)),
        };
        let (tx, mut rx) = mpsc::channel::<Traced>(ch06_zab::tcp::EVENT_QUEUE);
        let (failed_tx, failed) = watch::channel(None);
        let serving_tx = serving_tx.clone();
        tokio::spawn(async move {
            while let Some(traced) = rx.recv().await {
                match traced.event {
                    TcpEvent::Serving(leader) => serving_tx.send_modify(|s| s[i] = leader),
                    TcpEvent::Dropped(why) if why.contains("disk") => {
                        failed_tx.send_replace(Some(why));
                    }
                    _ => {}
                }
            }
        });
        let task = tokio::spawn(serve(spec, listeners, disk, tx));
        servers.push(Server {
            gate,
            failed,
            task,
            client,
        });
    }
    (servers, serving)
}

/// The leader all three serve under, once they agree.
async fn agreed(serving: &mut Serving) -> Sid {
    let all = timeout(
        BOUND,
        serving.wait_for(|s| s[0].is_some() && s.iter().all(|l| *l == s[0])),
    )
    .await
    .expect("three servers agree on a leader in time")
    .expect("the servers report");
    all[0].expect("a leader")
}

async fn create(client: &Client, path: &str) {
    let created = timeout(BOUND, client.create(path, b"", Acl::open_unsafe(), 0))
        .await
        .unwrap_or_else(|_| panic!("create {path} answered in time"));
    assert_eq!(created, Ok(path.to_string()));
}

// ANCHOR: commits_without_its_own_sync
/// A leader commits a proposal once a quorum has ACKed it, its own ACK being one like the
/// others: two followers suffice in three, so the leader's own sync is not on the write's
/// path (`Leader.processAck`, `tryToCommit`; the leader logs in its `SyncRequestProcessor`
/// thread). Here the leader's fdatasync does not return, and a write through it is still
/// answered; when its disk fails, it stops with the disk's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_commits_on_its_followers_acks_while_its_own_sync_is_stuck() {
    let (mut servers, mut serving) = ensemble(Setup::default()).await;
    let leader = agreed(&mut serving).await;
    let at = |sid: Sid| (sid.0 - 1) as usize;
    let on_leader = client(servers[at(leader)].client).await;
    create(&on_leader, "/before").await;

    servers[at(leader)].gate.set(Sync::Hold);
    create(&on_leader, "/held").await;
    // The answer came while the leader's own sync of /held was still held at the gate.
    servers[at(leader)].gate.wait_held(1);
    for follower in [1, 2, 3].map(Sid).into_iter().filter(|s| *s != leader) {
        let c = client(servers[at(follower)].client).await;
        assert_eq!(
            synced_read(&c, "/held").await,
            Some(Vec::new()),
            "/held on n{follower}"
        );
    }
    assert!(servers[at(leader)].gate.held() >= 1);

    // The disk comes back, then breaks: the server stops with the disk's own error.
    servers[at(leader)].gate.set(Sync::Pass);
    create(&on_leader, "/after").await;
    servers[at(leader)].gate.set(Sync::Fail);
    let _ = timeout(
        BOUND,
        on_leader.create("/broken", b"", Acl::open_unsafe(), 0),
    )
    .await;
    let stopped = timeout(BOUND, &mut servers[at(leader)].task)
        .await
        .expect("the leader stops in time")
        .expect("the leader's task ends on its own");
    assert_eq!(stopped.to_string(), "injected: the disk is gone");
    let why = timeout(BOUND, servers[at(leader)].failed.wait_for(Option::is_some))
        .await
        .expect("reported in time")
        .expect("the server reports")
        .clone();
    assert_eq!(
        why.as_deref(),
        Some("the disk failed: injected: the disk is gone; stopping")
    );
    for server in &servers {
        server.task.abort();
    }
}
// ANCHOR_END: commits_without_its_own_sync

/// A follower ACKs each txn once it is logged, in the order it was logged
/// (`SendAckRequestProcessor` after `SyncRequestProcessor.flush`), whatever else its disk
/// does meanwhile. Here one follower snapshots every two txns under a stream of writes, 64
/// in flight, on disks whose syncs take as long as a real one's, so its snapshots borrow the
/// storage while more txns are being logged; the other follower is stopped, so nothing
/// commits without the first one's ACKs. A `Logged` that a loan brings must wait behind the
/// ones already taken: fed first, it made the follower drop the rest and never ACK again,
/// and the writes stalled (13 runs of 13; the order is up to the threads, so a run that
/// never meets it is possible, and more rounds make it rarer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_that_snapshots_under_a_write_stream_acks_every_txn_in_order() {
    let setup = Setup {
        snap_count: Some(2),
        real_syncs: true,
    };
    let (mut servers, mut serving) = ensemble(setup).await;
    let leader = agreed(&mut serving).await;
    let at = |sid: Sid| (sid.0 - 1) as usize;
    let mut followers = [1, 2, 3].map(Sid).into_iter().filter(|s| *s != leader);
    let (acking, stopped) = (followers.next().unwrap(), followers.next().unwrap());
    let on_leader = client(servers[at(leader)].client).await;
    create(&on_leader, "/before").await;

    servers[at(stopped)].task.abort();
    let _ = (&mut servers[at(stopped)].task).await;
    for round in 0..128 {
        let mut writes = tokio::task::JoinSet::new();
        for i in 0..64 {
            let client = on_leader.clone();
            writes.spawn(async move { create(&client, &format!("/w{round}-{i}")).await });
        }
        while let Some(done) = writes.join_next().await {
            done.expect("every write is answered");
        }
    }
    let on_acking = client(servers[at(acking)].client).await;
    assert_eq!(synced_read(&on_acking, "/w127-63").await, Some(Vec::new()));
    for server in &servers {
        server.task.abort();
    }
}
