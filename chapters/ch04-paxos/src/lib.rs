//! ch04-paxos (in progress): the deterministic simulator and single-decree Paxos.

pub mod labs;
pub mod multi;
pub mod paxos;
pub mod scenarios;
pub mod sim;
