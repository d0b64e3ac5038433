//! Benchmark: create, get, set and delete on a million znodes, and the memory they take.
//!
//! `cargo bench -p ch01-znode --bench tree` (optionally followed by `-- <znodes>`). `create`,
//! `set` and `delete` go the whole way a standalone server takes a write — prep, then apply —
//! with a fixed clock; `replay` applies the logged create txns to a fresh tree, as a follower
//! or a recovering server does (the layer `benches/zookeeper/DataTreeBench.java` measures on
//! ZooKeeper's own DataTree). Memory is counted by a global allocator that tracks live bytes,
//! on the replayed tree: everything it holds for a node — path key, data, Stat, the child
//! name in the parent, hash-map slots.

use ch01_znode::{Acl, CreateMode, DataTree, Request, SessionId, Standalone, Txn};
use std::time::Instant;

#[path = "support/counting.rs"]
mod counting;
use counting::live_bytes;

const FANOUT: usize = 1000;
const SESSION: SessionId = SessionId(0x100000000000001);

fn path(i: usize) -> String {
    format!("/bench/p{:04}/n{:07}", i / FANOUT, i)
}

/// Runs `op` for every i < n and prints the rate.
fn timed(name: &str, n: usize, mut op: impl FnMut(usize)) {
    let start = Instant::now();
    for i in 0..n {
        op(i);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<8} {n:>9} ops {secs:>7.2} s {:>12.0} ops/s",
        n as f64 / secs
    );
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut server = Standalone::default();
    let mut log: Vec<Txn> = Vec::new();
    let mut clock = 0;
    let mut submit = |server: &mut Standalone, log: &mut Vec<Txn>, request: Request| {
        clock += 1;
        // One request per millisecond: the clock doubles as the client's request number.
        let (txn, applied) = server.submit(SESSION, clock as i32, clock, &request);
        assert!(
            applied.result.err().is_none(),
            "{request:?} failed: {applied:?}"
        );
        log.push(txn);
    };
    let create = |path: String| Request::Create {
        path,
        data: Some(b"0123456789".to_vec()),
        acl: Acl::open_unsafe(),
        mode: CreateMode::Persistent,
    };
    submit(&mut server, &mut log, create("/bench".into()));
    for p in 0..n.div_ceil(FANOUT) {
        submit(&mut server, &mut log, create(format!("/bench/p{p:04}")));
    }
    let setup = log.len();

    println!("ch01-znode tree: {n} znodes with 10-byte data, {FANOUT} per parent");
    timed("create", n, |i| {
        submit(&mut server, &mut log, create(path(i)))
    });

    // A follower's view: the same creates, as txns, applied to a fresh tree. Memory is
    // measured on this tree, so the log itself is not counted.
    let mut replica = DataTree::new();
    for txn in &log[..setup] {
        replica.apply(txn);
    }
    let before = live_bytes();
    timed("replay", n, |i| {
        replica.apply(&log[setup + i]);
    });
    let bytes = live_bytes() - before;
    assert_eq!(
        replica, server.tree,
        "the replica equals the tree it replayed"
    );
    drop(replica);
    drop(log);

    let mut nolog = Vec::new();
    timed("get", n, |i| {
        let (data, _) = server.tree.get_data(&path(i)).expect("exists");
        assert_eq!(data.map(<[u8]>::len), Some(10));
    });
    timed("set", n, |i| {
        let request = Request::SetData {
            path: path(i),
            data: Some(b"abcdefghij".to_vec()),
            version: 0,
        };
        submit(&mut server, &mut nolog, request);
        nolog.clear();
    });
    timed("delete", n, |i| {
        let request = Request::Delete {
            path: path(i),
            version: 1,
        };
        submit(&mut server, &mut nolog, request);
        nolog.clear();
    });
    println!(
        "memory   {:.0} bytes per znode ({:.1} MiB for {n})",
        bytes as f64 / n as f64,
        bytes as f64 / (1024.0 * 1024.0)
    );
}
