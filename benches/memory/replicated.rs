//! The same figures on a replicated server: bytes per znode and per held session on one
//! member of a three-server ensemble, Keeper's and ZooKeeper 3.8's.
//!
//! A standalone server is not the whole story: in an ensemble every member also keeps what
//! replication needs (the leader's proposals in flight, a follower's queue of txns to apply,
//! the sessions the leader tracks for the whole ensemble). So each round starts three servers
//! of one program from the ensemble bench's files ([`Ensemble`]: one zoo.cfg and `myid` per
//! server, all on 127.0.0.1), waits for one leader and two followers, and measures a
//! *follower*, where most clients are connected:
//!
//! - **bytes per znode**: its resident memory before and after `n` creates (100-byte values,
//!   ZooKeeper's DataTree-bench paths) sent through it by one pipelined client session; each
//!   create's reply comes once the follower has applied it, so the tree is complete when the
//!   last reply arrives;
//! - **resident memory per held session**: then `n` raw sessions held on it, as [`sessions`]
//!   does for a standalone server.
//!
//! The JVM's resident memory holds garbage until a collection: before each reading the
//! ZooKeeper member is asked for a full GC (`jcmd <pid> GC.run`), which only ever lowers its
//! figure.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use ch01_znode::Acl;
use ch03_sessions::client::{Client, ClientConfig};

use crate::members::{Ensemble, Program};
use crate::sessions::{self, Kind};

/// The longest an ensemble may take to elect (three JVMs on a loaded machine).
const START_BOUND: Duration = Duration::from_secs(120);
/// Creates in flight on the one session that sends them.
const OUTSTANDING: usize = 256;
/// Children per parent, as ZooKeeper's DataTree bench lays them out.
const FANOUT: usize = 1000;
/// Bytes of data per znode.
const VALUE: usize = 100;

/// What one round measured on a follower.
pub struct ReplicatedFigures {
    pub bytes_per_znode: f64,
    pub bytes_per_session: f64,
}

fn program(kind: Kind) -> Program {
    match kind {
        Kind::Keeper => Program::Keeper,
        Kind::ZooKeeper => Program::ZooKeeper,
    }
}

/// Starts an ensemble of `kind`, then creates `znodes` znodes and holds `held` sessions on
/// one follower, measuring each.
pub fn measure(kind: Kind, znodes: usize, held: usize) -> Result<ReplicatedFigures, String> {
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
    runtime.block_on(async {
        let before = resident(kind, pid).await?;
        create(addr, znodes).await?;
        let after = resident(kind, pid).await?;
        collect(kind, pid);
        let sessions = sessions::held(kind, pid, addr, held).await?;
        Ok(ReplicatedFigures {
            bytes_per_znode: after.saturating_sub(before) as f64 / znodes as f64,
            bytes_per_session: sessions.bytes_per_session,
        })
    })
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
