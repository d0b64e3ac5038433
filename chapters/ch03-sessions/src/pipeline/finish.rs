//! Final: apply, fire watches, answer (upstream `FinalRequestProcessor`).
//!
//! The idea to take away: the last stage is where a decided txn meets the tree and where every
//! request, read or write, gets its answer. A write's answer is built from what applying its
//! txn returned; a read's answer is built from the tree **at this point of the pipeline**,
//! which is why a session that wrote and then read sees its own write: the read waited here
//! behind it.
//!
//! Reads also need permission (READ on the node, READ or ADMIN for getAcl), and three of them
//! leave watches behind (`exists`, `getData`, `getChildren` with `watch=true`). The watch
//! registry (chapter 2) is consulted here, after the ACL check, exactly as upstream does:
//! a client that may not read a node may not watch it either.

use ch01_znode::acl::perms;
use ch01_znode::{DataTree, Id, SessionId, Txn, TxnResult, ZkError, Zxid};

use super::prepare::acl_error;
use super::watches::{Notification, Watches};
use crate::acl::{check_acl, java_set_order, mask_digests};
use crate::proto::{self, OpCode, OpResult, Response};

/// What the client asked for, kept until its txn is applied: the same txn result answers a
/// `create` with a path and a `create2` with a path and a Stat.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A single op.
    Op(OpCode),
    /// A multi, one opcode per op.
    Multi(Vec<OpCode>),
}

impl Shape {
    /// The shape of a wire request.
    pub fn of(request: &proto::Request) -> Shape {
        match request {
            proto::Request::Multi(m) => {
                Shape::Multi(m.ops.iter().map(|o| o.as_run().op_code()).collect())
            }
            other => Shape::Op(other.op_code()),
        }
    }
}

// ANCHOR: write_reply
/// The answer to a write, from the result of applying its txn: `Err(code)` is a header-only
/// error reply.
pub fn write_reply(shape: &Shape, result: &TxnResult) -> Result<Response, ZkError> {
    match (shape, result) {
        (Shape::Multi(ops), TxnResult::Multi(results)) => {
            Ok(Response::Multi(proto::MultiResponse {
                results: ops
                    .iter()
                    .zip(results)
                    .map(|(op, r)| op_result(*op, r))
                    .collect(),
            }))
        }
        // An error txn fails a multi as a whole only if prep could not even split it.
        (_, TxnResult::Error { code }) => {
            Err(ZkError::from_code(*code).unwrap_or(ZkError::SystemError))
        }
        (Shape::Op(op), result) => single_reply(*op, result),
        (Shape::Multi(_), _) => Err(ZkError::MarshallingError),
    }
}
// ANCHOR_END: write_reply

/// Whether a write failed because its session moved to another server: then the server it
/// came through closes the connection instead of answering (upstream's final stage throws
/// `SessionMovedException` for the error txn, or for the first failed op of a multi, and
/// answers it with `sendCloseSession`).
pub fn moved(result: &TxnResult) -> bool {
    let moved = ZkError::SessionMoved.code();
    match result {
        TxnResult::Error { code } => *code == moved,
        TxnResult::Multi(results) => results
            .iter()
            .any(|r| matches!(r, TxnResult::Error { code } if *code == moved)),
        _ => false,
    }
}

fn single_reply(op: OpCode, result: &TxnResult) -> Result<Response, ZkError> {
    Ok(match (op, result) {
        (OpCode::Create, TxnResult::Created { path, .. }) => {
            Response::Create(proto::CreateResponse { path: path.clone() })
        }
        (_, TxnResult::Created { path, stat }) => Response::Create2(proto::Create2Response {
            path: path.clone(),
            stat: *stat,
        }),
        (_, TxnResult::DataSet { stat, .. }) => {
            Response::SetData(proto::SetDataResponse { stat: *stat })
        }
        (_, TxnResult::AclSet { stat, .. }) => {
            Response::SetAcl(proto::SetAclResponse { stat: *stat })
        }
        (_, TxnResult::Error { code }) => {
            return Err(ZkError::from_code(*code).unwrap_or(ZkError::SystemError))
        }
        (
            _,
            TxnResult::Deleted { .. }
            | TxnResult::Checked { .. }
            | TxnResult::SessionCreated
            | TxnResult::SessionClosed { .. }
            | TxnResult::Multi(_),
        ) => Response::Empty,
    })
}

/// One op's result inside a multi reply.
fn op_result(op: OpCode, result: &TxnResult) -> OpResult {
    // In a failed multi the ops before the failing one carry code 0 ("rolled back").
    if let TxnResult::Error { code } = result {
        return OpResult::Error(*code);
    }
    match single_reply(op, result) {
        Ok(Response::Create(r)) => OpResult::Create(r),
        Ok(Response::Create2(r)) => OpResult::Create2(r),
        Ok(Response::SetData(r)) => OpResult::SetData(r),
        Ok(_) if op == OpCode::Delete => OpResult::Delete,
        Ok(_) => OpResult::Check,
        Err(e) => OpResult::Error(e.code()),
    }
}

