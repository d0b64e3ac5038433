//! Fuzzy snapshots: the tree written a slice at a time while txns keep being applied.
//!
//! The idea to take away: **a snapshot does not have to be a picture of one instant, as long
//! as replaying the log over it is harmless.** Stopping every write while a million nodes are
//! serialized would stall the server for seconds, so upstream writes its snapshot on another
//! thread while the tree goes on changing (`SyncRequestProcessor`'s snapshot thread,
//! `FileTxnSnapLog.save`). The file is named after the last zxid applied when the walk
//! *started*; nodes the walk reaches later may already show later txns. Recovery loads it
//! and replays every txn after that zxid, some of them a second time, and each txn's rules
//! make that harmless (chapter 1's `DataTree::apply`: a create that finds its node moves
//! only the parent's cversion and pzxid forward, a delete of a missing node still moves the
//! parent's pzxid, a setData writes the same values again).
//!
//! Here the walk is sans-IO and deterministic instead of a thread: [`FuzzySnapshot::advance`]
//! writes the next `max_nodes` nodes of the tree as it is at that call, and the server
//! applies txns between calls. A test can therefore put any txn at any point of the walk.
//!
//! | step | upstream |
//! |---|---|
//! | [`FuzzySnapshot::start`]: the zxid and the sessions, now | `lastProcessedZxid`, `getSessionWithTimeOuts()` copied |
//! | [`FuzzySnapshot::advance`]: the next nodes of the live tree | `DataTree.serializeNode`, node by node |
//! | [`FuzzySnapshot::finish`]: the digest as of now, the seals | `DataTree.serializeZxidDigest`, `SnapStream.sealStream` |
//!
//! The digest part is the tree's digest when the walk ends, with that moment's zxid, which
//! is later than the file's name when writes came in meanwhile; recovery checks logged
//! digests only from that zxid on, where the replayed tree is exact again.

use ch01_znode::Zxid;
use ch03_sessions::pipeline::Database;
use ch06_zab::snapshot_stream::SnapshotWriter;

use crate::snapshot_file::{seal_snapshot_file, ZxidDigest};

// ANCHOR: fuzzy_snapshot
/// A snapshot file being written while txns are applied.
#[derive(Debug)]
pub struct FuzzySnapshot {
    /// The last zxid applied when the walk started: the file's name.
    zxid: Zxid,
    walk: SnapshotWriter,
    with_digest: bool,
}

impl FuzzySnapshot {
    /// Starts a snapshot of `db` as of its last applied zxid; `with_digest` as zoo.cfg's
    /// `digest.enabled`.
    pub fn start(db: &Database, with_digest: bool) -> FuzzySnapshot {
        FuzzySnapshot {
            zxid: db.last_processed_zxid(),
            walk: SnapshotWriter::start(&db.sessions),
            with_digest,
        }
    }

    /// The zxid the file is named after.
    pub fn zxid(&self) -> Zxid {
        self.zxid
    }

    /// Nodes written so far.
    pub fn written(&self) -> usize {
        self.walk.written()
    }

    /// Writes up to `max_nodes` more nodes of `db`'s tree as it is now; true once every
    /// node has been visited.
    pub fn advance(&mut self, db: &Database, max_nodes: usize) -> bool {
        self.walk.advance(&db.tree, max_nodes)
    }

