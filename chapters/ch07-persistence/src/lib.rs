//! # Chapter 7: persistence
//!
//! Chapter 6's leader counts a follower's ACK only once the follower has the txn **on
//! disk**, and a standalone server answers a write only once it is on disk. This chapter is
//! that disk: **a write is acknowledged only after its record is in the txn log and fsynced;
//! a restart rebuilds the tree from the newest snapshot plus every txn logged after it.** The
//! files are ZooKeeper 3.8's own, byte for byte, so ZooKeeper's tools (`TxnLogToolkit`,
//! `SnapshotFormatter`) read ours and we recover from a dataDir a real ZooKeeper wrote.
//!
//! # The rules
//!
//! 1. **Log, sync, then acknowledge.** Records are appended in groups and one `fdatasync`
//!    makes a whole group durable (group commit); nothing in the group is acknowledged before
//!    it returns (`SyncRequestProcessor`).
//! 2. **Append only, and never over an old file.** Each log file is named after its first
//!    txn and written front to back; after a restart or a snapshot the next txn starts a new
//!    file (`FileTxnLog.append`, `rollLog`).
//! 3. **Every record and every snapshot carries a checksum**, so damage is seen, not served.
//! 4. **Recovery = newest snapshot that verifies + the log after it.** A torn or zero tail is
//!    the normal end of a log after a crash and is cut off; a checksum failure or a missing
//!    txn in the middle stops the server with the file and offset (`FileTxnSnapLog.restore`).
//! 5. **Epochs are replaced atomically** (temp file, fsync, rename): a promise to a leader
//!    must survive a crash.
//!
//! ```text
//! cargo run -p ch07-persistence -- --trace        # append, group fsync, snapshot, crash, recover
//! ```
//!
//! # Layout
//!
//! * [`adler32`] — the checksum of log records and snapshots.
//! * [`txn_log`] — `log.<zxid>`: header, records, preallocation, group sync, reading to the end.
//! * [`snapshot_file`] — `snapshot.<zxid>`: header, database, seals, digest part.
//! * [`fuzzy`] — a snapshot written a slice at a time while txns keep being applied.
//! * [`epoch_file`] — `acceptedEpoch` and `currentEpoch`.
//! * [`names`] — file names and the `version-2` listing.
//! * [`file_storage`] — [`FileStorage`], chapter 6's [`ch06_zab::storage::Storage`] over a dataDir.
//! * [`trace`] — the chapter's [`trace::Event`]s.
//! * [`story`] — the story the chapter binary tells.
//! * [`lab`] — the chapter's labs: a seed that loses a write, a log record read by hand.
//! * [`error`] — [`PersistError`], which always names the file (and offset).
//! * [`purge`] — autopurge: the old snapshots and logs a restart no longer needs.
//! * [`crash_drill`] — the storage killed before each system call it makes, and recovered.
//! * [`dump`] — `keeper txnlog` and `keeper snapshot`: the files printed as ZooKeeper's
//!   `TxnLogToolkit` and `SnapshotFormatter` print them, and a check for the first bad record.
//!
//! The byte formats of a txn and of a database are chapter 6's ([`ch06_zab::txn_codec`],
//! [`ch06_zab::snapshot_stream`]); this chapter adds the files around them.
//!
//! # How it differs from ZooKeeper
//!
//! * **Digests.** Snapshots carry chapter 1's tree digest (`ZxidDigest`), and recovery
//!   checks every digest it reads (snapshot and each logged `TxnDigest`) against the rebuilt
//!   tree, reporting a mismatch as upstream does. A standalone server logs a `TxnDigest` with
//!   every txn but an error txn, as 3.8 does: the log is written before the txn is applied,
//!   so the digest after it is worked out at prepare time from the changes in flight
//!   (chapter 3's `Outstanding::add_digested`, upstream's `precalculateDigest`) and handed to
//!   [`FileStorage::append_digested`]. A quorum leader puts the same digest in its proposal
//!   (chapter 6's `Message::Proposal` carries a `TxnEntry`, as 3.8's `serializeRequest`
//!   does) and every member logs it; the PROPOSALs of a DIFF and an observer's INFORM carry
//!   it too, as upstream's do.
//! * **Stricter reading.** A torn record with data after it, or a txn that does not follow its
//!   predecessor, is an error here; upstream skips the rest of such a file.
//! * Snapshots are fuzzy ([`fuzzy`]), a standalone server's and a quorum peer's alike:
//!   walked a slice per group commit, from the live tree, where upstream's snapshot thread
//!   walks it at its own pace. No compression. As upstream, only the snapshot a learner takes
//!   after a SNAP is fsynced (through a temp file); see each module for the details.

pub mod adler32;
pub mod crash_drill;
pub mod dump;
pub mod epoch_file;
pub mod error;
pub mod file_storage;
pub mod fuzzy;
pub mod lab;
pub mod names;
pub mod purge;
pub mod snapshot_file;
pub mod story;
pub mod trace;
pub mod txn_log;

pub use error::PersistError;
pub use file_storage::{FileStorage, FileStorageConfig};
