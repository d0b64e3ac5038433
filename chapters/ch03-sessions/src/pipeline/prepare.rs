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
//! Chapter 1's [`prep`](ch01_znode::prep) already knows the tree's rules; this stage adds what
//! only a server with sessions can know: who is asking ([`crate::acl::check_acl`] against the
//! connection's ids) and what `auth` means in a new ACL ([`crate::acl::fixup_acl`]).
//!
//! Upstream checks ACLs in the middle of its validation (after "parent exists", before "node
//! exists"); here the ACL check runs first and only when the node it reads exists, which gives
//! the same answers except when a request is wrong in two ways at once. Inside a multi the ops
//! are checked against the tree as it was before the multi (upstream uses the pending changes).

use ch01_znode::acl::perms;
use ch01_znode::path::split_parent;
use ch01_znode::{
    prep_changes, Change, CreateMode, Id, Request, TreeView, Txn, TxnHeader, TxnOp, ZkError,
};

use crate::acl::{check_acl, fixup_acl, AclError};
use crate::proto::{self, MultiOp};

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
        proto::Request::Multi(m) => m
            .ops
            .iter()
            .map(multi_op)
            .collect::<Result<Vec<_>, _>>()
            .map(Request::Multi),
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

/// Each op of a multi is checked in turn; the first refusal fails the whole multi the way
/// ZooKeeper reports it: ops before it `0`, it its code, ops after it `-2`.
fn check_multi(view: &impl TreeView, ids: &[Id], ops: &[Request]) -> Result<Request, TxnOp> {
    let mut fixed = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        match authorize(view, ids, op) {
            Ok(op) => fixed.push(op),
            Err(err) => {
                let results = (0..ops.len()).map(|i| TxnOp::Error {
                    code: match i.cmp(&index) {
                        std::cmp::Ordering::Less => 0,
                        std::cmp::Ordering::Equal => err.code(),
                        std::cmp::Ordering::Greater => ZkError::RuntimeInconsistency.code(),
                    },
                });
                return Err(TxnOp::Multi(results.collect()));
            }
        }
    }
    Ok(Request::Multi(fixed))
}

// ANCHOR: authorize
/// The permission each write needs, on which node (client-protocol.md §7), and the rewrite of
/// new ACL lists (`fixupACL`). Returns the request with its ACL fixed up.
fn authorize(view: &impl TreeView, ids: &[Id], request: &Request) -> Result<Request, ZkError> {
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
            Ok(Request::Create {
                path: path.clone(),
                data: data.clone(),
                acl,
                mode: *mode,
            })
        }
        Request::Delete { path, .. } => {
            if let Some(p) = parent(path) {
                needs(&p, perms::DELETE)?;
            }
            Ok(request.clone())
        }
        Request::SetData { path, .. } => needs(path, perms::WRITE).map(|()| request.clone()),
        Request::SetAcl { path, acl, version } => {
            let acl = fixup_acl(acl, ids).map_err(acl_error)?;
            needs(path, perms::ADMIN)?;
            Ok(Request::SetAcl {
                path: path.clone(),
                acl,
                version: *version,
            })
        }
        Request::Check { path, .. } => needs(path, perms::READ).map(|()| request.clone()),
        Request::Multi(_) | Request::CreateSession { .. } | Request::CloseSession => {
            Ok(request.clone())
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
