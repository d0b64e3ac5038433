//! The standalone server's sync stage: every proposal is committed on the spot, or, with a
//! txn log, as soon as it is on disk.
//!
//! The idea to take away: a standalone server is an ensemble of one. Its quorum is itself, so
//! a txn is committed as soon as it is prepared, and the pipeline's seam ([`Output::Propose`]
//! out, [`Input::Commit`] in) closes into a loop. Chapter 6 keeps the same pipeline and puts a
//! leader and its followers in this loop; chapter 7 puts the txn log in it: a [`TxnLog`] turns
//! the loop into **append, fsync, then commit** (`SyncRequestProcessor`), so no client hears
//! of a write its server could forget in a crash.
//!
//! With a log, [`StandalonePipeline::step`] only holds the proposals, and
//! [`StandalonePipeline::flush`] writes every held txn, makes them durable with **one** sync,
//! and only then commits them: the driver calls it after feeding whatever requests arrived
//! together, so a burst of writes costs one fsync (group commit). Every `snapCount`-ish txns
//! it also writes a snapshot, so a restart replays a bounded log.

use std::collections::VecDeque;
use std::io;

use super::{Database, Input, Limits, Output, Pipeline};
use ch01_znode::{Sid, Txn};

// ANCHOR: txn_log
/// The disk under a durable standalone server (chapter 7's `FileStorage` is one). The driver
/// calls `append` for each txn of a group, then `sync` once, and commits the group only after
/// `sync` returned.
pub trait TxnLog: Send + std::fmt::Debug {
    /// Adds a txn to the group being written (not durable yet), with the tree digest after
    /// it as prepare worked it out ([`super::Pipeline::txn_digest`]; `None` for an error
    /// txn), which upstream logs as the record's `TxnDigest`. Returns the bytes it adds to
    /// the log.
    fn append(&mut self, txn: &Txn, digest: Option<u64>) -> io::Result<u64>;
    /// Makes every appended txn durable.
    fn sync(&mut self) -> io::Result<()>;
    /// Writes the whole database down, so the log before it is no longer needed.
    fn snapshot(&mut self, db: &Database) -> io::Result<()>;
    /// Starts a fuzzy snapshot of `db` as of now, walked by later
    /// [`TxnLog::advance_snapshot`] calls while txns go on being applied; false if one is
    /// still being written. By default, the whole snapshot at once.
    fn begin_snapshot(&mut self, db: &Database) -> io::Result<bool> {
        self.snapshot(db).map(|()| true)
    }
    /// Writes up to `max_nodes` more nodes of the snapshot begun, from `db` as it is now;
    /// true while it is unfinished.
    fn advance_snapshot(&mut self, _db: &Database, _max_nodes: usize) -> io::Result<bool> {
        Ok(false)
    }
}
// ANCHOR_END: txn_log

// ANCHOR: snap_schedule
/// When to snapshot: after more than `snap_count / 2 + roll` txns, where `roll` is drawn
/// afresh in `0..snap_count / 2` after each snapshot, so the servers of an ensemble do not all
/// snapshot at once; or, likewise, after more than `size_limit / 2 + size_roll` bytes of log
/// (upstream `SyncRequestProcessor.shouldSnapshot`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SnapSchedule {
    snap_count: u64,
    roll: u64,
    logged: u64,
    /// `snapSizeLimitInKb` in bytes; 0: no size rule.
    size_limit: u64,
    size_roll: u64,
    logged_bytes: u64,
    random: u64,
}

impl SnapSchedule {
    /// `snapCount` (at least 2, as upstream) and a seed for the rolls.
    pub fn new(snap_count: u32, seed: u64) -> SnapSchedule {
        let mut schedule = SnapSchedule {
            snap_count: u64::from(snap_count.max(2)),
            roll: 0,
            logged: 0,
            size_limit: 0,
            size_roll: 0,
            logged_bytes: 0,
            random: seed | 1,
        };
        schedule.reroll();
        schedule
    }

    /// The same schedule, also snapshotting after about `size_limit` bytes of log (0: never).
    pub fn with_size_limit(mut self, size_limit: u64) -> SnapSchedule {
        self.size_limit = size_limit;
        self.reroll();
        self
    }

    /// Counts `txns` more logged txns; true when a snapshot is due (the count then restarts).
    pub fn logged(&mut self, txns: usize) -> bool {
        self.logged_sized(txns, 0)
    }

