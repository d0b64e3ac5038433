//! The snapshot file: `version-2/snapshot.<hex zxid>`, the whole database as of one zxid.
//!
//! The idea to take away: **a snapshot lets the log be short.** Recovery loads the newest
//! snapshot and replays only the txns logged after it, so a server restarts in the time it
//! takes to read its tree, not its whole history. A snapshot is written front to back, a
//! slice at a time as its walk goes ([`crate::fuzzy`]), and a crash can leave it half
//! written; so it ends with a checksum of every byte before it and a `"/"`, and a reader
//! that does not find both tries the next older snapshot.
//!
//! | part | layout (`FileSnap.serialize`, `SnapStream.sealStream`) |
//! |---|---|
//! | `FileHeader` | `int magic` = `ZKSN` (0x5A4B534E), `int version` = 2, `long dbid` = -1 |
//! | database | sessions, ACL map, nodes, `"/"` ([`ch06_zab::snapshot_stream`]) |
//! | seal | `long` Adler-32 of every byte so far, `ustring "/"` |
//! | digest (3.6+) | `long zxid`, `int digestVersion` (2), `long digest` (`ZxidDigest`) |
//! | second seal | `long` Adler-32 of every byte so far (the first seal included), `ustring "/"` |
//!
//! The digest part is the tree digest (chapter 1's [`DataTree::digest`]) as of the tree's
//! last zxid, or the **empty digest** (zxid 0) for a tree no txn has touched, as upstream
//! writes it (`DataTree.serializeZxidDigest`); with `digest.enabled=false` the part and its
//! seal are left out. A reader accepts a snapshot with or without the part;
//! [`SnapshotFile::digest_mismatch`] checks it against the nodes read.
//!
//! # Like ZooKeeper, most snapshots are not fsynced
//!
//! A routine snapshot ([`SnapshotOut`] with `sync` false) is written in place as
//! `snapshot.<zxid>`, never fsynced: the log already holds every txn it covers, fsynced, and recovery falls
//! back to an older snapshot when the newest does not verify, so a crash can cost only the
//! time to replay more log. Only the snapshot a learner takes after a SNAP is written through
//! `snapshot.<zxid>.tmp`, fsynced and renamed into place: its txns are in no local log, so it
//! is the only copy (`ZooKeeperServer.takeSnapshot(syncSnap)`, `SnapStream.getOutputStream`).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use ch01_znode::{DataTree, Zxid};
use ch03_sessions::jute::{Reader, Writer};
use ch03_sessions::pipeline::Database;
use ch06_zab::snapshot_stream::{decode_snapshot, END_OF_NODES};

use crate::adler32::Adler32;
use crate::fuzzy::FuzzySnapshot;
use crate::txn_log::{FileHeader, HEADER_LEN};
use crate::PersistError;

/// `"ZKSN"` as a big-endian int (`FileSnap.SNAP_MAGIC`).
pub const SNAP_MAGIC: i32 = 0x5A4B_534E;
/// The dbid a snapshot header carries (`FileSnap.dbId`).
pub const SNAP_DBID: i64 = -1;
/// `DigestCalculator.DIGEST_VERSION` in 3.8.
pub const DIGEST_VERSION: i32 = ch01_znode::tree::DIGEST_VERSION;
/// Upstream's cheapest complete snapshot check needs at least this many bytes.
pub const MIN_SNAPSHOT_LEN: usize = 10;

// ANCHOR: zxid_digest
/// `DataTree.ZxidDigest`: the tree digest as of a zxid. Zxid 0 means "no digest yet".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZxidDigest {
    pub zxid: Zxid,
    pub version: i32,
    pub digest: i64,
}

impl ZxidDigest {
    /// What upstream writes when its tree has no digest yet.
    pub const EMPTY: ZxidDigest = ZxidDigest {
        zxid: Zxid::ZERO,
        version: DIGEST_VERSION,
        digest: 0,
    };

    /// The digest of `tree` as of its last zxid; empty for a tree no txn has reached.
    pub fn of(tree: &DataTree) -> ZxidDigest {
        match tree.last_processed_zxid() {
            Zxid::ZERO => ZxidDigest::EMPTY,
            zxid => ZxidDigest {
                zxid,
                version: DIGEST_VERSION,
                // ZooKeeper keeps the wrapping sum in a Java long.
                digest: tree.digest() as i64,
            },
        }
    }

