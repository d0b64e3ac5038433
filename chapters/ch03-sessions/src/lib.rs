//! ch03-sessions: ZooKeeper's client wire protocol, sessions, and a
//! standalone server that real clients can use.
//!
//! # The wire
//! A ZooKeeper client and server talk in *frames*: a 4-byte length, then a
//! jute-encoded record. The first frame each way is the session handshake
//! (`ConnectRequest` / `ConnectResponse`); after that each client frame is a
//! `RequestHeader{xid, type}` plus the request the opcode names, and each
//! server frame a `ReplyHeader{xid, zxid, err}` plus a response, or a watch
//! notification under xid -1. Every length on the wire is checked before it
//! is trusted, so bad bytes give a clear [`jute::DecodeError`], never a panic.
//!
//! # Layout
//! - [`jute`]: the binary archive: [`jute::Reader`], [`jute::Writer`], [`jute::Record`].
//! - [`proto`]: frames, headers, every request and response record, the
//!   [`proto::Request`] / [`proto::Response`] enums and the trace printer.
//! - [`client`]: an async client ([`client::Client`]), a load generator, and
//!   chapter 1's zkCli shell over the wire ([`client::WireBackend`]).
//!
//! # How ZooKeeper names it
//! The records are `zookeeper.jute` (`org.apache.zookeeper.proto`), the
//! archive is `org.apache.jute.BinaryInputArchive`/`BinaryOutputArchive`, the
//! client connection is `ClientCnxn`.
//!
//! # The server side
//! A session is a **lease**: the client promises to speak at least every `timeout` ms, the
//! server pushes the lease forward each time it does, and when a lease runs out the session's
//! ephemeral nodes are deleted as if it had closed. That one rule turns "is this process
//! alive?" into "does this znode exist?", which is what every ZooKeeper recipe relies on.
//!
//! The server keeps each decision in its own module, named after the upstream class that
//! makes it:
//!
//! - [`config`] reads `zoo.cfg` (ticks, ports, limits) the way `QuorumPeerConfig` does;
//! - [`session`] is the `SessionTracker`: leases that expire in tick-sized buckets
//!   (`ExpiryQueue`), session ids with the server id in the top byte, Java-exact passwords;
//! - [`acl`] decides who may touch a znode (`checkACL`, `fixupACL`, the world, digest and
//!   ip schemes);
//! - [`pipeline`] is the request path, prepare → sync → final (`PrepRequestProcessor`,
//!   `SyncRequestProcessor`, `FinalRequestProcessor`) as a pure state machine: sessions are
//!   created and closed by txns, failed writes are error txns that take a zxid, replies leave
//!   in each session's order;
//! - [`fourlw`] answers the four-letter words (`ruok`, `srvr`, `stat`, ...) on the client port;
//! - [`server`] is the tokio driver: one task per connection around one core task that owns the
//!   pipeline, with bounded queues so a slow client only hurts itself;
//! - [`trace`] plays the chapter's scripted session over loopback TCP for `--trace`;
//! - [`expiry`] plays a session that expires on the pure pipeline, with a virtual clock
//!   (`--trace --scenario expiry`), and draws it.
//!
//! # Recipes
//! [`recipes`] is what applications build on the client: a lock, an election, a naming
//! service, soft load balancing, configuration push and a barrier. They need nothing but
//! [`client::Client`], so they live beside it; the book gives them a page of their own.
//!
//! Unlike upstream, the server keeps no files yet (chapter 7 adds the txn log and snapshots),
//! watches are keyed by session rather than by connection object, and a standalone server
//! listens on 127.0.0.1 unless `clientPortAddress` says otherwise.

pub mod client;
pub mod jute;
pub mod proto;

pub mod acl;
pub mod config;
pub mod expiry;
pub mod fourlw;
pub mod pipeline;
pub mod properties;
pub mod recipes;
pub mod server;
pub mod session;
pub mod trace;
