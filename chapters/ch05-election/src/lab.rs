//! Lab 5.1: change the tie-break, predict the first start's leader.
//!
//! ZooKeeper breaks a tie between equally up-to-date servers with the
//! *larger* sid. What if it used the smaller one? Before you change
//! anything, predict: in the first-start scenario (servers 1..5 started
//! one by one, 500 ms apart), who leads now?
//!
//! Then edit [`lab_order`] so that, when epoch and zxid are equal, the
//! **lower** sid wins, and run the lab's test:
//!
//! ```text
//! cargo test -p ch05-election --test lab -- --ignored
//! ```
//!
//! It turns green when the election with your order matches the recorded
//! run in `tests/snapshots/lab_lowest_sid_first_start.snap`.

use crate::vote::Vote;
use std::cmp::Ordering;

// ANCHOR: lab_order
/// The vote order the lab runs with. As shipped it is ZooKeeper's: higher
/// epoch, then higher zxid, then **higher** sid.
pub fn lab_order(a: &Vote, b: &Vote) -> Ordering {
    // LAB: keep epoch and zxid first, but make the lower sid win a tie.
    (a.peer_epoch, a.zxid, a.leader).cmp(&(b.peer_epoch, b.zxid, b.leader))
}
// ANCHOR_END: lab_order
