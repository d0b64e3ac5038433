//! Error codes: the `err` in a reply header (`KeeperException.Code`).
//!
//! A reply carries one of these as a bare `int`; a reply with a non-zero
//! code has no body. The messages are `KeeperException.getCodeMessage`'s,
//! which zkCli prints as `KeeperErrorCode = <message> for <path>`.

use std::fmt;

macro_rules! error_codes {
    ($($name:ident = $code:literal, $msg:literal;)*) => {
        /// `KeeperException.Code`: what a reply's `err` field means.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($name = $code,)* }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];

            /// The code for a wire value, if ZooKeeper defines one.
            pub fn from_code(code: i32) -> Option<ErrorCode> {
                match code { $($code => Some(ErrorCode::$name),)* _ => None }
            }

            /// `KeeperException.getCodeMessage`.
            pub fn message(self) -> &'static str {
                match self { $(ErrorCode::$name => $msg,)* }
            }
        }
    };
}

error_codes! {
    Ok = 0, "ok";
    SystemError = -1, "SystemError";
    RuntimeInconsistency = -2, "RuntimeInconsistency";
    DataInconsistency = -3, "DataInconsistency";
    ConnectionLoss = -4, "ConnectionLoss";
    MarshallingError = -5, "MarshallingError";
    Unimplemented = -6, "Unimplemented";
    OperationTimeout = -7, "OperationTimeout";
    BadArguments = -8, "BadArguments";
    // getCodeMessage has no case for these two and falls to its default.
    UnknownSession = -12, "Unknown error UNKNOWNSESSION";
    NewConfigNoQuorum = -13, "NewConfigNoQuorum";
    ReconfigInProgress = -14, "ReconfigInProgress";
    ApiError = -100, "APIError";
    NoNode = -101, "NoNode";
    NoAuth = -102, "NoAuth";
    BadVersion = -103, "BadVersion";
    NoChildrenForEphemerals = -108, "NoChildrenForEphemerals";
    NodeExists = -110, "NodeExists";
    NotEmpty = -111, "Directory not empty";
    SessionExpired = -112, "Session expired";
    InvalidCallback = -113, "Invalid callback";
    InvalidAcl = -114, "InvalidACL";
    AuthFailed = -115, "AuthFailed";
    SessionMoved = -118, "Session moved";
    NotReadOnly = -119, "Not a read-only call";
    EphemeralOnLocalSession = -120, "Ephemeral node on local session";
    NoWatcher = -121, "No such watcher";
    RequestTimeout = -122, "Unknown error REQUESTTIMEOUT";
    ReconfigDisabled = -123, "Reconfig is disabled";
    SessionClosedRequireSaslAuth = -124, "Session closed because client failed to authenticate";
    QuotaExceeded = -125, "Quota has exceeded";
    ThrottledOp = -127, "Op throttled due to high load";
}

impl ErrorCode {
    /// The wire value.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Shows the message, or `Unknown error <code>` for a code ZooKeeper does
/// not define (what `KeeperException.create` would say).
pub fn describe(code: i32) -> String {
    match ErrorCode::from_code(code) {
        Some(c) => c.message().to_owned(),
        None => format!("Unknown error {code}"),
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}
