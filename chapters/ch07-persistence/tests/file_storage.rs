//! FileStorage keeps chapter 6's [`Storage`] promises on a real dataDir, and refuses what it
//! cannot trust (FileTxnSnapLog.restore; persistence.md §5).

use std::fs;
use std::path::{Path, PathBuf};

use ch01_znode::{Acl, CreateMode, Epoch, Request, SessionId, Standalone, Txn, Zxid};
use ch03_sessions::pipeline::Database;
use ch06_zab::peer::Epochs;
use ch06_zab::storage::{Disk, Storage};
use ch06_zab::txn_codec::TxnEntry;
use ch07_persistence::trace::Event;
use ch07_persistence::{FileStorage, FileStorageConfig, PersistError};

/// `n` creates, each its own txn, as a standalone server preps them.
fn creates(n: usize) -> Vec<Txn> {
    let mut server = Standalone::default();
    (0..n)
        .map(|i| {
            let request = Request::Create {
                path: format!("/n{i:03}"),
                data: Some(vec![b'a' + (i % 26) as u8; 1 + i % 50]),
                acl: Acl::open_unsafe(),
                mode: CreateMode::Persistent,
            };
            server
                .submit(SessionId(9), i as i32, 1000 + i as i64, &request)
                .0
        })
        .collect()
}

fn config(dir: &Path) -> FileStorageConfig {
    let mut config = FileStorageConfig::new(dir);
    config.pre_alloc_size = 4096;
    config
}

fn open(dir: &Path) -> FileStorage {
    FileStorage::open(config(dir)).unwrap()
}

fn append_all(storage: &mut FileStorage, txns: &[Txn]) {
    for txn in txns {
        storage.append(&TxnEntry::new(txn.clone())).unwrap();
    }
    storage.sync().unwrap();
}

/// The database the in-memory disk of chapter 6 recovers from the same writes: the reference.
fn reference(txns: &[Txn]) -> Database {
    let mut disk = Disk::default();
    for txn in txns {
        Storage::append(&mut disk, &TxnEntry::new(txn.clone())).unwrap();
    }
    Storage::recover(&mut disk, 0).unwrap().db
}

/// `txns` as logged without digests.
fn entries(txns: &[Txn]) -> Vec<TxnEntry> {
    txns.iter().cloned().map(TxnEntry::new).collect()
}

fn version_2(dir: &Path) -> PathBuf {
    dir.join("version-2")
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(version_2(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn persist_error(e: std::io::Error) -> String {
    let inner = PersistError::from_storage(&e).expect("a PersistError");
    inner.to_string()
}

/// Every file in `version-2/`, with its bytes: to check that a refusal changed nothing.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let bytes = fs::read(version_2(dir).join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

#[test]
fn an_empty_data_dir_starts_from_the_fresh_tree_and_writes_snapshot_0() {
    let dir = tempfile::tempdir().unwrap();
    let recovered = open(dir.path()).recover(5).unwrap();
    assert_eq!(recovered.db, Database::default());
    assert!(recovered.recent.is_empty());
    assert_eq!(recovered.epochs, Epochs::default());
    assert_eq!(names(dir.path()), ["snapshot.0"]);
}

#[test]
fn synced_txns_survive_a_restart_and_recover_as_the_memory_disk_does() {
    let dir = tempfile::tempdir().unwrap();
    let txns = creates(40);
    let mut storage = open(dir.path());
    storage.recover(0).unwrap();
    append_all(&mut storage, &txns[..25]);
    append_all(&mut storage, &txns[25..]);
    drop(storage);
    let recovered = open(dir.path()).recover(7).unwrap();
    assert_eq!(recovered.db, reference(&txns));
    assert_eq!(recovered.recent, entries(&txns[33..]));
    // One file for the whole run (no restart, no snapshot in between).
    assert_eq!(names(dir.path()), ["log.1", "snapshot.0"]);
}

/// The rule of the chapter: an append is durable only after sync, so a crash loses exactly
/// the unsynced group (SyncRequestProcessor: flush, then pass on).
#[test]
fn a_crash_loses_the_unsynced_group_and_recovery_cuts_its_torn_tail() {
    let txns = creates(6);
    for torn in [0, 5, 13, 40] {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = open(dir.path());
        storage.recover(0).unwrap();
        append_all(&mut storage, &txns[..4]);
        storage.append(&TxnEntry::new(txns[4].clone())).unwrap();
        storage.append(&TxnEntry::new(txns[5].clone())).unwrap();
        let crashed = storage.crash(torn).unwrap();
        assert_eq!(
            crashed,
            Event::Crashed {
                lost: 2,
                torn_bytes: torn as u64
            }
        );

        let mut storage = open(dir.path());
        let recovered = storage.recover(0).unwrap();
        assert_eq!(
            recovered.db,
            reference(&txns[..4]),
            "torn after {torn} bytes"
        );
        let events = storage.take_events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::TailCut { file, .. } if file == "log.1")),
            "{events:?}"
        );
        // After a restart the next txn starts a new file, which follows the old one.
        append_all(&mut storage, &txns[4..]);
        assert_eq!(names(dir.path()), ["log.1", "log.5", "snapshot.0"]);
        let again = open(dir.path()).recover(0).unwrap();
        assert_eq!(again.db, reference(&txns));
    }
}

