//! [`FileStorage`]: chapter 6's [`Storage`] over a real dataDir, in ZooKeeper's own files.
//!
//! The idea to take away: **recovery is the newest good snapshot plus every txn logged after
//! it, and anything that does not fit that picture stops the server.** Start-up lists
//! `version-2/`, loads the newest snapshot whose checksum verifies (falling back to older
//! ones), then replays the log from the snapshot's zxid + 1, checking that each txn follows
//! the one before it. The last log file may end in zeros or in a record a crash cut short;
//! that tail is cut off, since no client was told it had succeeded. A checksum failure, or a
//! missing txn, is an error that names the file and offset (`FileTxnSnapLog.restore`).
//!
//! | [`Storage`] call | on disk |
//! |---|---|
//! | `append` | the record joins the group for the current `log.<zxid>` (a new file after start-up or a roll) |
//! | `sync` | the group is written and fdatasynced (`forceSync=no`: written only) |
//! | `sync_snapshot` | the log is rolled, `snapshot.<zxid>` is written atomically (fsynced), then the txns logged after it and newer snapshots are removed |
//! | `truncate` | newer log files removed, the one holding the zxid cut after it; then `recover`; refused if a snapshot is newer than the zxid |
//! | `save_epochs` | `acceptedEpoch`, then `currentEpoch`, each atomically |
//! | `recover` | as above; an empty dataDir gets `snapshot.0`, as upstream's start-up snapshot |
//!
//! Every call records what it did as [`Event`]s ([`FileStorage::take_events`]).
//!
//! # How it differs from ZooKeeper
//!
//! * A txn that does not follow the one before it (same epoch, counter + 1; or a later
//!   epoch) is an error here; upstream only logs an error when a zxid goes backwards.
//! * A TRUNC below a snapshot is refused, with nothing changed: the snapshot holds txns the
//!   leader told us to forget, and the log before it may be of a database a SNAP replaced.
//!   The learner asks for a SNAP instead. Upstream cuts the log and reloads the newest
//!   snapshot, those txns included (ZKDatabase.truncateLog).
//! * Upstream leaves a torn tail in place (readers skip it forever); here the last file is cut
//!   at its last good record, and a last file with no complete record is removed.

use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};

use ch01_znode::{DataTree, Txn, Zxid};
use ch03_sessions::pipeline::Database;
use ch06_zab::peer::{Epochs, Recovered};
use ch06_zab::storage::Storage;
use ch06_zab::txn_codec::{TxnDigest, TxnEntry};

use crate::epoch_file;
use crate::error::PersistError;
use crate::fuzzy::FuzzySnapshot;
use crate::names::{self, file_name, short, LOG_PREFIX, SNAPSHOT_PREFIX, VERSION_DIR};
use crate::snapshot_file::{decode_snapshot_file, looks_complete, SnapshotOut};
use crate::trace::Event;
use crate::txn_log::{self, read_log, LogEnd, LogWriter, DEFAULT_PRE_ALLOC_SIZE, HEADER_LEN};

/// How many snapshots recovery tries, newest first (`FileSnap.deserialize`).
const SNAPSHOTS_TRIED: usize = 100;

// ANCHOR: config
/// Where the files go and how they are written (zoo.cfg `dataDir`, `dataLogDir`, and the
/// `zookeeper.preAllocSize` / `forceSync` / `extendedTypesEnabled` properties).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStorageConfig {
    /// Snapshots and epoch files go to `data_dir/version-2`.
    pub data_dir: PathBuf,
    /// Txn logs go to `data_log_dir/version-2` (default: `data_dir`'s).
    pub data_log_dir: Option<PathBuf>,
    /// Bytes a log file is extended by, ahead of its records (0: never).
    pub pre_alloc_size: u64,
    /// `false` skips fsync: fast, and an acknowledged write can be lost.
    pub force_sync: bool,
    /// TTL nodes allowed: decides how a stored ephemeralOwner reads back.
    pub extended_types: bool,
    /// zoo.cfg `digest.enabled`: snapshots carry the tree digest, and the digests in files
    /// read are checked.
    pub digest_enabled: bool,
}
// ANCHOR_END: config

