//! Stand-ins for ch01-znode's `SessionId`, `Zxid`, `ZkError` and `validate_path`, shaped like
//! ch01's, until that crate lands; replaced by re-exports when it does.

use std::fmt;

use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SessionId(pub i64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Zxid(pub i64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ZkError {
    BadArguments,
    NoWatcher,
}

pub fn validate_path(path: &str) -> Result<(), String> {
    let ok = path == "/" || (path.starts_with('/') && !path.ends_with('/') && !path.contains("//"));
    ok.then_some(()).ok_or_else(|| path.to_string())
}
