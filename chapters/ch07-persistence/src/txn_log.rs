//! The txn log: `version-2/log.<hex zxid>`, one record per txn, fsynced in groups.
//!
//! The idea to take away: **a write is durable when its record is on disk and synced, and
//! not a moment before.** The log is append-only, so a record is written once, at the end;
//! the writer collects the records of a group of txns and makes them durable with one
//! `fdatasync` (a group commit: one disk flush pays for many txns). Only after that may the
//! server acknowledge them. A crash loses the records not yet synced; the reader must then
//! find where the good records end, and tell that end apart from damage in the middle.
//!
//! | part | layout (`FileTxnLog`) |
//! |---|---|
//! | `FileHeader` | `int magic` = `ZKLG` (0x5A4B4C47), `int version` = 2, `long dbid` = 0 |
//! | record | `long checksum` (Adler-32 of the entry), `int length`, the entry, `byte 0x42` |
//! | entry | `TxnHeader` + txn record (+ `TxnDigest`), as [`ch06_zab::txn_codec`] writes it |
//! | tail | zeros up to the preallocated size |
//!
//! **Preallocation.** Growing a file on every append makes every fsync also write the
//! file's size (metadata, a second disk write). So the file is extended ahead of the records
//! in big steps (`preAllocSize`, 64 MiB by default) and the records are written into zeros.
//! That is also why a reader treats a record of length 0 as the end: it is the padding.
//!
//! **Zeros on the disk, not just in the file.** Extending a file (`set_len`, or upstream's one
//! byte at the new end) leaves a hole: it reads as zeros, but no disk block is behind it. The
//! first record written into each 4 KiB of a hole makes the file system allocate a block, so
//! that group's `fdatasync` must also commit the allocation to the journal: about twice as
//! long as a sync of data alone, once every 4 KiB of records, which is a few percent of the
//! writes when they come one at a time, and so sets the p99 latency. (`fallocate` does not
//! help: its blocks are marked unwritten, and the first write into one changes that mark.)
//! So the writer also keeps real zeros written ahead of the records ([`zero_ahead`]), a
//! window that grows with the file up to 1 MiB: when the records come within half a window of
//! the zeros' end, the next group is written with another window of zeros behind it and
//! synced with them. One sync in thousands pays for the blocks; every other is data only.
//! The file's bytes and size are what they would be anyway.
//!
//! **Where the log ends.** Reading stops cleanly at the padding, at the end of the file, or at
//! a record cut short by a crash (the bytes run out, or the `0x42` after it is missing: a
//! write that never completed, so nobody was told it had succeeded). Everything after such an
//! end must be zeros. A record whose checksum does not match, or a torn record with data after
//! it, is damage, and reading fails naming the file and the offset.
//!
//! # How it differs from ZooKeeper
//!
//! Upstream (`FileTxnLog.FileTxnIterator`) ends a file at a torn record and ignores whatever
//! follows it; here anything but zeros after the end is an error, so a record lost in the
//! middle cannot pass for a torn tail. A record carries a `TxnDigest` when its writer knows
//! the digest after the txn (see the crate docs); 3.8's readers accept records without one.
//! Records are written with `pwrite` at their
//! offset when the group is synced, rather than through a buffered stream.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use ch01_znode::{Txn, Zxid};
use ch03_sessions::jute::Writer;
use ch06_zab::txn_codec::{TxnDigest, TxnEntry};

use crate::adler32::adler32;
use crate::error::PersistError;
use crate::names::{file_name, short, LOG_PREFIX};
use crate::trace::Event;

/// `"ZKLG"` as a big-endian int (`FileTxnLog.TXNLOG_MAGIC`).
pub const TXNLOG_MAGIC: i32 = 0x5A4B_4C47;
/// The file format version, in every header and in the directory name `version-2`.
pub const VERSION: i32 = 2;
/// The dbid a txn log header carries (always 0).
pub const TXNLOG_DBID: i64 = 0;
/// A `FileHeader`: magic, version, dbid.
pub const HEADER_LEN: u64 = 16;
/// The byte after every record (`'B'`).
pub const END_OF_RECORD: u8 = 0x42;
/// Checksum and length, before each entry.
const RECORD_HEAD_LEN: u64 = 12;
/// `zookeeper.preAllocSize` by default: 64 MiB.
pub const DEFAULT_PRE_ALLOC_SIZE: u64 = 64 * 1024 * 1024;
/// The most zeros written ahead of the records at once (see the module doc).
pub const MAX_ZERO_AHEAD: u64 = 1024 * 1024;
/// The fewest: a new file's first window, so a log that holds a few txns stays cheap.
const MIN_ZERO_AHEAD: u64 = 64 * 1024;
/// A file system block: windows of zeros end on a block boundary.
const BLOCK: u64 = 4096;

