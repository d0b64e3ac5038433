//! Recovery of a big tree: both servers start on copies of one dataDir.
//!
//! Keeper's files are ZooKeeper 3.8's files, so the fair race is to write one dataDir (a
//! snapshot of `znodes` nodes, then `txns` setData txns in the log after it), copy it twice,
//! and start each server on its copy. The figure is the wall-clock time from starting the
//! process to the first getData it answers: reading the snapshot, replaying the log, for
//! ZooKeeper the clean snapshot it takes before serving (upstream `ZooKeeperServer.loadData`;
//! Keeper takes it while it serves, and the bench waits for its seal only to size it), and the
//! process's own start (a JVM's is a second or more), which an empty dataDir measures alone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ch01_znode::{prep, Acl, CreateMode, Request, SessionId, Txn, TxnHeader, Zxid};
use ch03_sessions::client::connection::{Client, ClientConfig};
use ch03_sessions::pipeline::Database;
use ch06_zab::storage::Storage;
use ch06_zab::txn_codec::TxnEntry;
use ch07_persistence::txn_log::read_log;
use ch07_persistence::{names, FileStorage, FileStorageConfig};

use crate::common::{free_port, tools, wait_until, zoo_cfg, Guarded, TempDir};

/// The longest a server may take to serve the big tree.
const START_BOUND: Duration = Duration::from_secs(600);
/// Bytes of data per znode, as chapter 1's tree bench.
pub const DATA: &[u8] = b"0123456789";

/// The dataDir both servers start from, and what is in it.
pub struct Written {
    pub dir: TempDir,
    pub znodes: usize,
    pub txns: usize,
    /// A node the last txn changed: reading it proves the log was replayed.
    pub probe: String,
    /// Bytes of the snapshot file and of the log's records (header and padding left out).
    pub snapshot_bytes: u64,
    pub log_bytes: u64,
    pub took: Duration,
}

/// Writes a snapshot of `znodes` nodes (√n parents of √n children) and a log of `txns`
/// setData after it, with chapter 7's [`FileStorage`] (unsynced: only its files matter here).
pub fn write_data_dir(znodes: usize, txns: usize) -> Result<Written, String> {
    let started = Instant::now();
    let dir = TempDir::new("recovery");
    let data_dir = dir.path().join("data");
    let fail = |e: &dyn std::fmt::Display| format!("writing {}: {e}", data_dir.display());
    let mut storage = FileStorage::open(FileStorageConfig {
        force_sync: false,
        ..FileStorageConfig::new(&data_dir)
    })
    .map_err(|e| fail(&e))?;
    let mut db = storage.recover(0).map_err(|e| fail(&e))?.db;
    let session = SessionId(0x0100_0000_0000_0001);
    let mut last = Zxid::ZERO;
    let mut submit = |db: &mut Database, request: Request| -> Txn {
        last = last.next();
        let header = TxnHeader {
            session,
            cxid: 0,
            zxid: last,
            time_ms: 1_700_000_000_000 + last.0,
        };
        let txn = prep(&db.tree, header, &request);
        db.apply(&txn);
        txn
    };
    submit(&mut db, Request::CreateSession { timeout_ms: 30_000 });
    let fanout = (znodes as f64).sqrt().ceil().max(1.0) as usize;
    let mut paths = Vec::with_capacity(znodes);
    'parents: for p in 0..fanout {
        let parent = format!("/p{p:04}");
        submit(&mut db, create(&parent));
        paths.push(parent.clone());
        for c in 0..fanout {
            if paths.len() >= znodes {
                break 'parents;
            }
            let child = format!("{parent}/c{c:04}");
            submit(&mut db, create(&child));
            paths.push(child);
        }
    }
    storage.take_snapshot(&db, true).map_err(|e| fail(&e))?;
    let mut probe = String::new();
    for i in 0..txns {
        probe = paths[(i * 7919) % paths.len()].clone();
        let set = Request::SetData {
            path: probe.clone(),
            data: Some(format!("set {i}").into_bytes()),
            version: -1,
        };
        let txn = submit(&mut db, set);
        Storage::append(&mut storage, &TxnEntry::new(txn)).map_err(|e| fail(&e))?;
        if i % 1000 == 999 {
            Storage::sync(&mut storage).map_err(|e| fail(&e))?;
        }
    }
    Storage::sync(&mut storage).map_err(|e| fail(&e))?;
    let snap_dir = storage.snap_dir().to_path_buf();
    let log_dir = storage.log_dir().to_path_buf();
    drop(storage);
    let snapshot_bytes = newest(&snap_dir, names::SNAPSHOT_PREFIX)?
        .metadata()
        .map_err(|e| fail(&e))?
        .len();
    let log = read_log(&newest(&log_dir, names::LOG_PREFIX)?).map_err(|e| fail(&e))?;
    Ok(Written {
        dir,
        znodes: paths.len(),
        txns,
        probe,
        snapshot_bytes,
        // The file header is 16 bytes; what follows up to `valid_len` is records.
        log_bytes: log.valid_len.saturating_sub(16),
        took: started.elapsed(),
    })
}

fn create(path: &str) -> Request {
    Request::Create {
        path: path.into(),
        data: Some(DATA.to_vec()),
        acl: Acl::open_unsafe(),
        mode: CreateMode::Persistent,
    }
}

