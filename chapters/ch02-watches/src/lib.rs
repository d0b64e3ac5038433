//! # Watches: register once, fire once
//!
//! A client that wants to know when a znode changes does not ask again and again. It reads the
//! node once with `watch=true` — `get -w /sanguo` — and the server remembers, next to the tree,
//! that this session wants to hear about this path. The next transaction that touches the path
//! fires the watch: the server sends one small event (`NodeDataChanged /sanguo`, never the new
//! data) and forgets the watch. A second change tells nobody. To keep listening the client must
//! read again and register again, and anything that changed in between is seen only as the
//! latest value.
//!
//! Why so stingy? Because it keeps the server simple and cheap: a watch is one entry in a hash
//! table, firing it is one lookup and one message, and the server never queues a backlog of
//! changes for a slow client. Every notification means only "look again".
//!
//! ## The rules this chapter implements
//! - Two tables: **data watches** (left by `getData` and `exists`) and **child watches** (left
//!   by `getChildren`), keyed by path and by session.
//! - The trigger table: create fires `NodeCreated` on the node's data watches and
//!   `NodeChildrenChanged` on the parent's child watches; delete fires `NodeDeleted` on the
//!   node's data and child watches (once per session) and `NodeChildrenChanged` on the parent;
//!   set fires `NodeDataChanged`. An `exists` watch on a missing node fires when it is created.
//! - One-shot: a standard watch is removed as it fires. Registered twice, told once.
//! - Persistent watches (3.6 `addWatch`): `PERSISTENT` hears everything a data plus a child
//!   watch would, and stays; `PERSISTENT_RECURSIVE` hears the node and every descendant, but
//!   never `NodeChildrenChanged`.
//! - `removeWatches` / `checkWatches` answer `NoWatcher` when there is nothing to remove. The
//!   registry takes any path, as a 3.8 server does (a watch on `rel` is held and never fires);
//!   this chapter's server refuses a malformed path on its reads with `BadArguments`.
//! - `SetWatches` on reconnect fires what the client missed and re-registers the rest.
//!
//! # Layout
//! - [`event`]: `Delivery`, an event addressed to one watcher (the event, `WatchedEvent`, with
//!   its `EventType` and `KeeperState`, is chapter 1's).
//! - [`mode`]: `WatcherMode`, `AddWatchMode`, `WatcherType` — the kinds of watch.
//! - [`manager`]: `WatchManager`, one table indexed by path and by session, and the trigger walk.
//! - [`registry`]: `WatchRegistry`, the two tables and the trigger table.
//! - [`reconnect`]: `SetWatches`, what a reconnecting client's watches become.
//! - [`server`]: `WatchServer`, chapter 1's tree behind the registry: reads register, writes fire.
//! - [`shell`]: chapter 1's zkCli shell for several named clients (`connect B`, `use A`), with
//!   `-w`, `addWatch`, `removewatches` and `printwatches`.
//! - [`trace`], [`render`]: the chapter's `Event` and its plain, coloured and JSON lines.
//! - [`demo`]: the seed's two-client demo that `--trace` replays.
//! - [`diagram`]: the same trace as an SVG sequence diagram, for the book.
//! - [`labs`]: servers up/down, configuration push, and the burst exercise.
//!
//! # How it differs from ZooKeeper
//! Upstream the same job is split over `server.DataTree` (which calls `triggerWatch` from
//! `createNode`, `deleteNode`, `setData`), `server.watch.WatchManager` (the tables) and
//! `server.watch.PathParentIterator`. There the watcher is the connection object (`ServerCnxn`)
//! and firing a watch writes to its socket; here the watcher is a [`SessionId`] and firing a
//! watch returns a [`event::Delivery`] for whoever owns the sockets. Watchers are kept in
//! ordered sets so every run delivers in the same order. When one session mixes modes on one
//! path we follow 3.9 (`WatchStats`: a set of modes, removed one by one); 3.8 kept one mode
//! per path and table, the last one registered. Every zkCli text was checked against zkCli 3.8
//! (`tests/zkcli_compat.rs`).

pub mod demo;
pub mod diagram;
pub mod event;
pub mod labs;
pub mod manager;
pub mod mode;
pub mod reconnect;
pub mod registry;
pub mod render;
pub mod server;
pub mod shell;
pub mod trace;

pub use ch01_znode::path::validate_path;
pub use ch01_znode::{SessionId, ZkError, Zxid};
pub use event::{Delivery, EventType, KeeperState, WatchedEvent};
pub use mode::{AddWatchMode, WatcherMode, WatcherType};
pub use reconnect::{NodeZxids, SetWatches};
pub use registry::{Table, Watch, WatchKind, WatchRegistry};
