//! Benchmark: create, get, set and delete on a million znodes, and the memory they take.
//!
//! `cargo bench -p ch01-znode --bench tree` (optionally followed by `-- <znodes>`). Every
//! write goes the whole way a standalone server takes it — prep, then apply — with a fixed
//! clock. Memory is counted by a global allocator that tracks live bytes, so "bytes per
//! znode" is everything the tree holds for a node: its path key, data, Stat, child-name entry
//! in the parent and the hash-map slots.

use ch01_znode::{Acl, CreateMode, Request, SessionId, Standalone};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const FANOUT: usize = 1000;
const SESSION: SessionId = SessionId(0x100000000000001);

fn path(i: usize) -> String {
    format!("/bench/p{:04}/n{:07}", i / FANOUT, i)
}

/// Runs `op` for every i < n and prints the rate.
fn timed(name: &str, n: usize, mut op: impl FnMut(usize)) {
    let start = Instant::now();
    for i in 0..n {
        op(i);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<8} {n:>9} ops {secs:>7.2} s {:>12.0} ops/s",
        n as f64 / secs
    );
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut server = Standalone::default();
    let mut clock = 0;
    let mut submit = |server: &mut Standalone, request: Request| {
        clock += 1;
        let (_, applied) = server.submit(SESSION, clock, &request);
        assert!(
            applied.result.err().is_none(),
            "{request:?} failed: {applied:?}"
        );
    };
    let create = |path: String| Request::Create {
        path,
        data: Some(b"0123456789".to_vec()),
        acl: Acl::open_unsafe(),
        mode: CreateMode::Persistent,
    };
    submit(&mut server, create("/bench".into()));
    for p in 0..n.div_ceil(FANOUT) {
        submit(&mut server, create(format!("/bench/p{p:04}")));
    }

    println!("ch01-znode tree: {n} znodes with 10-byte data, {FANOUT} per parent, prep + apply");
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    timed("create", n, |i| submit(&mut server, create(path(i))));
    let bytes = LIVE_BYTES.load(Ordering::Relaxed) - before;
    timed("get", n, |i| {
        let (data, _) = server.tree.get_data(&path(i)).expect("exists");
        assert_eq!(data.map(<[u8]>::len), Some(10));
    });
    timed("set", n, |i| {
        let request = Request::SetData {
            path: path(i),
            data: Some(b"abcdefghij".to_vec()),
            version: 0,
        };
        submit(&mut server, request)
    });
    timed("delete", n, |i| {
        let request = Request::Delete {
            path: path(i),
            version: 1,
        };
        submit(&mut server, request)
    });
    println!(
        "memory   {:.0} bytes per znode ({:.1} MiB for {n})",
        bytes as f64 / n as f64,
        bytes as f64 / (1024.0 * 1024.0)
    );
}
