//! The simulator's fuzzy snapshot: the live database walked a slice per step of its server.
//!
//! The idea to take away: **a snapshot taken while txns are applied holds some of the txns
//! after its zxid and not others, and only replaying the log over it makes it exact again.**
//! The TCP driver walks a slice each turn of its loop, between the inputs that apply txns
//! (chapter 7's `FuzzySnapshot`); the simulator does the same with a slice after each step of
//! the server, so every seed that takes a snapshot puts the run's txns at random points of
//! the walk. The bytes are the ones a snapshot file holds ([`SnapshotWriter`]), and a
//! finished walk is read back with the same decoder a learner uses for a SNAP, so a seed also
//! checks that what the walk wrote is what recovery reads.

use ch01_znode::Zxid;
use ch03_sessions::jute::Writer;
use ch03_sessions::pipeline::Database;

use crate::snapshot_stream::{decode_snapshot, Budget, SnapshotError, SnapshotWriter};

/// Nodes walked after each step: small, so that a walk spans many steps even over the small
/// trees of a run.
pub const SLICE_NODES: usize = 2;

/// A snapshot being walked.
#[derive(Clone, Debug, Hash)]
pub struct Walk {
    writer: SnapshotWriter,
    /// What the walk has written so far, as the file would hold it.
    bytes: Vec<u8>,
    /// The last zxid applied when the walk started: the snapshot's name.
    as_of: Zxid,
    /// Slices walked so far.
    slices: u32,
}

/// A walk that ended: the snapshot as recovery will read it.
#[derive(Debug)]
pub struct Walked {
    /// As of the last zxid applied when the walk started, the snapshot's name.
    pub db: Database,
    /// The last zxid applied when it ended: past the snapshot's name if txns were applied
    /// meanwhile.
    pub until: Zxid,
    pub slices: u32,
}

impl Walk {
    /// Starts a snapshot of `db` as of now (the session table is written at once).
    pub fn start(db: &Database) -> Walk {
        let mut bytes = Writer::new();
        let writer = SnapshotWriter::start(&db.tree, &db.sessions, &mut bytes);
        Walk {
            writer,
            bytes: bytes.into_bytes(),
            as_of: db.last_processed_zxid(),
            slices: 0,
        }
    }

    /// Walks the next slice of `db` as it is now. Once the walk is over: the snapshot, read
    /// back from its bytes.
    pub fn slice(&mut self, db: &Database) -> Option<Result<Walked, SnapshotError>> {
        let budget = Budget {
            nodes: SLICE_NODES,
            bytes: usize::MAX,
        };
        self.slices += 1;
        let mut out = Writer::appending(std::mem::take(&mut self.bytes));
        let done = self.writer.advance(&db.tree, budget, &mut out);
        self.bytes = out.into_bytes();
        if !done {
            return None;
        }
        let read = decode_snapshot(&self.bytes, db.tree.extended_types(), self.as_of);
        Some(read.map(|(snapshot, _)| Walked {
            db: Database {
                tree: snapshot.tree,
                sessions: snapshot.sessions,
            },
            until: db.last_processed_zxid(),
            slices: self.slices,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{Acl, EphemeralOwner, SessionId, Txn, TxnOp};

    fn create(zxid: i64, path: &str) -> Txn {
        crate::arb::txn_at(
            zxid,
            TxnOp::Create {
                path: path.into(),
                data: Some(b"x".to_vec()),
                acl: vec![Acl::new(31, "world", "anyone")],
                owner: EphemeralOwner::None,
                parent_cversion: 1,
            },
        )
    }

    /// A walk with a txn applied between its slices holds it or not depending on where the
    /// walk was; replaying every txn after its zxid brings it to the live database, stat for
    /// stat. Here /c is written, then /c/d is deleted before its turn: the snapshot lacks
    /// /c/d but shows /c as it was, and only the replayed delete, which finds no node, moves
    /// /c's pzxid to where the live tree has it.
    #[test]
    fn a_walk_with_txns_between_its_slices_replays_to_the_live_database() {
        let mut live = Database::default();
        live.sessions.insert(SessionId(7), 4_000);
        for (z, p) in [(1, "/a"), (2, "/c"), (3, "/c/d")] {
            live.apply(&create(z, p));
        }
        let delete = crate::arb::txn_at(
            4,
            TxnOp::Delete {
                path: "/c/d".into(),
            },
        );
        let mut walk = Walk::start(&live);
        let walked = loop {
            if let Some(done) = walk.slice(&live) {
                break done.expect("the walk reads back");
            }
            // `/`, `/a` and `/c` are written, `/c/d` is next (two nodes a slice, after a
            // first walk that numbers the ACL lists).
            if walk.writer.written() == 3 && live.last_processed_zxid() == Zxid(3) {
                live.apply(&delete);
            }
        };
        assert_eq!(walked.until, Zxid(4));
        assert!(walked.slices > 1);
        let mut recovered = walked.db;
        assert!(
            recovered.tree.node("/c/d").is_none(),
            "the delete came first"
        );
        let pzxid = |db: &Database| db.tree.node("/c").expect("/c").stat.pzxid;
        assert_eq!(pzxid(&recovered), Zxid(3), "/c was written before it");
        assert_eq!(recovered.last_processed_zxid(), Zxid(3));
        recovered.apply(&delete);
        assert_eq!(pzxid(&recovered), Zxid(4));
        assert_eq!(recovered, live);
    }
}
