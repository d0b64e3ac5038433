//! The seed's watch demo as a script, and the replay behind `--trace`.
//!
//! Two clients, as on the seed's two machines: A writes, B watches. B's `get -w` fires once on
//! A's first `set` and not on the second; B's `ls -w` fires on A's `create` of a child and not
//! on the `delete` after it.

use ch01_znode::shell::Shell;
use ch01_znode::trace::fixed_clock;

use crate::shell::{transcript, Clients};
use crate::trace::Event;

// ANCHOR: seed_demo
/// The seed's demo, one shell line each.
pub const SEED_DEMO: &[&str] = &[
    r#"create /sanguo "diaochan""#,
    r#"create /sanguo/shuguo "liubei""#,
    "connect B",
    "get -w /sanguo",
    "use A",
    r#"set /sanguo "xishi""#,
    r#"set /sanguo "xishi2""#,
    "use B",
    "ls -w /sanguo",
    "use A",
    r#"create /sanguo/jin "simayi""#,
    "delete /sanguo/jin",
];
// ANCHOR_END: seed_demo

/// Persistent watches (B) next to a recursive one (C), then `removewatches` and the errors a
/// student will meet.
pub const PERSISTENT_DEMO: &[&str] = &[
    r#"create /sanguo "diaochan""#,
    "connect B",
    "addWatch -m PERSISTENT /sanguo",
    "connect C",
    "addWatch /sanguo",
    "use A",
    r#"set /sanguo "xishi""#,
    r#"create /sanguo/wei "caocao""#,
    r#"create /sanguo/wei/zhangliao "zhangliao""#,
    "deleteall /sanguo",
    "use B",
    "removewatches /sanguo",
    "removewatches /sanguo",
    "get -w sanguo",
    "addWatch -m ONCE /sanguo",
    "stat -w /sanguo",
    "use A",
    r#"create /sanguo "again""#,
];

/// Replays `script` on chapter 1's fixed clock, with clients starting from `A`: what the
/// terminal shows, and the trace.
pub fn replay(script: &[&str]) -> (String, Vec<Event>) {
    let mut shell = Shell::new(Clients::new("A", fixed_clock()));
    let text = transcript(&mut shell, script);
    let trace = std::mem::take(&mut shell.backend.trace);
    (text, trace)
}
