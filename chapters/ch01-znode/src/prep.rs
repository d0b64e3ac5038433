//! Prep: deciding a write before anyone applies it (`PrepRequestProcessor`).
//!
//! Prep reads the tree, checks the request, and fixes every value the change will have:
//!
//! * **create** — the parent must exist and must not be ephemeral, the node must not; a
//!   sequential create appends the parent's *stored* cversion as 10 zero-padded digits; the
//!   txn carries the parent's next cversion.
//! * **delete** — the node must exist, match the expected version (-1 = any) and have no
//!   children; the built-in nodes cannot be deleted.
//! * **setData / setACL / check** — the node must exist and match the expected version (of
//!   the data for setData and check, of the ACL for setACL); the txn carries the next one.
//! * **closeSession** — lists the session's ephemeral nodes, which the txn will delete.
//! * **multi** — preps each op against the tree *as the earlier ops left it*, so
//!   "delete the child, then the parent" works; the first failure fails them all.
//!
//! The checks run in ZooKeeper's order, so the same bad request gets the same error code. A
//! failed check does not lose the request: it becomes an error txn at the same zxid.
//!
//! Prep reads the tree through a [`TreeView`]. Standalone, the view is the [`DataTree`]
//! itself: every write is applied before the next is prepped. Once writes wait for a quorum
//! (chapter 6), request *n+1* is prepped while request *n* is still in flight, and the view
//! must be the tree **plus the changes not yet applied** (upstream `outstandingChanges`, one
//! [`ChangeRecord`] per touched path). [`prep_changes`] returns the records a txn will leave
//! so the caller can keep them until the txn is applied; inside one request `Pending` plays
//! the same role, so "delete the child, then the parent" works in a multi.

use crate::acl::Acl;
use crate::error::ZkError;
use crate::mode::{CreateMode, EphemeralOwner, MAX_TTL_MS};
use crate::path::{split_parent, validate_path};
use crate::stat::StatPersisted;
use crate::tree::{DataTree, SPECIAL_PATHS};
use crate::txn::{Request, Txn, TxnHeader, TxnOp};
use crate::zxid::SessionId;
use std::collections::HashMap;
use std::sync::Arc;

// ANCHOR: change_record
/// What prep needs to know of a node (upstream `ChangeRecord`): its Stat, how many children
/// it has, and its ACL (which the server checks before it lets a request touch the node).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChangeRecord {
    pub stat: StatPersisted,
    pub child_count: usize,
    pub acl: Arc<[Acl]>,
}

/// The tree as prep sees it: the applied tree, possibly with changes still in flight on top.
pub trait TreeView {
    /// The node at `path` as it will be once every change prepped so far is applied, or
    /// `None` if there will be no node there.
    fn record(&self, path: &str) -> Option<ChangeRecord>;
    /// The ephemeral nodes `session` will own, sorted.
    fn ephemerals(&self, session: SessionId) -> Vec<String>;
    /// Whether TTL nodes are allowed (`zookeeper.extendedTypesEnabled`).
    fn extended_types(&self) -> bool;
}
// ANCHOR_END: change_record

impl TreeView for DataTree {
    fn record(&self, path: &str) -> Option<ChangeRecord> {
        self.node(path).map(|n| ChangeRecord {
            stat: n.stat,
            child_count: n.children.len(),
            acl: Arc::clone(n.acl),
        })
    }

    fn ephemerals(&self, session: SessionId) -> Vec<String> {
        DataTree::ephemerals(self, session)
    }

    fn extended_types(&self) -> bool {
        DataTree::extended_types(self)
    }
}

/// One path's record after a txn: `None` if the txn deletes the node.
pub type Change = (String, Option<ChangeRecord>);

/// The view as the ops prepped so far in this request will leave it.
struct Pending<'t> {
    view: &'t dyn TreeView,
    /// path → the node's record, or `None` if an earlier op deletes it.
    changes: HashMap<String, Option<ChangeRecord>>,
    /// The paths in the order they were first changed, so the caller gets a stable list.
    order: Vec<String>,
}

