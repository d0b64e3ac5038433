//! Requests in, transactions out: the two shapes of a write.
//!
//! A client sends a [`Request`] ("create /a, but only if…"). The server's first stage, *prep*,
//! checks it against the tree and turns it into a [`Txn`]: the exact, already-decided change
//! ("create /a with parent cversion 3"), stamped with a zxid, the leader's time and the
//! session. Everything that could vary — the sequence suffix, the new version, the time — is
//! fixed in the txn, so applying it is pure: every replica that applies the same txns in the
//! same order ends with the same tree, Stat for Stat. That is what later chapters replicate
//! (Zab) and log (persistence).
//!
//! A write that fails prep is not dropped: since ZooKeeper 3.x it becomes an **error txn**
//! carrying the error code, which takes a zxid like any other (ZooKeeper 3.8 logs it).

use crate::acl::Acl;
use crate::error::ZkError;
use crate::mode::{CreateMode, EphemeralOwner};
use crate::zxid::{SessionId, Zxid};
use serde::{Deserialize, Serialize};
use std::fmt;

// ANCHOR: request
/// A client's write request (the jute request records of the write opcodes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// create / create2 / createContainer / createTTL (1 / 15 / 19 / 21).
    Create {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
    },
    /// delete (2); `version` -1 means any.
    Delete { path: String, version: i32 },
    /// setData (5); `version` -1 means any.
    SetData {
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    },
    /// setACL (7); `version` is checked against the aversion.
    SetAcl {
        path: String,
        acl: Vec<Acl>,
        version: i32,
    },
    /// check (13): "this node is at this version", used inside multi.
    Check { path: String, version: i32 },
    /// multi (14): all of these or none.
    Multi(Vec<Request>),
    /// createSession (-10): a new session with this timeout.
    CreateSession { timeout_ms: i32 },
    /// closeSession (-11): end the session, deleting its ephemeral nodes.
    CloseSession,
}
// ANCHOR_END: request

// ANCHOR: txn
/// A transaction: one decided change, as the leader proposes it and every server applies it
/// (upstream's `TxnHeader` — session, cxid, zxid, time, type — plus the txn record, whose
/// type is the op's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Txn {
    pub zxid: Zxid,
    /// The leader's clock when it prepped the request; becomes ctime/mtime.
    pub time_ms: i64,
    /// The session that sent the request.
    pub session: SessionId,
    /// The client's number for the request (its xid): with `session`, it names the request
    /// whose answer this txn is, on whichever server the client is connected to.
    pub cxid: i32,
    pub op: TxnOp,
}

/// Everything a txn carries besides the change: who asked, which request, and what the leader
/// decided (the zxid and the time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnHeader {
    pub session: SessionId,
    pub cxid: i32,
    pub zxid: Zxid,
    pub time_ms: i64,
}

impl TxnHeader {
    /// The txn with this header and `op`.
    pub fn txn(self, op: TxnOp) -> Txn {
        Txn {
            zxid: self.zxid,
            time_ms: self.time_ms,
            session: self.session,
            cxid: self.cxid,
            op,
        }
    }
}

impl Txn {
    /// The header this txn was decided with.
    pub fn header(&self) -> TxnHeader {
        TxnHeader {
            session: self.session,
            cxid: self.cxid,
            zxid: self.zxid,
            time_ms: self.time_ms,
        }
    }
}

/// The change itself (`CreateTxn`, `DeleteTxn`, `SetDataTxn`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub enum TxnOp {
    /// Create `path` (with any sequence suffix already appended). `parent_cversion` is the
    /// parent's stored cversion *after* this create.
    Create {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        owner: EphemeralOwner,
        parent_cversion: i32,
    },
    Delete {
        path: String,
    },
    /// Replace the data; `version` is the node's new data version.
    SetData {
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    },
    /// Replace the ACL; `version` is the node's new aversion.
    SetAcl {
        path: String,
        acl: Vec<Acl>,
        version: i32,
    },
    /// A version check that passed (only inside multi).
    Check {
        path: String,
        version: i32,
    },
    /// A write that failed prep (`ErrorTxn`). `code` is a KeeperException code. Inside a failed
    /// multi this is the failing op; the ops before it stay as prepped and the ops after it are
    /// errors with -2 (RuntimeInconsistency). Apply performs none of them: the ops before the
    /// failing one answer error 0 (`DataTree.processTxn`).
    Error {
        code: i32,
    },
    CreateSession {
        timeout_ms: i32,
    },
    /// The session's ephemeral nodes, listed when the close was prepped.
    CloseSession {
        paths_to_delete: Vec<String>,
    },
    /// All of these, at one zxid.
    Multi(Vec<TxnOp>),
}
// ANCHOR_END: txn

