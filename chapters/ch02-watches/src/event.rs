//! What a watcher is told, and to whom.
//!
//! The event itself is chapter 1's [`WatchedEvent`] — the connection's [`KeeperState`], the
//! [`EventType`] and the path, never the new data — because chapter 1's shell already prints
//! it as zkCli does. This chapter adds the address: a [`Delivery`] is an event on its way to
//! one watcher.

use serde::Serialize;

pub use ch01_znode::{EventType, KeeperState, WatchedEvent};

use crate::SessionId;

/// An event on its way to one watcher: what the server writes to that session's connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub watcher: SessionId,
    pub event: WatchedEvent,
}
