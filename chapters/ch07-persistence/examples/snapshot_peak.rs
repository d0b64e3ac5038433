//! How much memory a snapshot takes beside the tree: builds a tree of N znodes with 100-byte
//! values, then writes its snapshot file and reports the peak resident memory the writing
//! added (Linux: `/proc/self/status` VmHWM, reset before the snapshot through `clear_refs`),
//! and how long it took.
//!
//! ```sh
//! cargo run --release -p ch07-persistence --example snapshot_peak -- 1000000
//! ```

use std::fs;

use ch01_znode::{Acl, StatPersisted, TreeBuilder, Zxid};
use ch03_sessions::pipeline::Database;
use ch07_persistence::{FileStorage, FileStorageConfig};

/// A line of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |arg| arg.parse().expect("a number of znodes"));
    let open = Acl::open_unsafe();
    let mut builder = TreeBuilder::new(false).with_capacity(n + 8);
    builder
        .add("/", Some(&[]), &open, StatPersisted::default())
        .expect("the root");
    let parent = StatPersisted {
        czxid: Zxid(1),
        ..StatPersisted::default()
    };
    builder
        .add("/bench", Some(&[]), &open, parent)
        .expect("/bench");
    for i in 0..n {
        let stat = StatPersisted {
            czxid: Zxid(i as i64 + 2),
            mzxid: Zxid(i as i64 + 2),
            ..StatPersisted::default()
        };
        let data = [b'x'; 100];
        builder
            .add(&format!("/bench/n{i:07}"), Some(&data), &open, stat)
            .expect("a node");
    }
    let tree = builder.finish(Zxid(n as i64 + 1)).expect("a tree");
    let db = Database {
        tree,
        sessions: Default::default(),
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut storage = FileStorage::open(FileStorageConfig::new(dir.path())).expect("a dataDir");
    let before = status_kib("VmRSS:");
    // Resets VmHWM to the current resident size.
    fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
    let started = std::time::Instant::now();
    storage.take_snapshot(&db, false).expect("a snapshot");
    let took = started.elapsed();
    let peak = status_kib("VmHWM:");
    let file: u64 = fs::read_dir(dir.path().join("version-2"))
        .expect("version-2")
        .map(|e| e.expect("an entry").metadata().expect("metadata").len())
        .sum();
    let added = (peak.saturating_sub(before)) * 1024;
    println!(
        "{n} znodes: resident {} MiB with the tree; the snapshot ({} MiB) raised the peak by \
         {} MiB ({:.1} bytes per znode, {:.2}x the file), in {:.2} s",
        before / 1024,
        file >> 20,
        added >> 20,
        added as f64 / n as f64,
        added as f64 / file as f64,
        took.as_secs_f64()
    );
}
