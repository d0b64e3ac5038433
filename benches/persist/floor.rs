//! The disk's floor for a durable append: one small record written, then fdatasync.
//!
//! No server can answer a durable write sooner than its disk syncs it, so this is the number
//! the serial write latencies are compared with. It is measured, not assumed: a shared
//! machine's disk moves from minute to minute.
//!
//! [`sparse_and_zeros`] measures what a txn log's preallocation does to that floor: the same
//! appends into a file extended with a hole (`set_len`, as upstream's preallocation) and into
//! one filled with real zeros (as chapter 7's writer keeps ahead of its records), taking
//! turns sync by sync, so both see the same disk at the same moment.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
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
    fn new(mut latencies: Vec<Duration>) -> Floor {
        latencies.sort_unstable();
        Floor { latencies }
    }

    pub fn percentile(&self, p: f64) -> Duration {
        crate::report::percentile(&self.latencies, p)
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
    Ok(Floor::new(latencies))
}

/// The floor in a sparse file and in a zero-filled one, measured in turns.
pub struct SparseAndZeros {
    /// Every sync into the file extended with a hole.
    pub sparse: Floor,
    /// Those of its syncs whose record was the first written into a 4 KiB block.
    pub sparse_new_block: Floor,
    /// Every sync into the zero-filled file.
    pub zeros: Floor,
    /// Those of its syncs whose record was the first written into a 4 KiB block.
    pub zeros_new_block: Floor,
}

/// Appends `count` [`FLOOR_RECORD`]-byte records, each followed by fdatasync, to two files
/// beside each other: one extended to its size with a hole, one filled with zeros and synced
/// first. The two take turns, one sync each, the first of the pair alternating.
pub fn sparse_and_zeros(count: usize) -> Result<SparseAndZeros, String> {
    const BLOCK: u64 = 4096;
    let count = count.max(1);
    let dir = TempDir::new("fdatasync-sparse-zeros");
    let size = (FLOOR_RECORD * count) as u64 + BLOCK;
    let open = |name: &str| {
        let path = dir.path().join(name);
        let io = |e: std::io::Error| format!("{}: {e}", path.display());
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match name {
            "sparse" => file.set_len(size).map_err(io)?,
            _ => file.write_all_at(&vec![0; size as usize], 0).map_err(io)?,
        }
        file.sync_all().map_err(io)?;
        Ok::<_, String>((file, path))
    };
    let files = [open("sparse")?, open("zeros")?];
    let record = [0x42u8; FLOOR_RECORD];
    // Per file: every latency, and those of a record that starts a new block.
    let mut all = [Vec::with_capacity(count), Vec::with_capacity(count)];
    let mut new_block = [Vec::new(), Vec::new()];
    for i in 0..count {
        let offset = (i * FLOOR_RECORD) as u64;
        // Its last byte lies in a block no earlier record touched.
        let new = offset == 0 || (offset + FLOOR_RECORD as u64 - 1) / BLOCK != (offset - 1) / BLOCK;
        for k in [i % 2, 1 - i % 2] {
            let (file, path) = &files[k];
            let t = Instant::now();
            file.write_all_at(&record, offset)
                .and_then(|()| file.sync_data())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let took = t.elapsed();
            all[k].push(took);
            if new {
                new_block[k].push(took);
            }
        }
    }
    let [sparse, zeros] = all.map(Floor::new);
    let [sparse_new_block, zeros_new_block] = new_block.map(Floor::new);
    Ok(SparseAndZeros {
        sparse,
        sparse_new_block,
        zeros,
        zeros_new_block,
    })
}
