//! A dataDir after anything, read back: a snapshot file and the log after it, with any bytes
//! in them, recover to a database or fail with the file named, never a panic. Recovering the
//! same files twice gives the same database.
//!
//! The input is one byte for the snapshot's zxid, two (big-endian) for the snapshot file's
//! length, the snapshot file, then the log file, written as `snapshot.Z` and `log.Z+1`;
//! `cargo run --example seeds` takes real pairs from chapter 7's story.
#![no_main]

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use ch01_znode::{SessionId, Zxid};
use ch07_persistence::{FileStorage, FileStorageConfig};
use libfuzzer_sys::fuzz_target;

type Recovered = (u64, BTreeMap<SessionId, i32>, Zxid);

/// A fresh directory per input, in memory where the machine has a tmpfs.
fn scratch() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = ["/dev/shm"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    base.join(format!("keeper-fuzz-{}-{n}", std::process::id()))
}

/// What the directory recovers to (the tree's digest, the sessions, the last zxid), or `None`
/// when recovery refuses it.
fn recover(dir: &PathBuf) -> Option<Recovered> {
    let config = FileStorageConfig {
        pre_alloc_size: 4096,
        force_sync: false,
        ..FileStorageConfig::new(dir)
    };
    let mut storage = FileStorage::open(config).expect("a scratch directory opens");
    let recovered = storage.load(None, 0).ok()?;
    let db = recovered.db;
    Some((
        db.tree.digest(),
        db.sessions.clone(),
        db.last_processed_zxid(),
    ))
}

fn write_and_recover(dir: &PathBuf, zxid: u8, snapshot: &[u8], log: &[u8]) -> Option<Recovered> {
    let files = dir.join("version-2");
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(&files).expect("a scratch directory");
    if !snapshot.is_empty() {
        fs::write(files.join(format!("snapshot.{zxid:x}")), snapshot).expect("written");
    }
    fs::write(files.join(format!("log.{:x}", u16::from(zxid) + 1)), log).expect("written");
    recover(dir)
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&zxid, rest)) = bytes.split_first() else {
        return;
    };
    let Some((len, rest)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let (snapshot, log) = rest.split_at(usize::from(u16::from_be_bytes(*len)).min(rest.len()));
    let dir = scratch();
    let once = write_and_recover(&dir, zxid, snapshot, log);
    let twice = write_and_recover(&dir, zxid, snapshot, log);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(once, twice, "the same files recover to the same database");
});
