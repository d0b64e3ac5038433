//! Prepare: a client request becomes a transaction (upstream `PrepRequestProcessor`).
//!
//! The idea to take away: everything that needs judgement happens **once, here**, on the server
//! that received the write, before anyone else sees it. Is the path well formed, does the
//! parent exist, is the version right, **is this connection allowed** (ACLs), which sequence
//! number does the node get, which ephemerals does a closing session own. The answer is a
//! [`Txn`]: a decided change with a zxid and a time that every replica can apply without
//! thinking. A write that fails a check is not dropped: it becomes an *error txn* that still
//! takes a zxid (ZooKeeper 3.8 logs it), so the reply carries the error in log order.
//!
//! Chapter 1's [`prep`](mod@ch01_znode::prep) already knows the tree's rules; this stage adds what
//! only a server with sessions can know: who is asking ([`crate::acl::check_acl`] against the
//! connection's ids) and what `auth` means in a new ACL ([`crate::acl::fixup_acl`]).
//!
//! Upstream checks ACLs in the middle of its validation (after "parent exists", before "node
//! exists"); here the ACL check runs first and only when the node it reads exists, which gives
//! the same answers except when a request is wrong in two ways at once. Inside a multi the ops
//! are checked against the tree as it was before the multi (upstream uses the pending changes).

use std::borrow::Cow;

use ch01_znode::acl::perms;
use ch01_znode::path::split_parent;
use ch01_znode::{
    prep_changes, Change, CreateMode, Id, Request, TreeView, Txn, TxnHeader, TxnOp, ZkError,
};

use crate::acl::{check_acl, fixup_acl, AclError};
use crate::proto::{self, MultiOp};

/// Whether [`write_request`] takes `request` as a write, without building the write (which
/// copies its path and data).
pub fn is_write(request: &proto::Request) -> bool {
    let write = match request {
        proto::Request::Create(_)
        | proto::Request::Create2(_)
        | proto::Request::CreateContainer(_)
        | proto::Request::CreateTtl(_)
        | proto::Request::Delete(_)
        | proto::Request::SetData(_)
        | proto::Request::SetAcl(_)
        | proto::Request::Check(_)
        | proto::Request::CloseSession => true,
        proto::Request::Multi(m) => !m.ops.iter().any(|o| matches!(o, MultiOp::NullPath(_))),
        _ => false,
    };
    debug_assert_eq!(write, write_request(request).is_some(), "{request:?}");
    write
}

/// [`write_request`] of a request the caller is done with: the common writes keep their
/// path, data and ACL rather than copying them.
pub fn into_write_request(request: proto::Request) -> Option<Result<Request, ZkError>> {
    Some(match request {
        proto::Request::Create(r) | proto::Request::Create2(r) => {
            create_mode(r.flags, -1).map(|mode| Request::Create {
                path: r.path,
                data: r.data,
                acl: r.acl,
                mode,
            })
        }
        proto::Request::SetData(r) => Ok(Request::SetData {
            path: r.path,
            data: r.data,
            version: r.version,
        }),
        proto::Request::Delete(r) => Ok(Request::Delete {
            path: r.path,
            version: r.version,
        }),
        other => return write_request(&other),
    })
}

