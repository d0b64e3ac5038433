//! `ZkError`: the error codes a ZooKeeper server answers with.
//!
//! ZooKeeper reports every failure as one small negative integer (`KeeperException.Code`):
//! the same number travels in the reply header on the wire, in the error transaction a failed
//! write leaves in the log, and in the exception a Java client throws. So our error is a plain
//! `Copy` enum that maps one-to-one onto those codes; the *path* a message mentions belongs to
//! the request, and is added by whoever prints it: [`crate::shell::printer::error_message`]
//! gives zkCli's text for an error on a path (`Node does not exist: /a`), and
//! [`ZkError::keeper_message`] the generic `KeeperErrorCode = … for /a`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Generates the enum together with its code table, so a code and its name can never drift.
macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $msg:literal; )*) => {
        /// `KeeperException.Code`, variant for variant (`OK` is not an error, so it is absent).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ZkError { $( $(#[$doc])* $name, )* }

        impl ZkError {
            /// Every code, in ZooKeeper's declaration order.
            pub const ALL: &'static [ZkError] = &[ $( ZkError::$name, )* ];

            /// The integer ZooKeeper puts on the wire and in error txns.
            pub fn code(self) -> i32 {
                match self { $( ZkError::$name => $code, )* }
            }

            /// `KeeperException.getCodeMessage`: the text after `KeeperErrorCode = `.
            pub fn code_message(self) -> &'static str {
                match self { $( ZkError::$name => $msg, )* }
            }
        }
    };
}

codes! {
    /// A server-side failure that is not the client's fault.
    SystemError = -1, "SystemError";
    /// Given to the ops after the failing one in a failed multi.
    RuntimeInconsistency = -2, "RuntimeInconsistency";
    DataInconsistency = -3, "DataInconsistency";
    /// Client-side: the connection to the server was lost.
    ConnectionLoss = -4, "ConnectionLoss";
    /// A request that could not be decoded.
    MarshallingError = -5, "MarshallingError";
    /// An operation this server does not offer (e.g. TTL nodes when they are not enabled).
    Unimplemented = -6, "Unimplemented";
    OperationTimeout = -7, "OperationTimeout";
    /// A malformed path, a write to a special node, a bad TTL.
    BadArguments = -8, "BadArguments";
    UnknownSession = -12, "UnknownSession";
    NewConfigNoQuorum = -13, "NewConfigNoQuorum";
    ReconfigInProgress = -14, "ReconfigInProgress";
    ApiError = -100, "APIError";
    /// The node (or, for create, its parent) does not exist.
    NoNode = -101, "NoNode";
    /// The session lacks the permission the ACL asks for.
    NoAuth = -102, "NoAuth";
    /// A conditional write named a version that is not the current one.
    BadVersion = -103, "BadVersion";
    /// An ephemeral node cannot be a parent.
    NoChildrenForEphemerals = -108, "NoChildrenForEphemerals";
    /// Create found the node already there.
    NodeExists = -110, "NodeExists";
    /// Delete of a node that still has children.
    NotEmpty = -111, "Directory not empty";
    SessionExpired = -112, "Session expired";
    InvalidCallback = -113, "Invalid callback";
    /// An empty ACL list, or an ACL naming an unknown scheme.
    InvalidAcl = -114, "InvalidACL";
    AuthFailed = -115, "AuthFailed";
    SessionMoved = -118, "Session moved";
    NotReadOnly = -119, "Not a read-only call";
    EphemeralOnLocalSession = -120, "Ephemeral node on local session";
    NoWatcher = -121, "No such watcher";
    RequestTimeout = -122, "RequestTimeout";
    ReconfigDisabled = -123, "Reconfig is disabled";
    SessionClosedRequireSaslAuth = -124, "Session closed because client failed to authenticate";
    QuotaExceeded = -125, "Quota has exceeded";
    ThrottledOp = -127, "Op throttled due to high load";
}

impl ZkError {
    /// The error with this wire code, if ZooKeeper defines one (0 is OK, not an error).
    pub fn from_code(code: i32) -> Option<ZkError> {
        ZkError::ALL.iter().copied().find(|e| e.code() == code)
    }

    /// `KeeperException.getMessage()`: `KeeperErrorCode = NoNode for /a`.
    pub fn keeper_message(self, path: Option<&str>) -> String {
        match path {
            Some(p) => format!("KeeperErrorCode = {} for {}", self.code_message(), p),
            None => format!("KeeperErrorCode = {}", self.code_message()),
        }
    }
}

impl fmt::Display for ZkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.keeper_message(None))
    }
}

impl std::error::Error for ZkError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_keeper_exception_codes() {
        // KeeperException.Code / client-protocol.md §9.
        assert_eq!(ZkError::NoNode.code(), -101);
        assert_eq!(ZkError::NodeExists.code(), -110);
        assert_eq!(ZkError::NotEmpty.code(), -111);
        assert_eq!(ZkError::BadVersion.code(), -103);
        assert_eq!(ZkError::NoChildrenForEphemerals.code(), -108);
        assert_eq!(ZkError::BadArguments.code(), -8);
        assert_eq!(ZkError::RuntimeInconsistency.code(), -2);
    }

    #[test]
    fn every_code_round_trips_and_zero_is_not_an_error() {
        for e in ZkError::ALL {
            assert_eq!(ZkError::from_code(e.code()), Some(*e));
        }
        assert_eq!(ZkError::from_code(0), None);
        assert_eq!(ZkError::from_code(-9999), None);
    }

    #[test]
    fn the_generic_message_is_keeper_error_code_for_path() {
        assert_eq!(
            ZkError::NotEmpty.keeper_message(Some("/a")),
            "KeeperErrorCode = Directory not empty for /a"
        );
        assert_eq!(
            ZkError::Unimplemented.to_string(),
            "KeeperErrorCode = Unimplemented"
        );
    }
}
