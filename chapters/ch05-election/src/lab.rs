//! Lab 5.1: change the tie-break, predict the first start's leader.
//!
//! ZooKeeper breaks a tie between equally up-to-date servers with the
//! *larger* sid. What if it used the smaller one? Before you change
//! anything, predict: in the first-start scenario (servers 1..5 started
//! one by one, 500 ms apart), who leads now? Write it in
//! `predicted_leader` in `tests/lab.rs`.
//!
//! Then, after `cargo run -- lab start 5.1`, edit [`lab_order`] so that,
//! when epoch and zxid are equal, the **lower** sid wins, and run the lab's
//! grader:
//!
//! ```text
//! cargo run -- lab check 5.1
//! ```
//!
//! (or `cargo test -p ch05-election --test all lab::lab_5_1_`). It turns green
//! when the election with your order matches the recorded run in
//! `tests/snapshots/lab_lowest_sid_first_start.snap`.

use crate::vote::Vote;
use std::cmp::Ordering;

// ANCHOR: lab_order
/// The vote order the lab runs with. The lab starts from ZooKeeper's:
/// higher epoch, then higher zxid, then **higher** sid.
pub fn lab_order(a: &Vote, b: &Vote) -> Ordering {
    // LAB 5.1 ANSWER (lab start puts the //> lines here)
    //> // Keep epoch and zxid first, but make the lower sid win a tie.
    //> (a.peer_epoch, a.zxid, a.leader).cmp(&(b.peer_epoch, b.zxid, b.leader))
    (a.peer_epoch, a.zxid)
        .cmp(&(b.peer_epoch, b.zxid))
        .then(b.leader.cmp(&a.leader))
    // LAB 5.1 END
}
// ANCHOR_END: lab_order
