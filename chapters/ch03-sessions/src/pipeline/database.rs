//! The replicated state: the tree and the table of live sessions (upstream `ZKDatabase`).
//!
//! The idea to take away: **a session is data, not a connection.** A session exists because a
//! `createSession` txn was applied and stops existing when a `closeSession` txn is applied,
//! exactly as a znode does. So every server that applies the same txns in the same order has
//! the same sessions, with the same timeouts, and whichever of them leads next can expire them.
//! The connection a session currently uses, its lease deadline and its watches are not in
//! here: they belong to the one server the client talks to.
//!
//! A `Database` is what a snapshot saves and what a follower receives in a SNAP (chapters 6
//! and 7): the session table first, then the tree.

use std::collections::BTreeMap;

use ch01_znode::{Applied, DataTree, SessionId, Txn, TxnOp, Zxid};

// ANCHOR: database
/// The tree and the sessions, changed only by applying txns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Database {
    /// The znodes.
    pub tree: DataTree,
    /// Every live session and its negotiated timeout, ms (`sessionsWithTimeouts`).
    pub sessions: BTreeMap<SessionId, i32>,
}

impl Database {
    /// Applies one committed txn: the tree's change, then the session table's.
    pub fn apply(&mut self, txn: &Txn) -> Applied {
        let applied = self.tree.apply(txn);
        match &txn.op {
            TxnOp::CreateSession { timeout_ms } => {
                self.sessions.insert(txn.session, *timeout_ms);
            }
            TxnOp::CloseSession { .. } => {
                self.sessions.remove(&txn.session);
            }
            _ => {}
        }
        applied
    }
    // ANCHOR_END: database

    /// The zxid of the last txn applied.
    pub fn last_processed_zxid(&self) -> Zxid {
        self.tree.last_processed_zxid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::TxnHeader;

    fn txn(zxid: i64, session: i64, op: TxnOp) -> Txn {
        TxnHeader {
            session: SessionId(session),
            cxid: 0,
            zxid: Zxid(zxid),
            time_ms: 0,
        }
        .txn(op)
    }

    #[test]
    fn sessions_come_and_go_with_their_txns() {
        // ZooKeeperServer.processTxnForSessionEvents: createSession adds, closeSession removes.
        let mut db = Database::default();
        db.apply(&txn(1, 5, TxnOp::CreateSession { timeout_ms: 30_000 }));
        assert_eq!(db.sessions.get(&SessionId(5)), Some(&30_000));
        db.apply(&txn(
            2,
            5,
            TxnOp::CloseSession {
                paths_to_delete: vec![],
            },
        ));
        assert!(db.sessions.is_empty());
        assert_eq!(db.last_processed_zxid(), Zxid(2));
    }
}