/// The wire request as a write, if it is one; `Err` when it cannot even be stated as one (a
/// create flag that names no mode).
pub fn write_request(request: &proto::Request) -> Option<Result<Request, ZkError>> {
    let create = |r: &proto::CreateRequest, mode: Result<CreateMode, ZkError>| {
        mode.map(|mode| Request::Create {
            path: r.path.clone(),
            data: r.data.clone(),
            acl: r.acl.clone(),
            mode,
        })
    };
    Some(match request {
        proto::Request::Create(r) | proto::Request::Create2(r) => {
            create(r, create_mode(r.flags, -1))
        }
        proto::Request::CreateContainer(r) => create(r, container_mode(r.flags)),
        proto::Request::CreateTtl(r) => {
            let as_create = proto::CreateRequest {
                path: r.path.clone(),
                data: r.data.clone(),
                acl: r.acl.clone(),
                flags: r.flags,
            };
            create(&as_create, ttl_mode(r.flags, r.ttl))
        }
        proto::Request::Delete(r) => Ok(Request::Delete {
            path: r.path.clone(),
            version: r.version,
        }),
        proto::Request::SetData(r) => Ok(Request::SetData {
            path: r.path.clone(),
            data: r.data.clone(),
            version: r.version,
        }),
        proto::Request::SetAcl(r) => Ok(Request::SetAcl {
            path: r.path.clone(),
            acl: r.acl.clone(),
            version: r.version,
        }),
        proto::Request::Check(r) => Ok(Request::Check {
            path: r.path.clone(),
            version: r.version,
        }),
        // A null path fails a multi before it is a txn (upstream's `getPendingChanges` throws
        // on it): it is answered as a read is, see `finish`.
        proto::Request::Multi(m) if m.ops.iter().any(|o| matches!(o, MultiOp::NullPath(_))) => {
            return None
        }
        proto::Request::Multi(m) => {
            let ops: Vec<_> = m.ops.iter().map(multi_op).collect();
            // A multi that cannot be read fails as a whole, before any op is prepped.
            if ops.contains(&Err(ZkError::MarshallingError)) {
                return Some(Err(ZkError::MarshallingError));
            }
            // An op that names no create mode fails only when prep reaches it: chapter 1 gets
            // the ops before it, and `MultiWire::finish` fails the multi there.
            Ok(Request::Multi(
                ops.into_iter().map_while(Result::ok).collect(),
            ))
        }
        proto::Request::CloseSession => Ok(Request::CloseSession),
        _ => return None,
    })
}

/// The mode a create's flags name (`CreateMode.fromFlag`); a TTL mode of a plain create
/// carries no TTL (upstream passes -1), which is refused later as Unimplemented (TTLs
/// disabled, the default) or BadArguments.
fn create_mode(flags: i32, ttl: i64) -> Result<CreateMode, ZkError> {
    CreateMode::from_flag(flags, ttl).ok_or(ZkError::BadArguments)
}

/// createContainer makes a container whatever its flags say, as upstream's
/// `CreateContainerTxn` does: the sequential bit still adds a counter to the name, and a TTL
/// flag is refused as for a create ([`CreateMode::for_container_flag`]).
fn container_mode(flags: i32) -> Result<CreateMode, ZkError> {
    CreateMode::for_container_flag(flags).ok_or(ZkError::BadArguments)
}

/// createTTL wants a TTL mode. Upstream refuses another mode with a TTL ≥ 0 as BadArguments,
/// and with a TTL < 0 it logs the create and then fails applying it (the connection is
/// dropped); here that request gets BadArguments too.
fn ttl_mode(flags: i32, ttl: i64) -> Result<CreateMode, ZkError> {
    let mode = create_mode(flags, ttl)?;
    match mode.ttl() {
        Some(_) => Ok(mode),
        None => Err(ZkError::BadArguments),
    }
}

fn multi_op(op: &proto::MultiOp) -> Result<Request, ZkError> {
    let op = &op.as_run();
    // A TTL flag on an op that carries no TTL fails the whole multi while it is read: 3.8.0's
    // `Op.create` makes it a createTTL op whose record is no CreateTTLRequest, 3.8.2+ check
    // its TTL (-1) in `CreateOptions` (`MultiOperationRecord.deserialize`), both MarshallingError.
    if let proto::MultiOp::Create(r)
    | proto::MultiOp::Create2(r)
    | proto::MultiOp::CreateContainer(r) = op
    {
        if CreateMode::from_flag(r.flags, -1).is_some_and(|m| m.ttl().is_some()) {
            return Err(ZkError::MarshallingError);
        }
    }
    let single = match op {
        proto::MultiOp::Create(r) => proto::Request::Create(r.clone()),
        proto::MultiOp::Create2(r) => proto::Request::Create2(r.clone()),
        proto::MultiOp::CreateContainer(r) => proto::Request::CreateContainer(r.clone()),
        proto::MultiOp::CreateTtl(r) => proto::Request::CreateTtl(r.clone()),
        proto::MultiOp::Delete(r) => proto::Request::Delete(r.clone()),
        proto::MultiOp::SetData(r) => proto::Request::SetData(r.clone()),
        proto::MultiOp::Check(r) => proto::Request::Check(r.clone()),
        // Reads cannot be part of a write multi (MultiOperationRecord rejects them).
        proto::MultiOp::GetChildren(_)
        | proto::MultiOp::GetData(_)
        | proto::MultiOp::NullPath(_) => return Err(ZkError::MarshallingError),
    };
    write_request(&single).unwrap_or(Err(ZkError::MarshallingError))
}

