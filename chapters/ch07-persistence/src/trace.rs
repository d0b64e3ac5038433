//! The chapter's story lines: what the disk did, one [`Event`] per line.
//!
//! The idea to take away: **durability is a sequence of disk operations, and the order is
//! the whole point.** Appended, synced, then acknowledged; rolled, then snapshotted; crashed
//! with a group unsynced, then recovered without it. [`crate::FileStorage`] records every
//! event it causes; the chapter binary prints them (`Display` is the trace grammar, colour is
//! added by the binary only) or writes them as JSON lines.

use std::fmt;

use ch01_znode::{Epoch, Zxid};
use serde::Serialize;

// ANCHOR: event
/// One thing the disk did, or that happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A new log file, named after its first txn; its header is written at once.
    LogCreated { file: String, first: Zxid },
    /// The log file was extended with zeros to `size` bytes ahead of the records.
    Preallocated { file: String, size: u64 },
    /// A record joined the group being written (not durable yet).
    Appended {
        file: String,
        zxid: Zxid,
        op: String,
        offset: u64,
        len: u64,
    },
    /// The group was written and (with `fsync`) made durable: now it may be acknowledged.
    Synced {
        file: String,
        txns: usize,
        bytes: u64,
        fsync: bool,
    },
    /// Every txn up to `upto` is durable: the server may now answer (or ACK) them.
    Acknowledged { upto: Zxid },
    /// The log file was closed; the next txn starts a new one.
    Rolled { file: String },
    /// A snapshot of the database as of `zxid`.
    SnapshotWritten {
        file: String,
        zxid: Zxid,
        nodes: usize,
        sessions: usize,
        bytes: u64,
    },
    /// The epoch files were replaced.
    EpochsSaved { accepted: Epoch, current: Epoch },
    /// The process died: `lost` txns were appended and never synced, of which `torn_bytes`
    /// bytes reached the file.
    Crashed { lost: usize, torn_bytes: u64 },
    /// Recovery passed over a snapshot it could not use.
    SnapshotSkipped { file: String, why: String },
    /// Recovery loaded a snapshot.
    SnapshotLoaded {
        file: String,
        zxid: Zxid,
        nodes: usize,
        sessions: usize,
    },
    /// Recovery replayed `txns` txns of a log file (`first..=last`).
    Replayed {
        file: String,
        txns: usize,
        first: Zxid,
        last: Zxid,
    },
    /// A digest in a file read does not match the tree rebuilt so far (reported, not fatal,
    /// as upstream's `DataTree.reportDigestMismatch`).
    DigestMismatch {
        file: String,
        zxid: Zxid,
        written: i64,
        computed: i64,
    },
    /// Recovery cut a torn or zero tail off the last log file.
    TailCut {
        file: String,
        at: u64,
        bytes: u64,
        why: String,
    },
    /// Recovery removed a last log file that held no complete record.
    EmptyLogRemoved { file: String },
    /// A TRUNC: the log now ends at `zxid`.
    LogTruncated { zxid: Zxid },
    /// A file a TRUNC made obsolete was removed.
    Removed { file: String },
    /// Recovery is done: the database as of `zxid`.
    Recovered {
        zxid: Zxid,
        nodes: usize,
        sessions: usize,
    },
}
// ANCHOR_END: event

impl Event {
    /// Whether recovery found a file damaged: a snapshot it passed over, a log cut short
    /// mid-record, a digest that does not match. A log that ends in its preallocated zeros is
    /// how logs end, and says nothing (nor does upstream).
    pub fn is_damage(&self) -> bool {
        match self {
            Event::SnapshotSkipped { .. } | Event::DigestMismatch { .. } => true,
            Event::TailCut { why, .. } => why != crate::file_storage::PADDING,
            _ => false,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::LogCreated { file, first } => write!(f, "create {file} (first txn {first})"),
            Event::Preallocated { file, size } => write!(f, "preallocate {file} → {size} bytes"),
            Event::Appended {
                file,
                zxid,
                op,
                offset,
                len,
            } => write!(f, "append {zxid} {op} → {file} @{offset} ({len} bytes)"),
            Event::Synced {
                file,
                txns,
                bytes,
                fsync: true,
            } => write!(f, "fdatasync {file}: {txns} txns, {bytes} bytes durable"),
            Event::Synced {
                file, txns, bytes, ..
            } => write!(f, "write {file}: {txns} txns, {bytes} bytes (forceSync=no)"),
            Event::Acknowledged { upto } => write!(f, "ack ≤ {upto}"),
            Event::Rolled { file } => write!(f, "roll {file}"),
            Event::SnapshotWritten {
                file,
                zxid,
                nodes,
                sessions,
                bytes,
            } => write!(
                f,
                "snapshot {file} as of {zxid}: {nodes} nodes, {}, {bytes} bytes",
                count(*sessions, "session")
            ),
            Event::EpochsSaved { accepted, current } => {
                write!(f, "save acceptedEpoch={accepted} currentEpoch={current}")
            }
            Event::Crashed { lost, torn_bytes } => write!(
                f,
                "✗ crash: {lost} txns never synced, {torn_bytes} of their bytes reached the file"
            ),
            Event::SnapshotSkipped { file, why } => write!(f, "skip {file}: {why}"),
            Event::SnapshotLoaded {
                file,
                zxid,
                nodes,
                sessions,
            } => write!(
                f,
                "load {file} as of {zxid}: {nodes} nodes, {}",
                count(*sessions, "session")
            ),
            Event::Replayed {
                file,
                txns,
                first,
                last,
            } => write!(f, "replay {file}: {} {first}..{last}", count(*txns, "txn")),
            Event::DigestMismatch {
                file,
                zxid,
                written,
                computed,
            } => write!(
                f,
                "digest mismatch in {file} at {zxid}: written {written:#x}, tree {computed:#x}"
            ),
            Event::TailCut {
                file,
                at,
                bytes,
                why,
            } => write!(f, "cut {file} at {at} ({bytes} bytes: {why})"),
            Event::EmptyLogRemoved { file } => write!(f, "remove {file} (no complete record)"),
            Event::LogTruncated { zxid } => write!(f, "truncate the log after {zxid}"),
            Event::Removed { file } => write!(f, "remove {file}"),
            Event::Recovered {
                zxid,
                nodes,
                sessions,
            } => write!(
                f,
                "⇨ recovered as of {zxid}: {nodes} nodes, {}",
                count(*sessions, "session")
            ),
        }
    }
}

/// `1 session`, `2 sessions`.
fn count(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}