/// The newest file named `prefix.<zxid>` in `dir`.
fn newest(dir: &Path, prefix: &str) -> Result<PathBuf, String> {
    names::list(dir, prefix)
        .map_err(|e| e.to_string())?
        .pop()
        .map(|(_, path)| path)
        .ok_or_else(|| format!("no {prefix}.* in {}", dir.display()))
}

/// Which server starts on a copy.
#[derive(Clone, Copy)]
pub enum Starter {
    Keeper,
    ZooKeeper,
}

/// One start: how long until the first answered read, and the snapshot the server took of
/// the recovered tree before serving (bytes), if it took one.
pub struct Started {
    pub first_read: Duration,
    pub own_snapshot_bytes: Option<u64>,
}

/// Copies `source`'s dataDir (none: an empty one), starts `who` on the copy and times it to
/// its first answered getData of `probe` (`/` for an empty dataDir). Kills it after.
pub fn start_on_copy(
    runtime: &tokio::runtime::Runtime,
    who: Starter,
    source: Option<&Written>,
) -> Result<Started, String> {
    let dir = TempDir::new("recovery-copy");
    let data_dir = dir.path().join("data");
    let copied = match source {
        Some(w) => std::process::Command::new("cp")
            .arg("-a")
            .arg(w.dir.path().join("data"))
            .arg(&data_dir)
            .status()
            .map_err(|e| format!("cp: {e}"))?
            .success(),
        None => std::fs::create_dir_all(&data_dir).is_ok(),
    };
    if !copied {
        return Err(format!("cannot fill {}", data_dir.display()));
    }
    // Flush every dirty page first (the written dataDir, this copy): otherwise the start's
    // first fsync (the probe's createSession) queues behind hundreds of MB of writeback, and
    // an empty start, the baseline subtracted, can take seconds.
    let synced = std::process::Command::new("sync").status();
    if !synced.is_ok_and(|s| s.success()) {
        return Err("sync failed".into());
    }
    let before = snapshots(&data_dir);
    let port = free_port();
    let cfg = zoo_cfg(port, &data_dir.display().to_string(), &[]);
    std::fs::write(dir.path().join("zoo.cfg"), cfg).map_err(|e| format!("zoo.cfg: {e}"))?;
    let classpath = tools::zookeeper_classpath();
    let (name, program, args): (&str, &str, Vec<&str>) = match who {
        Starter::Keeper => (
            "Keeper",
            env!("CARGO_BIN_EXE_keeper"),
            vec!["server", "--config", "zoo.cfg"],
        ),
        // A heap for a million znodes: about 300 bytes each (chapter 1's bench), and the
        // snapshot being read.
        Starter::ZooKeeper => (
            "ZooKeeper",
            "java",
            vec![
                "-Xmx3g",
                "-cp",
                &classpath,
                "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                "zoo.cfg",
            ],
        ),
    };
    let probe = source.map_or("/", |w| w.probe.as_str());
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut process = Guarded::spawn(name, program, &args, dir.path(), None)
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    // The clock starts once the child exists: forking this process, which still holds the
    // memory of the dataDir it wrote, took seconds under load, and that is not the server's.
    let started = Instant::now();
    let served = wait_until(START_BOUND, "the first answered getData", || {
        if let Some(status) = process.exited() {
            return Some(Err(format!("{name} exited ({status})")));
        }
        read_once(runtime, addr, probe).then(|| Ok(started.elapsed()))
    });
    let first_read = match served {
        Ok(Ok(took)) => took,
        Ok(Err(why)) | Err(why) => {
            return Err(format!("{why}\n--- its output:\n{}", process.output()));
        }
    };
    // Keeper writes its start-up snapshot while it serves: its size is known once it is
    // sealed (ZooKeeper's was written before it served).
    let sealed = wait_until(START_BOUND, "the start-up snapshot's seal", || {
        let new: Vec<PathBuf> = snapshots(&data_dir)
            .into_iter()
            .filter(|s| !before.contains(s))
            .collect();
        let all_sealed = new.iter().all(|s| ends_with_seal(s));
        (source.is_none() || (!new.is_empty() && all_sealed)).then_some(new)
    });
    drop(process);
    let own_snapshot_bytes = sealed?
        .into_iter()
        .map(|s| s.metadata().map_or(0, |m| m.len()))
        .max();
    Ok(Started {
        first_read,
        own_snapshot_bytes,
    })
}

/// Whether the file ends as a sealed snapshot does (`ustring "/"`), read from its last bytes.
fn ends_with_seal(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut tail = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::End(-5))?;
            f.read_exact(&mut tail)
        })
        .is_ok()
        && tail == [0, 0, 0, 1, b'/']
}

fn snapshots(data_dir: &Path) -> Vec<PathBuf> {
    names::list(&data_dir.join("version-2"), names::SNAPSHOT_PREFIX)
        .map(|files| files.into_iter().map(|(_, p)| p).collect())
        .unwrap_or_default()
}

/// One try: connect, getData `path`, close. Each step is bounded, so a server still loading
/// (ZooKeeper's port is open before it serves) costs a try, not a hang.
fn read_once(runtime: &tokio::runtime::Runtime, addr: SocketAddr, path: &str) -> bool {
    runtime.block_on(async {
        let attempt = async {
            let (client, _events) = Client::connect(addr, ClientConfig::default()).await.ok()?;
            let read = client.get_data(path, false).await.ok();
            let _ = client.close().await;
            read
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(2), attempt).await,
            Ok(Some(_))
        )
    })
}
