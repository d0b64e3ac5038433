//! The chapter's one event type. Everything `--trace` shows, the JSON output and the snapshot
//! tests are these events; `Display` is the trace grammar, one line per event:
//!
//! ```text
//! B      get -w /sanguo                      a client types a command
//! B      ⇨ + data watch /sanguo              a watch enters the registry (⇨: state change)
//! 0x7    setData /sanguo ⇒ NodeDataChanged /sanguo   a txn applied, and its triggers
//! server → B WatchedEvent state:SyncConnected type:NodeDataChanged path:/sanguo
//! B      ⇨ - data watch /sanguo (fired)      the watch is spent
//! ```

use std::fmt;

use serde::Serialize;

use crate::event::WatchedEvent;
use crate::registry::Watch;
use crate::{SessionId, Zxid};

/// Why a watch left the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A one-shot watch fired.
    Fired,
    /// `removewatches` took it away.
    Removed,
    /// Its session closed.
    SessionClosed,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cause::Fired => "fired",
            Cause::Removed => "removed",
            Cause::SessionClosed => "session closed",
        })
    }
}

// ANCHOR: event
/// One step of a run, as the trace shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A named client opened a session.
    Connected { client: String, session: SessionId },
    /// A client typed a command.
    Command { client: String, line: String },
    /// A watch entered the registry.
    WatchAdded { client: String, watch: Watch },
    /// A txn was applied; `triggers` are what the tree reported (`NodeDataChanged /sanguo`),
    /// `told` how many events they caused.
    Applied {
        zxid: Zxid,
        op: String,
        triggers: Vec<String>,
        told: usize,
    },
    /// The server sent a watch event to a client; `local` when the client raised it itself
    /// (the `...WatchRemoved` events of `removewatches`).
    Delivered {
        client: String,
        event: WatchedEvent,
        local: bool,
    },
    /// A watch left the registry.
    WatchRemoved {
        client: String,
        watch: Watch,
        cause: Cause,
    },
    /// A client's session ended.
    Closed { client: String, session: SessionId },
}
// ANCHOR_END: event

/// A txn and what it set off, as the trace line and the diagram both say it:
/// `setData /sanguo ⇒ NodeDataChanged /sanguo`, marked `(no watcher)` when nobody was told.
pub(crate) fn txn_summary(op: &str, triggers: &[String], told: usize) -> String {
    match (triggers.is_empty(), told) {
        (true, _) => op.to_string(),
        (false, 0) => format!("{op} ⇒ {} (no watcher)", triggers.join(", ")),
        (false, _) => format!("{op} ⇒ {}", triggers.join(", ")),
    }
}

/// The width of the first column, so the lines of one step line up.
const WHO: usize = 6;

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Connected { client, session } => {
                write!(f, "{client:<WHO$} ⇨ connected, session {session}")
            }
            Event::Command { client, line } => write!(f, "{client:<WHO$} {line}"),
            Event::WatchAdded { client, watch } => {
                write!(f, "{client:<WHO$} ⇨ + {} {}", watch.kind, watch.path)
            }
            Event::Applied {
                zxid,
                op,
                triggers,
                told,
            } => {
                let zxid = zxid.to_string();
                write!(f, "{zxid:<WHO$} {}", txn_summary(op, triggers, *told))
            }
            Event::Delivered {
                client,
                event,
                local: false,
            } => write!(f, "server → {client} {event}"),
            Event::Delivered {
                client,
                event,
                local: true,
            } => write!(f, "{client:<WHO$} ⇨ {event} (raised by the client)"),
            Event::WatchRemoved {
                client,
                watch,
                cause,
            } => write!(
                f,
                "{client:<WHO$} ⇨ - {} {} ({cause})",
                watch.kind, watch.path
            ),
            Event::Closed { client, session } => {
                write!(f, "{client:<WHO$} ⇨ closed, session {session}")
            }
        }
    }
}
