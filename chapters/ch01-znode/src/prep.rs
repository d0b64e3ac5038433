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
//! Upstream keeps a queue of not-yet-applied changes (`outstandingChanges`, one
//! `ChangeRecord` per touched path) so it can prep request *n+1* before request *n* is
//! applied. Here `Pending` plays that role within one request (a multi); the tree itself is
//! the applied state.

use crate::acl::Acl;
use crate::error::ZkError;
use crate::mode::{CreateMode, EphemeralOwner, MAX_TTL_MS};
use crate::path::{split_parent, validate_path};
use crate::stat::StatPersisted;
use crate::tree::{DataTree, SPECIAL_PATHS};
use crate::txn::{Request, Txn, TxnHeader, TxnOp};
use std::collections::HashMap;

/// What prep needs to know of a node (`ChangeRecord`).
#[derive(Clone, Debug)]
struct Record {
    stat: StatPersisted,
    child_count: usize,
}

/// The tree as the ops prepped so far in this request will leave it.
struct Pending<'t> {
    tree: &'t DataTree,
    /// path → the node's record, or `None` if an earlier op deletes it.
    changes: HashMap<String, Option<Record>>,
}

impl<'t> Pending<'t> {
    fn new(tree: &'t DataTree) -> Pending<'t> {
        Pending {
            tree,
            changes: HashMap::new(),
        }
    }

    /// `getRecordForPath`: NoNode if the path does not exist (or will not).
    fn record(&self, path: &str) -> Result<Record, ZkError> {
        match self.changes.get(path) {
            Some(Some(record)) => Ok(record.clone()),
            Some(None) => Err(ZkError::NoNode),
            None => self
                .tree
                .node(path)
                .map(|n| Record {
                    stat: n.stat,
                    child_count: n.children.len(),
                })
                .ok_or(ZkError::NoNode),
        }
    }

    fn set(&mut self, path: &str, record: Option<Record>) {
        self.changes.insert(path.to_string(), record);
    }
}

// ANCHOR: prep
/// Turns `request` into the txn with header `hdr` (who asked, and the zxid and time the server
/// decided). Never fails: a request that does not pass becomes an error txn.
pub fn prep(tree: &DataTree, hdr: TxnHeader, request: &Request) -> Txn {
    let mut pending = Pending::new(tree);
    let op = match request {
        Request::Multi(ops) => prep_multi(&mut pending, hdr, ops),
        single => prep_op(&mut pending, hdr, single).unwrap_or_else(TxnOp::error),
    };
    hdr.txn(op)
}
// ANCHOR_END: prep

/// Preps each op in turn; after the first failure the rest become RuntimeInconsistency
/// errors without being looked at (the ops before it keep their txns — apply turns them into
/// OK errors).
fn prep_multi(pending: &mut Pending, hdr: TxnHeader, ops: &[Request]) -> TxnOp {
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
    TxnOp::Multi(txns)
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
            let paths_to_delete = pending.tree.ephemerals(hdr.session);
            for path in &paths_to_delete {
                pending.set(path, None);
            }
            Ok(TxnOp::CloseSession { paths_to_delete })
        }
        Request::Multi(ops) => Ok(prep_multi(pending, hdr, ops)),
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
        if !pending.tree.extended_types() {
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
    let extended = pending.tree.extended_types();
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
        Some(Record {
            stat,
            child_count: 0,
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
        "digest" => a.id.id.split(':').count() == 2,
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