    /// Counts `txns` more logged txns, `bytes` of log; true when a snapshot is due (both
    /// counts then restart).
    pub fn logged_sized(&mut self, txns: usize, bytes: u64) -> bool {
        self.logged += txns as u64;
        self.logged_bytes += bytes;
        let by_count = self.logged > self.snap_count / 2 + self.roll;
        let by_size =
            self.size_limit > 0 && self.logged_bytes > self.size_limit / 2 + self.size_roll;
        if !by_count && !by_size {
            return false;
        }
        self.logged = 0;
        self.logged_bytes = 0;
        self.reroll();
        true
    }

    fn reroll(&mut self) {
        self.roll = self.next_random() % (self.snap_count / 2).max(1);
        if self.size_limit > 0 {
            self.size_roll = self.next_random() % (self.size_limit / 2).max(1);
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: any spread will do, it only has to differ between snapshots.
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        self.random
    }
}
// ANCHOR_END: snap_schedule

/// The log and what is waiting for it.
#[derive(Debug)]
struct Disk {
    log: Box<dyn TxnLog>,
    /// Proposed, not yet appended: the next group.
    held: Vec<Txn>,
    schedule: SnapSchedule,
    /// A snapshot is being walked, a slice per flush.
    snapshotting: bool,
}

/// Nodes a fuzzy snapshot writes per [`StandalonePipeline::flush`]: a few milliseconds of
/// work, so the writes of the next group wait no longer than that for it.
pub const SNAPSHOT_NODES_PER_FLUSH: usize = 10_000;

// ANCHOR: standalone
/// A [`Pipeline`] whose proposals commit at once (in memory) or once logged (with a
/// [`TxnLog`]). Its outputs never contain [`Output::Propose`]: each one has already come back
/// as an [`Input::Commit`], or is held for the next [`StandalonePipeline::flush`].
#[derive(Debug)]
pub struct StandalonePipeline {
    pipeline: Pipeline,
    disk: Option<Disk>,
}

impl StandalonePipeline {
    /// A standalone server with a fresh database in memory only, started at `now_ms`.
    pub fn new(tick_time_ms: u32, limits: Limits, server_id: Sid, now_ms: u64) -> Self {
        StandalonePipeline {
            pipeline: Pipeline::new(tick_time_ms, limits, server_id, now_ms),
            disk: None,
        }
    }

    /// Makes the server durable: it starts from `db` (recovered from `log`'s files) and
    /// commits each txn only once `log` has it on disk.
    pub fn with_log(
        mut self,
        db: Database,
        log: Box<dyn TxnLog>,
        schedule: SnapSchedule,
        now_ms: u64,
    ) -> Self {
        self.pipeline.restore(db, now_ms);
        self.disk = Some(Disk {
            log,
            held: Vec::new(),
            schedule,
            snapshotting: false,
        });
        self
    }

    /// Feeds one input. In memory, every txn it proposes is committed, in order; with a log,
    /// proposals wait for [`StandalonePipeline::flush`].
    pub fn step(&mut self, now_ms: u64, input: Input) -> Vec<Output> {
        let outputs = self.pipeline.step(now_ms, input);
        match &mut self.disk {
            None => self.commit_at_once(now_ms, outputs),
            Some(disk) => outputs
                .into_iter()
                .filter_map(|output| match output {
                    Output::Propose(txn) => {
                        disk.held.push(txn);
                        None
                    }
                    other => Some(other),
                })
                .collect(),
        }
    }

    fn commit_at_once(&mut self, now_ms: u64, outputs: Vec<Output>) -> Vec<Output> {
        let mut done = Vec::new();
        let mut work: VecDeque<Output> = outputs.into();
        while let Some(output) = work.pop_front() {
            match output {
                Output::Propose(txn) => {
                    // Commit outputs come before anything the input said after proposing.
                    let committed = self.pipeline.step(now_ms, Input::Commit(txn));
                    for o in committed.into_iter().rev() {
                        work.push_front(o);
                    }
                }
                other => done.push(other),
            }
        }
        done
    }
    // ANCHOR_END: standalone

