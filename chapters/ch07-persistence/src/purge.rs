//! Autopurge: delete the snapshots and logs a restart can no longer need.
//!
//! The idea to take away: **recovery needs one good snapshot and every log after it, so
//! everything older is history, and history fills disks.** Keeping the newest few
//! snapshots (`autopurge.snapRetainCount`, at least 3, in case the newest is damaged) and
//! the logs needed to replay from the oldest of them, a server may delete the rest
//! (`PurgeTxnLog.purge`, run every `autopurge.purgeInterval` hours by
//! `DatadirCleanupManager`, or by hand with `zkCleanup.sh -n N`).
//!
//! The rule, upstream's (`PurgeTxnLog.purgeOlderSnapshots`): let X be the zxid of the
//! oldest snapshot kept. Every snapshot and log named below X goes, **except the log that
//! straddles X**: the newest log that starts at or below X may hold txns after X, which
//! replaying snapshot X needs (`FileTxnLog.getLogFiles`). Only snapshots that look complete
//! (`SnapStream.isValidSnapshot`) count toward the N kept.
//!
//! [`plan`] decides, from names alone, and is pure; [`purge`] lists a dataDir and deletes.
//!
//! # How it differs from ZooKeeper
//!
//! Upstream reads a name it cannot parse (`snapshot.5.tmp`, `log.5.gz`) as zxid -1 and so
//! deletes it; here only `snapshot.<hex>` and `log.<hex>` names are ever touched.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use ch01_znode::Zxid;

use crate::error::PersistError;
use crate::names::{list, LOG_PREFIX, SNAPSHOT_PREFIX, VERSION_DIR};
use crate::snapshot_file::{looks_complete, MIN_SNAPSHOT_LEN};

/// How much of a snapshot's end the cheap check reads: a seal's checksum and `"/"`.
const SEAL_TAIL_LEN: u64 = 13;

/// `PurgeTxnLog`'s minimum: fewer than 3 snapshots kept is refused (the cleanup manager
/// raises it to 3 instead).
pub const MIN_RETAIN_COUNT: usize = 3;

/// A snapshot as the planner sees it: its zxid, its path, whether it looks complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotName {
    pub zxid: Zxid,
    pub path: PathBuf,
    pub complete: bool,
}

// ANCHOR: plan
/// The files to delete so that the newest `retain` complete snapshots, and the logs that
/// replay from the oldest of them, are all that is left. `logs` are `(first zxid, path)`.
pub fn plan(snapshots: &[SnapshotName], logs: &[(Zxid, PathBuf)], retain: usize) -> Vec<PathBuf> {
    let mut complete: Vec<&SnapshotName> = snapshots.iter().filter(|s| s.complete).collect();
    complete.sort_by_key(|s| std::cmp::Reverse(s.zxid));
    // Nothing is deleted until some snapshot is known to be kept.
    let Some(oldest_kept) = complete.iter().take(retain.max(1)).map(|s| s.zxid).min() else {
        return Vec::new();
    };
    // The log that straddles the oldest kept snapshot: the newest one starting at or below it.
    let straddling = logs
        .iter()
        .map(|(zxid, _)| *zxid)
        .filter(|zxid| *zxid <= oldest_kept)
        .max();
    let old_logs = logs
        .iter()
        .filter(|(zxid, _)| *zxid < oldest_kept && Some(*zxid) != straddling)
        .map(|(_, path)| path.clone());
    let old_snapshots = snapshots
        .iter()
        .filter(|s| s.zxid < oldest_kept)
        .map(|s| s.path.clone());
    old_logs.chain(old_snapshots).collect()
}
// ANCHOR_END: plan

/// Whether the snapshot at `path` passes upstream's cheap check ([`looks_complete`]), read
/// from its last bytes only.
fn looks_complete_on_disk(path: &Path) -> Result<bool, PersistError> {
    let mut file = File::open(path).map_err(PersistError::io(path, "opening"))?;
    let len = file
        .metadata()
        .map_err(PersistError::io(path, "reading the size of"))?
        .len();
    let tail_len = len.min(SEAL_TAIL_LEN);
    file.seek(SeekFrom::Start(len - tail_len))
        .map_err(PersistError::io(path, "seeking in"))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)
        .map_err(PersistError::io(path, "reading"))?;
    // The bytes before the tail only count for their number.
    Ok(len >= MIN_SNAPSHOT_LEN as u64
        && looks_complete(&[vec![0; MIN_SNAPSHOT_LEN], tail].concat()))
}

