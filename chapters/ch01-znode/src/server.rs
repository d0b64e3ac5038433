//! A standalone server in miniature: a zxid counter in front of prep and apply.
//!
//! A standalone ZooKeeper gives every write the next zxid of epoch 0 (`0x1`, `0x2`, …),
//! preps it and applies it at once. [`Standalone`] does exactly that and nothing more; the
//! caller supplies the time, so a replay with a fixed clock is repeatable. Chapter 6 puts
//! Zab between prep and apply; the two ends stay these.

use crate::prep::prep;
use crate::tree::{Applied, DataTree};
use crate::txn::{Request, Txn, TxnHeader};
use crate::zxid::{SessionId, Zxid};

// ANCHOR: standalone
/// A tree plus the zxid of the last txn it was given.
#[derive(Clone, Debug, Default)]
pub struct Standalone {
    pub tree: DataTree,
    last_zxid: Zxid,
}

impl Standalone {
    pub fn new(tree: DataTree) -> Standalone {
        let last_zxid = tree.last_processed_zxid();
        Standalone { tree, last_zxid }
    }

    /// Preps request `cxid` of `session` at the next zxid and applies it.
    pub fn submit(
        &mut self,
        session: SessionId,
        cxid: i32,
        time_ms: i64,
        request: &Request,
    ) -> (Txn, Applied) {
        self.last_zxid = self.last_zxid.next();
        let hdr = TxnHeader {
            session,
            cxid,
            zxid: self.last_zxid,
            time_ms,
        };
        let txn = prep(&self.tree, hdr, request);
        let applied = self.tree.apply(&txn);
        (txn, applied)
    }
}
// ANCHOR_END: standalone