/// Everything a read may touch.
pub struct ReadContext<'a> {
    /// The tree, as of every write before this read in the session's order.
    pub tree: &'a DataTree,
    /// Where watches are left.
    pub watches: &'a mut Watches,
    /// Who is reading.
    pub session: SessionId,
    /// The ids the connection holds, for ACL checks.
    pub ids: &'a [Id],
}

/// A read's answer, and any watch events it fired on the spot (setWatches does).
#[derive(Debug)]
pub struct ReadOutcome {
    /// The response, or the error for a header-only reply.
    pub result: Result<Response, ZkError>,
    /// Events to send before the reply.
    pub fired: Vec<Notification>,
    /// Set when the request failed after its answer was begun: the reply carries this code
    /// *and* the `Ok` body of `result`, as upstream sends the response it had built when it
    /// threw (a multiRead's results before the op it could not do).
    pub failed: Option<ZkError>,
}

/// The node a read of `path` finds. Upstream's `DataTree` keeps the root under `""` as well
/// as `/` (parents are looked up by the part before the last slash), and a read does not
/// validate its path, so a read of `""` answers for the root.
fn node_path(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

impl ReadContext<'_> {
    fn readable(&self, path: &str) -> Result<(), ZkError> {
        let node = self.tree.node(node_path(path)).ok_or(ZkError::NoNode)?;
        check_acl(node.acl, perms::READ, self.ids).map_err(acl_error)
    }

    // ANCHOR: read
    /// Answers a read (`FinalRequestProcessor.processRequest`, the non-txn cases).
    pub fn read(&mut self, request: &proto::Request) -> ReadOutcome {
        let mut fired = Vec::new();
        let mut failed = None;
        let result = match request {
            proto::Request::Exists(r) => self.exists(&r.path, r.watch),
            proto::Request::GetData(r) => self.readable(&r.path).and_then(|()| {
                self.watch_data(&r.path, r.watch)?;
                let (data, stat) = self.tree.get_data(node_path(&r.path))?;
                Ok(Response::GetData(proto::GetDataResponse {
                    data: data.map(<[u8]>::to_vec),
                    stat,
                }))
            }),
            proto::Request::GetChildren(r) => {
                self.children(&r.path, r.watch).map(|(children, _)| {
                    Response::GetChildren(proto::GetChildrenResponse { children })
                })
            }
            proto::Request::GetChildren2(r) => {
                self.children(&r.path, r.watch).map(|(children, stat)| {
                    Response::GetChildren2(proto::GetChildren2Response { children, stat })
                })
            }
            proto::Request::GetAcl(r) => self.get_acl(&r.path),
            proto::Request::GetAllChildrenNumber(r) => self.readable(&r.path).and_then(|()| {
                // Upstream counts the nodes under `path + "/"`: for "" that is every node
                // under "/" and the root itself.
                let total = self.tree.get_all_children_number(node_path(&r.path))?
                    + usize::from(r.path.is_empty());
                Ok(Response::GetAllChildrenNumber(
                    proto::GetAllChildrenNumberResponse {
                        total_number: total as i32,
                    },
                ))
            }),
            proto::Request::GetEphemerals(r) => {
                // Upstream takes a prefix that Java's `trim` leaves empty or "/" for all of
                // them; `trim` drops every char up to ' ', control characters included.
                let prefix = r.prefix_path.as_str();
                let trimmed = prefix.trim_matches(|c: char| c <= ' ');
                let all = trimmed.is_empty() || trimmed == "/";
                let ephemerals = self
                    .tree
                    .ephemerals(self.session)
                    .into_iter()
                    .filter(|p| all || p.starts_with(prefix))
                    .collect();
                Ok(Response::GetEphemerals(proto::GetEphemeralsResponse {
                    ephemerals,
                }))
            }
            proto::Request::SetWatches(r) => {
                fired = self.set_watches(&r.clone().into());
                Ok(Response::Empty)
            }
            proto::Request::SetWatches2(r) => {
                fired = self.set_watches(r);
                Ok(Response::Empty)
            }
            proto::Request::AddWatch(r) => self
                .watches
                .add_watch(self.session, &r.path, r.mode)
                .map(|()| Response::AddWatch(proto::ErrorResponse { err: 0 })),
            proto::Request::CheckWatches(r) => self
                .watches
                .check_watches(self.session, &r.path, r.r#type)
                .map(|()| Response::Empty),
            proto::Request::RemoveWatches(r) => self
                .watches
                .remove_watches(self.session, &r.path, r.r#type)
                .map(|()| Response::Empty),
            proto::Request::MultiRead(m) => {
                let mut results = Vec::new();
                for op in &m.ops {
                    match self.multi_read(op) {
                        Some(result) => results.push(result),
                        None => {
                            failed = Some(ZkError::MarshallingError);
                            break;
                        }
                    }
                }
                Ok(Response::Multi(proto::MultiResponse { results }))
            }
            // Only a multi with a null path comes here (every other multi is a write): it
            // fails before any op is tried, with the empty answer upstream had begun.
            proto::Request::Multi(_) => {
                failed = Some(ZkError::MarshallingError);
                Ok(Response::Multi(proto::MultiResponse::default()))
            }
            proto::Request::WhoAmI => Ok(Response::WhoAmI(proto::WhoAmIResponse {
                client_info: java_set_order(self.ids).iter().map(client_info).collect(),
            })),
            proto::Request::Reconfig(_) => Err(ZkError::ReconfigDisabled),
            // Anything else a standalone Keeper does not offer.
            _ => Err(ZkError::Unimplemented),
        };
        ReadOutcome {
            result,
            fired,
            failed,
        }
    }
    // ANCHOR_END: read

    /// `exists`: no permission is checked (3.8's `FinalRequestProcessor` reads the Stat of
    /// any node: a Stat tells nothing of the data or the children's names); the watch is
    /// left either way, which is how a client waits for a node to appear.
    fn exists(&mut self, path: &str, watch: bool) -> Result<Response, ZkError> {
        // The one check upstream makes of a read's path (`FinalRequestProcessor`).
        if path.contains('\0') {
            return Err(ZkError::BadArguments);
        }
        self.watch_data(path, watch)?;
        let stat = self.tree.stat(node_path(path))?;
        Ok(Response::Exists(proto::ExistsResponse { stat }))
    }

    fn watch_data(&mut self, path: &str, watch: bool) -> Result<(), ZkError> {
        if watch {
            self.watches.watch_data(self.session, path)?;
        }
        Ok(())
    }

    fn children(&mut self, path: &str, watch: bool) -> Result<(Vec<String>, proto::Stat), ZkError> {
        self.readable(path)?;
        if watch {
            self.watches.watch_children(self.session, path)?;
        }
        let (children, stat) = self.tree.get_children(node_path(path))?;
        Ok((children, stat))
    }

    /// `getACL` needs READ or ADMIN; without ADMIN the digest hashes are masked.
    fn get_acl(&self, path: &str) -> Result<Response, ZkError> {
        let node = self.tree.node(node_path(path)).ok_or(ZkError::NoNode)?;
        check_acl(node.acl, perms::READ | perms::ADMIN, self.ids).map_err(acl_error)?;
        let (acl, stat) = self.tree.get_acl(node_path(path))?;
        let acl = match check_acl(node.acl, perms::ADMIN, self.ids) {
            Ok(()) => acl,
            Err(_) => mask_digests(&acl),
        };
        Ok(Response::GetAcl(proto::GetAclResponse { acl, stat }))
    }

    fn set_watches(&mut self, request: &proto::SetWatches2) -> Vec<Notification> {
        self.watches.set_watches(self.session, request, self.tree)
    }

    /// One op of a multiRead; `None` for an op upstream throws on, which ends the multiRead
    /// (a write op: "Invalid type of readOp"; a null path: the lookup throws).
    fn multi_read(&mut self, op: &proto::MultiOp) -> Option<OpResult> {
        let result = match op {
            proto::MultiOp::GetChildren(r) => self.children(&r.path, false).map(|(children, _)| {
                OpResult::GetChildren(proto::GetChildrenResponse { children })
            }),
            proto::MultiOp::GetData(r) => self.readable(&r.path).and_then(|()| {
                let (data, stat) = self.tree.get_data(node_path(&r.path))?;
                Ok(OpResult::GetData(proto::GetDataResponse {
                    data: data.map(<[u8]>::to_vec),
                    stat,
                }))
            }),
            _ => return None,
        };
        Some(result.unwrap_or_else(|e| OpResult::Error(e.code())))
    }
}

/// `whoAmI`: each id as (scheme, user); a digest id's user is its name part.
fn client_info(id: &Id) -> proto::ClientInfo {
    let user = match id.scheme.as_str() {
        "digest" => id.id.split(':').next().unwrap_or_default().to_string(),
        _ => id.id.clone(),
    };
    proto::ClientInfo {
        auth_scheme: id.scheme.clone(),
        user,
    }
}

/// The zxid a reply header carries: the write's own, or the tree's last for a read.
pub fn reply_zxid(txn: Option<&Txn>, tree: &DataTree) -> Zxid {
    txn.map_or(tree.last_processed_zxid(), |t| t.zxid)
}