impl FileStorageConfig {
    /// ZooKeeper's defaults for `data_dir`: logs beside the snapshots, 64 MiB steps, fsync.
    pub fn new(data_dir: impl Into<PathBuf>) -> FileStorageConfig {
        FileStorageConfig {
            data_dir: data_dir.into(),
            data_log_dir: None,
            pre_alloc_size: DEFAULT_PRE_ALLOC_SIZE,
            force_sync: true,
            extended_types: false,
            digest_enabled: true,
        }
    }
}

// ANCHOR: file_storage
/// A quorum peer's (or a standalone server's) disk: a dataDir in ZooKeeper 3.8's formats.
#[derive(Debug)]
pub struct FileStorage {
    config: FileStorageConfig,
    /// `data_dir/version-2`: snapshots and epochs.
    snap_dir: PathBuf,
    /// `data_log_dir/version-2` (or the snapshot directory): txn logs.
    log_dir: PathBuf,
    writer: LogWriter,
    /// The snapshot being written a slice at a time, if any ([`FileStorage::begin_snapshot`]).
    fuzzy: Option<SnapshotWriting>,
    /// The epochs this storage last wrote (`None` until its first write): a file that
    /// already holds its number is not written again.
    epochs_written: Option<Epochs>,
    events: Vec<Event>,
}
// ANCHOR_END: file_storage

/// A snapshot being written: its walk, and the file its slices go to as they are made.
#[derive(Debug)]
struct SnapshotWriting {
    walk: FuzzySnapshot,
    out: SnapshotOut,
}

/// Why [`Event::TailCut`] cut a log file that ended in its preallocated zeros: the normal end
/// of a log, not damage (upstream reads up to the padding without a word).
pub const PADDING: &str = "zero padding";

impl FileStorage {
    /// Opens (creating if needed) the `version-2` directories; reads nothing yet.
    pub fn open(config: FileStorageConfig) -> Result<FileStorage, PersistError> {
        let snap_dir = config.data_dir.join(VERSION_DIR);
        let log_dir = config
            .data_log_dir
            .as_ref()
            .unwrap_or(&config.data_dir)
            .join(VERSION_DIR);
        for dir in [&snap_dir, &log_dir] {
            fs::create_dir_all(dir).map_err(PersistError::io(dir, "creating the directory"))?;
        }
        let writer = LogWriter::new(log_dir.clone(), config.pre_alloc_size, config.force_sync);
        Ok(FileStorage {
            config,
            snap_dir,
            log_dir,
            writer,
            fuzzy: None,
            epochs_written: None,
            events: Vec::new(),
        })
    }

    /// Where snapshots and the epoch files are.
    pub fn snap_dir(&self) -> &Path {
        &self.snap_dir
    }

    /// Where the txn logs are.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// Everything the disk did since the last call, in order.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Txns appended and not synced yet.
    pub fn unsynced(&self) -> usize {
        self.writer.unsynced()
    }

    /// Dies as a process would: the unsynced group is lost, except its first `torn_bytes`
    /// bytes, which reach the file without being synced (a torn write). For demonstrations
    /// and tests of recovery.
    pub fn crash(self, torn_bytes: usize) -> Result<Event, PersistError> {
        let file = self.writer.current().map(Path::to_path_buf);
        let (lost, torn) = self
            .writer
            .crash(torn_bytes)
            .map_err(|e| PersistError::Io {
                path: file.unwrap_or_default(),
                doing: "writing the torn tail of",
                source: e,
            })?;
        Ok(Event::Crashed {
            lost,
            torn_bytes: torn as u64,
        })
    }

    fn fresh_database(&self) -> Database {
        let tree = match self.config.extended_types {
            true => DataTree::new().with_extended_types(),
            false => DataTree::new(),
        };
        Database {
            tree,
            sessions: Default::default(),
        }
    }

