//! # Chapter 6: Zab, the write path
//!
//! (A placeholder: the chapter's essay arrives with the protocol core.) A write travels from
//! the leader to a quorum of followers as a *proposal*, is committed once half of them have
//! acknowledged it, and is applied by every server in zxid order. This crate starts with the
//! bytes that carry it: real ZooKeeper 3.8 servers write exactly these, so each format is
//! checked against ZooKeeper's own classes (`tests/zookeeper_bytes.rs`).
//!
//! # Layout
//!
//! * [`packet`] — the quorum connection's packets (`QuorumPacket`) and what each one carries.
//! * [`txn_codec`] — a chapter 1 [`ch01_znode::Txn`] as upstream's `TxnHeader` and txn record:
//!   the data of a PROPOSAL, and later the body of a txn log record.
//! * [`snapshot_stream`] — the whole database (sessions, ACLs, nodes) as it follows a SNAP
//!   packet, and as a snapshot file holds it.
//! * [`check`] — Zab over thousands of faulty simulated runs: the servers' invariants at every
//!   step, and the clients' histories against the committed sequence.

#[cfg(test)]
mod arb;
pub mod check;
pub mod history;
pub mod leader;
pub mod learner;
pub mod message;
pub mod packet;
pub mod peer;
pub mod sim;
pub mod snapshot_stream;
pub mod trace;
pub mod txn_codec;
