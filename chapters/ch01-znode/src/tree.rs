//! `DataTree`: the znodes, and the one way they change — applying a txn.
//!
//! The tree is a flat map from full path to node, as in ZooKeeper: every lookup is one hash
//! probe, and each node keeps the *names* of its children so listing is cheap. A node holds
//! its data (which may be `null`, distinct from empty), its ACL, its stored Stat
//! ([`StatPersisted`]) and its children.
//!
//! What a znode costs is mostly its data and its Stat; the rest is bookkeeping, kept small
//! where it is paid per node: the table holds one pointer per slot (`table`), to a node that
//! is one allocation, its Stat, ACL list's number, path and data together, with an owner and
//! a child set only if it has them (`node`, `acls`), and a parent keeps its child names packed
//! into short strings ([`Children`]).
//!
//! Nothing here reads a clock or picks a number: [`DataTree::apply`] takes every value from
//! the [`Txn`] — zxid, time, the new version, the parent's new cversion. That is the property
//! later chapters rely on: two trees that apply the same txns in the same order are equal.
//! `apply` never fails on a well-formed log; a txn that does not fit the tree (which only
//! happens if the log is wrong, or replays over a newer snapshot) is reported as an error
//! result, exactly as `DataTree.processTxn` catches its KeeperException.
//!
//! Reads (`get_data`, `get_children`, `stat`, …) copy the Stat out through
//! [`StatPersisted::to_stat`], the only place the client's view is made.

use crate::acl::Acl;
use crate::error::ZkError;
use crate::mode::EphemeralOwner;
use crate::path::{join, split_parent};
use crate::stat::{Stat, StatPersisted};
use crate::txn::{Txn, TxnOp};
use crate::watch::{EventType, WatchTrigger};
use crate::zxid::{SessionId, Zxid};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod acls;
mod children;
pub mod digest;
mod node;
mod quota;
mod table;

use acls::{AclRef, AclTable};
pub use children::Children;
pub use digest::{node_digest, DIGEST_VERSION};
use node::StoredNode;
use table::NodeTable;

/// The built-in nodes every ZooKeeper 3.5+ tree starts with, and which no client may delete.
pub const SPECIAL_PATHS: [&str; 4] = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"];

// ANCHOR: data_node
/// One znode (`DataNode`), as [`DataTree::node`] lends it: the tree stores it packed
/// (`node`), a reader sees its parts. Two are equal when their data, ACL list,
/// Stat and child names are, whichever trees they come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DataNode<'a> {
    /// `None` is ZooKeeper's null data (`get` prints `null`); `Some(empty)` is empty data.
    pub data: Option<&'a [u8]>,
    /// Shared between nodes with the same list, as ZooKeeper's ACL cache does.
    pub acl: &'a Arc<[Acl]>,
    pub stat: StatPersisted,
    /// Child names (not paths), kept sorted so listings and replays are deterministic.
    pub children: &'a Children,
}
// ANCHOR_END: data_node

impl DataNode<'_> {
    /// The node's owner, decoded from its stored ephemeralOwner.
    pub fn owner(&self, extended_types: bool) -> EphemeralOwner {
        EphemeralOwner::from_raw(self.stat.ephemeral_owner, extended_types)
    }
}

/// What applying one txn did: the result a reply is built from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnResult {
    Created {
        path: String,
        stat: Stat,
    },
    Deleted {
        path: String,
    },
    DataSet {
        path: String,
        stat: Stat,
    },
    AclSet {
        path: String,
        stat: Stat,
    },
    Checked {
        path: String,
    },
    /// An error txn (or a txn that did not fit the tree); `code` as in [`TxnOp::Error`].
    Error {
        code: i32,
    },
    SessionCreated,
    SessionClosed {
        deleted: Vec<String>,
    },
    Multi(Vec<TxnResult>),
}

impl TxnResult {
    /// The error this result carries, if any (for a multi, the first sub-op's error).
    pub fn err(&self) -> Option<ZkError> {
        match self {
            TxnResult::Error { code } => ZkError::from_code(*code),
            TxnResult::Multi(results) => results.iter().find_map(TxnResult::err),
            _ => None,
        }
    }
}