// ANCHOR: file_header
/// The 16 bytes at the start of a log or snapshot file (`FileHeader` in zookeeper.jute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileHeader {
    pub magic: i32,
    pub version: i32,
    pub dbid: i64,
}

impl FileHeader {
    pub fn encode(&self, w: &mut Writer) {
        w.write_int(self.magic);
        w.write_int(self.version);
        w.write_long(self.dbid);
    }

    /// Reads a header from the first 16 bytes of `bytes`.
    pub fn decode(bytes: &[u8; HEADER_LEN as usize]) -> FileHeader {
        let int = |at: usize| i32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        FileHeader {
            magic: int(0),
            version: int(4),
            dbid: i64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes")),
        }
    }
}
// ANCHOR_END: file_header

// ANCHOR: padding
/// The size a log file should have before a record is written at `position`
/// (`FilePadding.calculateFileSizeWithPadding`): once the writer is within 4 KiB of the
/// preallocated end, extend by another `pre_alloc_size`; if it is already past the end (one
/// record larger than a step), jump to the next multiple of `pre_alloc_size` beyond it.
pub fn padded_size(position: u64, current_size: u64, pre_alloc_size: u64) -> u64 {
    if pre_alloc_size == 0 || position + 4096 < current_size {
        return current_size;
    }
    if position > current_size {
        let size = position + pre_alloc_size;
        size - size % pre_alloc_size
    } else {
        current_size + pre_alloc_size
    }
}
// ANCHOR_END: padding

// ANCHOR: zero_ahead
/// Where the zeros written ahead of the records should end once the file holds `end`
/// bytes, if the ones written so far (up to `zeroed`) run out too soon; `None` if they last.
/// The window is as large as the file so far, between 64 KiB and 1 MiB, it is topped up when
/// the records come within half a window of its end, it ends on a block boundary, and it never
/// goes past the preallocated `size` (so it never changes the file's length).
pub fn zero_ahead(end: u64, zeroed: u64, size: u64) -> Option<u64> {
    let window = end.clamp(MIN_ZERO_AHEAD, MAX_ZERO_AHEAD);
    if zeroed >= size || zeroed.saturating_sub(end) >= window / 2 {
        return None;
    }
    let upto = ((end + window) / BLOCK * BLOCK).min(size);
    (upto > zeroed.max(end)).then_some(upto)
}
// ANCHOR_END: zero_ahead

// ANCHOR: encode_record
/// One log record: checksum, length, entry, end marker (`FileTxnLog.append`,
/// `Util.writeTxnBytes`). The checksum covers the entry only.
pub fn encode_record(entry: &TxnEntry) -> Vec<u8> {
    let mut record = Vec::new();
    append_record(&mut record, &entry.txn, entry.digest);
    record
}

/// Appends the record of `txn` (and its digest) to `out`, in place: the entry is written
/// where it will stay, then the checksum and length are filled in before it. Returns the
/// record's length.
pub fn append_record(out: &mut Vec<u8>, txn: &Txn, digest: Option<TxnDigest>) -> usize {
    let start = out.len();
    let entry_at = start + RECORD_HEAD_LEN as usize;
    out.resize(entry_at, 0);
    let mut w = Writer::appending(std::mem::take(out));
    TxnEntry::write_parts(txn, digest, &mut w);
    *out = w.into_bytes();
    let entry = &out[entry_at..];
    let (checksum, len) = (adler32(entry), entry.len() as i32);
    out[start..start + 8].copy_from_slice(&checksum.to_be_bytes());
    out[start + 8..entry_at].copy_from_slice(&len.to_be_bytes());
    out.push(END_OF_RECORD);
    out.len() - start
}
// ANCHOR_END: encode_record