// ANCHOR: prepare
/// Turns a write from a connection holding `ids` into its txn, judged against `view` (the
/// tree, plus the changes still in flight), and the change records the txn leaves. Never
/// fails: a request that may not or cannot be done becomes an error txn.
pub fn prepare(
    view: &impl TreeView,
    hdr: TxnHeader,
    ids: &[Id],
    request: &Request,
) -> (Txn, Vec<Change>) {
    let checked = match request {
        Request::Multi(ops) => check_multi(view, ids, ops),
        single => authorize(view, ids, single).map_err(TxnOp::error),
    };
    match checked {
        Ok(request) => prep_changes(view, hdr, &request),
        Err(op) => (hdr.txn(op), Vec::new()),
    }
}
// ANCHOR_END: prepare

/// An error txn stated directly: a request that was refused before it was a change.
pub fn refused(hdr: TxnHeader, err: ZkError) -> Txn {
    hdr.txn(TxnOp::error(err))
}

/// A write whose session fails upstream's `checkSession` (gone, closing, or moved to another
/// server) with `err`. Upstream checks the session in each op's prep (`pRequest2Txn`), so a
/// multi fails at its first op, the others RuntimeInconsistency; an empty multi has no op to
/// check and is prepared as usual (`None`).
pub fn refused_by_session(hdr: TxnHeader, request: &proto::Request, err: ZkError) -> Option<Txn> {
    match request {
        proto::Request::Multi(m) if m.ops.is_empty() => None,
        proto::Request::Multi(m) => Some(hdr.txn(failed_multi(m.ops.len(), 0, err))),
        _ => Some(refused(hdr, err)),
    }
}

/// Each op of a multi is checked in turn; the first refusal fails the whole multi.
fn check_multi<'r>(
    view: &impl TreeView,
    ids: &[Id],
    ops: &[Request],
) -> Result<Cow<'r, Request>, TxnOp> {
    let mut fixed = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        match authorize(view, ids, op) {
            Ok(op) => fixed.push(op.into_owned()),
            Err(err) => return Err(failed_multi(ops.len(), index, err)),
        }
    }
    Ok(Cow::Owned(Request::Multi(fixed)))
}

/// A multi of `len` ops failed by op `index`, the way ZooKeeper reports it: ops before it
/// `0`, it its code, ops after it `-2`.
fn failed_multi(len: usize, index: usize, err: ZkError) -> TxnOp {
    let results = (0..len).map(|i| TxnOp::Error {
        code: match i.cmp(&index) {
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Equal => err.code(),
            std::cmp::Ordering::Greater => ZkError::RuntimeInconsistency.code(),
        },
    });
    TxnOp::Multi(results.collect())
}

