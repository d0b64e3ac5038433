//! The disk's floor for a durable append: one small record written, then fdatasync.
//!
//! No server can answer a durable write sooner than its disk syncs it, so this is the number
//! the serial write latencies are compared with. It is measured, not assumed: a shared
//! machine's disk moves from minute to minute.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use crate::common::TempDir;
use crate::ms;

/// Bytes per record: about one small txn in the log.
pub const FLOOR_RECORD: usize = 128;

/// How long one small record plus its fdatasync takes, `count` times.
pub struct Floor {
    latencies: Vec<Duration>,
}

impl Floor {
    pub fn percentile(&self, p: f64) -> Duration {
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

impl std::fmt::Display for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {} ms, p99 {} ms over {} syncs",
            ms(self.percentile(50.0)),
            ms(self.percentile(99.0)),
            self.latencies.len()
        )
    }
}

/// Times `count` writes of one [`FLOOR_RECORD`]-byte record, each followed by fdatasync, in a
/// file beside the servers' dataDirs. The file is zero-filled first, as a txn log is
/// preallocated, so a sync writes the record and no file-size metadata: the cheapest durable
/// append this disk offers.
pub fn fdatasync_floor(count: usize) -> Result<Floor, String> {
    let dir = TempDir::new("fdatasync-floor");
    let path = dir.path().join("log");
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut file: File = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io)?;
    file.write_all(&vec![0; FLOOR_RECORD * count.max(1)])
        .map_err(io)?;
    file.sync_all().map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let record = [0x42u8; FLOOR_RECORD];
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let t = Instant::now();
        file.write_all(&record).map_err(io)?;
        file.sync_data().map_err(io)?;
        latencies.push(t.elapsed());
    }
    latencies.sort_unstable();
    Ok(Floor { latencies })
}
