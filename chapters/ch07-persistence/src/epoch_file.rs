//! `acceptedEpoch` and `currentEpoch`: two numbers a quorum peer must never forget.
//!
//! The idea to take away: **a promise made to a leader must survive a crash.** A follower
//! that has accepted epoch *e* (ACKEPOCH) has promised to ignore older leaders; if it
//! forgot that after a restart it could help an old leader commit a txn the new one never
//! saw. So each file is replaced atomically: the number is written to `NAME.tmp`, fsynced,
//! and renamed over `NAME` (`QuorumPeer.writeLongToFile`, `AtomicFileWritingIdiom`); a crash
//! leaves the old number or the new one. The text is the decimal number, no newline.
//!
//! Reading follows `QuorumPeer.loadDataBase`: a missing file is the epoch of the last logged
//! zxid (the upgrade path from servers that had no such files), and `acceptedEpoch` below
//! `currentEpoch` stops the server.

use std::fs;
use std::io;
use std::path::Path;

use ch01_znode::{Epoch, Zxid};
use ch06_zab::peer::Epochs;

use crate::error::PersistError;
use crate::names::{ACCEPTED_EPOCH, CURRENT_EPOCH};
use crate::snapshot_file::write_atomically;

/// Reads one epoch file; `None` if it does not exist.
fn read_epoch(path: &Path) -> Result<Option<Epoch>, PersistError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PersistError::io(path, "reading")(e)),
    };
    // Upstream reads the first line, so a trailing newline written by hand is fine.
    let first = text.lines().next().unwrap_or("").trim();
    first
        .parse()
        .map(|n| Some(Epoch(n)))
        .map_err(|_| PersistError::BadEpoch {
            path: path.to_path_buf(),
            text,
        })
}

// ANCHOR: load_epochs
/// The epochs in `dir` (a snapshot `version-2` directory); a missing file counts as the
/// epoch of `last_zxid`.
pub fn load_epochs(dir: &Path, last_zxid: Zxid) -> Result<Epochs, PersistError> {
    let fallback = last_zxid.epoch().max(Epoch(0));
    let current = read_epoch(&dir.join(CURRENT_EPOCH))?.unwrap_or(fallback);
    let accepted = read_epoch(&dir.join(ACCEPTED_EPOCH))?.unwrap_or(fallback);
    if accepted < current {
        return Err(PersistError::EpochsOutOfOrder { accepted, current });
    }
    Ok(Epochs { accepted, current })
}
// ANCHOR_END: load_epochs

// ANCHOR: save_epochs
/// Writes both files, `acceptedEpoch` first: it only grows and is never below
/// `currentEpoch`, so the pair on disk is in order after a crash between the two.
pub fn save_epochs(dir: &Path, epochs: Epochs) -> Result<(), PersistError> {
    save_changed_epochs(dir, None, epochs)
}

/// Writes the files whose number differs from `on_disk` (both if `None`), `acceptedEpoch`
/// first. Upstream writes one file per change too (`setAcceptedEpoch`, `setCurrentEpoch`):
/// each write is two syncs, and a new leader's epoch takes four writes on the way to its
/// first commit, so an unchanged file is not rewritten.
pub fn save_changed_epochs(
    dir: &Path,
    on_disk: Option<Epochs>,
    epochs: Epochs,
) -> Result<(), PersistError> {
    if on_disk.is_none_or(|d| d.accepted != epochs.accepted) {
        write_atomically(
            &dir.join(ACCEPTED_EPOCH),
            epochs.accepted.0.to_string().as_bytes(),
        )?;
    }
    if on_disk.is_none_or(|d| d.current != epochs.current) {
        write_atomically(
            &dir.join(CURRENT_EPOCH),
            epochs.current.0.to_string().as_bytes(),
        )?;
    }
    Ok(())
}
// ANCHOR_END: save_epochs

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_file_whose_epoch_changed_is_written_again() {
        // A new leader's epoch is accepted first and made current later: two writes of one
        // file each, as upstream's setAcceptedEpoch and setCurrentEpoch.
        let dir = tempfile::tempdir().unwrap();
        let epochs = |accepted, current| Epochs {
            accepted: Epoch(accepted),
            current: Epoch(current),
        };
        save_epochs(dir.path(), epochs(4, 4)).unwrap();
        fs::remove_file(dir.path().join("currentEpoch")).unwrap();
        save_changed_epochs(dir.path(), Some(epochs(4, 4)), epochs(5, 4)).unwrap();
        assert_eq!(fs::read(dir.path().join("acceptedEpoch")).unwrap(), b"5");
        assert!(
            !dir.path().join("currentEpoch").exists(),
            "not written again"
        );
        save_changed_epochs(dir.path(), Some(epochs(5, 4)), epochs(5, 5)).unwrap();
        assert_eq!(fs::read(dir.path().join("currentEpoch")).unwrap(), b"5");
    }

    #[test]
    fn epochs_are_decimal_text_without_a_newline_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let epochs = Epochs {
            accepted: Epoch(5),
            current: Epoch(4),
        };
        save_epochs(dir.path(), epochs).unwrap();
        assert_eq!(fs::read(dir.path().join("acceptedEpoch")).unwrap(), b"5");
        assert_eq!(fs::read(dir.path().join("currentEpoch")).unwrap(), b"4");
        assert!(!dir.path().join("currentEpoch.tmp").exists());
        assert_eq!(load_epochs(dir.path(), Zxid(0)).unwrap(), epochs);
    }

    #[test]
    fn missing_files_are_the_epoch_of_the_last_zxid_and_bad_ones_stop_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let upgraded = load_epochs(dir.path(), Zxid(0x3_0000_0007)).unwrap();
        assert_eq!(
            upgraded,
            Epochs {
                accepted: Epoch(3),
                current: Epoch(3)
            }
        );
        fs::write(dir.path().join("currentEpoch"), "4\n").unwrap();
        assert!(matches!(
            load_epochs(dir.path(), Zxid(0)),
            Err(PersistError::EpochsOutOfOrder { .. })
        ));
        fs::write(dir.path().join("acceptedEpoch"), "four").unwrap();
        let err = load_epochs(dir.path(), Zxid(0)).unwrap_err();
        assert!(err.to_string().contains("acceptedEpoch"), "{err}");
    }
}