/// A crash between creating the next log file and extending it leaves a file that is a header
/// alone: it holds no txn, so recovery removes it as it removes a file of header and zeros,
/// and the next txn, which is named the same, can start its file (upstream would overwrite it).
#[test]
fn a_log_file_that_is_only_a_header_is_removed_and_its_name_taken_again() {
    let txns = creates(6);
    for tail in [&b""[..], &[0u8; 100][..]] {
        let dir = tempfile::tempdir().unwrap();
        let mut storage = open(dir.path());
        storage.recover(0).unwrap();
        append_all(&mut storage, &txns[..4]);
        drop(storage);
        let header = fs::read(version_2(dir.path()).join("log.1")).unwrap()[..16].to_vec();
        fs::write(
            version_2(dir.path()).join("log.5"),
            [&header[..], tail].concat(),
        )
        .unwrap();

        let mut storage = open(dir.path());
        let recovered = storage.recover(0).unwrap();
        assert_eq!(recovered.db, reference(&txns[..4]));
        let events = storage.take_events();
        assert!(
            events.contains(&Event::EmptyLogRemoved {
                file: "log.5".into()
            }),
            "{} zeros after the header: {events:?}",
            tail.len()
        );
        append_all(&mut storage, &txns[4..]);
        assert_eq!(names(dir.path()), ["log.1", "log.5", "snapshot.0"]);
        assert_eq!(open(dir.path()).recover(0).unwrap().db, reference(&txns));
    }
}

/// FileTxnLog.rollLog at each snapshot; recovery replays only what follows the snapshot.
#[test]
fn a_snapshot_rolls_the_log_and_recovery_starts_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let txns = creates(30);
    let mut storage = open(dir.path());
    storage.recover(0).unwrap();
    append_all(&mut storage, &txns[..10]);
    storage
        .take_snapshot(&reference(&txns[..10]), true)
        .unwrap();
    append_all(&mut storage, &txns[10..]);
    assert_eq!(
        names(dir.path()),
        ["log.1", "log.b", "snapshot.0", "snapshot.a"]
    );
    let mut storage = open(dir.path());
    let recovered = storage.recover(3).unwrap();
    assert_eq!(recovered.db, reference(&txns));
    let events = storage.take_events();
    assert!(events.contains(&Event::Replayed {
        file: "log.b".into(),
        txns: 20,
        first: Zxid(11),
        last: Zxid(30),
    }));
}

/// FileSnap.deserialize tries the newest snapshots first and skips one that fails its
/// checksum; the log before it is still there to replay.
#[test]
fn a_damaged_newest_snapshot_falls_back_to_an_older_one() {
    let dir = tempfile::tempdir().unwrap();
    let txns = creates(20);
    let mut storage = open(dir.path());
    storage.recover(0).unwrap();
    append_all(&mut storage, &txns[..10]);
    storage
        .take_snapshot(&reference(&txns[..10]), true)
        .unwrap();
    append_all(&mut storage, &txns[10..]);
    let newest = version_2(dir.path()).join("snapshot.a");
    let mut bytes = fs::read(&newest).unwrap();
    bytes[100] ^= 0xff;
    fs::write(&newest, &bytes).unwrap();
    let mut storage = open(dir.path());
    let recovered = storage.recover(0).unwrap();
    assert_eq!(recovered.db, reference(&txns));
    let events = storage.take_events();
    assert!(
        matches!(&events[..], [Event::SnapshotSkipped { file, .. }, Event::SnapshotLoaded { zxid: Zxid(0), .. }, ..] if file == "snapshot.a"),
        "{events:?}"
    );
}