    // ANCHOR: flush
    /// With a log: appends every held txn, syncs once, then commits them in order; then
    /// walks the next slice of a snapshot, if one is due or under way, so a snapshot
    /// interleaves with the groups committed around it (a fuzzy snapshot). An error leaves
    /// the held txns uncommitted and unanswered; the server must stop, as upstream's does
    /// when its log fails.
    pub fn flush(&mut self, now_ms: u64) -> io::Result<Vec<Output>> {
        let mut done = Vec::new();
        let Some(disk) = &mut self.disk else {
            return Ok(done);
        };
        while !disk.held.is_empty() {
            let group = std::mem::take(&mut disk.held);
            let mut bytes = 0;
            for txn in &group {
                bytes += disk.log.append(txn, self.pipeline.txn_digest(txn.zxid))?;
            }
            disk.log.sync()?;
            // Upstream skips a snapshot that falls due while the last is still being written.
            if disk.schedule.logged_sized(group.len(), bytes) && !disk.snapshotting {
                disk.snapshotting = disk.log.begin_snapshot(self.pipeline.database())?;
            }
            for txn in group {
                // A commit proposes nothing in a standalone server, but if it ever did, the
                // proposal would be held for the next round of this loop.
                let outputs = self.pipeline.step(now_ms, Input::Commit(txn));
                for output in outputs {
                    match output {
                        Output::Propose(txn) => disk.held.push(txn),
                        other => done.push(other),
                    }
                }
            }
        }
        if disk.snapshotting {
            let db = self.pipeline.database();
            disk.snapshotting = disk.log.advance_snapshot(db, SNAPSHOT_NODES_PER_FLUSH)?;
        }
        Ok(done)
    }
    // ANCHOR_END: flush

    /// Starts a snapshot now, unless one is under way; [`StandalonePipeline::flush`] walks
    /// it.
    pub fn begin_snapshot(&mut self) -> io::Result<()> {
        if let Some(disk) = &mut self.disk {
            if !disk.snapshotting {
                disk.snapshotting = disk.log.begin_snapshot(self.pipeline.database())?;
            }
        }
        Ok(())
    }

    /// Says that the log already began a snapshot of the database it handed over (a
    /// restart's snapshot of what it recovered, begun before serving so that its file is
    /// there from the start): [`StandalonePipeline::flush`] walks it from now on.
    pub fn snapshot_begun(&mut self) {
        if let Some(disk) = &mut self.disk {
            disk.snapshotting = true;
        }
    }

    /// Whether a snapshot is being walked: the driver keeps calling
    /// [`StandalonePipeline::flush`] until it is written, writes or not.
    pub fn snapshotting(&self) -> bool {
        self.disk.as_ref().is_some_and(|disk| disk.snapshotting)
    }

    /// Whether txns are waiting for [`StandalonePipeline::flush`].
    pub fn has_held(&self) -> bool {
        self.disk.as_ref().is_some_and(|disk| !disk.held.is_empty())
    }

    /// The pipeline inside (for the tree, the sessions and the watch counts).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The pipeline inside, to seed its session ids.
    pub fn pipeline_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_fall_between_half_and_all_of_snap_count() {
        for seed in 0..50 {
            let mut schedule = SnapSchedule::new(100, seed);
            let mut since = 0;
            let mut gaps = Vec::new();
            for _ in 0..1000 {
                since += 1;
                if schedule.logged(1) {
                    gaps.push(since);
                    since = 0;
                }
            }
            assert!(gaps.iter().all(|gap| (51..=100).contains(gap)), "{gaps:?}");
            assert!(gaps.len() >= 10);
        }
    }

    /// `snapSizeLimitInKb`: a snapshot once the log since the last one passes half the
    /// limit plus a roll in the other half, whatever the txn count.
    #[test]
    fn snapshots_also_fall_between_half_and_all_of_the_size_limit() {
        for seed in 0..50 {
            let mut schedule = SnapSchedule::new(1_000_000, seed).with_size_limit(10_000);
            let mut since = 0;
            let mut gaps = Vec::new();
            for _ in 0..1000 {
                since += 100;
                if schedule.logged_sized(1, 100) {
                    gaps.push(since);
                    since = 0;
                }
            }
            assert!(
                gaps.iter().all(|gap| (5_100..=10_000).contains(gap)),
                "{gaps:?}"
            );
            assert!(gaps.len() >= 10);
        }
    }

    #[test]
    fn the_rolls_differ_between_snapshots() {
        let mut schedule = SnapSchedule::new(1000, 7);
        let mut gaps = std::collections::BTreeSet::new();
        let mut since = 0;
        for _ in 0..10_000 {
            since += 1;
            if schedule.logged(1) {
                gaps.insert(since);
                since = 0;
            }
        }
        assert!(gaps.len() > 3, "{gaps:?}");
    }
}
