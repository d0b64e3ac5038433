//! # Chapter 1: the znode tree
//!
//! ZooKeeper stores a small tree of named nodes — *znodes* — each holding a few bytes of data
//! and an exact record of its own history, the [`Stat`]. Everything ZooKeeper is used for
//! (naming, configuration, group membership, locks, leader election) is a pattern of
//! creating, reading, changing and deleting znodes, and of *watching* them change. This
//! chapter builds the tree and answers one question: **how can a change be described so
//! exactly that every server applying it ends with the same tree, Stat for Stat?**
//!
//! The answer is ZooKeeper's split of a write in two:
//!
//! 1. [`prep()`] checks a client [`Request`] against the tree and decides everything about the
//!    change — the sequence suffix, the new version, the parent's new cversion — producing a
//!    [`Txn`] stamped with a [`Zxid`], the leader's time and the [`SessionId`]. A request that
//!    fails (NodeExists, BadVersion, …) becomes an *error txn*; it still takes a zxid.
//! 2. [`DataTree::apply`] performs the txn. It reads no clock and chooses nothing, so applying
//!    the same txns in the same order always gives the same tree. It reports the watch
//!    triggers the change fires (chapter 2 delivers them).
//!
//! # Rules this chapter implements (ZooKeeper 3.5–3.8)
//!
//! * Paths are checked by PathUtils' rule ([`path::validate_path`]).
//! * The tree starts with `/zookeeper`, `/zookeeper/quota` and `/zookeeper/config`.
//! * Node types ([`CreateMode`]): persistent, ephemeral (owned by a session, deleted when it
//!   closes, never a parent), sequential (a 10-digit suffix from the parent's stored
//!   cversion), container and TTL.
//! * The eleven Stat fields, with ZooKeeper's derived cversion (`2 × creates − children`).
//! * Errors as [`ZkError`], the `KeeperException.Code` numbers.
//!
//! # Layout
//!
//! * [`zxid`] — `Zxid` (epoch, counter, `0x..` display) and `SessionId`.
//! * [`path`] — path validation and parent/child splitting.
//! * [`error`] — `ZkError`, ZooKeeper's error codes.
//! * [`acl`] — ACLs stored as data (enforced in chapter 3).
//! * [`mode`] — `CreateMode` and the `EphemeralOwner` a node stores.
//! * [`stat`] — `Stat` as clients see it, `StatPersisted` as the server keeps it.
//! * [`txn`] — `Request` (what a client asks) and `Txn` (what was decided).
//! * [`mod@prep`] — request → txn (`PrepRequestProcessor`).
//! * [`tree`] — `DataTree` and `apply` (`DataTree`, `DataNode`), the quota counts and the tree
//!   digest (`DigestCalculator`: a sum of per-node CRC32s, updated in O(1) per change) it keeps;
//!   the node table (`NodeHashMapImpl`) and a node's child set, each kept small per znode;
//!   `walk` and `TreeBuilder`, the tree as a list of nodes and back, for snapshots.
//! * [`quota`] — the quota nodes' paths and their text (`Quotas`, `StatsTrack`).
//! * [`server`] — `Standalone`: a zxid counter in front of prep and apply.
//! * [`watch`] — `EventType` and the `WatchTrigger`s `apply` reports; `KeeperState` and
//!   `WatchedEvent`, what a watcher is told.
//! * [`shell`] — a zkCli-style shell: parser, backend trait, printer.
//! * [`trace`] — the chapter's `Event`s, and the replay behind `--trace`.
//! * [`cli`] — the flags the chapter binaries share (`--trace`'s output, the shell's input).
//!
//! # How this differs from ZooKeeper
//!
//! * Upstream preps request *n+1* while request *n* is still in flight, so it keeps a queue of
//!   pending `ChangeRecord`s (`PrepRequestProcessor.outstandingChanges`). Here a request is
//!   applied before the next is prepped, so the tree is the whole view; [`prep_changes`]
//!   hands out the records a txn leaves for the server of chapter 3, which keeps them while a
//!   txn waits for its quorum (chapter 6).
//! * Upstream's `DataTree` keeps children in a `HashSet` (zkCli sorts them for display); ours
//!   are kept sorted (packed into runs of names), so iteration order is deterministic without
//!   sorting.
//! * ACLs are stored and versioned but not enforced; the container/TTL reaper is not
//!   implemented (the nodes can be created and behave as persistent nodes). Quotas are
//!   counted, never enforced, as in 3.8 with its default `zookeeper.enforceQuota=false`.

pub mod acl;
pub mod cli;
pub mod error;
pub mod mode;
pub mod path;
pub mod prep;
pub mod quota;
pub mod server;
pub mod shell;
pub mod trace;

pub mod stat;

pub mod tree;
pub mod txn;
pub mod watch;
pub mod zxid;

pub use acl::{Acl, Id};
pub use error::ZkError;
pub use mode::{CreateMode, EphemeralOwner};
pub use prep::{prep, prep_changes, Change, ChangeRecord, TreeView};
pub use server::Standalone;
pub use stat::{Stat, StatPersisted};
pub use tree::{Applied, DataNode, DataTree, RestoreError, TreeBuilder, TxnResult};
pub use txn::{Request, Txn, TxnHeader, TxnOp};
pub use watch::{AddWatchMode, EventType, KeeperState, WatchTrigger, WatchedEvent, WatcherType};
pub use zxid::{Epoch, SessionId, Sid, Zxid};