    /// The file's bytes, once [`FuzzySnapshot::advance`] said the walk is over; the digest
    /// part is `db`'s as of now.
    pub fn finish(self, db: &Database) -> Vec<u8> {
        let digest = self.with_digest.then(|| ZxidDigest::of(&db.tree));
        seal_snapshot_file(self.walk, digest)
    }
}
// ANCHOR_END: fuzzy_snapshot

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot_file::{decode_snapshot_file, encode_snapshot_file};

    use ch01_znode::{prep, Acl, CreateMode, Request, SessionId, Txn, TxnHeader};

    /// A small database and a way to change it, as a server would (prep, then apply).
    struct Live {
        db: Database,
        log: Vec<Txn>,
    }

    impl Live {
        fn new() -> Live {
            Live {
                db: Database::default(),
                log: Vec::new(),
            }
        }

        fn submit(&mut self, session: i64, request: Request) {
            let header = TxnHeader {
                session: SessionId(session),
                cxid: 0,
                zxid: self.db.last_processed_zxid().next(),
                time_ms: 1_000 + self.log.len() as i64,
            };
            let txn = prep(&self.db.tree, header, &request);
            self.db.apply(&txn);
            self.log.push(txn);
        }
    }

    fn create(path: &str, mode: CreateMode) -> Request {
        Request::Create {
            path: path.into(),
            data: Some(path.as_bytes().to_vec()),
            acl: Acl::open_unsafe(),
            mode,
        }
    }

    /// Every kind of change a walk can meet: creates under a parent already written and
    /// under one not yet reached, deletes before and after a node's turn, setData, setACL
    /// with a list no node had at the start, sessions opening and closing, sequential nodes.
    fn writes(i: usize) -> Vec<(i64, Request)> {
        let set = |path: &str| Request::SetData {
            path: path.into(),
            data: Some(format!("v{i}").into_bytes()),
            version: -1,
        };
        let delete = |path: &str| Request::Delete {
            path: path.into(),
            version: -1,
        };
        vec![
            (1, create(&format!("/a/n{i}"), CreateMode::Persistent)),
            (1, create(&format!("/z/n{i}"), CreateMode::Persistent)),
            (1, create("/a/s-", CreateMode::PersistentSequential)),
            (1, set(&format!("/a/n{}", i / 2))),
            (1, set("/z")),
            (1, delete(&format!("/z/n{}", i.saturating_sub(1)))),
            (1, delete(&format!("/m/k{i}"))),
            (
                1,
                Request::SetAcl {
                    path: format!("/m/k{}", i + 20),
                    acl: Acl::read_unsafe(),
                    version: -1,
                },
            ),
            (100 + i as i64, Request::CreateSession { timeout_ms: 5_000 }),
            (
                100 + i as i64,
                create(&format!("/e{i}"), CreateMode::Ephemeral),
            ),
            (100 + i.saturating_sub(1) as i64, Request::CloseSession),
        ]
    }

    fn seeded() -> Live {
        let mut live = Live::new();
        live.submit(1, Request::CreateSession { timeout_ms: 30_000 });
        for parent in ["/a", "/m", "/z"] {
            live.submit(1, create(parent, CreateMode::Persistent));
        }
        for k in 0..40 {
            live.submit(1, create(&format!("/m/k{k}"), CreateMode::Persistent));
        }
        live
    }

    #[test]
    fn a_snapshot_walked_while_txns_apply_replays_to_the_live_tree_stat_for_stat() {
        // For each slice size, the writes land between every pair of slices.
        for max_nodes in [1, 3, 7, 20] {
            let mut live = seeded();
            let mut snapshot = FuzzySnapshot::start(&live.db, true);
            let from = snapshot.zxid();
            let mut i = 0;
            while !snapshot.advance(&live.db, max_nodes) {
                for (session, request) in writes(i) {
                    live.submit(session, request);
                }
                i += 1;
            }
            assert!(i >= 2, "the walk took {i} slices");
            let bytes = snapshot.finish(&live.db);
            let mut read = decode_snapshot_file(&bytes, from, false).unwrap();
            let digest = read.digest.expect("a digest part");
            assert_eq!(digest.zxid, live.db.last_processed_zxid());
            assert_ne!(read.db, live.db, "a fuzzy snapshot is not the live tree");
            for txn in live.log.iter().filter(|t| t.zxid > from) {
                read.db.apply(txn);
            }
            assert_eq!(read.db.tree.paths(), live.db.tree.paths(), "{max_nodes}");
            for path in live.db.tree.paths() {
                assert_eq!(
                    read.db.tree.node(&path),
                    live.db.tree.node(&path),
                    "{path}, slices of {max_nodes}"
                );
            }
            assert_eq!(read.db, live.db);
            assert_eq!(read.db.tree.digest(), live.db.tree.digest());
            assert_eq!(digest.digest, live.db.tree.digest() as i64);
        }
    }

    #[test]
    fn a_walk_nothing_interrupts_writes_the_exact_snapshot() {
        let live = seeded();
        let mut snapshot = FuzzySnapshot::start(&live.db, true);
        while !snapshot.advance(&live.db, 4) {}
        assert_eq!(snapshot.written(), live.db.tree.node_count());
        assert_eq!(
            snapshot.finish(&live.db),
            encode_snapshot_file(&live.db, true)
        );
    }
}