// ANCHOR: multi_wire
/// What a multi's wire ops say that chapter 1's requests cannot carry, applied to the txn
/// prepared from them by [`MultiWire::finish`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MultiWire {
    /// How many ops the multi holds.
    len: usize,
    /// The first op whose flags name no create mode, and its error. Upstream's prep fails
    /// such an op when it reaches it (`CreateMode.fromFlag` throws BadArguments), so an
    /// earlier op may fail first; chapter 1 is given the ops before it.
    unstated: Option<(usize, ZkError)>,
    /// The createContainers whose flag is an ephemeral mode (1, 3). Upstream's
    /// `pRequest2TxnCreate` writes a `CreateContainerTxn` for any flag, but gives the pending
    /// `ChangeRecord` the `ephemeralOwner` that `CreateMode.fromFlag(flags)` names: the
    /// session's id. (3.8.0 even makes the op an ephemeral create, see `Op.create`; a later
    /// op sees the same record either way.) Chapter 1's modes name the node the txn makes, so
    /// only this stage, which still holds the wire flags, knows.
    pending_ephemerals: Vec<usize>,
}
// ANCHOR_END: multi_wire

impl MultiWire {
    /// What `request` says beyond its ops; nothing for a request that is no multi.
    pub fn of(request: &proto::Request) -> MultiWire {
        let proto::Request::Multi(m) = request else {
            return MultiWire::default();
        };
        let ephemeral = |flags| CreateMode::from_flag(flags, -1).is_some_and(|m| m.is_ephemeral());
        let ops: Vec<MultiOp> = m.ops.iter().map(MultiOp::as_run).collect();
        MultiWire {
            len: ops.len(),
            unstated: ops
                .iter()
                .map(multi_op)
                .enumerate()
                .find_map(|(index, op)| op.err().map(|err| (index, err))),
            pending_ephemerals: (ops.iter().enumerate())
                .filter(|(_, op)| matches!(op, MultiOp::CreateContainer(r) if ephemeral(r.flags)))
                .map(|(index, _)| index)
                .collect(),
        }
    }

    /// The multi's txn once the wire's facts are applied to `prepared`, the txn and change
    /// records of the ops chapter 1 was given. Upstream's log shape is kept: ops before the
    /// failing one keep their txns, it is an error txn, the ops after it RuntimeInconsistency.
    pub fn finish(&self, prepared: (Txn, Vec<Change>)) -> (Txn, Vec<Change>) {
        let (txn, changes) = prepared;
        let TxnOp::Multi(ops) = &txn.op else {
            return (txn, changes);
        };
        let failure = match self.first_child_of_pending_ephemeral(ops) {
            Some(index) => Some((index, ZkError::NoChildrenForEphemerals)),
            // Only if every op chapter 1 was given passed does prep reach the unstated op.
            None if ops.iter().any(|op| matches!(op, TxnOp::Error { .. })) => None,
            None => self.unstated,
        };
        let mut failed = match failure {
            Some((index, err)) => {
                let mut failed = ops[..index].to_vec();
                failed.push(TxnOp::error(err));
                failed
            }
            None if ops.len() < self.len => ops.clone(),
            None => return (txn, changes),
        };
        failed.resize(self.len, TxnOp::error(ZkError::RuntimeInconsistency));
        (txn.header().txn(TxnOp::Multi(failed)), Vec::new())
    }

    /// The first create under a container that upstream's prep still holds as the session's
    /// ephemeral: there it finds an ephemeral parent and fails NoChildrenForEphemerals.
    /// Nothing else a multi can hold reads a node's owner (delete, setData and check do not),
    /// and each check a create makes before that one has passed in chapter 1, so the multi
    /// fails there and nowhere earlier. Outside the multi the record in flight keeps the
    /// container's owner (see `Outstanding`), where upstream's would also list the container
    /// among the session's ephemerals for a closeSession prepped before the multi is applied,
    /// and log a digest that is not the tree's for that txn.
    fn first_child_of_pending_ephemeral(&self, ops: &[TxnOp]) -> Option<usize> {
        let mut ephemeral_parents: Vec<&str> = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            match op {
                TxnOp::Create { path, .. } => {
                    let parent = split_parent(path).map(|(p, _)| p);
                    if parent.is_some_and(|p| ephemeral_parents.contains(&p)) {
                        return Some(index);
                    }
                    if self.pending_ephemerals.contains(&index) {
                        ephemeral_parents.push(path);
                    }
                }
                // A node deleted and made again in the same multi gets a new pending record.
                TxnOp::Delete { path } => ephemeral_parents.retain(|p| p != path),
                _ => {}
            }
        }
        None
    }
}