// ANCHOR: purge
/// Deletes from `data_log_dir`'s and `data_dir`'s `version-2` what [`plan`] says, keeping the
/// newest `retain` (at least [`MIN_RETAIN_COUNT`]) snapshots; returns the files deleted.
pub fn purge(
    data_log_dir: &Path,
    data_dir: &Path,
    retain: usize,
) -> Result<Vec<PathBuf>, PersistError> {
    let snap_dir = data_dir.join(VERSION_DIR);
    let log_dir = data_log_dir.join(VERSION_DIR);
    let mut snapshots = Vec::new();
    for (zxid, path) in list(&snap_dir, SNAPSHOT_PREFIX)? {
        let complete = looks_complete_on_disk(&path)?;
        snapshots.push(SnapshotName {
            zxid,
            path,
            complete,
        });
    }
    let logs = list(&log_dir, LOG_PREFIX)?;
    let doomed = plan(&snapshots, &logs, retain.max(MIN_RETAIN_COUNT));
    for path in &doomed {
        std::fs::remove_file(path).map_err(PersistError::io(path, "removing"))?;
    }
    Ok(doomed)
}
// ANCHOR_END: purge

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(zxid: i64) -> SnapshotName {
        SnapshotName {
            zxid: Zxid(zxid),
            path: format!("snapshot.{zxid:x}").into(),
            complete: true,
        }
    }

    fn logs(zxids: &[i64]) -> Vec<(Zxid, PathBuf)> {
        zxids
            .iter()
            .map(|z| (Zxid(*z), format!("log.{z:x}").into()))
            .collect()
    }

    fn names(paths: Vec<PathBuf>) -> Vec<String> {
        paths.into_iter().map(|p| p.display().to_string()).collect()
    }

    /// `PurgeTxnLog.purgeOlderSnapshots`: keep snapshots 0x30, 0x40, 0x50; log.25 starts
    /// below 0x30 and is the newest such, so it may hold txns after 0x30: it stays.
    #[test]
    fn the_log_that_straddles_the_oldest_kept_snapshot_is_kept() {
        let snapshots = [snap(0x10), snap(0x20), snap(0x30), snap(0x40), snap(0x50)];
        let doomed = plan(&snapshots, &logs(&[0x1, 0x11, 0x25, 0x31, 0x45]), 3);
        assert_eq!(
            names(doomed),
            ["log.1", "log.11", "snapshot.10", "snapshot.20"]
        );
    }

    /// A log that starts exactly at the oldest kept snapshot's zxid is the straddling one
    /// (`getLogFiles` takes starts at or below it), and older ones go.
    #[test]
    fn a_log_starting_at_the_snapshot_zxid_is_the_one_kept() {
        let snapshots = [snap(0x10), snap(0x20), snap(0x30), snap(0x40)];
        let doomed = plan(&snapshots, &logs(&[0x1, 0x11, 0x20, 0x21]), 3);
        assert_eq!(names(doomed), ["log.1", "log.11", "snapshot.10"]);
    }

    /// Damaged snapshots do not count toward the N kept (`findNValidSnapshots`); an old
    /// damaged one goes with the rest, and too few snapshots delete nothing.
    #[test]
    fn only_complete_snapshots_count_and_too_few_delete_nothing() {
        let mut torn = snap(0x40);
        torn.complete = false;
        let snapshots = [snap(0x10), snap(0x20), snap(0x30), torn, snap(0x50)];
        let doomed = plan(&snapshots, &logs(&[0x1, 0x15, 0x35]), 3);
        assert_eq!(names(doomed), ["log.1", "snapshot.10"]);
        assert!(plan(&snapshots[..3], &logs(&[0x1]), 3).is_empty());
        assert!(plan(&[], &logs(&[0x1, 0x2]), 3).is_empty());
    }

    #[test]
    fn purge_deletes_files_in_the_data_dir_and_keeps_everything_else() {
        let dir = tempfile::tempdir().unwrap();
        let v2 = dir.path().join(VERSION_DIR);
        std::fs::create_dir(&v2).unwrap();
        let sealed = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'/'];
        for z in [0x1, 0x5, 0x9, 0xd] {
            std::fs::write(v2.join(format!("snapshot.{z:x}")), sealed).unwrap();
        }
        for name in [
            "log.1",
            "log.3",
            "log.7",
            "log.b",
            "snapshot.2.tmp",
            "acceptedEpoch",
        ] {
            std::fs::write(v2.join(name), b"x").unwrap();
        }
        let doomed = purge(dir.path(), dir.path(), 1).unwrap();
        let mut doomed = names(
            doomed
                .into_iter()
                .map(|p| p.file_name().unwrap().into())
                .collect(),
        );
        doomed.sort();
        // Kept: 3 snapshots (1 asked for, 3 the minimum) from 0x5, and log.3 straddling it.
        assert_eq!(doomed, ["log.1", "snapshot.1"]);
        let mut left: Vec<String> = std::fs::read_dir(&v2)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "acceptedEpoch",
                "log.3",
                "log.7",
                "log.b",
                "snapshot.2.tmp",
                "snapshot.5",
                "snapshot.9",
                "snapshot.d"
            ]
        );
    }
}
