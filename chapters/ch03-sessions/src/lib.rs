//! ch03-sessions: ZooKeeper's client wire protocol, sessions, and a standalone server that real
//! clients can use.
//!
//! # The server side
//!
//! A standalone ZooKeeper server is a loop around a few small, separate decisions, and this
//! crate keeps each in its own module:
//!
//! - [`config`] reads `zoo.cfg` (ticks, ports, limits) the way `QuorumPeerConfig` does;
//! - [`session`] is the `SessionTracker`: leases that expire in tick-sized buckets;
//! - [`acl`] decides who may touch a znode (`checkACL`, `fixupACL`, the digest and ip schemes);
//! - [`fourlw`] answers the four-letter words (`ruok`, `srvr`, `stat`, ...) on the client port.
pub mod acl;
pub mod config;
pub mod fourlw;
pub mod session;
