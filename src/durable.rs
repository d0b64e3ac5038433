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
use ch07_persistence::{names, FileStorage, FileStorageConfig, PersistError};

/// A [`FileStorage`] as a standalone server's [`TxnLog`]. The server has no use for the
/// storage's event record, so it is dropped as it grows.
#[derive(Debug)]
struct DataDir(FileStorage);

impl TxnLog for DataDir {
    fn append(&mut self, txn: &Txn, digest: Option<u64>) -> std::io::Result<u64> {
        Ok(self.0.append_digested(txn, digest)?)
    }

    fn sync(&mut self) -> std::io::Result<()> {
        let synced = Storage::sync(&mut self.0);
        self.0.take_events();
        synced
    }

    fn snapshot(&mut self, db: &Database) -> std::io::Result<()> {
        // Not fsynced: the log holds every txn it covers (`takeSnapshot(false)`).
        let written = self.0.take_snapshot(db, false);
        self.0.take_events();
        Ok(written?)
    }

    fn begin_snapshot(&mut self, db: &Database) -> std::io::Result<bool> {
        let begun = self.0.begin_snapshot(db);
        self.0.take_events();
        Ok(begun?)
    }

    fn advance_snapshot(&mut self, db: &Database, max_nodes: usize) -> std::io::Result<bool> {
        let going = self.0.advance_snapshot(db, max_nodes);
        self.0.take_events();
        Ok(going?)
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

/// Opens the zoo.cfg's dataDir (and dataLogDir) and recovers the database from it.
pub fn recover(cfg: &ZooCfg) -> Result<Durable, PersistError> {
    let mut storage = FileStorage::open(storage_config(cfg))?;
    let recovered = storage.load(None, 0)?;
    // A clean snapshot of what was recovered, written before serving as upstream's start-up
    // does (ZooKeeperServer.loadData), unless the newest snapshot already is that state: the
    // next restart then replays nothing older than this one, and the start-up purge, which
    // keeps the newest snapshots, counts it among them.
    let last = recovered.db.last_processed_zxid();
    let snapshots = names::list(storage.snap_dir(), names::SNAPSHOT_PREFIX)?;
    if snapshots.last().is_none_or(|(newest, _)| *newest < last) {
        // Not fsynced, as upstream's (`ZooKeeperServer.takeSnapshot()`): the log it sums up
        // is on disk already.
        storage.take_snapshot(&recovered.db, false)?;
    }
    storage.take_events();
    Ok(Durable {
        db: recovered.db,
        log: Box::new(DataDir(storage)),
        snap_count: cfg.snap_count,
        snap_size_limit: cfg.snap_size_limit,
    })
}