// ANCHOR: applied
/// The outcome of [`DataTree::apply`]: the result, and the watch triggers in firing order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub result: TxnResult,
    pub triggers: Vec<WatchTrigger>,
}
// ANCHOR_END: applied

/// The znode tree (`DataTree`).
#[derive(Clone)]
pub struct DataTree {
    /// Every node by full path ([`table`](mod@table)).
    nodes: NodeTable,
    /// session → its ephemeral paths, so a closing session can find them.
    ephemerals: BTreeMap<SessionId, BTreeSet<String>>,
    /// Every distinct ACL list, once: a node holds its list's number ([`acls`](mod@acls)).
    acls: AclTable,
    last_processed_zxid: Zxid,
    /// `zookeeper.extendedTypesEnabled`: allows TTL nodes.
    extended_types: bool,
    /// The sum of every node's [`DataNode::digest`], kept up to date by each change
    /// ([`digest`](mod@digest)).
    digest: u64,
}

impl PartialEq for DataTree {
    /// Two trees are equal when their nodes (Stat for Stat, ACL list for list), ephemerals
    /// and last zxid are: the numbers each gave its ACL lists may differ.
    fn eq(&self, other: &DataTree) -> bool {
        self.nodes.len() == other.nodes.len()
            && (self.nodes.iter()).all(|n| other.node(n.path()) == Some(self.view(n)))
            && self.ephemerals == other.ephemerals
            && self.last_processed_zxid == other.last_processed_zxid
    }
}

impl Eq for DataTree {}

impl std::fmt::Debug for DataTree {
    /// The nodes in path order, so that two equal trees print alike whatever order their
    /// hash table keeps (a model checker lists messages in the order they print). Each node
    /// shows its ACL list, not its number, which depends on the order lists were first seen.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nodes: BTreeMap<&str, DataNode> = (self.nodes.iter())
            .map(|n| (n.path(), self.view(n)))
            .collect();
        f.debug_struct("DataTree")
            .field("nodes", &nodes)
            .field("ephemerals", &self.ephemerals)
            .field("last_processed_zxid", &self.last_processed_zxid)
            .field("extended_types", &self.extended_types)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

// ANCHOR: tree_hash
impl std::hash::Hash for DataTree {
    /// What [`Debug`](std::fmt::Debug) shows, in the same order: equal trees hash alike
    /// whatever order their hash table keeps, so a model checker that tells states apart by
    /// their hash sees one state, not one per order.
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let mut nodes: Vec<(&str, DataNode)> = (self.nodes.iter())
            .map(|n| (n.path(), self.view(n)))
            .collect();
        nodes.sort_unstable_by_key(|(path, _)| *path);
        nodes.hash(h);
        self.ephemerals.hash(h);
        self.last_processed_zxid.hash(h);
        self.extended_types.hash(h);
        self.digest.hash(h);
    }
}
// ANCHOR_END: tree_hash

impl Default for DataTree {
    fn default() -> DataTree {
        DataTree::new()
    }
}

impl DataTree {
    // ANCHOR: new_tree
    /// A fresh tree: `/`, `/zookeeper`, `/zookeeper/quota` and `/zookeeper/config`, all with
    /// empty (not null) data and an all-zero Stat. `/zookeeper/config` is read-only for
    /// everyone, and DataTree's own setACL on it leaves its aversion at -1.
    pub fn new() -> DataTree {
        let mut tree = DataTree {
            nodes: NodeTable::default(),
            ephemerals: BTreeMap::new(),
            acls: AclTable::default(),
            last_processed_zxid: Zxid::ZERO,
            extended_types: false,
            digest: 0,
        };
        for path in SPECIAL_PATHS {
            let open = tree.acls.intern(&Acl::open_unsafe());
            let node = StoredNode::new(path, Some(&[]), open, StatPersisted::default());
            tree.insert_node(node);
            if let Some((parent, name)) = split_parent(path) {
                if let Some(p) = tree.nodes.get_mut(parent) {
                    p.children_mut().insert(name);
                }
            }
        }
        let config = tree.acls.intern(&Acl::read_unsafe());
        let open = tree.change_node("/zookeeper/config", |node| {
            let open = node.acl();
            node.set_acl(config);
            node.update_stat(|stat| stat.aversion = -1);
            open
        });
        tree.acls
            .release(open.expect("a fresh tree has /zookeeper/config"));
        tree
    }
    // ANCHOR_END: new_tree