/// The log file being appended to.
#[derive(Debug)]
struct OpenLog {
    path: PathBuf,
    /// The file's name, as the events give it (worked out once, not at every append).
    name: String,
    file: File,
    /// Bytes on the file: the header and every record synced.
    written: u64,
    /// Records appended since the last sync; they reach the file at the next one.
    pending: Vec<u8>,
    pending_txns: usize,
    /// The preallocated size of the file.
    size: u64,
    /// Up to here the file has real bytes on disk (records or zeros we wrote); past it, up to
    /// `size`, a hole.
    zeroed: u64,
    last_zxid: Zxid,
    /// The directory entry of a new file is durable only once the directory is synced.
    dir_synced: bool,
}

// ANCHOR: log_writer
/// Appends records to the current log file and makes them durable in groups.
#[derive(Debug)]
pub struct LogWriter {
    dir: PathBuf,
    pre_alloc_size: u64,
    /// `forceSync`: `false` skips the fsync (unsafe, as upstream warns).
    force_sync: bool,
    open: Option<OpenLog>,
}
// ANCHOR_END: log_writer

impl LogWriter {
    /// A writer into `dir` (a `version-2` directory) that opens no file until the first
    /// append: each new file is named after its first txn.
    pub fn new(dir: PathBuf, pre_alloc_size: u64, force_sync: bool) -> LogWriter {
        LogWriter {
            dir,
            pre_alloc_size,
            force_sync,
            open: None,
        }
    }

    /// The file appends go to, if one is open.
    pub fn current(&self) -> Option<&Path> {
        self.open.as_ref().map(|log| log.path.as_path())
    }

    /// Txns appended and not yet synced.
    pub fn unsynced(&self) -> usize {
        self.open.as_ref().map_or(0, |log| log.pending_txns)
    }

    // ANCHOR: append
    /// Adds `entry` to the group being written; it is durable only after [`LogWriter::sync`].
    /// Returns the record's length in bytes.
    pub fn append(
        &mut self,
        entry: &TxnEntry,
        notes: &mut Vec<Event>,
    ) -> Result<u64, PersistError> {
        self.append_txn(&entry.txn, entry.digest, notes)
    }

    /// [`LogWriter::append`] of a txn the caller keeps, with its digest.
    pub fn append_txn(
        &mut self,
        txn: &Txn,
        digest: Option<TxnDigest>,
        notes: &mut Vec<Event>,
    ) -> Result<u64, PersistError> {
        let zxid = txn.zxid;
        if self.open.is_none() {
            self.open = Some(self.create(zxid, notes)?);
        }
        let log = self.open.as_mut().expect("opened above");
        // Records in a file go up: a smaller zxid here is a bug in whoever logs.
        assert!(
            zxid > log.last_zxid,
            "txn {zxid} appended after {} in {}",
            log.last_zxid,
            log.path.display()
        );
        let position = log.written + log.pending.len() as u64;
        let size = padded_size(position, log.size, self.pre_alloc_size);
        if size != log.size {
            // set_len extends with a hole that reads as zeros, as upstream's one zero byte
            // written at size - 1 does.
            log.file
                .set_len(size)
                .map_err(PersistError::io(&log.path, "preallocating"))?;
            log.size = size;
            notes.push(Event::Preallocated {
                file: log.name.clone(),
                size,
            });
        }
        let len = append_record(&mut log.pending, txn, digest) as u64;
        notes.push(Event::Appended {
            file: log.name.clone(),
            zxid,
            op: txn.op.type_name().to_string(),
            offset: position,
            len,
        });
        log.pending_txns += 1;
        log.last_zxid = zxid;
        Ok(len)
    }
    // ANCHOR_END: append

