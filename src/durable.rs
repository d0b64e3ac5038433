//! `keeper server`'s disk: chapter 7's [`FileStorage`] under chapter 3's standalone server.
//!
//! The idea to take away: chapter 3's server knows only that a [`TxnLog`] exists, and chapter
//! 7 knows only files; this module is the whole of their meeting. At start-up the dataDir is
//! recovered (newest good snapshot plus the log after it) and the server starts from that
//! database; from then on each group of txns is appended and fsynced before any of them is
//! committed or answered. Anything wrong with the dataDir stops start-up with the file named.

use ch01_znode::Txn;
use ch03_sessions::config::ZooCfg;
use ch03_sessions::pipeline::standalone::TxnLog;
use ch03_sessions::pipeline::Database;
use ch03_sessions::server::Durable;
use ch06_zab::storage::Storage;
use ch07_persistence::trace::Event;
use ch07_persistence::{FileStorage, FileStorageConfig, PersistError};
use std::sync::mpsc;

use crate::purge::Wake;

/// A [`FileStorage`] as a standalone server's [`TxnLog`]. The server has no use for the
/// storage's event record, so it is dropped as it grows.
#[derive(Debug)]
struct DataDir {
    files: FileStorage,
    /// Told once the start-up snapshot is sealed (the purge thread's first purge waits).
    on_sealed: Option<mpsc::Sender<Wake>>,
}

impl DataDir {
    fn sealed(&mut self) {
        if let Some(waker) = self.on_sealed.take() {
            let _ = waker.send(Wake::Sealed);
        }
    }
}

impl TxnLog for DataDir {
    fn append(&mut self, txn: &Txn, digest: Option<u64>) -> std::io::Result<u64> {
        Ok(self.files.append_digested(txn, digest)?)
    }

    fn sync(&mut self) -> std::io::Result<()> {
        let synced = Storage::sync(&mut self.files);
        self.files.take_events();
        synced
    }

    fn snapshot(&mut self, db: &Database) -> std::io::Result<()> {
        // Not fsynced: the log holds every txn it covers (`takeSnapshot(false)`).
        let written = self.files.take_snapshot(db, false);
        self.files.take_events();
        written?;
        self.sealed();
        Ok(())
    }

    fn begin_snapshot(&mut self, db: &Database) -> std::io::Result<bool> {
        let begun = self.files.begin_snapshot(db);
        self.files.take_events();
        Ok(begun?)
    }

    fn advance_snapshot(&mut self, db: &Database, max_nodes: usize) -> std::io::Result<bool> {
        let going = self.files.advance_snapshot(db, max_nodes);
        self.files.take_events();
        if !going? {
            self.sealed();
            return Ok(false);
        }
        Ok(true)
    }
}

/// Where zoo.cfg says the files go and how they are written.
pub fn storage_config(cfg: &ZooCfg) -> FileStorageConfig {
    FileStorageConfig {
        data_dir: cfg.data_dir.clone(),
        data_log_dir: cfg.data_log_dir.clone(),
        pre_alloc_size: cfg.pre_alloc_size,
        force_sync: cfg.force_sync,
        // Upstream's defaults: no TTL nodes, tree digests on.
        ..FileStorageConfig::new(&cfg.data_dir)
    }
}

/// Says on stderr what recovery passed over or cut off, as upstream's log does (`problem
/// reading snap file`, `Last transaction was partial`): the data recovered is right, but
/// someone should know a file was damaged.
pub fn report_recovery(events: &[Event]) {
    for event in events.iter().filter(|e| e.is_damage()) {
        eprintln!("keeper: warning: recovery: {event}");
    }
}