    /// Writes the ensemble's configuration into `/zookeeper/config`, as a quorum server does
    /// when it starts (upstream `ZKDatabase.initConfigInZKDatabase`, a `setData` outside any
    /// txn): the data is the config text, mZxid the config's `version`, mtime `now_ms`, and
    /// the data version -1. The node is outside the digest, so the digest does not move.
    pub fn set_config(&mut self, text: &[u8], version: Zxid, now_ms: i64) {
        self.change_node("/zookeeper/config", |node| {
            node.set_data(Some(text));
            node.update_stat(|stat| {
                stat.mzxid = version;
                stat.mtime = now_ms;
                stat.version = -1;
            });
        });
    }

    /// The same tree, with TTL nodes allowed (`zookeeper.extendedTypesEnabled=true`).
    pub fn with_extended_types(mut self) -> DataTree {
        self.extended_types = true;
        self
    }

    pub fn extended_types(&self) -> bool {
        self.extended_types
    }

    /// The zxid of the last txn applied.
    pub fn last_processed_zxid(&self) -> Zxid {
        self.last_processed_zxid
    }

    // ANCHOR: tree_digest
    /// The tree digest (`DataTree.getTreeDigest`): the wrapping sum of every node's hash, as
    /// ZooKeeper logs it in each `TxnDigest` and snapshot (a Java `long`, so cast to `i64`).
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// Adds a node, and its hash to the digest (`NodeHashMapImpl.put`).
    fn insert_node(&mut self, node: StoredNode) {
        self.digest = self.digest.wrapping_add(node.digest());
        let added = self.nodes.insert(node);
        debug_assert!(added, "a node inserted twice");
    }

    /// [`DataTree::insert_node`] for a path the caller has just added to its parent's
    /// child set, which it would have refused had the node been there.
    fn insert_new_node(&mut self, node: StoredNode) {
        self.digest = self.digest.wrapping_add(node.digest());
        self.nodes.insert_new(node);
    }

    /// Removes a node, and its hash from the digest (`NodeHashMapImpl.remove`).
    fn remove_node(&mut self, path: &str) -> Option<StoredNode> {
        let node = self.nodes.remove(path)?;
        self.digest = self.digest.wrapping_sub(node.digest());
        Some(node)
    }

    /// Changes the node at `path` in place: its old hash leaves the digest and its new one
    /// joins (`NodeHashMapImpl.preChange` / `postChange`). O(1) in the size of the tree.
    fn change_node<R>(
        &mut self,
        path: &str,
        change: impl FnOnce(&mut StoredNode) -> R,
    ) -> Option<R> {
        let node = self.nodes.get_mut(path)?;
        let before = node.digest();
        let result = change(node);
        let after = node.digest();
        self.digest = self.digest.wrapping_sub(before).wrapping_add(after);
        Some(result)
    }

    /// The digest computed from scratch, node by node: what [`DataTree::digest`] must equal.
    pub fn recomputed_digest(&self) -> u64 {
        (self.nodes.iter()).fold(0u64, |sum, node| sum.wrapping_add(node.digest()))
    }
    // ANCHOR_END: tree_digest

