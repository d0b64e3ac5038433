//! A ZooKeeper client: the same protocol from the other end.
//!
//! The client is split like the server: [`session`] is the protocol state
//! with no sockets (xids, the queue of unanswered requests, the last zxid
//! seen), [`connection`] drives it over tokio (a writer that batches and
//! pings, a reader that matches replies and forwards watch events, a
//! supervisor that reconnects), and
//! [`bench`](mod@bench) uses many outstanding requests to measure any server.
//!
//! # Layout
//! - [`session`]: [`ClientSession`], sans-IO (`ClientCnxn`'s bookkeeping).
//! - [`connection`]: [`Client`], one tokio connection with bounded queues.
//! - [`bench`](mod@bench): a load generator reporting throughput and p50/p99 latency.
//! - [`watches`]: [`watches::ClientWatches`], the client's copy of its watches
//!   (`ZKWatchManager`), sans-IO.
//! - [`shell`]: [`WireBackend`], chapter 1's zkCli shell over the wire.

pub mod bench;
pub mod connection;
pub mod session;
pub mod shell;
pub mod watches;

pub use connection::{Client, ClientConfig, ClientError, State};
pub use session::{ClientSession, Incoming, ProtocolError};
pub use shell::WireBackend;