    /// The digest part's bytes: `long zxid, int digestVersion, long digest`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.write_long(self.zxid.0);
        w.write_int(self.version);
        w.write_long(self.digest);
        w.into_bytes()
    }
}
// ANCHOR_END: zxid_digest

/// Appends a seal to `bytes`: the checksum of every byte before it, which `sum` has summed,
/// and `"/"` (`SnapStream.sealStream`); `sum` is left covering the seal too, so a second
/// seal does not read the file again.
pub(crate) fn seal(sum: &mut Adler32, bytes: &mut Vec<u8>) {
    let mut w = Writer::new();
    w.write_long(sum.value());
    w.write_ustring(Some(END_OF_NODES));
    let seal = w.into_bytes();
    sum.update(&seal);
    bytes.extend(seal);
}

// ANCHOR: encode_snapshot_file
/// The bytes of a snapshot file for `db` (`FileSnap.serialize`); the digest part only if
/// `with_digest` (zoo.cfg `digest.enabled`, on by default). The slices of one
/// [`FuzzySnapshot`] over a database nothing changes, put end to end.
pub fn encode_snapshot_file(db: &Database, with_digest: bool) -> Vec<u8> {
    let mut snapshot = FuzzySnapshot::start(db, with_digest);
    let mut bytes = Vec::new();
    while !snapshot.is_done() {
        bytes.extend(snapshot.advance(db, usize::MAX));
    }
    bytes
}
// ANCHOR_END: encode_snapshot_file

/// Upstream's cheap test before it reads a snapshot (`SnapStream.isValidCheckedStream`): at
/// least 10 bytes, ending with the `ustring "/"` of a seal. A snapshot a crash cut short
/// fails it, and is not even tried.
pub fn looks_complete(bytes: &[u8]) -> bool {
    bytes.len() >= MIN_SNAPSHOT_LEN && bytes[bytes.len() - 5..] == [0, 0, 0, 1, b'/']
}

/// A snapshot file read back.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotFile {
    pub db: Database,
    /// The digest part, if the file has one (3.6+).
    pub digest: Option<ZxidDigest>,
}

impl SnapshotFile {
    /// `Some((written, computed))` when the file's digest is of the zxid its nodes are as of
    /// and does not match them — a snapshot written from a different tree than it claims.
    /// A digest of another zxid (a fuzzy snapshot's) or version cannot be checked here.
    pub fn digest_mismatch(&self) -> Option<(i64, i64)> {
        let written = self.digest?;
        let tree = &self.db.tree;
        let checkable =
            written.zxid == tree.last_processed_zxid() && written.version == DIGEST_VERSION;
        let computed = tree.digest() as i64;
        (checkable && written.zxid != Zxid::ZERO && written.digest != computed)
            .then_some((written.digest, computed))
    }
}

// ANCHOR: decode_snapshot_file
/// Reads a whole snapshot file; `zxid` is the one in its name, which becomes the tree's last
/// processed zxid (`FileSnap.deserialize`). The error says what is wrong and at which offset.
pub fn decode_snapshot_file(
    bytes: &[u8],
    zxid: Zxid,
    extended_types: bool,
) -> Result<SnapshotFile, (u64, String)> {
    let header_len = HEADER_LEN as usize;
    let header: &[u8; 16] = bytes
        .get(..header_len)
        .and_then(|h| h.try_into().ok())
        .ok_or((0, "too short for a header".to_string()))?;
    let header = FileHeader::decode(header);
    if header.magic != SNAP_MAGIC {
        return Err((0, format!("mismatching magic header {:#x}", header.magic)));
    }
    let body = &bytes[header_len..];
    let (snapshot, used) =
        decode_snapshot(body, extended_types, zxid).map_err(|e| (HEADER_LEN, e.to_string()))?;
    let sealed_at = header_len + used;
    let mut sum = Adler32::default();
    check_seal(bytes, sealed_at, &mut sum, 0)?;
    let after_seal = sealed_at + 8 + 5;
    let mut digest = None;
    if after_seal < bytes.len() {
        let mut r = Reader::new(&bytes[after_seal..]);
        let at = after_seal as u64;
        let mut field = |what| {
            let zxid = r.read_long(what).map_err(|e| (at, e.to_string()))?;
            let version = r.read_int(what).map_err(|e| (at, e.to_string()))?;
            let digest = match version {
                // Before version 2 the digest was written as a hex string.
                v if v < 2 => r
                    .read_ustring(what)
                    .ok()
                    .flatten()
                    .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
                    .map(|d| d as i64)
                    .ok_or((at, "an unreadable digest".to_string()))?,
                _ => r.read_long(what).map_err(|e| (at, e.to_string()))?,
            };
            Ok::<_, (u64, String)>(ZxidDigest {
                zxid: Zxid(zxid),
                version,
                digest,
            })
        };
        digest = Some(field("ZxidDigest")?);
        let second_seal = after_seal + r.position();
        check_seal(bytes, second_seal, &mut sum, sealed_at)?;
        let end = second_seal + 13;
        if end != bytes.len() {
            return Err((
                end as u64,
                format!("{} bytes after the end", bytes.len() - end),
            ));
        }
    }
    Ok(SnapshotFile {
        db: Database {
            tree: snapshot.tree,
            sessions: snapshot.sessions,
        },
        digest,
    })
}
// ANCHOR_END: decode_snapshot_file