    /// Number of znodes, the built-in ones included.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node at `path`, for prep and for tests.
    pub fn node(&self, path: &str) -> Option<DataNode<'_>> {
        self.nodes.get(path).map(|node| self.view(node))
    }

    /// A stored node as readers see it, its ACL number looked up.
    fn view<'a>(&'a self, node: &'a StoredNode) -> DataNode<'a> {
        DataNode {
            data: node.data(),
            acl: self.acls.get(node.acl()),
            stat: node.stat(),
            children: node.children(),
        }
    }

    /// The ephemeral paths `session` owns, sorted.
    pub fn ephemerals(&self, session: SessionId) -> Vec<String> {
        self.ephemerals
            .get(&session)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every path in the tree, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.nodes.iter().map(|n| n.path().to_string()).collect();
        paths.sort();
        paths
    }

    fn copy_stat(&self, node: &StoredNode) -> Stat {
        let owner = self.owner(node).client_visible();
        node.stat()
            .to_stat(owner, node.data_len(), node.children().len())
    }

    /// A stored node's owner, decoded from its stored ephemeralOwner.
    fn owner(&self, node: &StoredNode) -> EphemeralOwner {
        EphemeralOwner::from_raw(node.owner(), self.extended_types)
    }

    fn lookup(&self, path: &str) -> Result<&StoredNode, ZkError> {
        self.nodes.get(path).ok_or(ZkError::NoNode)
    }

    // ---- reads ------------------------------------------------------------------------

    /// `exists`: the node's Stat.
    pub fn stat(&self, path: &str) -> Result<Stat, ZkError> {
        Ok(self.copy_stat(self.lookup(path)?))
    }

    /// `getData`: the data (`None` = null) and Stat.
    pub fn get_data(&self, path: &str) -> Result<(Option<&[u8]>, Stat), ZkError> {
        let node = self.lookup(path)?;
        Ok((node.data(), self.copy_stat(node)))
    }

    /// `getChildren2`: child names, sorted, and the Stat.
    pub fn get_children(&self, path: &str) -> Result<(Vec<String>, Stat), ZkError> {
        let node = self.lookup(path)?;
        let names = node.children().iter().map(|c| c.to_string()).collect();
        Ok((names, self.copy_stat(node)))
    }

    /// `getACL`: the ACL list and Stat.
    pub fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat), ZkError> {
        let node = self.lookup(path)?;
        Ok((self.acls.get(node.acl()).to_vec(), self.copy_stat(node)))
    }

    /// `getAllChildrenNumber`: all descendants of `path`, not counting itself.
    pub fn get_all_children_number(&self, path: &str) -> Result<usize, ZkError> {
        let node = self.lookup(path)?;
        Ok(node
            .children()
            .iter()
            .map(|c| 1 + self.get_all_children_number(&join(path, c)).unwrap_or(0))
            .sum())
    }

    // ---- writes -----------------------------------------------------------------------

    // ANCHOR: apply
    /// Applies one txn (`DataTree.processTxn`) and reports what watchers should hear.
    pub fn apply(&mut self, txn: &Txn) -> Applied {
        let mut triggers = Vec::new();
        let result = self.process(txn, &txn.op, &mut triggers);
        if txn.zxid > self.last_processed_zxid {
            self.last_processed_zxid = txn.zxid;
        }
        Applied { result, triggers }
    }

    fn process(&mut self, txn: &Txn, op: &TxnOp, triggers: &mut Vec<WatchTrigger>) -> TxnResult {
        let outcome = match op {
            TxnOp::Create {
                path,
                data,
                acl,
                owner,
                parent_cversion,
            } => self
                .create_node(path, data, acl, *owner, *parent_cversion, txn, triggers)
                .map(|stat| TxnResult::Created {
                    path: path.clone(),
                    stat,
                }),
            TxnOp::Delete { path } => self
                .delete_node(path, txn.zxid, triggers)
                .map(|()| TxnResult::Deleted { path: path.clone() }),
            TxnOp::SetData {
                path,
                data,
                version,
            } => self
                .set_data(path, data, *version, txn, triggers)
                .map(|stat| TxnResult::DataSet {
                    path: path.clone(),
                    stat,
                }),
            TxnOp::SetAcl { path, acl, version } => {
                self.set_acl(path, acl, *version)
                    .map(|stat| TxnResult::AclSet {
                        path: path.clone(),
                        stat,
                    })
            }
            TxnOp::Check { path, .. } => Ok(TxnResult::Checked { path: path.clone() }),
            TxnOp::Error { code } => Ok(TxnResult::Error { code: *code }),
            TxnOp::CreateSession { .. } => Ok(TxnResult::SessionCreated),
            TxnOp::CloseSession { paths_to_delete } => {
                Ok(self.kill_session(txn.session, paths_to_delete, txn.zxid, triggers))
            }
            TxnOp::Multi(ops) => Ok(self.process_multi(txn, ops, triggers)),
        };
        outcome.unwrap_or_else(|e| TxnResult::Error { code: e.code() })
    }
    // ANCHOR_END: apply

    /// A multi applies all its ops at one zxid, or — if prep recorded a failure — none: the
    /// ops before the failing one report 0 (OK), the ones after it RuntimeInconsistency.
    fn process_multi(
        &mut self,
        txn: &Txn,
        ops: &[TxnOp],
        triggers: &mut Vec<WatchTrigger>,
    ) -> TxnResult {
        let failed = ops.iter().any(|op| matches!(op, TxnOp::Error { .. }));
        let mut after_failure = false;
        let results = ops
            .iter()
            .map(|op| match op {
                TxnOp::Error { code } => {
                    after_failure = true;
                    TxnResult::Error { code: *code }
                }
                _ if failed => TxnResult::Error {
                    code: if after_failure {
                        ZkError::RuntimeInconsistency.code()
                    } else {
                        0
                    },
                },
                _ => self.process(txn, op, triggers),
            })
            .collect();
        TxnResult::Multi(results)
    }

    // ANCHOR: create_node
    /// `DataTree.createNode`.
    #[allow(clippy::too_many_arguments)]
    fn create_node(
        &mut self,
        path: &str,
        data: &Option<Vec<u8>>,
        acl: &[Acl],
        owner: EphemeralOwner,
        parent_cversion: i32,
        txn: &Txn,
        triggers: &mut Vec<WatchTrigger>,
    ) -> Result<Stat, ZkError> {
        let (parent_path, name) = split_parent(path).ok_or(ZkError::BadArguments)?;
        if !self.nodes.contains_key(parent_path) {
            return Err(ZkError::NoNode);
        }
        // -1 asks the tree to count for itself (old logs); otherwise the txn decides. Never
        // move backwards: replaying over a fuzzy snapshot may see a create twice. A -1 create
        // replayed over a snapshot that already holds its child counts that child a second
        // time, here as in upstream's `setCversionPzxid`, which also adds one for -1.
        let bump_parent = |parent: &mut StoredNode| {
            parent.update_stat(|stat| {
                let cversion = match parent_cversion {
                    -1 => stat.cversion + 1,
                    decided => decided,
                };
                if cversion > stat.cversion {
                    stat.cversion = cversion;
                    stat.pzxid = txn.zxid;
                }
            });
        };
        if self.nodes.contains_key(path) {
            // A fuzzy snapshot can hold the child but a parent written before the child was
            // created; the replayed create still moves the parent's cversion and pzxid, as
            // upstream's `processTxn` does on NODEEXISTS (`setCversionPzxid`).
            self.change_node(parent_path, bump_parent);
            self.replace_acl(path, acl);
            return Err(ZkError::NodeExists);
        }
        self.change_node(parent_path, |parent| {
            bump_parent(parent);
            parent.children_mut().insert(name);
        })
        .ok_or(ZkError::NoNode)?;
        let acl = self.acls.intern(acl);
        let stat = StatPersisted::created(txn.zxid, txn.time_ms, owner.raw());
        let node = StoredNode::new(path, data.as_deref(), acl, stat);
        let client_stat = self.copy_stat(&node);
        let bytes = node.data_len();
        self.insert_node(node);
        self.quota_created(path, bytes);
        if let EphemeralOwner::Session(session) = owner {
            self.ephemerals
                .entry(session)
                .or_default()
                .insert(path.to_string());
        }
        triggers.push(WatchTrigger::new(path, EventType::NodeCreated));
        triggers.push(WatchTrigger::new(
            parent_path,
            EventType::NodeChildrenChanged,
        ));
        Ok(client_stat)
    }
    // ANCHOR_END: create_node

    // ANCHOR: delete_node
    /// `DataTree.deleteNode`. Deleting a child moves the parent's pzxid but not its stored
    /// cversion: the client-visible cversion still goes up, because one fewer child remains.
    fn delete_node(
        &mut self,
        path: &str,
        zxid: Zxid,
        triggers: &mut Vec<WatchTrigger>,
    ) -> Result<(), ZkError> {
        let (parent_path, name) = split_parent(path).ok_or(ZkError::BadArguments)?;
        self.change_node(parent_path, |parent| {
            // A leaf has no child set to take the name from, and needs none made.
            if !parent.children().is_empty() {
                parent.children_mut().remove(name);
            }
            // Only forward: a higher pzxid from a replayed create must not be overwritten.
            parent.update_stat(|stat| {
                if zxid > stat.pzxid {
                    stat.pzxid = zxid;
                }
            });
        })
        .ok_or(ZkError::NoNode)?;
        let node = self.remove_node(path).ok_or(ZkError::NoNode)?;
        self.acls.release(node.acl());
        self.quota_deleted(path, node.data_len());
        if let EphemeralOwner::Session(session) = self.owner(&node) {
            if let Some(paths) = self.ephemerals.get_mut(&session) {
                paths.remove(path);
                if paths.is_empty() {
                    self.ephemerals.remove(&session);
                }
            }
        }
        triggers.push(WatchTrigger::new(path, EventType::NodeDeleted));
        triggers.push(WatchTrigger::new(
            parent_path,
            EventType::NodeChildrenChanged,
        ));
        Ok(())
    }
    // ANCHOR_END: delete_node

    /// `DataTree.setData`: new data, mzxid, mtime, and the version prep decided.
    fn set_data(
        &mut self,
        path: &str,
        data: &Option<Vec<u8>>,
        version: i32,
        txn: &Txn,
        triggers: &mut Vec<WatchTrigger>,
    ) -> Result<Stat, ZkError> {
        let before = self
            .change_node(path, |node| {
                let before = node.data_len();
                node.set_data(data.as_deref());
                node.update_stat(|stat| {
                    stat.mtime = txn.time_ms;
                    stat.mzxid = txn.zxid;
                    stat.version = version;
                });
                before
            })
            .ok_or(ZkError::NoNode)?;
        self.quota_data_changed(path, before, data.as_ref().map_or(0, Vec::len));
        triggers.push(WatchTrigger::new(path, EventType::NodeDataChanged));
        self.stat(path)
    }

    /// `DataTree.setACL`: a new ACL and aversion; no watch fires.
    fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, ZkError> {
        self.replace_acl(path, acl).ok_or(ZkError::NoNode)?;
        self.change_node(path, |node| {
            node.update_stat(|stat| stat.aversion = version);
        });
        self.stat(path)
    }

    /// Gives the node at `path` the list `acl`, its stat untouched; `None` if there is no
    /// such node.
    ///
    /// Besides setACL, a create replayed over a fuzzy snapshot that finds its node calls
    /// this. Upstream's snapshot writes its ACL map before its nodes, so a node created (or
    /// given a new list) while the walk ran can name a list the map lacks; the snapshot's
    /// reader gives such a node a list that grants nothing. Upstream interns the create's
    /// list before the NODEEXISTS check (`DataTree.createNode`, ZOOKEEPER-3306), which makes
    /// the dangling number good again; here the create hands the node its list. Either way
    /// the node ends the replay with its live list, because every create and setACL of that
    /// path from this create on is replayed too, in order.
    fn replace_acl(&mut self, path: &str, acl: &[Acl]) -> Option<()> {
        // The new list first: a list set again on its only node keeps its number.
        let acl = self.acls.intern(acl);
        let Some(old) = self.change_node(path, |node| {
            let old = node.acl();
            node.set_acl(acl);
            old
        }) else {
            self.acls.release(acl);
            return None;
        };
        self.acls.release(old);
        Some(())
    }

    /// `DataTree.killSession`: deletes the paths the closeSession txn lists, then any other
    /// ephemeral the session still owns here (ZooKeeper logs those as unexpected).
    fn kill_session(
        &mut self,
        session: SessionId,
        listed: &[String],
        zxid: Zxid,
        triggers: &mut Vec<WatchTrigger>,
    ) -> TxnResult {
        let mut deleted = Vec::new();
        let leftovers = self.ephemerals(session);
        let extra = leftovers.iter().filter(|p| !listed.contains(p));
        for path in listed.iter().chain(extra) {
            // A listed node already gone is ignored, as upstream ignores its NoNodeException.
            if self.delete_node(path, zxid, triggers).is_ok() {
                deleted.push(path.clone());
            }
        }
        self.ephemerals.remove(&session);
        TxnResult::SessionClosed { deleted }
    }
}