    /// Creates `log.<zxid>` with its header; never over an existing file.
    fn create(&self, zxid: Zxid, notes: &mut Vec<Event>) -> Result<OpenLog, PersistError> {
        let path = self.dir.join(file_name(LOG_PREFIX, zxid));
        let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(PersistError::LogExists { path })
            }
            Err(e) => return Err(PersistError::io(&path, "creating")(e)),
        };
        file.write_all_at(&log_header_bytes(), 0)
            .map_err(PersistError::io(&path, "writing the header of"))?;
        let name = short(&path);
        notes.push(Event::LogCreated {
            file: name.clone(),
            first: zxid,
        });
        Ok(OpenLog {
            path,
            name,
            file,
            written: HEADER_LEN,
            pending: Vec::new(),
            pending_txns: 0,
            size: HEADER_LEN,
            zeroed: HEADER_LEN,
            last_zxid: Zxid(i64::MIN),
            dir_synced: false,
        })
    }

    // ANCHOR: sync
    /// Writes the group appended since the last sync and makes it durable with one
    /// `fdatasync` (none with `forceSync=no`). Returns how many txns it made durable.
    pub fn sync(&mut self, notes: &mut Vec<Event>) -> Result<usize, PersistError> {
        let Some(log) = self.open.as_mut() else {
            return Ok(0);
        };
        if log.pending.is_empty() {
            return Ok(0);
        }
        let path = &log.path;
        log.file
            .write_all_at(&log.pending, log.written)
            .map_err(PersistError::io(path, "writing"))?;
        let end = log.written + log.pending.len() as u64;
        log.zeroed = log.zeroed.max(end);
        if self.force_sync {
            // Zeros for the records to come, made durable by the same fdatasync.
            if let Some(upto) = zero_ahead(end, log.zeroed, log.size) {
                write_zeros(&log.file, log.zeroed, upto)
                    .map_err(PersistError::io(path, "writing zeros ahead in"))?;
                log.zeroed = upto;
            }
            log.file
                .sync_data()
                .map_err(PersistError::io(path, "fsyncing"))?;
            if !log.dir_synced {
                sync_dir(&self.dir)?;
                log.dir_synced = true;
            }
        }
        let txns = log.pending_txns;
        notes.push(Event::Synced {
            file: log.name.clone(),
            txns,
            bytes: log.pending.len() as u64,
            fsync: self.force_sync,
        });
        log.written += log.pending.len() as u64;
        log.pending.clear();
        log.pending_txns = 0;
        Ok(txns)
    }
    // ANCHOR_END: sync

    /// Syncs and closes the current file: the next append starts a new one (`rollLog`).
    pub fn roll(&mut self, notes: &mut Vec<Event>) -> Result<(), PersistError> {
        self.sync(notes)?;
        if let Some(log) = self.open.take() {
            notes.push(Event::Rolled { file: log.name });
        }
        Ok(())
    }

    /// What a crash does to the current file: of the group not yet synced, only the first
    /// `torn_bytes` reach the disk (0: none of it), and nothing is synced. Returns how many
    /// txns were appended and never made durable, and how many of their bytes were written.
    pub fn crash(mut self, torn_bytes: usize) -> io::Result<(usize, usize)> {
        let Some(log) = self.open.take() else {
            return Ok((0, 0));
        };
        let torn = &log.pending[..torn_bytes.min(log.pending.len())];
        log.file.write_all_at(torn, log.written)?;
        Ok((log.pending_txns, torn.len()))
    }
}

/// Writes zeros over `from..to` of `file`.
fn write_zeros(file: &File, from: u64, to: u64) -> io::Result<()> {
    static ZEROS: [u8; MAX_ZERO_AHEAD as usize] = [0; MAX_ZERO_AHEAD as usize];
    let mut at = from;
    while at < to {
        let n = (to - at).min(MAX_ZERO_AHEAD);
        file.write_all_at(&ZEROS[..n as usize], at)?;
        at += n;
    }
    Ok(())
}

/// Makes the names in `dir` durable (a new file, a rename): fsync on the directory.
pub fn sync_dir(dir: &Path) -> Result<(), PersistError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(PersistError::io(dir, "fsyncing the directory"))
}

// ---- reading ------------------------------------------------------------------------------

/// A record read back, and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub offset: u64,
    /// The offset right after the record's end marker.
    pub end: u64,
    pub entry: TxnEntry,
}

/// How the records of a file end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogEnd {
    /// The file ends right after the last record.
    EndOfFile,
    /// Zeros follow the last record: the preallocated padding.
    Padding,
    /// A record (or the header) cut short by a crash; zeros or nothing after it.
    Torn { why: &'static str },
}