    // ANCHOR: recover
    /// Rebuilds the database: the newest snapshot that reads back (at or below `at_most`),
    /// then the log after it; see the module doc.
    pub fn load(
        &mut self,
        at_most: Option<Zxid>,
        recent: usize,
    ) -> Result<Recovered, PersistError> {
        // A snapshot being walked was of the database this one replaces.
        self.abandon_snapshot()?;
        self.writer.roll(&mut self.events)?;
        let logs = names::list(&self.log_dir, LOG_PREFIX)?;
        let (snap_zxid, mut db, checked_from) = match self.newest_snapshot(at_most)? {
            Some(loaded) => loaded,
            None if !logs.is_empty() => {
                return Err(PersistError::LogsWithoutSnapshot {
                    dir: self.log_dir.clone(),
                })
            }
            None => {
                // An empty dataDir: start from the fresh tree and write it down, as upstream's
                // start-up snapshot does, so later logs always have a snapshot to follow.
                // Not fsynced, as upstream's (`FileTxnSnapLog.restore`: `save(.., false)`).
                let db = self.fresh_database();
                self.write_snapshot(&db, false)?;
                (Zxid::ZERO, db, Zxid::ZERO)
            }
        };
        let recent_txns = self.replay(&logs, snap_zxid, checked_from, &mut db, recent)?;
        let last = db.last_processed_zxid();
        let epochs = epoch_file::load_epochs(&self.snap_dir, last)?;
        self.events.push(Event::Recovered {
            zxid: last,
            nodes: db.tree.node_count(),
            sessions: db.sessions.len(),
        });
        Ok(Recovered {
            epochs,
            db,
            recent: recent_txns.into(),
        })
    }
    // ANCHOR_END: recover

    /// The newest snapshot at or below `at_most` that reads back, with its zxid and the zxid
    /// of its digest (0 if none); `None` if no snapshot even looks complete.
    fn newest_snapshot(
        &mut self,
        at_most: Option<Zxid>,
    ) -> Result<Option<(Zxid, Database, Zxid)>, PersistError> {
        let snapshots = names::list(&self.snap_dir, SNAPSHOT_PREFIX)?;
        let mut tried = Vec::new();
        let candidates = snapshots
            .iter()
            .rev()
            .filter(|(zxid, _)| at_most.is_none_or(|max| *zxid <= max))
            .take(SNAPSHOTS_TRIED);
        for (zxid, path) in candidates {
            let bytes = fs::read(path).map_err(PersistError::io(path, "reading"))?;
            let why = if !looks_complete(&bytes) {
                "incomplete: it does not end with a seal".to_string()
            } else {
                match decode_snapshot_file(&bytes, *zxid, self.config.extended_types) {
                    Ok(file) => {
                        self.events.push(Event::SnapshotLoaded {
                            file: short(path),
                            zxid: *zxid,
                            nodes: file.db.tree.node_count(),
                            sessions: file.db.sessions.len(),
                        });
                        let mismatch = file
                            .digest_mismatch()
                            .filter(|_| self.config.digest_enabled);
                        if let Some((written, computed)) = mismatch {
                            self.events.push(Event::DigestMismatch {
                                file: short(path),
                                zxid: *zxid,
                                written,
                                computed,
                            });
                        }
                        let digest_zxid = file.digest.map_or(Zxid::ZERO, |d| d.zxid);
                        return Ok(Some((*zxid, file.db, digest_zxid)));
                    }
                    Err((offset, why)) => {
                        tried.push((path.clone(), format!("offset {offset}: {why}")));
                        format!("offset {offset}: {why}")
                    }
                }
            };
            self.events.push(Event::SnapshotSkipped {
                file: short(path),
                why,
            });
        }
        match tried.is_empty() {
            true => Ok(None),
            false => Err(PersistError::NoValidSnapshot {
                dir: self.snap_dir.clone(),
                tried,
            }),
        }
    }

