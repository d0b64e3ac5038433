//! `keeper txnlog --check FILE`, `keeper snapshot --check FILE`: is this file sound, and if
//! not, where does it go wrong?
//!
//! The idea to take away: **recovery's own reader is the checker.** A check reads the file
//! exactly as recovery would ([`read_log`], [`decode_snapshot_file`]) and reports the first
//! thing recovery would stop at, with the file and the byte offset to look at
//! (`xxd -s OFFSET FILE`). A torn last record is not damage (a crash cut a write nobody was
//! told had succeeded): the check says so, and passes.

use std::path::Path;

use ch01_znode::Zxid;

use crate::error::PersistError;
use crate::names::{short, zxid_of, SNAPSHOT_PREFIX};
use crate::snapshot_file::{decode_snapshot_file, DIGEST_VERSION};
use crate::txn_log::{read_log, LogEnd};

// ANCHOR: check_log
/// Reads the log at `path` as recovery would, and also requires its zxids to go up; returns
/// a one-line summary, or the first bad record.
pub fn check_log(path: &Path) -> Result<String, PersistError> {
    let log = read_log(path)?;
    let mut previous: Option<Zxid> = None;
    for record in &log.records {
        let zxid = record.entry.txn.zxid;
        if let Some(before) = previous.filter(|before| zxid <= *before) {
            return Err(PersistError::Corrupt {
                path: path.to_path_buf(),
                offset: record.offset,
                what: format!("txn {zxid} after txn {before}: zxids in a log only go up"),
            });
        }
        previous = Some(zxid);
    }
    let txns = match (log.records.first(), log.records.last()) {
        (Some(first), Some(last)) => format!(
            "{} txns, {} to {}",
            log.records.len(),
            first.entry.txn.zxid,
            last.entry.txn.zxid
        ),
        _ => "no txns".to_string(),
    };
    let end = match log.end {
        LogEnd::EndOfFile => "the end of the file".to_string(),
        LogEnd::Padding => "zero padding".to_string(),
        LogEnd::Torn { why } => {
            format!("a torn record ({why}), the write a crash cut short")
        }
    };
    Ok(format!(
        "{}: ok: {txns}; at offset {} {end}",
        short(path),
        log.valid_len
    ))
}
// ANCHOR_END: check_log

/// Reads the snapshot at `path` as recovery would, checking its seals and (when it is of the
/// tree's own last zxid) its digest; returns a one-line summary, or where it goes wrong.
pub fn check_snapshot(path: &Path) -> Result<String, PersistError> {
    let bytes = std::fs::read(path).map_err(PersistError::io(path, "reading"))?;
    let name = short(path);
    let zxid = zxid_of(&name, SNAPSHOT_PREFIX).ok_or_else(|| PersistError::Foreign {
        path: path.to_path_buf(),
        what: "not named snapshot.<hex zxid>".into(),
    })?;
    let corrupt = |offset, what| PersistError::Corrupt {
        path: path.to_path_buf(),
        offset,
        what,
    };
    let file = decode_snapshot_file(&bytes, zxid, false).map_err(|(at, why)| corrupt(at, why))?;
    if let Some((written, computed)) = file.digest_mismatch() {
        // The digest part: zxid, version, digest, then the second seal.
        let at = bytes.len().saturating_sub(8 + 4 + 8 + 13) as u64;
        let what = format!(
            "digest {written:#x} written, the nodes read sum to {computed:#x} (version {DIGEST_VERSION})"
        );
        return Err(corrupt(at, what));
    }
    let digest = match file.digest {
        Some(d) => format!("digest of {}", d.zxid),
        None => "no digest".to_string(),
    };
    Ok(format!(
        "{name}: ok: {} znodes, {} sessions, as of {zxid}; {digest}",
        file.db.tree.node_count(),
        file.db.sessions.len()
    ))
}