/// A log file read back: its records, and how and where they end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    pub records: Vec<LogRecord>,
    pub end: LogEnd,
    /// The offset right after the last good record (the header's end if there is none, 0 if
    /// the header itself is cut short).
    pub valid_len: u64,
    /// The file's length on disk, padding included.
    pub file_len: u64,
}

/// Reads exactly `buf.len()` bytes, or as many as the file still has.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The offset of the first byte that is not zero from here to the end, if any.
///
/// Every recovery reads the padding of the logs it replays to the end, 64 MiB by default:
/// each chunk is compared with zeros as a whole (a `memcmp`, as quick in a debug build as in
/// a release one, where a byte-by-byte search took a debug `keeper server` seconds to start),
/// and only a chunk that differs is searched for its first non-zero byte.
fn first_non_zero(r: &mut impl Read, mut offset: u64) -> io::Result<Option<u64>> {
    const CHUNK: usize = 64 * 1024;
    static ZEROS: [u8; CHUNK] = [0; CHUNK];
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = r.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        if chunk[..n] != ZEROS[..n] {
            if let Some(at) = chunk[..n].iter().position(|&b| b != 0) {
                return Ok(Some(offset + at as u64));
            }
        }
        offset += n as u64;
    }
}

// ANCHOR: read_log
/// Reads every record of a log file, stopping at its end (see the module doc); a checksum
/// mismatch, an undecodable entry or data after a torn record is an error with its offset.
pub fn read_log(path: &Path) -> Result<LogFile, PersistError> {
    let io_err = |doing| PersistError::io(path, doing);
    let file = File::open(path).map_err(io_err("opening"))?;
    let file_len = file
        .metadata()
        .map_err(io_err("reading the size of"))?
        .len();
    let mut r = BufReader::with_capacity(64 * 1024, file);
    let mut log = LogFile {
        path: path.to_path_buf(),
        records: Vec::new(),
        end: LogEnd::EndOfFile,
        valid_len: 0,
        file_len,
    };
    let mut header = [0u8; HEADER_LEN as usize];
    let got = read_up_to(&mut r, &mut header).map_err(io_err("reading"))?;
    if got < header.len() {
        // A crash right after the file was created; only a prefix of a header may be here.
        if got > 0 && header[..got] != log_header_bytes()[..got] {
            return Err(not_a_log(
                path,
                "too short for a header, and not the start of one",
            ));
        }
        log.end = LogEnd::Torn {
            why: "the header is cut short",
        };
        return Ok(log);
    }
    let found = FileHeader::decode(&header);
    if found.magic != TXNLOG_MAGIC || found.version != VERSION {
        let what = format!(
            "magic {:#x} version {} (a txn log has {TXNLOG_MAGIC:#x} version {VERSION})",
            found.magic, found.version
        );
        return Err(not_a_log(path, &what));
    }
    let mut offset = HEADER_LEN;
    log.valid_len = offset;
    // Where the zeros that must follow the end start.
    let zeros_from = loop {
        let mut head = [0u8; RECORD_HEAD_LEN as usize];
        match read_up_to(&mut r, &mut head).map_err(io_err("reading"))? {
            0 => break None,
            n if n < head.len() => {
                log.end = LogEnd::Torn {
                    why: "the record's checksum and length are cut short",
                };
                break Some((offset, offset + n as u64));
            }
            _ => {}
        }
        let checksum = i64::from_be_bytes(head[..8].try_into().expect("8 bytes"));
        let len = i32::from_be_bytes(head[8..].try_into().expect("4 bytes"));
        // A length of 0 is the padding; -1 is a null buffer, which upstream reads as the same.
        // The checksum's upper half is always zero, so a write torn inside the checksum
        // leaves its lower half in front of a zero length.
        if len == 0 || len == -1 {
            log.end = match checksum {
                0 => LogEnd::Padding,
                _ => LogEnd::Torn {
                    why: "a checksum without a length: the record is cut short",
                },
            };
            break Some((offset, offset + RECORD_HEAD_LEN));
        }
        let Ok(len) = u64::try_from(len) else {
            return Err(corrupt(
                path,
                offset,
                format!("negative record length {len}"),
            ));
        };
        let body_end = offset + RECORD_HEAD_LEN + len + 1;
        if body_end > file_len {
            log.end = LogEnd::Torn {
                why: "the record runs past the end of the file",
            };
            break Some((offset, file_len));
        }
        let mut body = vec![0u8; len as usize + 1];
        r.read_exact(&mut body).map_err(io_err("reading"))?;
        if body[len as usize] != END_OF_RECORD {
            log.end = LogEnd::Torn {
                why: "no end-of-record byte: a partial txn",
            };
            break Some((offset, body_end));
        }
        body.truncate(len as usize);
        let computed = adler32(&body);
        if computed != checksum {
            let what = format!("checksum mismatch: stored {checksum:#x}, computed {computed:#x}");
            return Err(corrupt(path, offset, what));
        }
        let entry = TxnEntry::decode(&body)
            .map_err(|e| corrupt(path, offset, format!("undecodable txn: {e}")))?;
        log.records.push(LogRecord {
            offset,
            end: body_end,
            entry,
        });
        offset = body_end;
        log.valid_len = offset;
    };
    if let Some((end, scan_from)) = zeros_from {
        let mut rest = File::open(path).map_err(io_err("opening"))?;
        std::io::Seek::seek(&mut rest, std::io::SeekFrom::Start(scan_from))
            .map_err(io_err("seeking in"))?;
        let mut rest = BufReader::new(rest);
        if let Some(at) = first_non_zero(&mut rest, scan_from).map_err(io_err("reading"))? {
            let what = format!(
                "the log ends at offset {end} ({}), yet there is data at offset {at}",
                describe(log.end)
            );
            return Err(corrupt(path, end, what));
        }
    }
    Ok(log)
}
// ANCHOR_END: read_log

