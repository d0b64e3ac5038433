//! The disk's floor for one quorum write: three fdatasyncs started together, until two of them
//! have returned.
//!
//! With one request in flight, an ensemble's write waits for a quorum of logs to be on disk:
//! two of the three servers' fdatasyncs, and on this machine all three servers share one disk.
//! No program can answer sooner than that, and when the disk stalls, both programs stall with
//! it: so the p99 of a write one at a time is mostly the disk's own tail. This module measures
//! that floor in the bench's own run, beside the servers' dataDirs, so the table can say how
//! much of each program's p99 is the disk's.
//!
//! Three threads stand for the three servers' logs. Each owns a zero-filled file (as a txn log
//! is preallocated, so a sync writes data and no metadata) and, for every record, waits at a
//! barrier with the others, then writes one small record and calls fdatasync. A record's floor
//! is the second shortest of its three times.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::common::TempDir;

/// Servers in the ensemble; a quorum is two of them.
const SERVERS: usize = 3;
/// Bytes per record: about one small txn in the log.
pub const RECORD: usize = 128;

/// The quorum floors of `count` records, sorted.
pub struct QuorumFloor {
    latencies: Vec<Duration>,
}

impl QuorumFloor {
    /// The `p`th percentile, by the nearest rank.
    pub fn percentile(&self, p: f64) -> Duration {
        crate::report::percentile(&self.latencies, p)
    }
}

/// Times `count` quorum writes: each of [`SERVERS`] threads writes one [`RECORD`]-byte record
/// into its own zero-filled file and syncs it, all starting together; a write's time is that
/// of the second sync to return.
pub fn quorum_floor(count: usize) -> Result<QuorumFloor, String> {
    let count = count.max(1);
    let dir = TempDir::new("quorum-floor");
    let barrier = Arc::new(Barrier::new(SERVERS));
    let logs = (0..SERVERS)
        .map(|i| {
            let path = dir.path().join(format!("log-{i}"));
            let file = zero_filled(&path, RECORD * count)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let barrier = Arc::clone(&barrier);
            Ok(std::thread::spawn(move || one_log(&file, count, &barrier)))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let per_log = logs
        .into_iter()
        .map(|log| match log.join() {
            Ok(times) => times.map_err(|e| format!("quorum floor: {e}")),
            Err(_) => Err("quorum floor: a log's thread panicked".to_string()),
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut latencies: Vec<Duration> = (0..count)
        .map(|i| {
            let mut three: Vec<Duration> = per_log.iter().map(|times| times[i]).collect();
            three.sort_unstable();
            three[SERVERS / 2]
        })
        .collect();
    latencies.sort_unstable();
    Ok(QuorumFloor { latencies })
}

/// A file of `len` zero bytes, on disk.
fn zero_filled(path: &std::path::Path, len: usize) -> std::io::Result<File> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)?;
    file.write_all(&vec![0; len])?;
    file.sync_all()?;
    Ok(file)
}

/// One log's part: for each record, wait for the others, then write and sync it.
fn one_log(file: &File, count: usize, barrier: &Barrier) -> std::io::Result<Vec<Duration>> {
    let record = [0x42u8; RECORD];
    let mut times = Vec::with_capacity(count);
    // A log that failed goes on meeting the others at the barrier, which would otherwise wait
    // for it forever; its first error is returned at the end.
    let mut failed = None;
    for i in 0..count {
        barrier.wait();
        let started = Instant::now();
        let synced = file
            .write_all_at(&record, (i * RECORD) as u64)
            .and_then(|()| file.sync_data());
        times.push(started.elapsed());
        if let Err(e) = synced {
            failed.get_or_insert(e);
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(times),
    }
}
