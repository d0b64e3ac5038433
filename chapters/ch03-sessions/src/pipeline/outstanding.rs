//! Changes in flight: what prepare must see that the tree does not show yet
//! (upstream `ZooKeeperServer.outstandingChanges`).
//!
//! The idea to take away: once a write can wait for a quorum, the server prepares the next
//! request **before** the previous one is applied. If prepare looked at the tree alone, two
//! `create /a` in a row would both pass, and two `setData /a` with version 0 would both be
//! accepted. So each prepared txn leaves a [`ChangeRecord`] per path it touches, and prepare
//! reads through them: the tree, with every change still in flight on top. When a txn is
//! applied its records go, unless a later txn has since changed the same path again.
//!
//! # The digest after each txn, before it is applied
//!
//! ZooKeeper 3.6+ logs with each txn the digest of the whole tree **after** it (`TxnDigest`),
//! so whoever replays or receives the txn can check that its own tree came out the same. The
//! log is written before the txn is applied, so that digest cannot be read off the tree: it
//! is worked out here, at prepare time, as upstream's `PrepRequestProcessor` does with its
//! `DigestCalculator` (`precalculateDigest`). The tree digest is a sum of per-node hashes
//! (chapter 1's [`ch01_znode::tree::node_digest`]), so the digest after a txn is the digest
//! before it, minus the old hash of every node it changes, plus the new one. Each record
//! therefore also keeps the node's hash after its change, and its data if a txn in flight
//! set it (a change of Stat alone, like a parent's cversion, keeps the data it had).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use ch01_znode::tree::node_digest;
use ch01_znode::{Change, ChangeRecord, DataTree, SessionId, TreeView, Txn, TxnOp, Zxid};

/// The latest change of one path in flight.
#[derive(Clone, Debug, Hash)]
struct InFlightNode {
    /// The txn that made it.
    zxid: Zxid,
    /// The node as that txn leaves it, or `None` if it deletes it.
    record: Option<ChangeRecord>,
    /// The node's share of the tree digest after that txn (0 once deleted).
    digest: u64,
    /// The node's data, if a txn in flight set it; `None`: the data the tree holds.
    data: Option<Option<Vec<u8>>>,
}

/// Every change prepared and not yet applied.
#[derive(Clone, Debug, Default, Hash)]
pub struct Outstanding {
    /// The latest change of each path (ordered, so that equal tables print alike).
    by_path: BTreeMap<String, InFlightNode>,
    /// The same records in the order they were made: applying zxid `z` drops a prefix.
    order: VecDeque<(Zxid, String)>,
    /// The tree digest once every change in flight is applied; `None` when nothing is in
    /// flight (it is then the tree's own).
    digest: Option<u64>,
    /// The digest after each txn in flight (error txns have none).
    digests: BTreeMap<Zxid, u64>,
}

/// The data `op` sets at `path`, if it sets any there (a multi's later ops win, as they apply
/// later). A txn changes a path or two, so this looks through the op rather than building a
/// table of it: no copy of any path or data is made to find out.
fn data_set_by<'a>(op: &'a TxnOp, at: &str) -> Option<Option<&'a [u8]>> {
    match op {
        TxnOp::Create { path, data, .. } | TxnOp::SetData { path, data, .. } if path == at => {
            Some(data.as_deref())
        }
        TxnOp::Multi(ops) => ops.iter().rev().find_map(|op| data_set_by(op, at)),
        _ => None,
    }
}

impl Outstanding {
    // ANCHOR: add_digested
    /// Records what `txn` will leave (its `changes`, from prepare) and returns the tree digest
    /// after it, as its `TxnDigest` (`None` for an error txn, which upstream logs without one).
    pub fn add_digested(
        &mut self,
        tree: &DataTree,
        txn: &Txn,
        changes: Vec<Change>,
    ) -> Option<u64> {
        let mut digest = self.digest.unwrap_or_else(|| tree.digest());
        for (path, record) in changes {
            let in_flight = self.by_path.get(&path);
            let old_digest = match in_flight {
                Some(node) => node.digest,
                None => tree.node(&path).map_or(0, |n| n.digest(&path)),
            };
            let data = match data_set_by(&txn.op, &path) {
                Some(data) => Some(data.map(<[u8]>::to_vec)),
                None => in_flight.and_then(|node| node.data.clone()),
            };
            let new_digest = record.as_ref().map_or(0, |r| {
                let bytes = match &data {
                    Some(set) => set.as_deref(),
                    None => tree.node(&path).and_then(|n| n.data),
                };
                node_digest(&path, bytes, &r.stat)
            });
            digest = digest.wrapping_sub(old_digest).wrapping_add(new_digest);
            self.order.push_back((txn.zxid, path.clone()));
            let node = InFlightNode {
                zxid: txn.zxid,
                record,
                digest: new_digest,
                data,
            };
            self.by_path.insert(path, node);
        }
        self.digest = Some(digest);
        if matches!(txn.op, TxnOp::Error { .. }) {
            return None;
        }
        self.digests.insert(txn.zxid, digest);
        Some(digest)
    }

