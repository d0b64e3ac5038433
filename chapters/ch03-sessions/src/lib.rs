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

pub mod client;
pub mod jute;
pub mod proto;