// ANCHOR: authorize
/// The permission each write needs, on which node (client-protocol.md §7), and the rewrite of
/// new ACL lists (`fixupACL`). Returns the request with its ACL fixed up.
/// The request as it is to be prepped: itself, or (a create or setACL) with its ACL fixed up.
/// Borrowed when nothing changes, so the data of a setData is not copied to be checked.
fn authorize<'r>(
    view: &impl TreeView,
    ids: &[Id],
    request: &'r Request,
) -> Result<Cow<'r, Request>, ZkError> {
    // The ACL as it will be: a node created or re-ACLed by a txn still in flight counts.
    let needs = |path: &str, perm: i32| match view.record(path) {
        // A missing node is not an ACL question: prep reports NoNode in its own order.
        None => Ok(()),
        Some(node) => check_acl(&node.acl, perm, ids).map_err(acl_error),
    };
    let parent = |path: &str| split_parent(path).map(|(p, _)| p.to_string());
    match request {
        Request::Create {
            path,
            data,
            acl,
            mode,
        } => {
            let acl = fixup_acl(acl, ids).map_err(acl_error)?;
            if let Some(p) = parent(path) {
                needs(&p, perms::CREATE)?;
            }
            Ok(Cow::Owned(Request::Create {
                path: path.clone(),
                data: data.clone(),
                acl,
                mode: *mode,
            }))
        }
        Request::Delete { path, .. } => {
            if let Some(p) = parent(path) {
                needs(&p, perms::DELETE)?;
            }
            Ok(Cow::Borrowed(request))
        }
        Request::SetData { path, .. } => needs(path, perms::WRITE).map(|()| Cow::Borrowed(request)),
        Request::SetAcl { path, acl, version } => {
            let acl = fixup_acl(acl, ids).map_err(acl_error)?;
            needs(path, perms::ADMIN)?;
            Ok(Cow::Owned(Request::SetAcl {
                path: path.clone(),
                acl,
                version: *version,
            }))
        }
        Request::Check { path, .. } => needs(path, perms::READ).map(|()| Cow::Borrowed(request)),
        Request::Multi(_) | Request::CreateSession { .. } | Request::CloseSession => {
            Ok(Cow::Borrowed(request))
        }
    }
}
// ANCHOR_END: authorize

