//! The same figures on a replicated server: bytes per znode and per held session on one
//! member of a three-server ensemble, Keeper's and ZooKeeper 3.8's.
//!
//! A standalone server is not the whole story: in an ensemble every member also keeps what
//! replication needs (the leader's proposals in flight, a follower's queue of txns to apply,
//! the sessions the leader tracks for the whole ensemble). So each figure starts three servers
//! of one program from the ensemble bench's files ([`Ensemble`]: one zoo.cfg and `myid` per
//! server, all on 127.0.0.1), waits for one leader and two followers, and measures a
//! *follower*, where most clients are connected:
//!
//! - **resident memory per held session**: `n` raw sessions held on the follower of a
//!   **fresh** ensemble, as [`sessions`] does on a fresh standalone server;
//! - **bytes per znode**: on another fresh ensemble, the follower's resident memory before and
//!   after `n` creates (100-byte values, ZooKeeper's DataTree-bench paths) sent through it by
//!   one pipelined client session; each create's reply comes once the follower has applied
//!   it, so the tree is complete when the last reply arrives;
//! - **per held session, after the znodes**: then the same sessions held on that follower, the
//!   order this bench used to take its session figure in. It is kept as a row of its own
//!   because it shows why that was unfair.
//!
//! Why the sessions get a fresh ensemble: a server's resident memory keeps what it once
//! touched. After 100,000 creates the JVM has grown its committed heap by tens of megabytes,
//! and a full GC frees the garbage inside it without handing the pages back, so sessions
//! opened then land in memory already resident and the figure counts little of them
//! (glibc keeps some freed blocks the same way for Keeper). The standalone rows measure a
//! fresh server; the follower's session row now measures the same state for both programs.
//! For ZooKeeper the bench also reads `jcmd <pid> GC.heap_info` at each resident reading: its
//! heap in use and committed, printed beside the resident figure and summed up in a note.
//!
//! Before the znodes' readings the ZooKeeper member is asked for a full GC (`jcmd <pid>
//! GC.run`), so its figure holds no garbage to speak of; that only ever lowers its figure.
//! The session readings take none, as on the standalone server.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use ch01_znode::Acl;
use ch03_sessions::client::{Client, ClientConfig};

use crate::members::{Ensemble, Program};
use crate::sessions::{self, Kind, Reading};

/// The longest an ensemble may take to elect (three JVMs on a loaded machine).
const START_BOUND: Duration = Duration::from_secs(120);
/// Creates in flight on the one session that sends them.
const OUTSTANDING: usize = 256;
/// Children per parent, as ZooKeeper's DataTree bench lays them out.
const FANOUT: usize = 1000;
/// Bytes of data per znode.
const VALUE: usize = 100;

/// What holding sessions on a follower added to it.
#[derive(Clone, Copy, Debug)]
pub struct HeldFigures {
    /// Resident bytes per held session.
    pub bytes_per_session: f64,
    /// ZooKeeper only: the JVM heap's bytes in use and committed, added per held session.
    pub heap: Option<Heap>,
}

/// A JVM's heap as `jcmd <pid> GC.heap_info` reports it, in bytes (or bytes per session).
#[derive(Clone, Copy, Debug, Default)]
pub struct Heap {
    pub used: f64,
    pub committed: f64,
}

fn program(kind: Kind) -> Program {
    match kind {
        Kind::Keeper => Program::Keeper,
        Kind::ZooKeeper => Program::ZooKeeper,
    }
}

/// A fresh ensemble of one program and the follower the figures are taken on.
struct Follower {
    kind: Kind,
    pid: u32,
    addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    /// Dropped last: every member is killed with it.
    _ensemble: Ensemble,
}

