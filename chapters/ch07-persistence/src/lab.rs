//! Labs: a seed that loses a write, and a log record read by hand.
//!
//! # Lab 7.1: ACK before fsync — find the seed that loses a write
//!
//! Chapter 6's checkers run thousands of faulty ensembles whose disks fail as real disks do
//! (`ch06_zab::sim::disk_faults`): a crash keeps what was fsynced and at most a prefix of the
//! rest, an fsync can fail, a disk can fill up, the power can fail everywhere at once.
//! `--flaw ack-before-fsync` gives every server the bug of telling its peer a txn is logged as
//! soon as it is written, before the fsync (what `forceSync=no` does to ZooKeeper). Chapter 6's
//! tests show a run of three servers in which that bug loses a committed write. Find one with
//! **five** servers, say which txn was lost, and check that the same seed keeps every promise
//! without the bug: fill in [`lost_write`].
//!
//! ```text
//! cargo run --release -p ch06-zab -- --check --seeds 1000 --servers 5 --flaw ack-before-fsync
//! ```
//!
//! # Lab 7.2: decode a log record by hand
//!
//! The book prints the first 65 bytes of the story's `log.1` as a hexdump: the file header
//! and the first record. Read them with the table of [`crate::txn_log`] and
//! `ch06_zab::txn_codec` beside you, and write down every field in [`first_record`]. The
//! grader reads the same bytes with this chapter's own reader and compares.

use ch01_znode::Zxid;

/// A committed write that servers acknowledging before fsync lose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LostWrite {
    /// The checkers' seed.
    pub seed: u64,
    /// How many voters the run has (`--servers`; without it, 3 for even seeds, 5 for odd).
    pub servers: u64,
    /// The committed txn that vanished.
    pub zxid: Zxid,
}

// ANCHOR: lost_write
/// Lab 7.1: a seed whose run of five servers, with `--flaw ack-before-fsync`, loses the
/// committed txn `zxid`.
pub fn lost_write() -> LostWrite {
    // LAB 7.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 7.1: run the checkers with --flaw ack-before-fsync and read what they report")
    LostWrite {
        seed: 23,
        servers: 5,
        zxid: Zxid(0x1_0000_0015),
    }
    // LAB 7.1 END
}
// ANCHOR_END: lost_write

/// The fields of the file header and of the first record of a txn log, as read by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstRecord {
    /// The header's magic number.
    pub magic: i32,
    /// The header's format version.
    pub version: i32,
    /// The header's database id.
    pub dbid: i64,
    /// The record's checksum (Adler-32 of the entry).
    pub checksum: i64,
    /// The entry's length in bytes.
    pub length: i32,
    /// `TxnHeader.clientId`: the session.
    pub session: i64,
    /// `TxnHeader.cxid`.
    pub cxid: i32,
    /// `TxnHeader.zxid`.
    pub zxid: i64,
    /// `TxnHeader.time`, ms since the epoch.
    pub time_ms: i64,
    /// `TxnHeader.type`: the opcode.
    pub op_type: i32,
    /// The body of this type of txn: the session timeout, ms.
    pub timeout_ms: i32,
    /// The byte after the entry.
    pub end_of_record: u8,
}

// ANCHOR: first_record
/// Lab 7.2: the first 65 bytes of the story's `log.1`, decoded by hand.
pub fn first_record() -> FirstRecord {
    // LAB 7.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 7.2: read the hexdump in the book, field by field")
    FirstRecord {
        magic: 0x5A4B_4C47,
        version: 2,
        dbid: 0,
        checksum: 0x3a22_0746,
        length: 36,
        session: 0x1_0000_0000_0001,
        cxid: 1,
        zxid: 1,
        time_ms: 1_700_000_000_001,
        op_type: -10,
        timeout_ms: 30_000,
        end_of_record: 0x42,
    }
    // LAB 7.2 END
}
// ANCHOR_END: first_record

/// How many bytes of `log.1` lab 7.2 reads: the file header and the first record.
pub const FIRST_RECORD_END: usize = 65;

/// The first `len` bytes of `log.1` as the chapter's story (seed 1) writes it.
pub fn story_log_head(len: usize) -> std::io::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    crate::story::tell(dir.path(), 1).map_err(std::io::Error::other)?;
    let bytes = std::fs::read(dir.path().join("version-2").join("log.1"))?;
    Ok(bytes[..len.min(bytes.len())].to_vec())
}

/// `bytes` as `xxd` prints them: the offset, sixteen bytes in pairs, the printable ones.
pub fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk
            .chunks(2)
            .map(|pair| pair.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        let text: String = chunk
            .iter()
            .map(|&b| match b {
                0x20..=0x7e => b as char,
                _ => '.',
            })
            .collect();
        out.push_str(&format!("{:08x}: {:<40} {text}\n", row * 16, hex.join(" ")));
    }
    out
}