/// An ACL refusal as the tree's error code.
pub fn acl_error(err: AclError) -> ZkError {
    match err {
        AclError::NoAuth => ZkError::NoAuth,
        AclError::InvalidAcl => ZkError::InvalidAcl,
        AclError::AuthFailed => ZkError::AuthFailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{Acl, DataTree, SessionId, Zxid};

    fn open(path: &str, flags: i32) -> proto::CreateRequest {
        proto::CreateRequest {
            path: path.into(),
            data: None,
            acl: Acl::open_unsafe(),
            flags,
        }
    }

    fn container(path: &str, flags: i32) -> MultiOp {
        MultiOp::CreateContainer(open(path, flags))
    }

    fn create(path: &str) -> MultiOp {
        MultiOp::Create(open(path, 0))
    }

    fn flagged(path: &str, flags: i32) -> MultiOp {
        MultiOp::Create(open(path, flags))
    }

    fn delete(path: &str) -> MultiOp {
        MultiOp::Delete(proto::DeleteRequest {
            path: path.into(),
            version: -1,
        })
    }

    /// The multi of `ops` prepared on an empty tree as the server does: its result codes, or
    /// `None` if it passed.
    fn prepared(ops: Vec<MultiOp>) -> Option<Vec<i32>> {
        let multi = proto::Request::Multi(proto::MultiRequest { ops });
        let hdr = TxnHeader {
            session: SessionId(7),
            cxid: 1,
            zxid: Zxid(1),
            time_ms: 0,
        };
        let request = write_request(&multi).unwrap().unwrap();
        let (txn, changes) =
            MultiWire::of(&multi).finish(prepare(&DataTree::new(), hdr, &[], &request));
        match txn.op {
            TxnOp::Multi(ops) if ops.iter().any(|op| matches!(op, TxnOp::Error { .. })) => {
                assert!(changes.is_empty(), "a failed multi leaves no change");
                let code = |op: &TxnOp| match op {
                    TxnOp::Error { code } => *code,
                    _ => 0,
                };
                Some(ops.iter().map(code).collect())
            }
            _ => None,
        }
    }

    fn create_ttl(path: &str, flags: i32) -> MultiOp {
        let r = open(path, flags);
        MultiOp::CreateTtl(proto::CreateTtlRequest {
            path: r.path,
            data: r.data,
            acl: r.acl,
            flags,
            ttl: 1000,
        })
    }

    /// A flag that names no mode fails its op when prep reaches it (`CreateMode.fromFlag`
    /// throws BadArguments), not the request: an earlier op that fails wins.
    #[test]
    fn an_unknown_create_flag_fails_the_multi_at_its_op() {
        let ops = vec![create("/a"), flagged("/b", 7), create("/c")];
        assert_eq!(prepared(ops), Some(vec![0, -8, -2]));
        let ops = vec![create("/a"), create("/a"), flagged("/b", 7), create("/c")];
        assert_eq!(prepared(ops), Some(vec![0, -110, -2, -2]));
        let ops = vec![flagged("/b", 7), create("/a"), create("/a")];
        assert_eq!(prepared(ops), Some(vec![-8, -2, -2]));
    }

    /// `Op.create(path, data, acl, flags, ttl)` keeps the TTL of a TTL mode only: a createTTL
    /// op with another flag is the create of that flag, an unknown one fails as above.
    #[test]
    fn a_create_ttl_op_without_a_ttl_mode_is_a_create_of_its_flag() {
        assert_eq!(prepared(vec![create_ttl("/t", 0)]), None);
        assert_eq!(prepared(vec![create_ttl("/t", 1)]), None);
        assert_eq!(prepared(vec![create_ttl("/t", 9)]), Some(vec![-8]));
        // TTLs are off (`zookeeper.extendedTypesEnabled`), so a TTL mode is Unimplemented.
        assert_eq!(prepared(vec![create_ttl("/t", 5)]), Some(vec![-6]));
    }

    /// Upstream's pending record of a createContainer has the owner its flag names
    /// (`PrepRequestProcessor.pRequest2TxnCreate`): with flag 1 or 3 the session's, so a child
    /// made in the same multi fails NoChildrenForEphemerals; with 0, 2 or 4 it is made.
    #[test]
    fn a_child_of_a_container_made_with_an_ephemeral_flag_fails_the_multi() {
        for flags in [1, 3] {
            let made = if flags == 3 { "/c0000000000" } else { "/c" };
            let ops = vec![
                container("/c", flags),
                create(&format!("{made}/kid")),
                create("/other"),
            ];
            assert_eq!(prepared(ops), Some(vec![0, -108, -2]), "flags {flags}");
        }
        for flags in [0, 2, 4] {
            let made = if flags == 2 { "/c0000000000" } else { "/c" };
            let ops = vec![container("/c", flags), create(&format!("{made}/kid"))];
            assert_eq!(prepared(ops), None, "flags {flags}");
        }
    }

    /// Only a create under it reads the pending owner: deleting it in the same multi works,
    /// and a node made again at its path after that is a parent like any other.
    #[test]
    fn a_container_made_with_an_ephemeral_flag_can_be_deleted_and_made_again() {
        assert_eq!(prepared(vec![container("/c", 1), delete("/c")]), None);
        let again = vec![
            container("/c", 1),
            delete("/c"),
            create("/c"),
            create("/c/kid"),
        ];
        assert_eq!(prepared(again), None);
    }
}