    /// The digest [`Outstanding::add_digested`] returned for the txn at `zxid`, until it is
    /// applied.
    pub fn digest_of(&self, zxid: Zxid) -> Option<u64> {
        self.digests.get(&zxid).copied()
    }
    // ANCHOR_END: add_digested

    /// The txn at `zxid` is applied: the tree now shows its changes and those of every txn
    /// before it.
    pub fn applied(&mut self, zxid: Zxid) {
        while let Some((z, _)) = self.order.front() {
            if *z > zxid {
                break;
            }
            let (z, path) = self.order.pop_front().expect("just seen");
            // Only if no later txn has changed the path since.
            if self.by_path.get(&path).is_some_and(|node| node.zxid == z) {
                self.by_path.remove(&path);
            }
        }
        while let Some(first) = self.digests.first_entry() {
            if *first.key() > zxid {
                break;
            }
            first.remove();
        }
        if self.order.is_empty() {
            self.digest = None;
        }
    }

    /// Forgets everything (a server that stops serving drops what it had not committed).
    pub fn clear(&mut self) {
        self.by_path.clear();
        self.order.clear();
        self.digest = None;
        self.digests.clear();
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The tree as prepare must judge it: `tree` with these changes on top.
    pub fn over<'a>(&'a self, tree: &'a DataTree) -> InFlight<'a> {
        InFlight {
            tree,
            outstanding: self,
        }
    }
}

/// The tree plus the outstanding changes, as prepare sees it.
pub struct InFlight<'a> {
    tree: &'a DataTree,
    outstanding: &'a Outstanding,
}

