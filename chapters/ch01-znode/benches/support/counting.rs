//! A global allocator that counts live bytes, so a bench can weigh what a structure holds:
//! the difference in live bytes before and after building it is everything it allocated and
//! kept, with no allocator slack. Shared by the benches that weigh chapter 1's tree.
//!
//! It also keeps a second count, of the same allocations as glibc's malloc lays them out
//! ([`live_chunk_bytes`]): each in a chunk with an 8-byte header, rounded up to 16 bytes, at
//! least 32; a big one (128 KiB and up, malloc's first mmap threshold) in whole pages. That is
//! the allocator's own overhead per allocation, which the live bytes leave out, as a JVM's
//! heap-after-GC includes its objects' headers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_CHUNK_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The bytes glibc's malloc takes for a request of `size` bytes (x86-64).
fn chunk(size: usize) -> usize {
    const MMAP_THRESHOLD: usize = 128 * 1024;
    const PAGE: usize = 4096;
    if size >= MMAP_THRESHOLD {
        (size + 16).div_ceil(PAGE) * PAGE
    } else {
        ((size + 8 + 15) & !15).max(32)
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        LIVE_CHUNK_BYTES.fetch_add(chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_CHUNK_BYTES.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_CHUNK_BYTES.fetch_add(chunk(new_size), Ordering::Relaxed);
        LIVE_CHUNK_BYTES.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated and not yet freed, process-wide.
pub fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// The same, counted as glibc's malloc chunks: the live bytes plus malloc's header and
/// rounding for each allocation.
#[allow(dead_code)] // not every bench reports it
pub fn live_chunk_bytes() -> usize {
    LIVE_CHUNK_BYTES.load(Ordering::Relaxed)
}