impl Follower {
    fn start(kind: Kind) -> Result<Follower, String> {
        let mut ensemble = Ensemble::write(program(kind))?;
        ensemble.start_all()?;
        let (_, follower) = ensemble.serving(START_BOUND)?;
        let pid = ensemble
            .pid(follower)
            .ok_or_else(|| ensemble.explain("the follower's process is gone"))?;
        let addr = ensemble.clients()[follower];
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Follower {
            kind,
            pid,
            addr,
            runtime,
            _ensemble: ensemble,
        })
    }

    /// Holds `n` sessions on the follower; what they added to it.
    fn hold(&self, n: usize) -> Result<HeldFigures, String> {
        let (kind, pid) = (self.kind, self.pid);
        let mut heaps = Vec::new();
        let figures = self
            .runtime
            .block_on(sessions::held(kind, pid, self.addr, n, |at| {
                if kind == Kind::ZooKeeper {
                    heaps.push((at, heap_info(pid)));
                }
            }))?;
        let heap = match heaps.as_slice() {
            [(Reading::Before, Some(before)), (Reading::After, Some(after))] => Some(Heap {
                used: (after.used - before.used) / n as f64,
                committed: (after.committed - before.committed) / n as f64,
            }),
            _ => None,
        };
        Ok(HeldFigures {
            bytes_per_session: figures.bytes_per_session,
            heap,
        })
    }

    /// Creates `n` znodes through the follower; the resident bytes they added, per znode.
    fn create(&self, n: usize) -> Result<f64, String> {
        self.runtime.block_on(async {
            let before = resident(self.kind, self.pid).await?;
            create(self.addr, n).await?;
            let after = resident(self.kind, self.pid).await?;
            Ok(after.saturating_sub(before) as f64 / n as f64)
        })
    }
}

/// Holds `held` sessions on a follower of a fresh ensemble of `kind`.
pub fn sessions(kind: Kind, held: usize) -> Result<HeldFigures, String> {
    Follower::start(kind)?.hold(held)
}

/// Creates `znodes` znodes through a follower of a fresh ensemble of `kind`, then holds
/// `held` sessions on it: bytes per znode, and what the sessions added after them.
pub fn znodes_then_sessions(
    kind: Kind,
    znodes: usize,
    held: usize,
) -> Result<(f64, HeldFigures), String> {
    let follower = Follower::start(kind)?;
    let per_znode = follower.create(znodes)?;
    collect(kind, follower.pid);
    Ok((per_znode, follower.hold(held)?))
}

/// A full GC in a ZooKeeper member, so that its resident figure holds no garbage to speak of.
fn collect(kind: Kind, pid: u32) {
    if kind == Kind::ZooKeeper {
        // Without jcmd the figure keeps its garbage: higher for ZooKeeper, never lower.
        let _ = Command::new("jcmd")
            .arg(pid.to_string())
            .arg("GC.run")
            .output();
    }
}

/// The heap of JVM `pid`: the `used` and `total` of each line that has both (G1 prints one
/// such line for its whole heap, the serial and parallel collectors one per generation;
/// Metaspace's lines have no `total`).
fn heap_info(pid: u32) -> Option<Heap> {
    let out = Command::new("jcmd")
        .arg(pid.to_string())
        .arg("GC.heap_info")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kib = |line: &str, word: &str| -> Option<f64> {
        let rest = &line[line.find(word)? + word.len()..];
        let digits: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some(digits.parse::<f64>().ok()? * 1024.0)
    };
    let mut heap = None::<Heap>;
    for line in text.lines() {
        if let (Some(committed), Some(used)) = (kib(line, "total "), kib(line, "used ")) {
            let h = heap.get_or_insert_with(Heap::default);
            h.used += used;
            h.committed += committed;
        }
    }
    heap
}

async fn resident(kind: Kind, pid: u32) -> Result<u64, String> {
    collect(kind, pid);
    sessions::settled_rss(pid).await
}

/// `/bench`, its parents, then `n` znodes at `/bench/pNNNN/nNNNNNNN`, [`OUTSTANDING`] at a time.
async fn create(addr: SocketAddr, n: usize) -> Result<(), String> {
    let config = ClientConfig {
        max_outstanding: OUTSTANDING,
        ..ClientConfig::default()
    };
    let (client, _events) = Client::connect(addr, config)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    let mut paths = vec!["/bench".to_string()];
    paths.extend((0..n.div_ceil(FANOUT)).map(|p| format!("/bench/p{p:04}")));
    for path in &paths {
        client
            .create(path, &[0; VALUE], Acl::open_unsafe(), 0)
            .await
            .map_err(|e| format!("create {path}: {e}"))?;
    }
    let created = sessions::in_flight(n, OUTSTANDING, |i| {
        let client = client.clone();
        async move {
            let path = format!("/bench/p{:04}/n{i:07}", i / FANOUT);
            let created = client.create(&path, &[0; VALUE], Acl::open_unsafe(), 0);
            created
                .await
                .map(drop)
                .map_err(|e| format!("create {path}: {e}"))
        }
    })
    .await;
    let _ = client.close().await;
    created
}
