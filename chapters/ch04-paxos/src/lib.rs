//! ch04-paxos (in progress): the deterministic simulator.

pub mod sim;