#[test]
fn a_checksum_failure_in_the_middle_stops_recovery_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut storage = open(dir.path());
    storage.recover(0).unwrap();
    append_all(&mut storage, &creates(5));
    drop(storage);
    let log = version_2(dir.path()).join("log.1");
    let mut bytes = fs::read(&log).unwrap();
    // The second record starts after the header and the first record.
    let first_len = 12 + i32::from_be_bytes(bytes[24..28].try_into().unwrap()) as usize + 1;
    let second = 16 + first_len;
    bytes[second + 30] ^= 0x04;
    fs::write(&log, &bytes).unwrap();
    let before = contents(dir.path());
    let err = open(dir.path()).recover(0).unwrap_err();
    let text = persist_error(err);
    assert!(
        text.contains("log.1") && text.contains(&format!("offset {second}")),
        "{text}"
    );
    assert!(text.contains("checksum"), "{text}");
    assert_eq!(contents(dir.path()), before, "nothing was changed");
}

#[test]
fn a_missing_log_file_is_a_gap_not_a_shorter_history() {
    let dir = tempfile::tempdir().unwrap();
    let txns = creates(9);
    for group in txns.chunks(3) {
        let mut storage = open(dir.path());
        storage.recover(0).unwrap();
        append_all(&mut storage, group);
    }
    assert_eq!(names(dir.path()), ["log.1", "log.4", "log.7", "snapshot.0"]);
    fs::remove_file(version_2(dir.path()).join("log.4")).unwrap();
    let text = persist_error(open(dir.path()).recover(0).unwrap_err());
    assert!(
        text.contains("log.7 at offset 16") && text.contains("0x7 follows 0x3"),
        "{text}"
    );
}

#[test]
fn a_foreign_file_named_like_a_log_stops_recovery_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path()).recover(0).unwrap();
    let foreign = version_2(dir.path()).join("log.1");
    fs::write(&foreign, "not a log, somebody's notes\n".repeat(10)).unwrap();
    let text = persist_error(open(dir.path()).recover(0).unwrap_err());
    assert!(
        text.contains("log.1") && text.contains("not a txn log"),
        "{text}"
    );
    assert_eq!(
        fs::read(&foreign).unwrap(),
        "not a log, somebody's notes\n".repeat(10).as_bytes()
    );
}

#[test]
fn logs_without_any_snapshot_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut storage = open(dir.path());
    storage.recover(0).unwrap();
    append_all(&mut storage, &creates(3));
    fs::remove_file(version_2(dir.path()).join("snapshot.0")).unwrap();
    let text = persist_error(open(dir.path()).recover(0).unwrap_err());
    assert!(text.contains("no snapshot"), "{text}");
    assert_eq!(names(dir.path()), ["log.1"]);
}

#[test]
fn a_data_dir_that_is_a_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data");
    fs::write(&file, b"x").unwrap();
    let err = FileStorage::open(config(&file)).unwrap_err();
    assert!(err.to_string().contains("data/version-2"), "{err}");
    assert_eq!(fs::read(&file).unwrap(), b"x");
}

/// ZKDatabase.truncateLog: the log is cut back to the zxid and the database reloaded.
#[test]
fn truncate_cuts_the_log_after_the_zxid_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let txns = creates(12);
    let mut storage = open(dir.path());
    storage.recover(0).unwrap();
    append_all(&mut storage, &txns[..4]);
    storage
        .take_snapshot(&reference(&txns[..4]), false)
        .unwrap();
    append_all(&mut storage, &txns[4..]);
    let cut = storage.truncate(Zxid(6), 2).unwrap().unwrap();
    assert_eq!(cut.db, reference(&txns[..6]));
    assert_eq!(cut.recent, entries(&txns[4..6]));
    // log.5 now ends at 6; the next txn 7 starts log.7.
    assert_eq!(
        names(dir.path()),
        ["log.1", "log.5", "snapshot.0", "snapshot.4"]
    );
    let other = creates(7).pop().unwrap();
    append_all(&mut storage, &[other]);
    assert_eq!(
        open(dir.path()).recover(0).unwrap().db,
        reference(&creates(7))
    );
}

/// Twelve creates logged, with a snapshot (of our own) at the eighth.
fn twelve_txns_snapshot_at_eight(dir: &Path) -> (FileStorage, Vec<Txn>) {
    let txns = creates(12);
    let mut storage = open(dir);
    storage.recover(0).unwrap();
    append_all(&mut storage, &txns[..8]);
    storage
        .take_snapshot(&reference(&txns[..8]), false)
        .unwrap();
    append_all(&mut storage, &txns[8..]);
    (storage, txns)
}

