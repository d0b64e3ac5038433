//! ch04-paxos: to be written.
