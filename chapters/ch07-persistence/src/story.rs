//! The story `cargo run -p ch07-persistence -- --trace` tells, on a real disk.
//!
//! The idea to take away: **what a crash takes is exactly what was never synced.** A server
//! starts on an empty dataDir, logs a group of txns with one fsync and acknowledges them,
//! takes a snapshot (which rolls the log), logs and acknowledges a second group, then crashes
//! while a third group is only partly written. Recovery loads the snapshot, replays the log
//! after it, cuts off the torn tail, and ends exactly at the last acknowledged txn.
//!
//! The seed decides the sizes: how many nodes the first group creates, how much data they
//! hold, and how many bytes of the unsynced group reach the disk before the crash. Times are
//! fixed, so the same seed prints the same story on any machine.

use std::path::Path;

use ch01_znode::{prep, Acl, CreateMode, Request, SessionId, Txn, TxnHeader, TxnOp, Zxid};
use ch03_sessions::pipeline::Database;
use ch04_paxos::sim::rng::Rng;
use ch06_zab::storage::Storage;

use crate::error::PersistError;
use crate::file_storage::{FileStorage, FileStorageConfig};
use crate::trace::Event;
use crate::txn_log::encode_record;
use ch06_zab::txn_codec::TxnEntry;

/// The preallocation step of the story: small, so that a step shows in a short run.
pub const STORY_PRE_ALLOC_SIZE: u64 = 16 * 1024;

/// The session every txn of the story comes from.
const SESSION: SessionId = SessionId(0x1_0000_0000_0001);

/// The clock of the story: a fixed start, one millisecond per txn.
const START_MS: i64 = 1_700_000_000_000;

/// A run of the story: every event, and what was acknowledged and recovered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Told {
    pub events: Vec<Event>,
    /// The last zxid a client was told is durable.
    pub acknowledged: Zxid,
    /// The zxid recovery ended at.
    pub recovered: Zxid,
    /// Every path of the recovered tree.
    pub paths: Vec<String>,
}

/// Makes the next txns of the story, against the database they are applied to.
struct Client {
    db: Database,
    last: Zxid,
    cxid: i32,
}

impl Client {
    /// The next txn's header, for a request with client xid `cxid`.
    fn header(&mut self, cxid: i32) -> TxnHeader {
        self.last = self.last.next();
        TxnHeader {
            session: SESSION,
            cxid,
            zxid: self.last,
            time_ms: START_MS + self.last.0,
        }
    }

    /// The session's first txn. Its cxid is 0, as upstream's `createSession` request has it
    /// (the client numbers its own requests from 1).
    fn session(&mut self) -> Txn {
        let txn = self
            .header(0)
            .txn(TxnOp::CreateSession { timeout_ms: 30_000 });
        self.db.apply(&txn);
        txn
    }

    fn request(&mut self, request: Request) -> Txn {
        self.cxid += 1;
        let header = self.header(self.cxid);
        let txn = prep(&self.db.tree, header, &request);
        self.db.apply(&txn);
        txn
    }

    fn create(&mut self, path: &str, data: &[u8], mode: CreateMode) -> Txn {
        self.request(Request::Create {
            path: path.into(),
            data: Some(data.to_vec()),
            acl: Acl::open_unsafe(),
            mode,
        })
    }
}

/// Appends `txns` and syncs them as one group; returns the last zxid, now acknowledged.
fn group(
    storage: &mut FileStorage,
    txns: &[Txn],
    events: &mut Vec<Event>,
) -> Result<Zxid, PersistError> {
    for txn in txns {
        storage
            .append(&TxnEntry::new(txn.clone()))
            .map_err(to_persist)?;
    }
    storage.sync().map_err(to_persist)?;
    events.extend(storage.take_events());
    let upto = txns.last().expect("a group has txns").zxid;
    events.push(Event::Acknowledged { upto });
    Ok(upto)
}

fn to_persist(e: std::io::Error) -> PersistError {
    match e.downcast::<PersistError>() {
        Ok(e) => e,
        Err(e) => PersistError::Io {
            path: Default::default(),
            doing: "storing",
            source: e,
        },
    }
}

// ANCHOR: tell
/// Tells the story in `data_dir` (which should be empty) for `seed`.
pub fn tell(data_dir: &Path, seed: u64) -> Result<Told, PersistError> {
    let mut rng = Rng::new(seed);
    let mut config = FileStorageConfig::new(data_dir);
    config.pre_alloc_size = STORY_PRE_ALLOC_SIZE;
    let mut storage = FileStorage::open(config.clone())?;
    let mut events = Vec::new();
    let start = storage.recover(0).map_err(to_persist)?;
    events.extend(storage.take_events());
    let mut client = Client {
        db: start.db,
        last: Zxid::ZERO,
        cxid: 0,
    };

    // A group: a session, an app node and some config, one fsync for all of them.
    let mut first = vec![client.session()];
    first.push(client.create("/app", b"", CreateMode::Persistent));
    for k in 0..rng.between(1, 3) {
        let data = vec![b'x'; rng.between(1, 40) as usize];
        first.push(client.create(&format!("/app/config-{k}"), &data, CreateMode::Persistent));
    }
    group(&mut storage, &first, &mut events)?;

    // A snapshot rolls the log: the next txn starts a new file.
    storage.take_snapshot(&client.db, true)?;
    events.extend(storage.take_events());

    let second = [
        client.create("/app/workers", b"", CreateMode::Persistent),
        client.create("/app/workers/w-", b"alive", CreateMode::EphemeralSequential),
    ];
    let acknowledged = group(&mut storage, &second, &mut events)?;

    // The third group is appended, and the process dies while writing it.
    let third = [
        client.request(Request::SetData {
            path: "/app".into(),
            data: Some(b"v2".to_vec()),
            version: -1,
        }),
        client.create("/app/jobs", b"", CreateMode::Persistent),
    ];
    for txn in &third {
        storage
            .append(&TxnEntry::new(txn.clone()))
            .map_err(to_persist)?;
    }
    events.extend(storage.take_events());
    // The tear falls inside the group's first record, so no unsynced txn survives whole.
    // (Had one reached the disk whole, recovery would keep it: losing only what was never
    // acknowledged is the promise, keeping some of it is allowed.)
    let first_record = encode_record(&TxnEntry::new(third[0].clone())).len();
    let torn = rng.between(0, first_record as u64 - 1) as usize;
    events.push(storage.crash(torn)?);

    // Restart: a new process opens the same dataDir.
    let mut storage = FileStorage::open(config)?;
    let recovered = storage.recover(0).map_err(to_persist)?;
    events.extend(storage.take_events());
    Ok(Told {
        events,
        acknowledged,
        recovered: recovered.db.last_processed_zxid(),
        paths: recovered.db.tree.paths(),
    })
}
// ANCHOR_END: tell

#[cfg(test)]
mod tests {
    use super::*;

    /// The chapter's promise on every seed: recovery ends exactly at the last acknowledged
    /// txn, whatever part of the unsynced group reached the disk.
    #[test]
    fn recovery_ends_at_the_last_acknowledged_txn_for_every_seed() {
        for seed in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let told = tell(dir.path(), seed).unwrap();
            assert_eq!(told.recovered, told.acknowledged, "seed {seed}");
            assert!(told
                .paths
                .contains(&"/app/workers/w-0000000000".to_string()));
            assert!(
                !told.paths.contains(&"/app/jobs".to_string()),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn the_same_seed_tells_the_same_story() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        assert_eq!(tell(a.path(), 7).unwrap(), tell(b.path(), 7).unwrap());
    }
}
