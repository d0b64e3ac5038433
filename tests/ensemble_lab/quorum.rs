//! Lab 8.1: how many servers may die.
//!
//! The course answers "how many ZooKeeper servers should a cluster have?" with "an odd number",
//! because of one rule: the ensemble serves writes while more than half of its voters are up.
//! Write [`may_die`] from that rule; `cargo run -- lab check 8.1` compares it with chapter 5's
//! `QuorumMaj` for every size up to nine, then starts four real servers and kills their leader
//! as many times as your answer says they survive, and once more.

// ANCHOR: may_die
/// How many of `servers` voting servers may crash while the survivors still elect a leader
/// and commit writes.
pub fn may_die(servers: u64) -> u64 {
    // LAB 8.1 ANSWER (lab start puts the //> lines here)
    //> let _ = servers;
    //> todo!("lab 8.1: how many may crash, and the rest still be more than half?")
    servers.saturating_sub(1) / 2
    // LAB 8.1 END
}
// ANCHOR_END: may_die
