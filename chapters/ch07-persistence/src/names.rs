//! The files of a dataDir and what their names say.
//!
//! The idea to take away: **a file's name is its index.** `log.100000001` is the log whose
//! first txn is zxid 0x100000001; `snapshot.100000005` is the tree as of 0x100000005. A
//! server finds what to load by listing `version-2/` and sorting by the zxid in the names,
//! without opening a file (`Util.makeLogName`, `Util.makeSnapshotName`,
//! `Util.getZxidFromName`, `Util.sortDataDir`). The zxid is Java's `Long.toHexString`:
//! lowercase, not padded, and the order is numeric, not by name (`log.a` comes after `log.9`).

use std::fs;
use std::path::{Path, PathBuf};

use ch01_znode::Zxid;

use crate::error::PersistError;

/// The directory under dataDir (and dataLogDir) that holds the files: `"version-" + 2`.
pub const VERSION_DIR: &str = "version-2";
/// The prefix of txn log files.
pub const LOG_PREFIX: &str = "log";
/// The prefix of snapshot files.
pub const SNAPSHOT_PREFIX: &str = "snapshot";
/// The epoch files (quorum mode), in the snapshot directory.
pub const ACCEPTED_EPOCH: &str = "acceptedEpoch";
pub const CURRENT_EPOCH: &str = "currentEpoch";

/// `prefix.<hex zxid>`.
pub fn file_name(prefix: &str, zxid: Zxid) -> String {
    // `{:x}` on an i64 prints two's complement, as Long.toHexString does.
    format!("{prefix}.{:x}", zxid.0)
}

/// The zxid in `name` if it is `prefix.<hex>` and nothing else (so `snapshot.5.tmp`, a
/// snapshot being written, is not a snapshot).
pub fn zxid_of(name: &str, prefix: &str) -> Option<Zxid> {
    let hex = name.strip_prefix(prefix)?.strip_prefix('.')?;
    if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(|n| Zxid(n as i64))
}

/// The files in `dir` named `prefix.<hex zxid>`, oldest zxid first. A missing directory has
/// none; other names are left alone (upstream ignores them too).
pub fn list(dir: &Path, prefix: &str) -> Result<Vec<(Zxid, PathBuf)>, PersistError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(PersistError::io(dir, "listing")(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(PersistError::io(dir, "listing"))?;
        let name = entry.file_name();
        if let Some(zxid) = name.to_str().and_then(|n| zxid_of(n, prefix)) {
            found.push((zxid, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// The file name of `path`, for traces and messages that must not depend on where the
/// dataDir is.
pub fn short(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_zxid_in_unpadded_lowercase_hex() {
        assert_eq!(file_name(LOG_PREFIX, Zxid(0x1_0000_000a)), "log.10000000a");
        assert_eq!(file_name(SNAPSHOT_PREFIX, Zxid::ZERO), "snapshot.0");
        assert_eq!(
            zxid_of("log.10000000a", LOG_PREFIX),
            Some(Zxid(0x1_0000_000a))
        );
        assert_eq!(zxid_of("snapshot.0", SNAPSHOT_PREFIX), Some(Zxid::ZERO));
        for not_ours in [
            "snapshot.5.tmp",
            "log.",
            "log.xyz",
            "logs.1",
            "log1",
            "snapshot.1",
        ] {
            assert_eq!(zxid_of(not_ours, LOG_PREFIX), None, "{not_ours}");
        }
    }

    #[test]
    fn listing_sorts_by_zxid_not_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["log.a", "log.9", "log.100000001", "snapshot.3", "notes.txt"] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let logs: Vec<String> = list(dir.path(), LOG_PREFIX)
            .unwrap()
            .iter()
            .map(|(_, p)| short(p))
            .collect();
        assert_eq!(logs, ["log.9", "log.a", "log.100000001"]);
        assert!(list(&dir.path().join("missing"), LOG_PREFIX)
            .unwrap()
            .is_empty());
    }
}
