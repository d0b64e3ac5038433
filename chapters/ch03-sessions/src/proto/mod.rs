//! ZooKeeper's client protocol in three layers, as bytes ↔ frame ↔ record.
//!
//! 1. [`frame`]: the byte stream is cut into frames by a 4-byte length.
//! 2. The first frame each way is the handshake ([`connect`]); every later
//!    client frame is a `RequestHeader` + a body chosen by its opcode
//!    ([`request`]), every later server frame a `ReplyHeader` + a body chosen
//!    by the opcode of the request it answers, or a watch notification
//!    ([`response`]).
//! 3. The bodies are plain jute records ([`records`], [`multi`]).
//!
//! Sockets appear nowhere in here: the server and the client feed bytes in
//! and take bytes out, so every rule is testable on a byte slice.
//!
//! # Layout
//! - [`frame`]: [`FrameDecoder`], [`encode_frame`], the `jute.maxbuffer` check.
//! - [`opcode`]: [`OpCode`] (`ZooDefs.OpCode`).
//! - [`records`]: every fixed-shape record of `zookeeper.jute`.
//! - [`connect`]: the handshake, with its optional trailing readOnly byte.
//! - [`multi`]: multi/multiRead, a list ended by a sentinel header.
//! - [`watch`]: the notification (chapter 1's `WatchedEvent`), watcher types and addWatch modes.
//! - [`request`]: [`Request`] and [`decode_request`] / [`encode_request`].
//! - [`response`]: [`Response`], [`ServerFrame`], [`encode_reply`] and friends.
//! - [`display`]: the one-line trace form of every frame ([`FramePrinter`]).

pub mod connect;
pub mod display;
pub mod frame;
pub mod multi;
pub mod opcode;
pub mod records;
pub mod request;
pub mod response;
pub mod watch;

/// Error codes are chapter 1's `ZkError` (`KeeperException.Code`); a
/// reply header carries `code()`, and 0 means ok.
pub use ch01_znode::ZkError;
pub use connect::{ConnectRequest, ConnectResponse};
pub use display::{hex, Direction, FramePrinter};
pub use frame::{encode_frame, encode_frame_into, FrameDecoder, DEFAULT_MAX_BUFFER};
pub use multi::{MultiOp, MultiRequest, MultiResponse, OpResult};
pub use opcode::OpCode;
pub use records::*;
pub use request::{decode_request, encode_request, Request, RequestError};
pub use response::{
    decode_response, decode_server_frame, encode_notification, encode_reply, Response, ServerFrame,
};
pub use watch::{AddWatchMode, EventType, KeeperState, WatchedEvent, WatcherType};

#[cfg(test)]
mod roundtrip_tests;