    // ANCHOR: replay
    /// Applies every logged txn after `snap_zxid` to `db`, in order, and returns the newest
    /// `recent` of them. The files read are the newest that starts at or below the snapshot
    /// and all later ones (`FileTxnLog.getLogFiles`). From `checked_from` on (a fuzzy
    /// snapshot's tree is only known to be exact again at its digest's zxid), each logged
    /// `TxnDigest` is compared with the tree's (`DataTree.compareDigest`).
    fn replay(
        &mut self,
        logs: &[(Zxid, PathBuf)],
        snap_zxid: Zxid,
        checked_from: Zxid,
        db: &mut Database,
        recent: usize,
    ) -> Result<VecDeque<TxnEntry>, PersistError> {
        let start = logs
            .iter()
            .rposition(|(first, _)| *first <= snap_zxid)
            .unwrap_or(0);
        let files = &logs[start..];
        let mut last = snap_zxid;
        let mut kept = VecDeque::with_capacity(recent.min(1 << 16));
        for (index, (_, path)) in files.iter().enumerate() {
            let log = read_log(path)?;
            let mut replayed: Option<(Zxid, Zxid, usize)> = None;
            for record in &log.records {
                let txn = &record.entry.txn;
                if txn.zxid <= snap_zxid {
                    continue; // already in the snapshot
                }
                if !follows(last, txn.zxid) {
                    return Err(PersistError::Gap {
                        path: path.clone(),
                        offset: record.offset,
                        after: last,
                        found: txn.zxid,
                    });
                }
                db.apply(txn);
                last = txn.zxid;
                let logged = record.entry.digest.filter(|d| {
                    self.config.digest_enabled
                        && txn.zxid >= checked_from
                        && d.version == crate::snapshot_file::DIGEST_VERSION
                });
                let computed = db.tree.digest() as i64;
                if let Some(logged) = logged.filter(|d| d.tree_digest != computed) {
                    self.events.push(Event::DigestMismatch {
                        file: short(path),
                        zxid: txn.zxid,
                        written: logged.tree_digest,
                        computed,
                    });
                }
                if recent > 0 {
                    if kept.len() == recent {
                        kept.pop_front();
                    }
                    kept.push_back(record.entry.clone());
                }
                let (first, _, count) = replayed.unwrap_or((txn.zxid, txn.zxid, 0));
                replayed = Some((first, txn.zxid, count + 1));
            }
            if let Some((first, last, txns)) = replayed {
                self.events.push(Event::Replayed {
                    file: short(path),
                    txns,
                    first,
                    last,
                });
            }
            if index + 1 == files.len() {
                self.clean_tail(&log)?;
            }
        }
        Ok(kept)
    }
    // ANCHOR_END: replay

    /// Removes the last log file if it holds no record, however it ends (zeros, a torn record,
    /// or its header alone when the crash came between creating and extending it): the next
    /// txn's file takes its name, and a log is never overwritten. Otherwise cuts it after its
    /// last good record, so the torn or zero tail a crash left is gone before anything new is
    /// written.
    fn clean_tail(&mut self, log: &txn_log::LogFile) -> Result<(), PersistError> {
        if log.records.is_empty() {
            fs::remove_file(&log.path).map_err(PersistError::io(&log.path, "removing"))?;
            txn_log::sync_dir(&self.log_dir)?;
            self.events.push(Event::EmptyLogRemoved {
                file: short(&log.path),
            });
            return Ok(());
        }
        let why = match log.end {
            LogEnd::EndOfFile => return Ok(()),
            LogEnd::Padding => PADDING,
            LogEnd::Torn { why } => why,
        };
        debug_assert!(log.valid_len >= HEADER_LEN);
        txn_log::cut(&log.path, log.valid_len)?;
        self.events.push(Event::TailCut {
            file: short(&log.path),
            at: log.valid_len,
            bytes: log.file_len - log.valid_len,
            why: why.to_string(),
        });
        Ok(())
    }

    /// Writes a whole snapshot of `db`, a slice at a time, as nothing changes it meanwhile.
    fn write_snapshot(&mut self, db: &Database, sync: bool) -> Result<(), PersistError> {
        let mut writing = self.start_snapshot(db, sync)?;
        while !writing.walk.is_done() {
            writing.out.write(&writing.walk.advance(db, usize::MAX))?;
        }
        self.finish_snapshot(writing, db)
    }

    /// Creates the file of a snapshot of `db` as of now and starts its walk.
    fn start_snapshot(&self, db: &Database, sync: bool) -> Result<SnapshotWriting, PersistError> {
        let walk = FuzzySnapshot::start(db, self.config.digest_enabled);
        let path = self.snap_dir.join(file_name(SNAPSHOT_PREFIX, walk.zxid()));
        let out = SnapshotOut::create(&path, sync)?;
        Ok(SnapshotWriting { walk, out })
    }

    fn finish_snapshot(
        &mut self,
        writing: SnapshotWriting,
        db: &Database,
    ) -> Result<(), PersistError> {
        let SnapshotWriting { walk, out } = writing;
        let file = short(out.path());
        out.finish()?;
        self.events.push(Event::SnapshotWritten {
            file,
            zxid: walk.zxid(),
            nodes: walk.written(),
            sessions: db.sessions.len(),
            bytes: walk.bytes_written(),
        });
        Ok(())
    }

