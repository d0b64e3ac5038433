//! What can go wrong on disk, always said with the file (and the offset) it went wrong in.
//!
//! The idea to take away: **a server that cannot trust its disk must stop, and say where.**
//! Skipping a record it cannot read would silently forget a write some client was told had
//! succeeded. So every error below names the file, and those about a record name its byte
//! offset too, which is where `xxd -s OFFSET FILE` starts looking. What is *not* an error is
//! the end every log has: the zero padding after the last record, or a last record cut short
//! by a crash before it was synced (nobody was told it had succeeded).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use ch01_znode::{Epoch, Zxid};

/// A persistence failure.
#[derive(Debug)]
pub enum PersistError {
    /// An operating-system call failed: `doing` says what we were doing to `path`.
    Io {
        path: PathBuf,
        doing: &'static str,
        source: io::Error,
    },
    /// A record or a snapshot whose bytes are not what was written (a checksum mismatch, or
    /// bytes that do not decode) somewhere a crash cannot explain.
    Corrupt {
        path: PathBuf,
        offset: u64,
        what: String,
    },
    /// A file with one of our names whose content is not that kind of file.
    Foreign { path: PathBuf, what: String },
    /// The log does not continue where the state before it ends: a txn is missing.
    Gap {
        path: PathBuf,
        offset: u64,
        after: Zxid,
        found: Zxid,
    },
    /// Log files but no snapshot to replay them over (upstream: "No snapshot found, but
    /// there are log entries. Something is broken!").
    LogsWithoutSnapshot { dir: PathBuf },
    /// Snapshots that look complete, none of which reads back (upstream: "Not able to find
    /// valid snapshots").
    NoValidSnapshot {
        dir: PathBuf,
        tried: Vec<(PathBuf, String)>,
    },
    /// The log file a new txn would start already exists: we never write over a log.
    LogExists { path: PathBuf },
    /// An epoch file that is not a decimal number.
    BadEpoch { path: PathBuf, text: String },
    /// `acceptedEpoch` is behind `currentEpoch`, which no correct server ever writes.
    EpochsOutOfOrder { accepted: Epoch, current: Epoch },
}

impl PersistError {
    /// An [`PersistError::Io`] from an `io::Error`.
    pub fn io(path: &Path, doing: &'static str) -> impl FnOnce(io::Error) -> PersistError {
        let path = path.to_path_buf();
        move |source| PersistError::Io {
            path,
            doing,
            source,
        }
    }

    /// The error behind an `io::Error` a [`ch06_zab::storage::Storage`] method returned.
    pub fn from_storage(e: &io::Error) -> Option<&PersistError> {
        e.get_ref()?.downcast_ref()
    }
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Io {
                path,
                doing,
                source,
            } => write!(f, "{}: {doing}: {source}", path.display()),
            PersistError::Corrupt { path, offset, what } => {
                write!(f, "{} at offset {offset}: {what}", path.display())
            }
            PersistError::Foreign { path, what } => {
                write!(f, "{}: not ours: {what}", path.display())
            }
            PersistError::Gap {
                path,
                offset,
                after,
                found,
            } => write!(
                f,
                "{} at offset {offset}: txn {found} follows {after}: the txns between are missing",
                path.display()
            ),
            PersistError::LogsWithoutSnapshot { dir } => write!(
                f,
                "{}: txn log files but no snapshot to replay them over",
                dir.display()
            ),
            PersistError::NoValidSnapshot { dir, tried } => {
                write!(f, "{}: no snapshot reads back:", dir.display())?;
                for (path, why) in tried {
                    write!(f, " {}: {why};", path.display())?;
                }
                Ok(())
            }
            PersistError::LogExists { path } => {
                write!(
                    f,
                    "{}: already exists; a log is never overwritten",
                    path.display()
                )
            }
            PersistError::BadEpoch { path, text } => {
                write!(f, "{}: not an epoch: {text:?}", path.display())
            }
            PersistError::EpochsOutOfOrder { accepted, current } => write!(
                f,
                "acceptedEpoch {accepted} is less than currentEpoch {current}"
            ),
        }
    }
}

impl std::error::Error for PersistError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PersistError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<PersistError> for io::Error {
    fn from(e: PersistError) -> io::Error {
        io::Error::other(e)
    }
}
