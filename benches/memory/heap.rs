//! Keeper's side of the in-process figures: the same tree and watch tables the server holds,
//! built in this process and weighed by a global allocator that counts live bytes.
//!
//! Everything a znode or a watch costs is on the heap (path keys, data, Stat, child names,
//! map slots, watcher sets), so the live-bytes difference before and after building them is
//! the whole cost, with no allocator slack: the counterpart of ZooKeeper's heap-after-GC.

use std::time::Instant;

use ch01_znode::{Acl, CreateMode, EventType, Request, SessionId, Standalone, WatchTrigger};
use ch03_sessions::pipeline::watches::Watches;

#[path = "../../chapters/ch01-znode/benches/support/counting.rs"]
mod counting;
use counting::{live_bytes, live_chunk_bytes};

/// Children per parent, as ZooKeeper's DataTree bench lays them out.
const FANOUT: usize = 1000;
/// Sessions holding watches in the watch workload.
pub const WATCHING_SESSIONS: usize = 10;
/// Bytes of data per znode.
const VALUE: usize = 100;

fn path(i: usize) -> String {
    format!("/bench/p{:04}/n{:07}", i / FANOUT, i)
}

/// A tree with the parents of `n` bench nodes, and a way to add nodes to it.
struct Tree {
    server: Standalone,
    clock: i32,
}

impl Tree {
    fn with_parents(n: usize) -> Tree {
        let mut tree = Tree {
            server: Standalone::default(),
            clock: 0,
        };
        tree.create("/bench".into());
        for p in 0..n.div_ceil(FANOUT) {
            tree.create(format!("/bench/p{p:04}"));
        }
        tree
    }

    fn create(&mut self, path: String) {
        self.clock += 1;
        let request = Request::Create {
            path,
            data: Some(vec![0; VALUE]),
            acl: Acl::open_unsafe(),
            mode: CreateMode::Persistent,
        };
        let session = SessionId(0x100000000000001);
        let (_, applied) = self
            .server
            .submit(session, self.clock, i64::from(self.clock), &request);
        assert!(applied.result.err().is_none(), "{request:?}: {applied:?}");
    }
}

/// What `n` znodes with 100-byte values add to chapter 1's tree.
pub struct ZnodeBytes {
    /// Live bytes: what the tree asked the allocator for.
    pub live: usize,
    /// The same allocations as glibc's malloc chunks (with its header and rounding).
    pub chunks: usize,
}

/// The bytes `n` znodes with 100-byte values add to chapter 1's tree.
pub fn znode_bytes(n: usize) -> ZnodeBytes {
    let mut tree = Tree::with_parents(n);
    let (live, chunks) = (live_bytes(), live_chunk_bytes());
    for i in 0..n {
        tree.create(path(i));
    }
    ZnodeBytes {
        live: live_bytes() - live,
        chunks: live_chunk_bytes() - chunks,
    }
}

/// What registering and firing `n` watches cost.
pub struct WatchFigures {
    pub bytes: usize,
    pub fire_s: f64,
}

/// `n` watches: `n / 10` paths, each watched by 10 sessions, half with data watches
/// (`getData`), half with child watches (`getChildren`), held by chapter 3's watch tables
/// (chapter 2's registry); then every path's watches fired once.
pub fn watches(n: usize) -> WatchFigures {
    let paths = n / WATCHING_SESSIONS;
    let mut tree = Tree::with_parents(paths);
    for i in 0..paths {
        tree.create(path(i));
    }
    let mut watches = Watches::default();
    let before = live_bytes();
    for s in 0..WATCHING_SESSIONS {
        let session = SessionId(0x100000000000100 + s as i64);
        for i in 0..paths {
            let result = if s % 2 == 0 {
                watches.watch_data(session, &path(i))
            } else {
                watches.watch_children(session, &path(i))
            };
            result.expect("a valid path");
        }
    }
    let bytes = live_bytes() - before;
    assert_eq!(watches.size(), paths * WATCHING_SESSIONS);
    let start = Instant::now();
    let mut fired = 0;
    for i in 0..paths {
        let p = path(i);
        fired += watches
            .trigger(&WatchTrigger::new(&p, EventType::NodeDataChanged))
            .len();
        fired += watches
            .trigger(&WatchTrigger::new(&p, EventType::NodeChildrenChanged))
            .len();
    }
    let fire_s = start.elapsed().as_secs_f64();
    assert_eq!(fired, paths * WATCHING_SESSIONS, "every watch fires once");
    drop(tree);
    WatchFigures { bytes, fire_s }
}
