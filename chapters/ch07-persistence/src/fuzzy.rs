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
//! only the parent's cversion and pzxid forward and hands the node its ACL list, a delete of
//! a missing node still moves the parent's pzxid, a setData writes the same values again).
//!
//! Here the walk is sans-IO and deterministic instead of a thread: [`FuzzySnapshot::advance`]
//! walks the next `max_nodes` nodes of the tree as it is at that call and hands out the
//! bytes they make, for the driver to append to `snapshot.<zxid>`; the server applies txns
//! between calls. A test can therefore put any txn at any point of the walk. Nothing is
//! built whole in memory: a slice's bytes are at most [`SLICE_BYTES`] (and one node), and
//! the file's checksum is summed as the bytes go by.
//!
//! | step | upstream |
//! |---|---|
//! | [`FuzzySnapshot::start`]: the zxid and the sessions, now | `lastProcessedZxid`, `getSessionWithTimeOuts()` copied |
//! | [`FuzzySnapshot::advance`]: the next nodes of the live tree | `DataTree.serializeNode`, node by node, into a `CheckedOutputStream` |
//! | its last slice: the digest as of now, the seals | `DataTree.serializeZxidDigest`, `SnapStream.sealStream` |
//!
//! The digest part is the tree's digest when the walk ends, with that moment's zxid, which
//! is later than the file's name when writes came in meanwhile; recovery checks logged
//! digests only from that zxid on, where the replayed tree is exact again.

use ch01_znode::Zxid;
use ch03_sessions::jute::Writer;
use ch03_sessions::pipeline::Database;
use ch06_zab::snapshot_stream::{Budget, SnapshotWriter};

use crate::adler32::Adler32;
use crate::snapshot_file::{seal, ZxidDigest, SNAP_DBID, SNAP_MAGIC};
use crate::txn_log::{FileHeader, VERSION};

/// The bytes one slice hands out, at most (plus the node that crosses the line): the
/// memory a snapshot takes beside the tree, whatever the tree's size.
pub const SLICE_BYTES: usize = 1 << 20;

// ANCHOR: fuzzy_snapshot
/// A snapshot file being written while txns are applied, its bytes handed out a slice at a
/// time.
#[derive(Debug)]
pub struct FuzzySnapshot {
    /// The last zxid applied when the walk started: the file's name.
    zxid: Zxid,
    walk: SnapshotWriter,
    with_digest: bool,
    /// The header and the sessions, written at the start, handed out with the first slice.
    head: Option<Writer>,
    /// The Adler-32 of every byte handed out so far: the seals need no second read.
    sum: Adler32,
    len: u64,
    sealed: bool,
}

impl FuzzySnapshot {
    /// Starts a snapshot of `db` as of its last applied zxid; `with_digest` as zoo.cfg's
    /// `digest.enabled`.
    pub fn start(db: &Database, with_digest: bool) -> FuzzySnapshot {
        let mut head = Writer::new();
        FileHeader {
            magic: SNAP_MAGIC,
            version: VERSION,
            dbid: SNAP_DBID,
        }
        .encode(&mut head);
        FuzzySnapshot {
            zxid: db.last_processed_zxid(),
            walk: SnapshotWriter::start(&db.tree, &db.sessions, &mut head),
            with_digest,
            head: Some(head),
            sum: Adler32::default(),
            len: 0,
            sealed: false,
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

    /// Bytes handed out so far.
    pub fn bytes_written(&self) -> u64 {
        self.len
    }

    /// Whether the last slice, which ends the file, has been handed out.
    pub fn is_done(&self) -> bool {
        self.sealed
    }

    /// The next bytes of the file: up to `max_nodes` more nodes of `db`'s tree as it is now
    /// (and about [`SLICE_BYTES`]); once the walk is over, the seals, and the digest part as
    /// of now, end the file ([`FuzzySnapshot::is_done`]).
    pub fn advance(&mut self, db: &Database, max_nodes: usize) -> Vec<u8> {
        if self.sealed {
            return Vec::new();
        }
        let mut out = self.head.take().unwrap_or_default();
        let budget = Budget {
            nodes: max_nodes,
            bytes: SLICE_BYTES,
        };
        let walked = self.walk.advance(&db.tree, budget, &mut out);
        let mut bytes = out.into_bytes();
        self.sum.update(&bytes);
        if walked {
            seal(&mut self.sum, &mut bytes);
            if self.with_digest {
                let digest = ZxidDigest::of(&db.tree).encode();
                self.sum.update(&digest);
                bytes.extend(digest);
                seal(&mut self.sum, &mut bytes);
            }
            self.sealed = true;
        }
        self.len += bytes.len() as u64;
        bytes
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
    /// with a list no node had at the start (one the walk numbered, one it did not), sessions
    /// opening and closing, sequential nodes.
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
            // A list no walk has met: the node goes out with the null reference, and the
            // replayed setACL puts the list back.
            (
                1,
                Request::SetAcl {
                    path: format!("/m/k{}", i + 5),
                    acl: vec![Acl::new(31, "digest", &format!("u{i}:x"))],
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
            let mut bytes = snapshot.advance(&live.db, max_nodes);
            while !snapshot.is_done() {
                for (session, request) in writes(i) {
                    live.submit(session, request);
                }
                i += 1;
                bytes.extend(snapshot.advance(&live.db, max_nodes));
            }
            assert!(i >= 2, "the walk took {i} slices");
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

    /// A quiet tree with several ACL lists, data of every size class, sessions and
    /// ephemerals: the bytes of its snapshot file were pinned before snapshots were streamed.
    fn varied() -> Live {
        let mut live = seeded();
        live.submit(7, Request::CreateSession { timeout_ms: 4_000 });
        for k in 0..30 {
            let acl = match k % 3 {
                0 => Acl::open_unsafe(),
                1 => Acl::read_unsafe(),
                _ => vec![
                    Acl::new(31, "digest", "bob:x"),
                    Acl::new(1, "world", "anyone"),
                ],
            };
            let path = format!("/a/v{k}");
            live.submit(
                1,
                Request::Create {
                    path: path.clone(),
                    data: Some(vec![k as u8; k * 37]),
                    acl,
                    mode: CreateMode::Persistent,
                },
            );
            live.submit(7, create(&format!("{path}/e"), CreateMode::Ephemeral));
        }
        live.submit(
            1,
            Request::SetAcl {
                path: "/m".into(),
                acl: Acl::read_unsafe(),
                version: -1,
            },
        );
        live
    }

    #[test]
    fn a_quiet_trees_snapshot_file_is_byte_for_byte_what_it_was_before_streaming() {
        let live = varied();
        let bytes = encode_snapshot_file(&live.db, true);
        let pinned = (bytes.len(), crate::adler32::adler32(&bytes));
        assert_eq!(pinned, (25_599, 3_314_217_280));
    }

    #[test]
    fn a_walk_nothing_interrupts_writes_the_exact_snapshot() {
        let live = seeded();
        let mut snapshot = FuzzySnapshot::start(&live.db, true);
        let mut bytes = Vec::new();
        while !snapshot.is_done() {
            bytes.extend(snapshot.advance(&live.db, 4));
        }
        assert_eq!(snapshot.written(), live.db.tree.node_count());
        assert_eq!(snapshot.bytes_written(), bytes.len() as u64);
        assert_eq!(bytes, encode_snapshot_file(&live.db, true));
    }
}