    // ANCHOR: fuzzy_storage
    /// Starts a fuzzy snapshot of `db` as of now: the log is rolled, so the next txn starts
    /// the file replay will begin with, `snapshot.<zxid>` is created, and the walk waits for
    /// [`FileStorage::advance_snapshot`]. False if a snapshot is still being written
    /// (upstream: "Too busy to snap, skipping").
    pub fn begin_snapshot(&mut self, db: &Database) -> Result<bool, PersistError> {
        if self.fuzzy.is_some() {
            return Ok(false);
        }
        self.writer.roll(&mut self.events)?;
        self.fuzzy = Some(self.start_snapshot(db, false)?);
        Ok(true)
    }

    /// Walks up to `max_nodes` more nodes of the snapshot begun earlier, from `db` as it is
    /// now, and appends the bytes they make to its file (the seals too, once the walk is
    /// over). True while the snapshot is unfinished.
    pub fn advance_snapshot(
        &mut self,
        db: &Database,
        max_nodes: usize,
    ) -> Result<bool, PersistError> {
        let Some(writing) = &mut self.fuzzy else {
            return Ok(false);
        };
        writing.out.write(&writing.walk.advance(db, max_nodes))?;
        if !writing.walk.is_done() {
            return Ok(true);
        }
        let writing = self.fuzzy.take().expect("a snapshot in progress");
        // A routine snapshot: the log holds its txns, so no fsync (module doc of
        // `snapshot_file`).
        self.finish_snapshot(writing, db)?;
        Ok(false)
    }

    /// Drops the snapshot being walked and what was written of it: the database it was of
    /// has been replaced (a TRUNC or a SNAP).
    pub fn abandon_snapshot(&mut self) -> Result<(), PersistError> {
        match self.fuzzy.take() {
            Some(writing) => writing.out.abandon(),
            None => Ok(()),
        }
    }
    // ANCHOR_END: fuzzy_storage

    // ANCHOR: take_snapshot
    /// Rolls the log and writes a whole snapshot of `db` now, fsynced only with `sync`: as
    /// upstream's `ZooKeeperServer.takeSnapshot(syncSnap)`, true only for the snapshot a
    /// learner takes after a SNAP, whose txns no local log holds. A fuzzy snapshot still being
    /// walked is finished first, from the same database.
    pub fn take_snapshot(&mut self, db: &Database, sync: bool) -> Result<(), PersistError> {
        self.advance_snapshot(db, usize::MAX)?;
        self.writer.roll(&mut self.events)?;
        self.write_snapshot(db, sync)
    }
    // ANCHOR_END: take_snapshot

    // ANCHOR: truncate
    /// Makes the log end at `zxid` (a TRUNC from the leader), then recovers. `None`, with
    /// nothing changed, if a snapshot is newer than `zxid`: it holds txns past `zxid` that no
    /// log can take back, and the log before it may be of a database a SNAP replaced, so
    /// nothing here rebuilds the database as of `zxid`. (Upstream cuts the log and reloads
    /// that newer snapshot, txns past `zxid` included.)
    pub fn truncate_to(
        &mut self,
        zxid: Zxid,
        recent: usize,
    ) -> Result<Option<Recovered>, PersistError> {
        let snapshots = names::list(&self.snap_dir, SNAPSHOT_PREFIX)?;
        if snapshots.iter().any(|(z, _)| *z > zxid) {
            return Ok(None);
        }
        self.cut_log_after(zxid)?;
        self.events.push(Event::LogTruncated { zxid });
        self.load(Some(zxid), recent).map(Some)
    }

    /// The snapshot of the database a SNAP or TRUNC sync gave us, fsynced; then whatever
    /// this disk holds after it goes, as it was of the database the sync replaced: first the
    /// logged txns after it, then newer snapshots. A crash before the cut finds the newest
    /// snapshot as it was, and the disk as it was before the sync; one after it finds the
    /// newer snapshot without the log after it, which loses only txns the leader never had.
    pub fn take_sync_snapshot(&mut self, db: &Database) -> Result<(), PersistError> {
        self.take_snapshot(db, true)?;
        let at = db.last_processed_zxid();
        self.cut_log_after(at)?;
        for (zxid, path) in names::list(&self.snap_dir, SNAPSHOT_PREFIX)?.iter().rev() {
            if *zxid > at {
                self.remove(path)?;
            }
        }
        Ok(())
    }