/// Checks the seal at `at`: the Adler-32 of `bytes[..at]`, then `"/"`
/// (`SnapStream.checkSealIntegrity`). `sum` has summed `bytes[..summed]` already.
fn check_seal(
    bytes: &[u8],
    at: usize,
    sum: &mut Adler32,
    summed: usize,
) -> Result<(), (u64, String)> {
    let mut r = Reader::new(&bytes[at..]);
    let stored = r
        .read_long("seal checksum")
        .map_err(|e| (at as u64, e.to_string()))?;
    let slash = r
        .read_ustring("seal path")
        .map_err(|e| (at as u64, e.to_string()))?;
    sum.update(&bytes[summed..at]);
    let computed = sum.value();
    if stored != computed {
        return Err((
            at as u64,
            format!("checksum mismatch: stored {stored:#x}, computed {computed:#x}"),
        ));
    }
    if slash.as_deref() != Some(END_OF_NODES) {
        return Err((
            at as u64 + 8,
            format!("seal ends with {slash:?}, not \"/\""),
        ));
    }
    Ok(())
}

// ANCHOR: snapshot_out
/// A snapshot file being written a slice at a time. A routine snapshot (`sync` false) is
/// written in place and never fsynced, as upstream's `takeSnapshot(false)` (see the module
/// doc for why that is safe): a crash part-way leaves a file without its seal, which
/// recovery passes over. With `sync`, the slices go to `NAME.tmp`, which is fsynced and
/// renamed into place at the end, so the file is there whole or not at all.
#[derive(Debug)]
pub struct SnapshotOut {
    path: PathBuf,
    /// `path`, or `path.tmp` with `sync`.
    writing: PathBuf,
    file: File,
    sync: bool,
}

impl SnapshotOut {
    /// Creates the file (replacing one of the same name).
    pub fn create(path: &Path, sync: bool) -> Result<SnapshotOut, PersistError> {
        let writing = match sync {
            true => tmp_path(path),
            false => path.to_path_buf(),
        };
        let file = File::create(&writing).map_err(PersistError::io(&writing, "creating"))?;
        Ok(SnapshotOut {
            path: path.to_path_buf(),
            writing,
            file,
            sync,
        })
    }

