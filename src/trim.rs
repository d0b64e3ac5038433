//! Giving a finished snapshot's memory back to the system.
//!
//! The idea to take away: **memory freed is not memory returned.** A fuzzy snapshot builds
//! its file in memory (chapter 7's [`FuzzySnapshot`](ch07_persistence::fuzzy::FuzzySnapshot)):
//! the walk's buffer grows by doubling to up to twice the file, and sealing copies it once
//! more, so for a moment a snapshot of `n` znodes holds some 270 bytes per znode beside the
//! tree. Once the file is written all of it is freed, but glibc's malloc keeps most of it: a
//! large block freed raises its threshold for handing memory back (`M_TRIM_THRESHOLD` grows
//! with the largest block freed, up to 64 MiB), so the server's resident memory stays at the
//! snapshot's peak. Measured on a follower holding 100k znodes, that was the larger part of
//! what it held beyond the tree. `malloc_trim` after each snapshot hands the free pages back.

/// Returns the allocator's free pages to the system, where the allocator is glibc's.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim takes no pointers and only releases pages malloc holds free.
        unsafe {
            malloc_trim(0);
        }
    }
}