    /// Removes every logged txn after `zxid`: whole files newest first, so a crash part-way
    /// leaves a log that is a prefix of the old one, then the tail of the file holding it.
    fn cut_log_after(&mut self, zxid: Zxid) -> Result<(), PersistError> {
        self.writer.roll(&mut self.events)?;
        let logs = names::list(&self.log_dir, LOG_PREFIX)?;
        for (first, path) in logs.iter().rev() {
            if *first > zxid {
                self.remove(path)?;
                continue;
            }
            let log = read_log(path)?;
            let keep = log
                .records
                .iter()
                .take_while(|r| r.entry.txn.zxid <= zxid)
                .last()
                .map_or(HEADER_LEN, |r| r.end);
            txn_log::cut(path, keep)?;
            break;
        }
        Ok(())
    }
    // ANCHOR_END: truncate

    fn remove(&mut self, path: &Path) -> Result<(), PersistError> {
        fs::remove_file(path).map_err(PersistError::io(path, "removing"))?;
        self.events.push(Event::Removed { file: short(path) });
        Ok(())
    }
}

// ANCHOR: follows
/// Whether `next` may be logged right after `prev`: the next counter of the same epoch, or
/// any zxid of a later epoch (a new leader starts its own count).
pub fn follows(prev: Zxid, next: Zxid) -> bool {
    match next.epoch().cmp(&prev.epoch()) {
        std::cmp::Ordering::Equal => next.counter() == prev.counter().wrapping_add(1),
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
    }
}
// ANCHOR_END: follows

impl FileStorage {
    // ANCHOR: append_digested
    /// Appends `txn` with `digest`, the tree digest after it as prepare worked it out, as its
    /// `TxnDigest` (left out with `digest.enabled=false`, or when there is none: an error
    /// txn, or a txn this server did not prepare). Returns the record's length in bytes.
    pub fn append_digested(&mut self, txn: &Txn, digest: Option<u64>) -> Result<u64, PersistError> {
        let digest = digest
            .filter(|_| self.config.digest_enabled)
            .map(|d| TxnDigest {
                version: crate::snapshot_file::DIGEST_VERSION,
                tree_digest: d as i64,
            });
        self.writer.append_txn(txn, digest, &mut self.events)
    }
    // ANCHOR_END: append_digested
}

// ANCHOR: storage_impl
impl Storage for FileStorage {
    fn recover(&mut self, recent: usize) -> std::io::Result<Recovered> {
        Ok(self.load(None, recent)?)
    }

    fn save_epochs(&mut self, epochs: Epochs) -> std::io::Result<()> {
        epoch_file::save_changed_epochs(&self.snap_dir, self.epochs_written, epochs)?;
        self.epochs_written = Some(epochs);
        self.events.push(Event::EpochsSaved {
            accepted: epochs.accepted,
            current: epochs.current,
        });
        Ok(())
    }

    fn append(&mut self, entry: &TxnEntry) -> std::io::Result<()> {
        let digest = entry
            .digest
            .filter(|d| d.version == crate::snapshot_file::DIGEST_VERSION);
        self.append_digested(&entry.txn, digest.map(|d| d.tree_digest as u64))?;
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.writer.sync(&mut self.events)?;
        Ok(())
    }

    fn truncate(&mut self, zxid: Zxid, recent: usize) -> std::io::Result<Option<Recovered>> {
        Ok(self.truncate_to(zxid, recent)?)
    }

    fn sync_snapshot(&mut self, db: &Database) -> std::io::Result<()> {
        Ok(self.take_sync_snapshot(db)?)
    }

    fn begin_snapshot(&mut self, db: &Database) -> std::io::Result<bool> {
        Ok(FileStorage::begin_snapshot(self, db)?)
    }

    fn advance_snapshot(&mut self, db: &Database, max_nodes: usize) -> std::io::Result<bool> {
        Ok(FileStorage::advance_snapshot(self, db, max_nodes)?)
    }

    fn abandon_snapshot(&mut self) {
        // What is left of an unfinished file has no seal, so recovery would pass over it;
        // failing to remove it is no reason to stop.
        let _ = FileStorage::abandon_snapshot(self);
    }
}
// ANCHOR_END: storage_impl