/// A snapshot newer than the zxid holds txns no log can take back (a SNAP may have brought
/// them, and the log before it may be of another database): the truncation is refused and
/// nothing changes. Upstream cuts the log and reloads that snapshot, txns past the zxid and
/// all.
#[test]
fn truncate_below_a_snapshot_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, txns) = twelve_txns_snapshot_at_eight(dir.path());
    let before = names(dir.path());
    assert!(storage.truncate(Zxid(6), 2).unwrap().is_none());
    assert_eq!(names(dir.path()), before);
    assert_eq!(open(dir.path()).recover(0).unwrap().db, reference(&txns));
}

/// The snapshot a sync gives a learner replaces what the disk held after it: the log after
/// its zxid and newer snapshots go, so recovery finds the synced database and nothing of
/// the one it replaced.
#[test]
fn a_sync_snapshot_drops_the_newer_log_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let (mut storage, txns) = twelve_txns_snapshot_at_eight(dir.path());
    storage.sync_snapshot(&reference(&txns[..6])).unwrap();
    assert_eq!(
        names(dir.path()),
        ["log.1", "snapshot.0", "snapshot.6"],
        "log.9 and snapshot.8 are gone, log.1 ends at 6"
    );
    assert_eq!(
        open(dir.path()).recover(0).unwrap().db,
        reference(&txns[..6])
    );
}

#[test]
fn epochs_are_saved_atomically_and_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let mut storage = open(dir.path());
    storage.recover(0).unwrap();
    let epochs = Epochs {
        accepted: Epoch(3),
        current: Epoch(2),
    };
    storage.save_epochs(epochs).unwrap();
    assert_eq!(
        fs::read_to_string(version_2(dir.path()).join("acceptedEpoch")).unwrap(),
        "3"
    );
    assert_eq!(open(dir.path()).recover(0).unwrap().epochs, epochs);
}

#[test]
fn logs_go_to_the_data_log_dir_when_one_is_set() {
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut config = config(data.path());
    config.data_log_dir = Some(logs.path().to_path_buf());
    config.force_sync = false;
    let mut storage = FileStorage::open(config.clone()).unwrap();
    storage.recover(0).unwrap();
    append_all(&mut storage, &creates(3));
    assert_eq!(names(data.path()), ["snapshot.0"]);
    assert_eq!(names(logs.path()), ["log.1"]);
    let recovered = FileStorage::open(config).unwrap().recover(0).unwrap();
    assert_eq!(recovered.db, reference(&creates(3)));
}

/// Creates under a parent the walk has passed and one it has not reached, setData, deletes
/// before and after a node's turn: every kind of change a walk can meet, prepared in order.
fn mixed_txns(rounds: usize) -> Vec<Txn> {
    let mut server = Standalone::default();
    let create = |path: String| Request::Create {
        path,
        data: Some(b"x".to_vec()),
        acl: Acl::open_unsafe(),
        mode: CreateMode::Persistent,
    };
    let mut requests = vec![create("/a".into()), create("/z".into())];
    for k in 0..30 {
        requests.push(create(format!("/z/k{k:02}")));
    }
    for i in 0..rounds {
        requests.push(create(format!("/a/n{i}")));
        requests.push(create(format!("/z/n{i}")));
        requests.push(Request::SetData {
            path: format!("/a/n{}", i / 2),
            data: Some(format!("v{i}").into_bytes()),
            version: -1,
        });
        requests.push(Request::Delete {
            path: format!("/z/k{:02}", (i * 7) % 30),
            version: -1,
        });
    }
    requests
        .iter()
        .enumerate()
        .map(|(i, request)| {
            server
                .submit(SessionId(9), i as i32, 1000 + i as i64, request)
                .0
        })
        .collect()
}

/// What the quorum peer's driver does with a [`Storage`]: append and sync a group, apply it,
/// then walk the next slice of the snapshot under way over the live database.
fn commit_group<S: Storage>(storage: &mut S, live: &mut Database, group: &[Txn]) {
    for txn in group {
        storage.append(&TxnEntry::new(txn.clone())).unwrap();
    }
    storage.sync().unwrap();
    for txn in group {
        live.apply(txn);
    }
}

/// A fresh dataDir with the first 40 of `txns` committed and a fuzzy snapshot begun after
/// them; the txns left.
fn snapshot_begun<'t>(dir: &Path, txns: &'t [Txn]) -> (FileStorage, Database, &'t [Txn]) {
    let mut storage = open(dir);
    let mut live = Storage::recover(&mut storage, 0).unwrap().db;
    let (seed, rest) = txns.split_at(40);
    commit_group(&mut storage, &mut live, seed);
    assert!(Storage::begin_snapshot(&mut storage, &live).unwrap());
    (storage, live, rest)
}