// ---- snapshots: the tree as a list of nodes and back --------------------------------------

// ANCHOR: walk
/// A preorder walk of a tree, from [`DataTree::walk`].
pub struct Walk<'a> {
    tree: &'a DataTree,
    /// Paths still to visit, the next one on top.
    pending: Vec<String>,
}

impl<'a> Iterator for Walk<'a> {
    type Item = (String, DataNode<'a>);

    fn next(&mut self) -> Option<(String, DataNode<'a>)> {
        let path = self.pending.pop()?;
        let node = self
            .tree
            .node(&path)
            .expect("a walked child is in the tree");
        // Pushed last-first so that the first child in name order is visited next.
        for name in node.children.iter().rev() {
            self.pending.push(join(&path, name));
        }
        Some((path, node))
    }
}

impl DataTree {
    /// Every node with its path, each parent before its children and children in name order:
    /// the depth-first walk from `/` a snapshot is written in (`DataTree.serializeNode`, whose
    /// children come in hash-set order instead).
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            tree: self,
            pending: vec!["/".to_string()],
        }
    }
}
// ANCHOR_END: walk

/// Why [`TreeBuilder`] refused a node: the list was not a tree written parents first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// The first node must be the root, `/`; the root must be first.
    RootNotFirst { path: String },
    /// Not a znode path ([`crate::path::validate_path`]).
    BadPath { path: String },
    /// The node's parent was not listed before it.
    NoParent { path: String },
    /// The same path twice.
    Duplicate { path: String },
    /// No nodes at all: a tree has at least its root.
    Empty,
}