fn describe(end: LogEnd) -> &'static str {
    match end {
        LogEnd::EndOfFile => "end of file",
        LogEnd::Padding => "a zero length",
        LogEnd::Torn { why } => why,
    }
}

/// The header every txn log starts with.
fn log_header_bytes() -> Vec<u8> {
    let mut w = Writer::new();
    FileHeader {
        magic: TXNLOG_MAGIC,
        version: VERSION,
        dbid: TXNLOG_DBID,
    }
    .encode(&mut w);
    w.into_bytes()
}

fn not_a_log(path: &Path, what: &str) -> PersistError {
    PersistError::Foreign {
        path: path.to_path_buf(),
        what: format!("not a txn log: {what}"),
    }
}

fn corrupt(path: &Path, offset: u64, what: String) -> PersistError {
    PersistError::Corrupt {
        path: path.to_path_buf(),
        offset,
        what,
    }
}

/// Cuts `path` to `len` bytes and syncs it (a torn tail removed, or a TRUNC).
pub fn cut(path: &Path, len: u64) -> Result<(), PersistError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(PersistError::io(path, "opening"))?;
    file.set_len(len)
        .and_then(|()| file.sync_all())
        .map_err(PersistError::io(path, "truncating"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{Acl, EphemeralOwner, SessionId, TxnHeader, TxnOp};

    fn entry(zxid: i64, path: &str) -> TxnEntry {
        let txn = TxnHeader {
            session: SessionId(0x1234),
            cxid: zxid as i32,
            zxid: Zxid(zxid),
            time_ms: 1_700_000_000_000 + zxid,
        }
        .txn(TxnOp::Create {
            path: path.into(),
            data: Some(b"hello".to_vec()),
            acl: Acl::open_unsafe(),
            owner: EphemeralOwner::None,
            parent_cversion: zxid as i32,
        });
        TxnEntry::new(txn)
    }

    fn write(dir: &Path, pre_alloc: u64, zxids: std::ops::RangeInclusive<i64>) -> PathBuf {
        let mut writer = LogWriter::new(dir.to_path_buf(), pre_alloc, true);
        let mut notes = Vec::new();
        for z in zxids {
            writer
                .append(&entry(z, &format!("/n{z}")), &mut notes)
                .unwrap();
        }
        writer.sync(&mut notes).unwrap();
        writer.current().unwrap().to_path_buf()
    }

    /// `FilePadding.calculateFileSizeWithPadding`, case by case.
    #[test]
    fn padding_grows_in_steps_once_within_4_kib_of_the_end() {
        let step = 64 * 1024 * 1024;
        assert_eq!(padded_size(16, 16, step), 16 + step);
        assert_eq!(padded_size(1000, 16 + step, step), 16 + step);
        assert_eq!(
            padded_size(16 + step - 4096, 16 + step, step),
            16 + 2 * step
        );
        // One record larger than a step: the next multiple of the step past the position.
        assert_eq!(padded_size(3 * step + 5, 16 + step, step), 4 * step);
        assert_eq!(padded_size(1 << 40, 16, 0), 16);
    }

    /// The zeros written ahead: a window as large as the file, 64 KiB to 1 MiB, topped up
    /// at half, on a block boundary, inside the preallocated size.
    #[test]
    fn zeros_are_written_ahead_in_windows_that_grow_with_the_file() {
        let size = 16 + 64 * 1024 * 1024;
        // A new file's first group: 64 KiB, up to a block boundary.
        assert_eq!(zero_ahead(200, 200, size), Some(64 * 1024));
        // More than half a window left: nothing to do.
        assert_eq!(zero_ahead(30_000, 65_536, size), None);
        // Within half a window of the end: another window from the records' end.
        assert_eq!(zero_ahead(40_000, 65_536, size), Some(102_400));
        // A big file: 1 MiB windows.
        let mib = 1024 * 1024;
        assert_eq!(zero_ahead(10 * mib, 10 * mib + mib / 2, size), None);
        assert_eq!(
            zero_ahead(10 * mib, 10 * mib + mib / 2 - 1, size),
            Some(11 * mib)
        );
        // Never past the preallocated size; nothing once the zeros reach it.
        assert_eq!(zero_ahead(size - 1000, size, size), None);
        assert_eq!(zero_ahead(size - 9000, size - 9000, size), Some(size));
        assert_eq!(zero_ahead(500, 500, 16), None);
    }

    /// A synced group leaves disk blocks behind it, not a hole, and the file reads as before.
    #[test]
    fn a_sync_puts_real_zeros_behind_the_records() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), DEFAULT_PRE_ALLOC_SIZE, 1..=3);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), HEADER_LEN + DEFAULT_PRE_ALLOC_SIZE);
        // st_blocks counts 512-byte units actually allocated.
        let allocated = meta.blocks() * 512;
        assert!(
            (MIN_ZERO_AHEAD..DEFAULT_PRE_ALLOC_SIZE / 2).contains(&allocated),
            "{allocated} bytes allocated"
        );
        let log = read_log(&path).unwrap();
        assert_eq!(log.records.len(), 3);
        assert_eq!(log.end, LogEnd::Padding);
    }

    #[test]
    fn a_record_is_checksum_length_entry_and_0x42() {
        let e = entry(1, "/a");
        let bytes = encode_record(&e);
        let body = e.encode();
        assert_eq!(bytes[..8], adler32(&body).to_be_bytes());
        assert_eq!(bytes[8..12], (body.len() as i32).to_be_bytes());
        assert_eq!(bytes[12..12 + body.len()], body[..]);
        assert_eq!(bytes.last(), Some(&0x42));
    }

    #[test]
    fn records_read_back_in_order_and_the_padding_ends_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), 64 * 1024, 1..=3);
        assert_eq!(short(&path), "log.1");
        let log = read_log(&path).unwrap();
        let zxids: Vec<i64> = log.records.iter().map(|r| r.entry.txn.zxid.0).collect();
        assert_eq!(zxids, [1, 2, 3]);
        assert_eq!(log.records[0].offset, HEADER_LEN);
        assert_eq!(log.records[1].entry, entry(2, "/n2"));
        assert_eq!(log.end, LogEnd::Padding);
        assert_eq!(log.file_len, HEADER_LEN + 64 * 1024);
        let header = std::fs::read(&path).unwrap();
        assert_eq!(&header[..4], b"ZKLG");
        assert_eq!(header[4..16], [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn a_group_is_not_on_disk_until_synced_and_a_crash_loses_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = LogWriter::new(dir.path().to_path_buf(), 4096, true);
        let mut notes = Vec::new();
        writer.append(&entry(1, "/a"), &mut notes).unwrap();
        assert_eq!(writer.sync(&mut notes).unwrap(), 1);
        writer.append(&entry(2, "/b"), &mut notes).unwrap();
        writer.append(&entry(3, "/c"), &mut notes).unwrap();
        assert_eq!(writer.unsynced(), 2);
        let path = writer.current().unwrap().to_path_buf();
        assert_eq!(writer.crash(0).unwrap(), (2, 0));
        let log = read_log(&path).unwrap();
        assert_eq!(log.records.len(), 1);
        assert_eq!(log.end, LogEnd::Padding);
    }

    #[test]
    fn a_torn_last_record_ends_the_log_wherever_the_tear_is() {
        let one = encode_record(&entry(2, "/b")).len();
        for torn in [1, 8, 12, 13, one - 1] {
            let dir = tempfile::tempdir().unwrap();
            let mut writer = LogWriter::new(dir.path().to_path_buf(), 4096, true);
            let mut notes = Vec::new();
            writer.append(&entry(1, "/a"), &mut notes).unwrap();
            writer.sync(&mut notes).unwrap();
            writer.append(&entry(2, "/b"), &mut notes).unwrap();
            let path = writer.current().unwrap().to_path_buf();
            writer.crash(torn).unwrap();
            let log = read_log(&path).unwrap();
            assert_eq!(log.records.len(), 1, "torn after {torn} bytes");
            // A tear inside the checksum's zero upper half leaves only zeros: padding.
            assert_ne!(log.end, LogEnd::EndOfFile, "torn after {torn} bytes");
            assert_eq!(log.valid_len, HEADER_LEN + one as u64);
        }
    }

    #[test]
    fn a_checksum_mismatch_in_the_middle_names_the_file_and_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), 4096, 1..=3);
        let second = read_log(&path).unwrap().records[1].offset;
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[second as usize + 20] ^= 0x01; // a bit flip inside the second entry
        std::fs::write(&path, &bytes).unwrap();
        let err = read_log(&path).unwrap_err();
        assert!(
            matches!(&err, PersistError::Corrupt { offset, .. } if *offset == second),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("log.1") && text.contains(&format!("offset {second}")),
            "{text}"
        );
    }

    #[test]
    fn a_record_lost_in_the_middle_is_not_taken_for_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), 4096, 1..=3);
        let log = read_log(&path).unwrap();
        let (second, third) = (log.records[1].offset, log.records[2].offset);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[second as usize..third as usize].fill(0);
        std::fs::write(&path, &bytes).unwrap();
        let err = read_log(&path).unwrap_err();
        assert!(
            matches!(&err, PersistError::Corrupt { offset, .. } if *offset == second),
            "{err}"
        );
    }

    #[test]
    fn a_stray_byte_deep_in_the_padding_is_found_at_its_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), 256 * 1024, 1..=3);
        let end = read_log(&path).unwrap().valid_len;
        let mut bytes = std::fs::read(&path).unwrap();
        // Past the first chunk the scan reads, and not at a chunk's start.
        let stray = 200_001;
        bytes[stray] = 7;
        std::fs::write(&path, &bytes).unwrap();
        let err = read_log(&path).unwrap_err();
        assert!(
            matches!(&err, PersistError::Corrupt { offset, .. } if *offset == end),
            "{err}"
        );
        assert!(
            err.to_string().contains(&format!("data at offset {stray}")),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_txn_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.1");
        std::fs::write(&path, b"#!/bin/sh\necho this is not a log\n").unwrap();
        assert!(matches!(read_log(&path), Err(PersistError::Foreign { .. })));
        std::fs::write(&path, b"ZKL").unwrap();
        assert!(matches!(read_log(&path).unwrap().end, LogEnd::Torn { .. }));
    }

    #[test]
    fn a_new_log_never_overwrites_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("log.1"), b"precious").unwrap();
        let mut writer = LogWriter::new(dir.path().to_path_buf(), 4096, true);
        let err = writer.append(&entry(1, "/a"), &mut Vec::new()).unwrap_err();
        assert!(matches!(err, PersistError::LogExists { .. }), "{err}");
        assert_eq!(
            std::fs::read(dir.path().join("log.1")).unwrap(),
            b"precious"
        );
    }
}