/// A quorum peer's snapshot is fuzzy, as upstream's (`SyncRequestProcessor` snapshots on
/// its own thread while txns go on): walked a few nodes per group commit with groups applied
/// between every two slices, named after the zxid where the walk began, and the log
/// replayed over it on restart gives the live tree back, Stat for Stat (ch07 `fuzzy`).
#[test]
fn a_fuzzy_snapshot_walked_between_group_commits_replays_to_the_live_tree() {
    let dir = tempfile::tempdir().unwrap();
    let txns = mixed_txns(60);
    let (mut storage, mut live, rest) = snapshot_begun(dir.path(), &txns);
    let began_at = live.last_processed_zxid();
    // A second snapshot falling due while one is walked is skipped.
    assert!(!Storage::begin_snapshot(&mut storage, &live).unwrap());
    let mut groups = rest.chunks(3);
    let mut slices = 0;
    while Storage::advance_snapshot(&mut storage, &live, 2).unwrap() {
        slices += 1;
        commit_group(&mut storage, &mut live, groups.next().unwrap_or(&[]));
    }
    for group in groups {
        commit_group(&mut storage, &mut live, group);
    }
    assert!(slices >= 10, "the walk took {slices} slices");
    let snapshot = format!("snapshot.{:x}", began_at.0);
    assert!(
        names(dir.path()).contains(&snapshot),
        "{:?}",
        names(dir.path())
    );
    drop(storage);

    let mut storage = open(dir.path());
    let recovered = Storage::recover(&mut storage, 0).unwrap().db;
    assert!(storage.take_events().iter().any(|e| matches!(
        e,
        Event::SnapshotLoaded { file, .. } if *file == snapshot
    )));
    assert_eq!(recovered.tree.paths(), live.tree.paths());
    for path in live.tree.paths() {
        assert_eq!(recovered.tree.node(&path), live.tree.node(&path), "{path}");
    }
    assert_eq!(recovered, live);
    assert_eq!(recovered, reference(&txns));
}

/// A SNAP or TRUNC replaces the database a walk was of: the walk is dropped unwritten, so no
/// file mixes the old tree with the new (`Output::AbandonSnapshot`).
#[test]
fn an_abandoned_snapshot_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let txns = mixed_txns(5);
    let mut storage = open(dir.path());
    let mut live = Storage::recover(&mut storage, 0).unwrap().db;
    commit_group(&mut storage, &mut live, &txns);
    assert!(Storage::begin_snapshot(&mut storage, &live).unwrap());
    assert!(Storage::advance_snapshot(&mut storage, &live, 1).unwrap());
    storage.abandon_snapshot().unwrap();
    assert!(!Storage::advance_snapshot(&mut storage, &live, usize::MAX).unwrap());
    let snapshots: Vec<String> = names(dir.path())
        .into_iter()
        .filter(|n| n.starts_with("snapshot."))
        .collect();
    assert_eq!(snapshots, ["snapshot.0"]);
    // And the next one starts afresh.
    assert!(Storage::begin_snapshot(&mut storage, &live).unwrap());
}

/// A snapshot reaches its file a slice at a time, so a crash part-way through leaves a file
/// without its seal: recovery passes over it to the snapshot before, and replays the log
/// from there (`FileSnap.deserialize` tries the newest snapshots that verify; ch07
/// `snapshot_file`).
#[test]
fn a_crash_in_the_middle_of_a_snapshot_falls_back_to_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    let txns = mixed_txns(60);
    let (mut storage, mut live, rest) = snapshot_begun(dir.path(), &txns);
    let began_at = live.last_processed_zxid();
    for _ in 0..3 {
        assert!(Storage::advance_snapshot(&mut storage, &live, 2).unwrap());
    }
    commit_group(&mut storage, &mut live, rest);
    let partial = format!("snapshot.{:x}", began_at.0);
    let written = fs::metadata(version_2(dir.path()).join(&partial))
        .unwrap()
        .len();
    assert!(written > 16, "{written} bytes of {partial} on disk");
    storage.crash(0).unwrap();

    let mut storage = open(dir.path());
    let recovered = Storage::recover(&mut storage, 0).unwrap().db;
    let events = storage.take_events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::SnapshotSkipped { file, .. } if *file == partial
        )),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SnapshotLoaded { file, .. } if file == "snapshot.0"
    )));
    assert_eq!(recovered, live);
    assert_eq!(recovered, reference(&txns));
}