impl TxnOp {
    /// An error txn for `err`.
    pub fn error(err: ZkError) -> TxnOp {
        TxnOp::Error { code: err.code() }
    }

    /// The error this txn records, if it is an error txn with a non-zero code.
    pub fn err(&self) -> Option<ZkError> {
        match self {
            TxnOp::Error { code } => ZkError::from_code(*code),
            _ => None,
        }
    }

    /// ZooKeeper's name for the txn type (`Request.op2String`).
    pub fn type_name(&self) -> &'static str {
        match self {
            TxnOp::Create { .. } => "create",
            TxnOp::Delete { .. } => "delete",
            TxnOp::SetData { .. } => "setData",
            TxnOp::SetAcl { .. } => "setACL",
            TxnOp::Check { .. } => "check",
            TxnOp::Error { .. } => "error",
            TxnOp::CreateSession { .. } => "createSession",
            TxnOp::CloseSession { .. } => "closeSession",
            TxnOp::Multi(_) => "multi",
        }
    }
}

/// Data as the trace shows it: quoted UTF-8 (escaped), or `null`.
pub fn show_data(data: &Option<Vec<u8>>) -> String {
    match data {
        None => "null".to_string(),
        Some(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
    }
}

impl fmt::Display for TxnOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.type_name();
        match self {
            TxnOp::Create {
                path,
                data,
                owner,
                parent_cversion,
                ..
            } => {
                write!(f, "{name} {path} {}", show_data(data))?;
                match owner {
                    EphemeralOwner::None => {}
                    EphemeralOwner::Session(s) => write!(f, " ephemeralOwner={s}")?,
                    EphemeralOwner::Container => write!(f, " container")?,
                    EphemeralOwner::Ttl(ttl) => write!(f, " ttl={ttl}ms")?,
                }
                write!(f, " parentCVersion={parent_cversion}")
            }
            TxnOp::Delete { path } => write!(f, "{name} {path}"),
            TxnOp::SetData {
                path,
                data,
                version,
            } => write!(f, "{name} {path} {} version={version}", show_data(data)),
            TxnOp::SetAcl { path, acl, version } => {
                let acl: Vec<String> = acl.iter().map(Acl::to_string).collect();
                write!(f, "{name} {path} [{}] aversion={version}", acl.join(","))
            }
            TxnOp::Check { path, version } => write!(f, "{name} {path} version={version}"),
            TxnOp::Error { code } => match ZkError::from_code(*code) {
                Some(e) => write!(f, "{name} {e:?}({code})"),
                None => write!(f, "{name} ({code})"),
            },
            TxnOp::CreateSession { timeout_ms } => write!(f, "{name} timeout={timeout_ms}ms"),
            TxnOp::CloseSession { paths_to_delete } => {
                write!(f, "{name} delete=[{}]", paths_to_delete.join(", "))
            }
            TxnOp::Multi(ops) => {
                let ops: Vec<String> = ops.iter().map(TxnOp::to_string).collect();
                write!(f, "{name} [{}]", ops.join("; "))
            }
        }
    }
}

impl fmt::Display for Txn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.zxid, self.op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txns_print_their_decided_values() {
        let op = TxnOp::Create {
            path: "/a0000000001".into(),
            data: Some(b"x".to_vec()),
            acl: Acl::open_unsafe(),
            owner: EphemeralOwner::None,
            parent_cversion: 2,
        };
        assert_eq!(op.to_string(), "create /a0000000001 \"x\" parentCVersion=2");
        assert_eq!(
            TxnOp::error(ZkError::NodeExists).to_string(),
            "error NodeExists(-110)"
        );
        assert_eq!(TxnOp::error(ZkError::NoNode).err(), Some(ZkError::NoNode));
        assert_eq!(TxnOp::Error { code: 0 }.err(), None);
    }
}