impl std::fmt::Display for RestoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestoreError::RootNotFirst { path } => {
                write!(f, "{path:?}: the root must come first, and only first")
            }
            RestoreError::BadPath { path } => write!(f, "{path:?} is not a znode path"),
            RestoreError::NoParent { path } => {
                write!(f, "{path:?} comes before its parent")
            }
            RestoreError::Duplicate { path } => write!(f, "{path:?} is listed twice"),
            RestoreError::Empty => f.write_str("no nodes, not even the root"),
        }
    }
}

impl std::error::Error for RestoreError {}

// ANCHOR: tree_builder
/// Rebuilds a tree from its nodes listed parents first, as a snapshot lists them
/// (`DataTree.deserialize`). Only the nodes are read: each parent's children and the
/// session → ephemerals index follow from the paths and the stored owners.
pub struct TreeBuilder {
    tree: DataTree,
    /// The ACL list of the last node added: most nodes share their neighbour's, and a
    /// comparison with it is cheaper than hashing the list to find it in the table.
    last_acl: Option<AclRef>,
    /// Child names not yet in their parent's set ([`SiblingRun`]).
    run: Option<SiblingRun>,
}

/// A parent's first children, as a snapshot lists them: one after another and, when the
/// writer walks in name order as ours does, each greater than the last. Added to the set one
/// at a time, each would be looked for first; kept in a list and packed into the set at once,
/// each costs one comparison. The run ends at the first node of another parent or a name out
/// of order; from then on the parent's set takes names one at a time (each checked for a
/// duplicate as it comes).
struct SiblingRun {
    parent: Box<str>,
    /// Joined by `/`, as the set keeps them, in strictly increasing order, so no name is in
    /// it twice.
    names: String,
    /// Where the last name starts in `names`.
    last: usize,
}