/// Opens the zoo.cfg's dataDir (and dataLogDir) and recovers the database from it;
/// `on_sealed` is told once the start-up snapshot is sealed.
pub fn recover(
    cfg: &ZooCfg,
    on_sealed: Option<mpsc::Sender<Wake>>,
) -> Result<Durable, PersistError> {
    let mut storage = FileStorage::open(storage_config(cfg))?;
    let recovered = storage.load(None, 0)?;
    // ANCHOR: start_up_snapshot
    // A clean snapshot of what was recovered, as upstream's start-up takes one
    // (ZooKeeperServer.loadData), unless the newest snapshot already is that state: the next
    // restart then replays nothing older than this one. Upstream writes it before it serves;
    // here only its file is created before serving, and the server walks it while it serves,
    // a slice per flush, like every other snapshot it takes (a fuzzy snapshot). A big tree
    // then keeps clients waiting once (to read it), not twice (to read it, then to write it).
    //
    // That is as crash-safe as writing it first. Nothing is removed to make room for it: the
    // snapshot and the logs this recovery read stay, and the log goes on from a new file. A
    // crash before the walk is over leaves a file without its seal, which recovery passes
    // over for the older snapshot and the logs after it (ch07's crash-mid-snapshot test), and
    // which the purge does not count among the snapshots it keeps. The purge's first run also
    // waits for the seal (`purge::Purger::waker`), so it counts this one in, as upstream's
    // counts the snapshot its start-up wrote.
    //
    // Whether it is needed is decided by the snapshot recovery loaded, not by the newest
    // name: a start-up snapshot a crash cut short is named after the zxid it recovered to,
    // and is written again.
    let events = storage.take_events();
    report_recovery(&events);
    let loaded = events.into_iter().find_map(|event| match event {
        Event::SnapshotLoaded { zxid, .. } => Some(zxid),
        _ => None,
    });
    let last = recovered.db.last_processed_zxid();
    let snapshot_begun =
        loaded.is_some_and(|loaded| loaded < last) && storage.begin_snapshot(&recovered.db)?;
    // ANCHOR_END: start_up_snapshot
    storage.take_events();
    let mut log = DataDir {
        files: storage,
        on_sealed,
    };
    if !snapshot_begun {
        log.sealed();
    }
    Ok(Durable {
        db: recovered.db,
        log: Box::new(log),
        snap_count: cfg.snap_count,
        snap_size_limit: cfg.snap_size_limit,
        snapshot_begun,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ch01_znode::{prep, Acl, CreateMode, Request, SessionId, TxnHeader, Zxid};
    use ch07_persistence::names::{self, SNAPSHOT_PREFIX};
    use ch07_persistence::snapshot_file::looks_complete;
    use std::path::Path;
    use tempfile::TempDir;

    /// A dataDir holding `snapshot.0` and a log of `creates` creates after it: what a
    /// restart recovers by replay, so it takes a start-up snapshot.
    fn logged_data_dir(label: &str, creates: usize) -> (TempDir, ZooCfg) {
        let dir = tempfile::Builder::new()
            .prefix(&format!("keeper-durable-{label}-"))
            .tempdir()
            .unwrap();
        let mut storage = FileStorage::open(FileStorageConfig {
            force_sync: false,
            ..FileStorageConfig::new(dir.path())
        })
        .unwrap();
        let mut db = Storage::recover(&mut storage, 0).unwrap().db;
        for i in 0..creates {
            let header = TxnHeader {
                session: SessionId(0),
                cxid: i as i32,
                zxid: db.last_processed_zxid().next(),
                time_ms: 1_700_000_000_000,
            };
            let create = Request::Create {
                path: format!("/n{i:03}"),
                data: Some(vec![b'x'; 10]),
                acl: Acl::open_unsafe(),
                mode: CreateMode::Persistent,
            };
            let txn = prep(&db.tree, header, &create);
            db.apply(&txn);
            storage.append_digested(&txn, None).unwrap();
        }
        Storage::sync(&mut storage).unwrap();
        let text = format!("dataDir={}\nclientPort=2181\n", dir.path().display());
        let (cfg, _warnings) = ZooCfg::parse(&text).unwrap();
        (dir, cfg)
    }

    fn snapshot_file(cfg: &ZooCfg, zxid: Zxid) -> Vec<u8> {
        let path = cfg
            .data_dir
            .join(names::VERSION_DIR)
            .join(names::file_name(SNAPSHOT_PREFIX, zxid));
        std::fs::read(path).unwrap()
    }

    fn snapshot_zxids(dir: &Path) -> Vec<Zxid> {
        let listed = names::list(&dir.join(names::VERSION_DIR), SNAPSHOT_PREFIX).unwrap();
        listed.into_iter().map(|(zxid, _)| zxid).collect()
    }

    /// A restart on a dataDir of 50 creates logged after `snapshot.0`, the purge thread's
    /// end of the channel beside it.
    fn restarted(label: &str) -> (TempDir, ZooCfg, Durable, mpsc::Receiver<Wake>) {
        let (dir, cfg) = logged_data_dir(label, 50);
        let (waker, woken) = mpsc::channel();
        let durable = recover(&cfg, Some(waker)).unwrap();
        assert_eq!(durable.db.last_processed_zxid(), Zxid(50));
        (dir, cfg, durable, woken)
    }

    /// Upstream writes the start-up snapshot before serving (`ZooKeeperServer.loadData`);
    /// here only its file is there before serving, and the server's walk seals it: then, and
    /// not before, the purge thread is told.
    #[test]
    fn the_start_up_snapshot_is_begun_before_serving_and_sealed_by_the_servers_walk() {
        let (dir, cfg, mut durable, woken) = restarted("sealed");
        let last = durable.db.last_processed_zxid();
        assert!(durable.snapshot_begun);
        assert_eq!(snapshot_zxids(dir.path()), [Zxid::ZERO, last]);
        assert!(!looks_complete(&snapshot_file(&cfg, last)));
        assert!(woken.try_recv().is_err(), "told before the seal");
        let mut slices = 0;
        while durable.log.advance_snapshot(&durable.db, 10).unwrap() {
            slices += 1;
            assert!(woken.try_recv().is_err(), "told before the seal");
        }
        assert!(slices >= 5, "{slices} slices");
        assert!(matches!(woken.try_recv(), Ok(Wake::Sealed)));
        assert!(looks_complete(&snapshot_file(&cfg, last)));

        // The next start loads it and replays nothing: no snapshot to take, and the purge
        // is told at once.
        drop(durable);
        let (waker, woken) = mpsc::channel();
        let again = recover(&cfg, Some(waker)).unwrap();
        assert!(!again.snapshot_begun);
        assert!(matches!(woken.try_recv(), Ok(Wake::Sealed)));
        assert_eq!(again.db, recover(&cfg, None).unwrap().db);
    }

    /// A crash while the start-up snapshot is walked (the server serving meanwhile) leaves
    /// a file without its seal: the next start recovers from the snapshot and logs it
    /// recovered from before, which are all still there, and writes the snapshot again.
    #[test]
    fn a_crash_before_the_start_up_snapshot_is_sealed_loses_nothing() {
        let (dir, cfg, mut durable, woken) = restarted("crash");
        let last = durable.db.last_processed_zxid();
        for _ in 0..3 {
            assert!(durable.log.advance_snapshot(&durable.db, 10).unwrap());
        }
        let recovered = durable.db.clone();
        drop(durable);
        assert!(woken.try_recv().is_err(), "never sealed");
        assert!(!looks_complete(&snapshot_file(&cfg, last)));

        let mut again = recover(&cfg, None).unwrap();
        assert_eq!(again.db, recovered);
        assert!(again.snapshot_begun, "the cut snapshot is written again");
        while again.log.advance_snapshot(&again.db, usize::MAX).unwrap() {}
        assert!(looks_complete(&snapshot_file(&cfg, last)));
        assert_eq!(snapshot_zxids(dir.path()), [Zxid::ZERO, last]);
    }
}