impl<'t> Pending<'t> {
    fn new(view: &'t dyn TreeView) -> Pending<'t> {
        Pending {
            view,
            changes: HashMap::new(),
            order: Vec::new(),
        }
    }

    /// `getRecordForPath`: NoNode if the path does not exist (or will not).
    fn record(&self, path: &str) -> Result<ChangeRecord, ZkError> {
        match self.changes.get(path) {
            Some(Some(record)) => Ok(record.clone()),
            Some(None) => Err(ZkError::NoNode),
            None => self.view.record(path).ok_or(ZkError::NoNode),
        }
    }

    fn set(&mut self, path: &str, record: Option<ChangeRecord>) {
        if self.changes.insert(path.to_string(), record).is_none() {
            self.order.push(path.to_string());
        }
    }

    fn into_changes(mut self) -> Vec<Change> {
        self.order
            .into_iter()
            .map(|path| {
                let record = self
                    .changes
                    .remove(&path)
                    .expect("every ordered path has a record");
                (path, record)
            })
            .collect()
    }
}

// ANCHOR: prep
/// Turns `request` into the txn with header `hdr` (who asked, and the zxid and time the server
/// decided). Never fails: a request that does not pass becomes an error txn.
pub fn prep(view: &impl TreeView, hdr: TxnHeader, request: &Request) -> Txn {
    prep_changes(view, hdr, request).0
}

/// [`prep`], and the change records the txn leaves (none for an error txn or a failed multi:
/// upstream rolls a failed request's records back).
pub fn prep_changes(view: &impl TreeView, hdr: TxnHeader, request: &Request) -> (Txn, Vec<Change>) {
    let mut pending = Pending::new(view);
    let (op, ok) = match request {
        Request::Multi(ops) => prep_multi(&mut pending, hdr, ops),
        single => match prep_op(&mut pending, hdr, single) {
            Ok(op) => (op, true),
            Err(e) => (TxnOp::error(e), false),
        },
    };
    let changes = if ok {
        pending.into_changes()
    } else {
        Vec::new()
    };
    (hdr.txn(op), changes)
}
// ANCHOR_END: prep

/// Preps each op in turn; after the first failure the rest become RuntimeInconsistency
/// errors without being looked at (the ops before it keep their txns — apply turns them into
/// OK errors). The flag says whether every op passed.
fn prep_multi(pending: &mut Pending, hdr: TxnHeader, ops: &[Request]) -> (TxnOp, bool) {
    let mut failed = false;
    let txns = ops
        .iter()
        .map(|op| {
            if failed {
                return TxnOp::error(ZkError::RuntimeInconsistency);
            }
            let result = match op {
                Request::Create { .. }
                | Request::Delete { .. }
                | Request::SetData { .. }
                | Request::Check { .. } => prep_op(pending, hdr, op),
                // Only these four may appear in a multi; anything else does not decode.
                _ => Err(ZkError::MarshallingError),
            };
            result.unwrap_or_else(|e| {
                failed = true;
                TxnOp::error(e)
            })
        })
        .collect();
    (TxnOp::Multi(txns), !failed)
}

fn prep_op(pending: &mut Pending, hdr: TxnHeader, request: &Request) -> Result<TxnOp, ZkError> {
    match request {
        Request::Create {
            path,
            data,
            acl,
            mode,
        } => prep_create(pending, hdr, path, data, acl, *mode),
        Request::Delete { path, version } => prep_delete(pending, hdr, path, *version),
        Request::SetData {
            path,
            data,
            version,
        } => {
            check_path(path)?;
            let mut node = pending.record(path)?;
            let version = check_and_inc_version(node.stat.version, *version)?;
            node.stat.version = version;
            node.stat.mzxid = hdr.zxid;
            node.stat.mtime = hdr.time_ms;
            pending.set(path, Some(node));
            Ok(TxnOp::SetData {
                path: path.clone(),
                data: data.clone(),
                version,
            })
        }
        Request::SetAcl { path, acl, version } => {
            check_path(path)?;
            check_acl(acl)?;
            let mut node = pending.record(path)?;
            let version = check_and_inc_version(node.stat.aversion, *version)?;
            node.stat.aversion = version;
            node.acl = acl.as_slice().into();
            pending.set(path, Some(node));
            Ok(TxnOp::SetAcl {
                path: path.clone(),
                acl: acl.clone(),
                version,
            })
        }
        Request::Check { path, version } => {
            check_path(path)?;
            let node = pending.record(path)?;
            let version = check_and_inc_version(node.stat.version, *version)?;
            Ok(TxnOp::Check {
                path: path.clone(),
                version,
            })
        }
        Request::CreateSession { timeout_ms } => Ok(TxnOp::CreateSession {
            timeout_ms: *timeout_ms,
        }),
        Request::CloseSession => {
            let paths_to_delete = pending.view.ephemerals(hdr.session);
            for path in &paths_to_delete {
                // The parent loses a child at this zxid, as a delete would leave it.
                if let Some((parent_path, _)) = split_parent(path) {
                    if let Ok(mut parent) = pending.record(parent_path) {
                        parent.child_count = parent.child_count.saturating_sub(1);
                        parent.stat.pzxid = hdr.zxid;
                        pending.set(parent_path, Some(parent));
                    }
                }
                pending.set(path, None);
            }
            Ok(TxnOp::CloseSession { paths_to_delete })
        }
        Request::Multi(ops) => Ok(prep_multi(pending, hdr, ops).0),
    }
}

// ANCHOR: prep_create
/// `pRequest2TxnCreate`, check for check in upstream's order.
fn prep_create(
    pending: &mut Pending,
    hdr: TxnHeader,
    path: &str,
    data: &Option<Vec<u8>>,
    acl: &[Acl],
    mode: CreateMode,
) -> Result<TxnOp, ZkError> {
    if let Some(ttl) = mode.ttl() {
        if !pending.view.extended_types() {
            return Err(ZkError::Unimplemented);
        }
        if ttl <= 0 || ttl > MAX_TTL_MS {
            return Err(ZkError::BadArguments);
        }
    }
    // Only "has a slash, has no NUL" so far; the full check waits for the suffix.
    let slash = path.rfind('/').ok_or(ZkError::BadArguments)?;
    if path.contains('\0') {
        return Err(ZkError::BadArguments);
    }
    let parent_path = if slash == 0 { "/" } else { &path[..slash] };
    check_acl(acl)?;
    let mut parent = pending.record(parent_path)?;
    let path = if mode.is_sequential() {
        // The *stored* cversion (creates only), not the client-visible one.
        format!("{path}{:010}", parent.stat.cversion)
    } else {
        path.to_string()
    };
    check_path(&path)?;
    if pending.record(&path).is_ok() {
        return Err(ZkError::NodeExists);
    }
    let extended = pending.view.extended_types();
    if EphemeralOwner::from_raw(parent.stat.ephemeral_owner, extended)
        .session()
        .is_some()
    {
        return Err(ZkError::NoChildrenForEphemerals);
    }
    let parent_cversion = parent.stat.cversion + 1;
    let owner = EphemeralOwner::for_create(mode, hdr.session);

    parent.child_count += 1;
    parent.stat.cversion = parent_cversion;
    parent.stat.pzxid = hdr.zxid;
    pending.set(parent_path, Some(parent));
    let stat = StatPersisted::created(hdr.zxid, hdr.time_ms, owner.raw());
    pending.set(
        &path,
        Some(ChangeRecord {
            stat,
            child_count: 0,
            acl: acl.into(),
        }),
    );
    Ok(TxnOp::Create {
        path,
        data: data.clone(),
        acl: acl.to_vec(),
        owner,
        parent_cversion,
    })
}
// ANCHOR_END: prep_create

// ANCHOR: prep_delete
/// The delete case of `pRequest2Txn`.
fn prep_delete(
    pending: &mut Pending,
    hdr: TxnHeader,
    path: &str,
    version: i32,
) -> Result<TxnOp, ZkError> {
    // getParentPathAndValidate: the built-in nodes are not the client's to delete.
    if path.contains('\0') || SPECIAL_PATHS.contains(&path) {
        return Err(ZkError::BadArguments);
    }
    let (parent_path, _) = split_parent(path).ok_or(ZkError::BadArguments)?;
    let mut parent = pending.record(parent_path)?;
    let node = pending.record(path)?;
    check_and_inc_version(node.stat.version, version)?;
    if node.child_count > 0 {
        return Err(ZkError::NotEmpty);
    }
    parent.child_count -= 1;
    parent.stat.pzxid = hdr.zxid;
    pending.set(parent_path, Some(parent));
    pending.set(path, None);
    Ok(TxnOp::Delete {
        path: path.to_string(),
    })
}
// ANCHOR_END: prep_delete

// ANCHOR: check_version
/// `checkAndIncVersion`: -1 matches any version, any other expected version must be the
/// current one; the new version is the current one plus one, wrapping like a Java int.
///
/// A node set 2³² − 1 times therefore reaches version -1, which no conditional write can name
/// (-1 means "any"). ZooKeeper 3.5–3.8 behave so; a fix that skips -1 (ZOOKEEPER-4743) is on
/// upstream's main branch but in no release this book follows.
fn check_and_inc_version(current: i32, expected: i32) -> Result<i32, ZkError> {
    match expected {
        -1 => Ok(current.wrapping_add(1)),
        e if e != current => Err(ZkError::BadVersion),
        _ => Ok(current.wrapping_add(1)),
    }
}
// ANCHOR_END: check_version

/// The server's re-check of a path: any PathUtils failure is BadArguments.
fn check_path(path: &str) -> Result<(), ZkError> {
    validate_path(path).map_err(|_| ZkError::BadArguments)
}

/// The part of `fixupACL` this chapter can judge without sessions: the list must not be
/// empty, and each entry must be in a known scheme with a well-formed id. (`auth` entries
/// need the session's identities, so they are chapter 3's.)
fn check_acl(acl: &[Acl]) -> Result<(), ZkError> {
    let valid = |a: &Acl| match a.id.scheme.as_str() {
        "world" => a.id.id == "anyone",
        // Two pieces once trailing colons go, as Java's `split(":")` counts them.
        "digest" => a.id.id.trim_end_matches(':').split(':').count() == 2,
        "ip" | "x509" | "sasl" | "super" => !a.id.id.is_empty(),
        _ => false,
    };
    if acl.is_empty() || !acl.iter().all(valid) {
        return Err(ZkError::InvalidAcl);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zxid::Zxid;

    fn hdr(zxid: i64) -> TxnHeader {
        TxnHeader {
            session: SessionId(7),
            cxid: 1,
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

    /// The tree with some records on top: how a server sees it while txns are in flight.
    struct InFlight<'t>(&'t DataTree, HashMap<String, Option<ChangeRecord>>);

    impl TreeView for InFlight<'_> {
        fn record(&self, path: &str) -> Option<ChangeRecord> {
            match self.1.get(path) {
                Some(record) => record.clone(),
                None => self.0.record(path),
            }
        }
        fn ephemerals(&self, session: SessionId) -> Vec<String> {
            self.0.ephemerals(session)
        }
        fn extended_types(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_create_leaves_records_for_the_node_and_its_parent() {
        // PrepRequestProcessor.pRequest2TxnCreate: addChangeRecord(parent), addChangeRecord(node).
        let tree = DataTree::new();
        let (txn, changes) = prep_changes(&tree, hdr(5), &create("/a", CreateMode::Persistent));
        assert!(txn.op.err().is_none());
        let paths: Vec<&str> = changes.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["/", "/a"]);
        let root = changes[0].1.as_ref().unwrap();
        assert_eq!((root.child_count, root.stat.pzxid), (2, Zxid(5)));
    }

    #[test]
    fn a_request_prepped_while_another_is_in_flight_sees_its_changes() {
        // outstandingChanges: a second create of /a, prepped before the first is applied.
        let tree = DataTree::new();
        let (_, changes) = prep_changes(&tree, hdr(5), &create("/a", CreateMode::Persistent));
        let in_flight = InFlight(&tree, changes.into_iter().collect());
        let second = prep(&in_flight, hdr(6), &create("/a", CreateMode::Persistent));
        assert_eq!(second.op.err(), Some(ZkError::NodeExists));
        let child = prep(&in_flight, hdr(6), &create("/a/b", CreateMode::Persistent));
        assert!(child.op.err().is_none(), "the parent exists in flight");
    }

    #[test]
    fn a_failed_request_leaves_no_records() {
        // rollbackPendingChanges: a failed multi's earlier ops leave nothing behind.
        let tree = DataTree::new();
        let (txn, changes) = prep_changes(&tree, hdr(5), &create("/a/b", CreateMode::Persistent));
        assert_eq!((txn.op.err(), changes.len()), (Some(ZkError::NoNode), 0));
        let multi = Request::Multi(vec![
            create("/a", CreateMode::Persistent),
            Request::Delete {
                path: "/nope".into(),
                version: -1,
            },
        ]);
        let (_, changes) = prep_changes(&tree, hdr(6), &multi);
        assert!(changes.is_empty());
    }

    #[test]
    fn a_close_session_deletes_its_ephemerals_and_their_parents_lose_a_child() {
        // pRequest2Txn closeSession (3.8, digest on): a parent record with childCount - 1.
        let mut tree = DataTree::new();
        let mut h = hdr(1);
        h.session = SessionId(7);
        tree.apply(&prep(&tree, h, &create("/e", CreateMode::Ephemeral)));
        h.zxid = Zxid(2);
        let (txn, changes) = prep_changes(&tree, h, &Request::CloseSession);
        assert_eq!(txn.op.to_string(), "closeSession delete=[/e]");
        let root = changes[0].1.as_ref().unwrap();
        assert_eq!((root.child_count, root.stat.pzxid), (1, Zxid(2)));
        assert_eq!(changes[1], ("/e".to_string(), None));
    }

    #[test]
    fn minus_one_matches_any_version_and_others_must_be_exact() {
        assert_eq!(check_and_inc_version(4, -1), Ok(5));
        assert_eq!(check_and_inc_version(4, 4), Ok(5));
        assert_eq!(check_and_inc_version(4, 3), Err(ZkError::BadVersion));
    }

    #[test]
    fn a_version_wraps_like_a_java_int_and_can_reach_minus_one() {
        // PrepRequestProcessor.checkAndIncVersion in 3.5-3.8: currentVersion + 1.
        assert_eq!(check_and_inc_version(i32::MAX, -1), Ok(i32::MIN));
        assert_eq!(check_and_inc_version(-2, -2), Ok(-1));
    }

    #[test]
    fn acl_lists_must_be_non_empty_and_well_formed() {
        assert_eq!(check_acl(&Acl::open_unsafe()), Ok(()));
        assert_eq!(check_acl(&[]), Err(ZkError::InvalidAcl));
        assert_eq!(
            check_acl(&[Acl::new(1, "world", "someone")]),
            Err(ZkError::InvalidAcl)
        );
        assert_eq!(
            check_acl(&[Acl::new(1, "nosuch", "x")]),
            Err(ZkError::InvalidAcl)
        );
    }
}