impl TreeBuilder {
    /// A builder with no nodes yet; `extended_types` as for [`DataTree::with_extended_types`]
    /// (it decides which stored owners are TTL markers and which are sessions).
    pub fn new(extended_types: bool) -> TreeBuilder {
        TreeBuilder {
            tree: DataTree {
                nodes: NodeTable::default(),
                ephemerals: BTreeMap::new(),
                acls: AclTable::default(),
                last_processed_zxid: Zxid::ZERO,
                extended_types,
                digest: 0,
            },
            last_acl: None,
            run: None,
        }
    }

    /// The same builder, with room for `nodes` nodes: a table grown a node at a time to a
    /// million rehashes every key it holds on each doubling, and sizing it once spares that.
    pub fn with_capacity(mut self, nodes: usize) -> TreeBuilder {
        self.tree.nodes.reserve(nodes);
        self
    }

    /// Adds one node. Its stat is taken as stored (the client view is derived on reads), and
    /// its ACL list is shared with every other node that has the same one. The path and the
    /// data are copied into the node's one allocation.
    pub fn add(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        stat: StatPersisted,
    ) -> Result<(), RestoreError> {
        let tree = &mut self.tree;
        if (path == "/") != tree.nodes.is_empty() {
            return Err(RestoreError::RootNotFirst { path: path.into() });
        }
        if crate::path::validate_path(path).is_err() {
            return Err(RestoreError::BadPath { path: path.into() });
        }
        if let Some((parent, name)) = split_parent(path) {
            self.add_child(path, parent, name)?;
        }
        let tree = &mut self.tree;
        let acl = match self.last_acl {
            Some(last) if **tree.acls.get(last) == *acl => {
                tree.acls.use_again(last);
                last
            }
            _ => tree.acls.intern(acl),
        };
        self.last_acl = Some(acl);
        let node = StoredNode::new(path, data, acl, stat);
        if let EphemeralOwner::Session(session) = tree.owner(&node) {
            let paths = tree.ephemerals.entry(session).or_default();
            paths.insert(path.to_string());
        }
        // The name went into its parent's set (or run) above without a duplicate, and a
        // node is in the table only if its name is in its parent's set: so it is not there.
        // The root comes first, into an empty table.
        tree.insert_new_node(node);
        Ok(())
    }