impl TreeView for InFlight<'_> {
    fn record(&self, path: &str) -> Option<ChangeRecord> {
        match self.outstanding.by_path.get(path) {
            Some(node) => node.record.clone(),
            None => self.tree.record(path),
        }
    }

    /// The applied ephemerals, plus those created in flight, minus those deleted in flight
    /// (the closeSession case of `PrepRequestProcessor.pRequest2Txn`). Only the last record
    /// of each path is kept here, where upstream walks every change in order: a path whose
    /// node in flight is someone else's was deleted in flight first (our node would have
    /// made its create fail), so it is not ours either.
    fn ephemerals(&self, session: SessionId) -> Vec<String> {
        let mut paths: BTreeSet<String> = self.tree.ephemerals(session).into_iter().collect();
        for (path, node) in &self.outstanding.by_path {
            match &node.record {
                Some(r) if r.stat.ephemeral_owner == session.0 => {
                    paths.insert(path.clone());
                }
                // Deleted in flight, or deleted and created again by another session.
                _ => {
                    paths.remove(path);
                }
            }
        }
        paths.into_iter().collect()
    }

    fn extended_types(&self) -> bool {
        self.tree.extended_types()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{prep_changes, Acl, CreateMode, Request, TxnHeader, ZkError};

    fn hdr(zxid: i64) -> TxnHeader {
        TxnHeader {
            session: SessionId(9),
            cxid: zxid as i32,
            zxid: Zxid(zxid),
            time_ms: 0,
        }
    }

    fn create(path: &str, mode: CreateMode) -> Request {
        Request::Create {
            path: path.into(),
            data: None,
            acl: Acl::open_unsafe(),
            mode,
        }
    }

    #[test]
    fn a_second_create_of_a_path_in_flight_fails_before_the_first_is_applied() {
        // PrepRequestProcessor.getRecordForPath reads outstandingChangesForPath first.
        let mut tree = DataTree::new();
        let mut out = Outstanding::default();
        let (first, changes) = prep_changes(
            &out.over(&tree),
            hdr(1),
            &create("/a", CreateMode::Persistent),
        );
        out.add_digested(&tree, &first, changes);
        let (second, _) = prep_changes(
            &out.over(&tree),
            hdr(2),
            &create("/a", CreateMode::Persistent),
        );
        assert_eq!(second.op.err(), Some(ZkError::NodeExists));
        tree.apply(&first);
        out.applied(first.zxid);
        assert!(out.is_empty());
    }

    #[test]
    fn applying_a_txn_keeps_a_later_record_of_the_same_path() {
        let mut tree = DataTree::new();
        let mut out = Outstanding::default();
        let (t1, c1) = prep_changes(
            &out.over(&tree),
            hdr(1),
            &create("/a", CreateMode::Persistent),
        );
        out.add_digested(&tree, &t1, c1);
        let set = Request::SetData {
            path: "/a".into(),
            data: None,
            version: 0,
        };
        let (t2, c2) = prep_changes(&out.over(&tree), hdr(2), &set);
        out.add_digested(&tree, &t2, c2);
        tree.apply(&t1);
        out.applied(t1.zxid);
        // t2's record of /a (version 1) must still be what prepare sees.
        let again = prep_changes(&out.over(&tree), hdr(3), &set).0;
        assert_eq!(again.op.err(), Some(ZkError::BadVersion));
    }

    #[test]
    fn a_close_session_in_flight_sees_ephemerals_created_in_flight() {
        let tree = DataTree::new();
        let mut out = Outstanding::default();
        let (t1, c1) = prep_changes(
            &out.over(&tree),
            hdr(1),
            &create("/e", CreateMode::Ephemeral),
        );
        out.add_digested(&tree, &t1, c1);
        let (close, _) = prep_changes(&out.over(&tree), hdr(2), &Request::CloseSession);
        assert_eq!(close.op.to_string(), "closeSession delete=[/e]");
    }

    /// Our ephemeral deleted in flight and created again by another session is not ours: the
    /// closeSession prepared after both must not delete the other session's node (chapter
    /// 6's seed 14913 did, and later writes to the node failed with NoNode).
    #[test]
    fn a_close_session_leaves_a_node_another_session_created_again_in_flight() {
        let mut tree = DataTree::new();
        let mut out = Outstanding::default();
        let (mine, _) = prep_changes(
            &out.over(&tree),
            hdr(1),
            &create("/e", CreateMode::Ephemeral),
        );
        tree.apply(&mine);
        let delete = Request::Delete {
            path: "/e".into(),
            version: -1,
        };
        let (t2, c2) = prep_changes(&out.over(&tree), hdr(2), &delete);
        out.add_digested(&tree, &t2, c2);
        let other = TxnHeader {
            session: SessionId(10),
            ..hdr(3)
        };
        let (t3, c3) = prep_changes(
            &out.over(&tree),
            other,
            &create("/e", CreateMode::Ephemeral),
        );
        assert_eq!(t3.op.err(), None, "{}", t3.op);
        out.add_digested(&tree, &t3, c3);
        let (close, _) = prep_changes(&out.over(&tree), hdr(4), &Request::CloseSession);
        assert_eq!(close.op.to_string(), "closeSession delete=[]");
    }

    /// The digest prepare gives each txn is the tree digest once that txn is applied, with
    /// every txn of the batch prepared before any is applied (upstream
    /// `PrepRequestProcessor.precalculateDigest`): creates that move a parent's cversion,
    /// data set twice in flight, a setACL, a delete, a multi, a closeSession that deletes an
    /// ephemeral, and a failed create, an error txn, which gets no digest.
    #[test]
    fn each_txn_gets_the_digest_of_the_tree_after_it_before_it_is_applied() {
        let mut tree = DataTree::new();
        let mut out = Outstanding::default();
        let set = |path: &str, data: &[u8]| Request::SetData {
            path: path.into(),
            data: Some(data.to_vec()),
            version: -1,
        };
        let with_data = |path: &str, data: &[u8], mode| Request::Create {
            path: path.into(),
            data: Some(data.to_vec()),
            acl: Acl::open_unsafe(),
            mode,
        };
        let batches = vec![
            vec![
                Request::CreateSession { timeout_ms: 30_000 },
                with_data("/a", b"big parent data", CreateMode::Persistent),
                with_data("/a/b", b"1", CreateMode::Persistent),
                set("/a/b", b"2"),
                set("/a/b", b"three"),
                with_data("/a/e", b"mine", CreateMode::Ephemeral),
                create("/a", CreateMode::Persistent), // NodeExists: an error txn
            ],
            vec![
                Request::SetAcl {
                    path: "/a/b".into(),
                    acl: Acl::read_unsafe(),
                    version: -1,
                },
                Request::Multi(vec![
                    with_data("/a/m", b"m", CreateMode::Persistent),
                    set("/a", b"changed in a multi"),
                    Request::Delete {
                        path: "/a/m".into(),
                        version: -1,
                    },
                ]),
                set("/zookeeper/quota", b"not digested"),
                Request::Delete {
                    path: "/a/b".into(),
                    version: -1,
                },
                Request::CloseSession,
            ],
        ];
        let mut zxid = 0;
        let mut digested = 0;
        for batch in batches {
            let mut prepared = Vec::new();
            for request in batch {
                zxid += 1;
                let (txn, changes) = prep_changes(&out.over(&tree), hdr(zxid), &request);
                let digest = out.add_digested(&tree, &txn, changes);
                assert_eq!(digest, out.digest_of(txn.zxid));
                prepared.push((txn, digest));
            }
            for (txn, digest) in prepared {
                tree.apply(&txn);
                out.applied(txn.zxid);
                match digest {
                    Some(digest) => {
                        assert_eq!(digest, tree.digest(), "after {txn:?}");
                        digested += 1;
                    }
                    None => assert!(txn.op.err().is_some(), "{txn:?}"),
                }
            }
        }
        assert_eq!(digested, 11);
        assert!(out.is_empty() && out.digest_of(Zxid(1)).is_none());
    }
}