    /// The file's name once it is complete.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the next slice.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), PersistError> {
        self.file
            .write_all(bytes)
            .map_err(PersistError::io(&self.writing, "writing"))
    }

    /// Ends the file: with `sync`, fsynced and renamed into place.
    pub fn finish(self) -> Result<(), PersistError> {
        if !self.sync {
            return Ok(());
        }
        self.file
            .sync_all()
            .map_err(PersistError::io(&self.writing, "fsyncing"))?;
        fs::rename(&self.writing, &self.path)
            .map_err(PersistError::io(&self.path, "renaming into place"))?;
        crate::txn_log::sync_dir(self.path.parent().unwrap_or(Path::new(".")))
    }

    /// Removes what was written of a snapshot that will not be finished.
    pub fn abandon(self) -> Result<(), PersistError> {
        drop(self.file);
        fs::remove_file(&self.writing).map_err(PersistError::io(&self.writing, "removing"))
    }
}
// ANCHOR_END: snapshot_out

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` through `path.tmp`: write, fsync, rename, fsync the directory,
/// so a crash leaves the old file or the new one, never half of one
/// (`AtomicFileOutputStream`).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PersistError> {
    let tmp = &tmp_path(path);
    let mut file = File::create(tmp).map_err(PersistError::io(tmp, "creating"))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(PersistError::io(tmp, "writing"))?;
    fs::rename(tmp, path).map_err(PersistError::io(path, "renaming into place"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::txn_log::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adler32::adler32;
    use ch01_znode::{Acl, CreateMode, Request, SessionId, Standalone};
    use std::collections::BTreeMap;

    fn sample() -> Database {
        let mut server = Standalone::default();
        let create = |path: &str, mode| Request::Create {
            path: path.into(),
            data: Some(path.as_bytes().to_vec()),
            acl: Acl::open_unsafe(),
            mode,
        };
        server.submit(
            SessionId(7),
            1,
            1000,
            &create("/app", CreateMode::Persistent),
        );
        server.submit(
            SessionId(7),
            2,
            1001,
            &create("/app/e", CreateMode::Ephemeral),
        );
        Database {
            tree: server.tree,
            sessions: BTreeMap::from([(SessionId(7), 30_000)]),
        }
    }

    #[test]
    fn a_snapshot_file_reads_back_to_the_same_database() {
        let db = sample();
        let bytes = encode_snapshot_file(&db, true);
        assert_eq!(&bytes[..4], b"ZKSN");
        assert!(looks_complete(&bytes));
        let read = decode_snapshot_file(&bytes, db.last_processed_zxid(), false).unwrap();
        assert_eq!(read.db, db);
        let digest = read.digest.expect("a digest part");
        assert_eq!(digest.zxid, db.last_processed_zxid());
        assert_eq!(digest.digest, db.tree.digest() as i64);
        assert_eq!(read.digest_mismatch(), None);
    }

    #[test]
    fn a_digest_that_does_not_match_the_nodes_is_reported_and_a_fresh_tree_gets_the_empty_one() {
        let db = sample();
        let mut read = decode_snapshot_file(
            &encode_snapshot_file(&db, true),
            db.last_processed_zxid(),
            false,
        )
        .unwrap();
        let computed = db.tree.digest() as i64;
        read.digest.as_mut().unwrap().digest ^= 1;
        assert_eq!(read.digest_mismatch(), Some((computed ^ 1, computed)));

        let fresh = Database {
            tree: DataTree::new(),
            sessions: BTreeMap::new(),
        };
        let read = decode_snapshot_file(&encode_snapshot_file(&fresh, true), Zxid::ZERO, false);
        assert_eq!(read.unwrap().digest, Some(ZxidDigest::EMPTY));
    }

    #[test]
    fn the_seals_cover_every_byte_before_them() {
        let db = sample();
        let bytes = encode_snapshot_file(&db, true);
        // The last 13 bytes are the second seal; the 20 before them the digest.
        let second = bytes.len() - 13;
        assert_eq!(
            bytes[second..second + 8],
            adler32(&bytes[..second]).to_be_bytes()
        );
        let first = second - 20 - 13;
        assert_eq!(
            bytes[first..first + 8],
            adler32(&bytes[..first]).to_be_bytes()
        );
        // Without the digest part (a 3.5 snapshot, or digest.enabled=false) it still reads.
        let old = &bytes[..first + 13];
        assert_eq!(old, encode_snapshot_file(&db, false));
        let read = decode_snapshot_file(old, db.last_processed_zxid(), false).unwrap();
        assert_eq!((read.db, read.digest), (db, None));
    }

    #[test]
    fn a_flipped_bit_anywhere_is_refused() {
        let db = sample();
        let bytes = encode_snapshot_file(&db, true);
        for at in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            let read = decode_snapshot_file(&bad, db.last_processed_zxid(), false);
            // A flip in the digest's value is covered by the second seal; every flip shows.
            assert!(
                read.is_err() || !looks_complete(&bad),
                "flip at {at} went unnoticed"
            );
        }
    }

    #[test]
    fn a_cut_snapshot_does_not_look_complete() {
        let bytes = encode_snapshot_file(&sample(), true);
        for len in [0, 9, 16, bytes.len() / 2, bytes.len() - 1] {
            assert!(!looks_complete(&bytes[..len]), "{len}");
        }
    }
}