    /// Adds `name` (of the node at `path`) to `parent`'s children, through the open
    /// [`SiblingRun`] while it lasts.
    fn add_child(&mut self, path: &str, parent: &str, name: &str) -> Result<(), RestoreError> {
        if let Some(run) = &mut self.run {
            let follows = name > &run.names[run.last..];
            if follows && *run.parent == *parent {
                run.last = run.names.len() + 1;
                run.names.push('/');
                run.names.push_str(name);
                return Ok(());
            }
            self.end_run();
        }
        let Some(node) = self.tree.nodes.get_mut(parent) else {
            let path = path.to_string();
            return Err(RestoreError::NoParent { path });
        };
        if node.children().is_empty() {
            self.run = Some(SiblingRun {
                parent: parent.into(),
                names: name.into(),
                last: 0,
            });
            return Ok(());
        }
        // A node is listed twice exactly when its parent already has the name.
        match node.children_mut().insert(name) {
            true => Ok(()),
            false => Err(RestoreError::Duplicate {
                path: path.to_string(),
            }),
        }
    }

    /// Builds the open run's names into its parent's set, which was empty when it opened.
    fn end_run(&mut self) {
        let Some(run) = self.run.take() else {
            return;
        };
        let parent = (self.tree.nodes.get_mut(&run.parent))
            .expect("a run's parent was in the tree when the run opened");
        debug_assert!(
            parent.children().is_empty(),
            "no other way in while it is open"
        );
        *parent.children_mut() = Children::from_increasing(run.names.split('/'));
    }

    /// The tree, as of `last_processed_zxid` (which a snapshot names outside its node list).
    pub fn finish(mut self, last_processed_zxid: Zxid) -> Result<DataTree, RestoreError> {
        self.end_run();
        if self.tree.nodes.is_empty() {
            return Err(RestoreError::Empty);
        }
        self.tree.last_processed_zxid = last_processed_zxid;
        Ok(self.tree)
    }
}
// ANCHOR_END: tree_builder
