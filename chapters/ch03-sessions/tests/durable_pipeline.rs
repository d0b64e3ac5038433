//! The standalone pipeline with a txn log: nothing is answered before its group is synced,
//! a group costs one sync, a failed sync answers nothing, and a restart from the logged
//! database continues its zxids and never reuses a recovered session id.

use crate::support;

use std::sync::{Arc, Mutex};

use ch01_znode::{Txn, Zxid};
use ch03_sessions::pipeline::standalone::{SnapSchedule, StandalonePipeline, TxnLog};
use ch03_sessions::pipeline::{Database, Limits};
use ch03_sessions::session::STANDALONE_SID;
use support::{connect, connected, create, reply, send, try_reply, T0, TICK};

/// What the log was asked to do, in order.
#[derive(Clone, Debug, PartialEq)]
enum Call {
    Append(Zxid),
    Sync,
    Snapshot(Zxid),
}

/// A log that records its calls (and can be told to fail its syncs).
#[derive(Debug, Default, Clone)]
struct Recorder {
    calls: Arc<Mutex<Vec<Call>>>,
    sync_fails: Arc<Mutex<bool>>,
}

impl TxnLog for Recorder {
    fn append(&mut self, txn: &Txn, _digest: Option<u64>) -> std::io::Result<u64> {
        self.calls.lock().unwrap().push(Call::Append(txn.zxid));
        Ok(0)
    }

    fn sync(&mut self) -> std::io::Result<()> {
        if *self.sync_fails.lock().unwrap() {
            return Err(std::io::Error::other("disk gone"));
        }
        self.calls.lock().unwrap().push(Call::Sync);
        Ok(())
    }

    fn snapshot(&mut self, db: &Database) -> std::io::Result<()> {
        let zxid = db.last_processed_zxid();
        self.calls.lock().unwrap().push(Call::Snapshot(zxid));
        Ok(())
    }
}

fn durable(db: Database, log: &Recorder, snap_count: u32) -> StandalonePipeline {
    StandalonePipeline::new(TICK, Limits::for_tick(TICK), STANDALONE_SID, T0).with_log(
        db,
        Box::new(log.clone()),
        SnapSchedule::new(snap_count, 1),
        T0,
    )
}

#[test]
fn a_write_is_answered_only_after_its_group_is_synced() {
    let log = Recorder::default();
    let mut s = durable(Database::default(), &log, 1000);
    assert!(
        connected(&connect(&mut s, 1, T0)).is_none(),
        "held: not on disk yet"
    );
    let out = s.flush(T0).unwrap();
    assert!(connected(&out).is_some());
    // Two writes from two sessions arrive together: one group, one sync, then both answers.
    connect(&mut s, 2, T0);
    s.flush(T0).unwrap();
    let a = send(&mut s, 1, 1, create("/a", 0), T0);
    let b = send(&mut s, 2, 1, create("/b", 0), T0);
    assert!(try_reply(&a, 1).is_none() && try_reply(&b, 2).is_none());
    let out = s.flush(T0).unwrap();
    assert_eq!(reply(&out, 1).0.zxid, Zxid(3));
    assert_eq!(reply(&out, 2).0.zxid, Zxid(4));
    assert_eq!(
        log.calls.lock().unwrap()[4..],
        [Call::Append(Zxid(3)), Call::Append(Zxid(4)), Call::Sync]
    );
}

#[test]
fn a_failed_sync_answers_nothing() {
    let log = Recorder::default();
    let mut s = durable(Database::default(), &log, 1000);
    connect(&mut s, 1, T0);
    s.flush(T0).unwrap();
    send(&mut s, 1, 1, create("/a", 0), T0);
    *log.sync_fails.lock().unwrap() = true;
    assert!(s.flush(T0).is_err());
    assert!(
        s.pipeline().tree().get_data("/a").is_err(),
        "not applied either"
    );
}

#[test]
fn snapshots_come_every_snap_count_txns_or_so() {
    let log = Recorder::default();
    let mut s = durable(Database::default(), &log, 10);
    connect(&mut s, 1, T0);
    s.flush(T0).unwrap();
    for i in 0..40 {
        send(&mut s, 1, i + 1, create(&format!("/n{i}"), 0), T0);
        s.flush(T0).unwrap();
    }
    let snapshots: Vec<_> = log
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter_map(|c| match c {
            Call::Snapshot(zxid) => Some(zxid.0),
            _ => None,
        })
        .collect();
    // 41 txns, a snapshot after more than 5 + roll (0..5) of them: between 4 and 7.
    assert!((4..=7).contains(&snapshots.len()), "{snapshots:?}");
    assert!(snapshots
        .windows(2)
        .all(|w| (6..=10).contains(&(w[1] - w[0]))));
}

#[test]
fn a_restart_continues_zxids_and_never_reuses_a_recovered_session_id() {
    let log = Recorder::default();
    let mut first = durable(Database::default(), &log, 1000);
    connect(&mut first, 1, T0);
    first.flush(T0).unwrap();
    send(&mut first, 1, 1, create("/a", 0), T0);
    first.flush(T0).unwrap();
    let db = first.pipeline().database().clone();
    let old = *db.sessions.keys().next().unwrap();
    // Restarted with the same clock (a clock set back): ids still move past the old one.
    let mut second = durable(db, &log, 1000);
    connect(&mut second, 1, T0);
    let out = second.flush(T0).unwrap();
    let new = connected(&out).unwrap();
    assert!(new > old, "{new:?} after {old:?}");
    let out = {
        send(&mut second, 1, 1, create("/b", 0), T0);
        second.flush(T0).unwrap()
    };
    assert_eq!(reply(&out, 1).0.zxid, Zxid(4));
}
