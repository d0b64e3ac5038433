//! The whole database in one pass: what follows a SNAP packet, and what a snapshot file holds.
//!
//! The idea to take away: **a snapshot is the tree written parents first, so it can be read
//! back in one pass with nothing but a parent lookup per node.** When a learner is too far
//! behind for a DIFF, the leader writes its database straight onto the quorum connection
//! after the SNAP packet (`LearnerHandler.syncFollower`, `ZKDatabase.serializeSnapshot`), and
//! the learner replaces its own with what it reads (`Learner.syncWithLeader`). A snapshot
//! file holds the same bytes after its header (chapter 7).
//!
//! | part | layout |
//! |---|---|
//! | sessions | `int count`, then `long sessionId, int timeout` each |
//! | ACL map | `int count`, then `long ref, vector<ACL>` each |
//! | nodes | `ustring path`, `buffer data`, `long acl ref`, `StatPersisted` each; the root's path is `""` |
//! | end of nodes | `ustring "/"` (no node is written with that path: the root is `""`) |
//! | after SNAP only | `ustring "BenWasHere"` |
//!
//! **ACLs by reference.** Most nodes share a handful of ACL lists, so upstream keeps each
//! distinct list once (`ReferenceCountedACLCache`) and a node stores a `long` naming it.
//! Upstream numbers lists 1, 2, … in the order the tree first used them and forgets one when
//! its last node lets go, so its numbers record the tree's history. Here they are numbered
//! afresh for each snapshot, in the order the walk first meets them, and only lists some node
//! uses are written: a reader only needs every reference to resolve. The one special
//! reference is -1, a null list read as `OPEN_ACL_UNSAFE`: upstream's constructor gives it to
//! `/`, `/zookeeper` and `/zookeeper/quota`, and they keep it until a setACL, which also moves
//! their aversion off 0. So a built-in node with aversion 0 and the open ACL is written with
//! -1, exactly as upstream would. Reading drops map entries no node uses
//! (`ReferenceCountedACLCache.purgeUnused`).
//!
//! **A reference the map lacks.** Upstream writes its map first and its nodes after, while
//! writes go on (chapter 7's fuzzy snapshots; a leader's SNAP too, ZOOKEEPER-3306), so a
//! node created or given a new list in between can name a list the map does not hold. Its
//! reader keeps the dangling number (`addUsage` ignores it) and the replayed create or setACL
//! makes it good. Here the node is read with [`unresolved_acl`], which grants nothing, and
//! the replayed create or setACL gives it its list (chapter 1's `DataTree::apply`).
//!
//! **Order.** Upstream walks each node's children in hash-set order and its sessions in
//! hash-map order; here children come in name order ([`DataTree::walk`]) and sessions in id
//! order. A reader cannot tell: it only needs each parent before its children. The bytes are
//! therefore identical to upstream's when the orders happen to agree, which
//! `tests/zookeeper_bytes.rs` arranges for one tree; for others it checks that ZooKeeper
//! reads our bytes back to the tree it built itself.
//!
//! Not here: the snapshot file's `FileHeader`, its Adler32 seals and the digest block
//! (persistence.md §3 parts 1, 6, 7), which chapter 7 adds around these bytes.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use ch01_znode::path::join;
use ch01_znode::Zxid;
use ch01_znode::{Acl, DataNode, DataTree, RestoreError, SessionId, StatPersisted, TreeBuilder};
use ch03_sessions::jute::{DecodeError, Reader, Writer};
use tokio::io::AsyncRead;

use crate::packet::{decode_bounded, QuorumReader, ReadError, Shortfall, DEFAULT_MAX_PACKET_LEN};
use crate::txn_codec::write_acl;

/// The string a leader writes after the snapshot that follows SNAP; a learner that reads
/// anything else drops the connection ("Missing signature").
pub const SIGNATURE: &str = "BenWasHere";

/// The path that ends the list of nodes.
pub const END_OF_NODES: &str = "/";

/// The nodes upstream's `DataTree` constructor creates with the null ACL reference (-1).
const NULL_ACL_NODES: [&str; 3] = ["/", "/zookeeper", "/zookeeper/quota"];

/// The null ACL reference, read as `OPEN_ACL_UNSAFE`.
const NULL_ACL_REF: i64 = -1;

/// The list a reader gives a node whose reference the map lacks, until the log replayed
/// over the snapshot gives the node its own: one entry that grants nobody anything, so the
/// node fails closed meanwhile (upstream's `convertLong` throws on such a node).
pub fn unresolved_acl() -> Vec<Acl> {
    vec![Acl::new(0, "world", "anyone")]
}

// ANCHOR: snapshot
/// What a snapshot holds: the tree and the session table (session → timeout in ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub tree: DataTree,
    pub sessions: BTreeMap<SessionId, i32>,
}
// ANCHOR_END: snapshot

// ---- writing ------------------------------------------------------------------------------

/// The ACL lists a snapshot's nodes use, numbered in the order its walk first met them.
#[derive(Clone, Debug, Default)]
struct AclRefs {
    lists: Vec<Arc<[Acl]>>,
    refs: HashMap<Arc<[Acl]>, i64>,
}

impl Hash for AclRefs {
    /// The lists alone: `refs` is their index, and a hash table keeps no fixed order.
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.lists.hash(h)
    }
}

impl AclRefs {
    /// The reference `node` (at `path`) is written with, numbering its list if it is new.
    fn number(&mut self, path: &str, node: DataNode) -> i64 {
        if let Some(acl_ref) = self.of(path, node) {
            return acl_ref;
        }
        self.lists.push(node.acl.clone());
        let acl_ref = self.lists.len() as i64;
        self.refs.insert(node.acl.clone(), acl_ref);
        acl_ref
    }

    /// The reference `node` is written with, if its list has a number.
    fn of(&self, path: &str, node: DataNode) -> Option<i64> {
        match has_null_acl(path, node) {
            true => Some(NULL_ACL_REF),
            false => self.refs.get(node.acl).copied(),
        }
    }

    /// The ACL map: `int count`, then `long ref, vector<ACL>` each.
    fn write(&self, w: &mut Writer) {
        w.write_len(Some(self.lists.len()));
        for (index, list) in self.lists.iter().enumerate() {
            w.write_long(index as i64 + 1);
            write_acl(w, list);
        }
    }
}

/// A built-in node that still has upstream's null ACL: no setACL has touched it.
fn has_null_acl(path: &str, node: DataNode) -> bool {
    NULL_ACL_NODES.contains(&path)
        && node.stat.aversion == 0
        && **node.acl == Acl::open_unsafe()[..]
}

fn write_stat(w: &mut Writer, stat: &StatPersisted) {
    w.write_long(stat.czxid.0);
    w.write_long(stat.mzxid.0);
    w.write_long(stat.ctime);
    w.write_long(stat.mtime);
    w.write_int(stat.version);
    w.write_int(stat.cversion);
    w.write_int(stat.aversion);
    w.write_long(stat.ephemeral_owner);
    w.write_long(stat.pzxid.0);
}

// ANCHOR: preorder
/// A preorder walk of a tree that may change between steps, parents before children and
/// children in name order, over the nodes that existed when it started. It holds its place
/// as one frame per level: a node's path and the name of the child it visited last, so its
/// memory is the depth of the tree, not its width, and a child deleted between steps is
/// skipped by name. A node created since the walk started (`czxid` past `as_of`) is left out
/// with its subtree, whose creates all come later still: the log after `as_of` replays
/// them, and without that rule a walk behind a stream of creates might never end.
#[derive(Clone, Debug, Hash)]
struct Preorder {
    as_of: Zxid,
    /// The path from the root to the node visited last.
    frames: Vec<Frame>,
    started: bool,
}

#[derive(Clone, Debug, Hash)]
struct Frame {
    path: String,
    /// The child visited last; `""` (no name is empty) before the first.
    last_child: String,
}

impl Preorder {
    fn new(as_of: Zxid) -> Preorder {
        Preorder {
            as_of,
            frames: Vec::new(),
            started: false,
        }
    }

    /// The next node of `tree` as it is now, and its path; `None` once the walk is over.
    fn next<'t>(&mut self, tree: &'t DataTree) -> Option<(&str, DataNode<'t>)> {
        if !self.started {
            self.started = true;
            let root = tree.node("/")?;
            self.frames.push(Frame {
                path: "/".into(),
                last_child: String::new(),
            });
            return Some(("/", root));
        }
        loop {
            let frame = self.frames.last_mut()?;
            // A parent deleted since it was visited took its subtree with it.
            let next = tree
                .node(&frame.path)
                .and_then(|parent| parent.children.next_after(&frame.last_child));
            let Some(name) = next else {
                self.frames.pop();
                continue;
            };
            frame.last_child.clear();
            frame.last_child.push_str(name);
            let path = join(&frame.path, name);
            let Some(node) = tree.node(&path).filter(|n| n.stat.czxid <= self.as_of) else {
                continue;
            };
            self.frames.push(Frame {
                path,
                last_child: String::new(),
            });
            let top = self.frames.last().expect("just pushed");
            return Some((&top.path, node));
        }
    }
}
// ANCHOR_END: preorder

/// How much one [`SnapshotWriter::advance`] may do: nodes visited, and bytes written (the
/// slice ends with the node that reaches the limit, so a slice is at most one node over).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub nodes: usize,
    pub bytes: usize,
}

impl Budget {
    /// No limit: the whole snapshot in one call.
    pub const ALL: Budget = Budget {
        nodes: usize::MAX,
        bytes: usize::MAX,
    };
}

/// Which of its two walks a [`SnapshotWriter`] is on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Pass {
    /// Numbering the ACL lists, which the file holds before the nodes.
    Numbering,
    /// Writing the nodes.
    Writing,
    Done,
}

// ANCHOR: snapshot_writer
/// A snapshot written a slice at a time, each slice's bytes handed out as they are made,
/// while the tree goes on changing: a **fuzzy** snapshot (`FileTxnSnapLog.save` on
/// `SyncRequestProcessor`'s snapshot thread).
///
/// [`SnapshotWriter::start`] writes the sessions as they are then; each
/// [`SnapshotWriter::advance`] walks on over the tree **as it is at that call**. A node
/// created after its parent's turn is missed, a node deleted before its turn is skipped, and
/// a node changed before its turn is written as changed, as upstream's walk
/// (`DataTree.serializeNode`) sees the live tree. So the snapshot holds some txns after the
/// zxid it started at and not others; replaying the log from that zxid on (each txn's rules
/// make a second application harmless) brings it to the live tree.
///
/// **Two walks.** The ACL map comes before the nodes in the file, and here lists are
/// numbered by the walk that first meets them (see the module doc), so a first walk only
/// numbers them and writes the map, and the second writes the nodes. Nothing but the map and
/// the walk's place is held between slices, so the memory a snapshot takes does not grow
/// with the tree. Both walks visit only nodes older than the start (see the walk), so a list
/// the second meets that the first did not number was given by a setACL since the start:
/// the node is written with the null reference, and replaying that setACL sets its list.
#[derive(Clone, Debug, Hash)]
pub struct SnapshotWriter {
    /// The last zxid applied when the walk started.
    as_of: Zxid,
    pass: Pass,
    walk: Preorder,
    acls: AclRefs,
    written: usize,
}

impl SnapshotWriter {
    /// Starts a snapshot of `tree` and `sessions`: writes the session table to `out` as of
    /// now.
    pub fn start(
        tree: &DataTree,
        sessions: &BTreeMap<SessionId, i32>,
        out: &mut Writer,
    ) -> SnapshotWriter {
        out.write_len(Some(sessions.len()));
        for (session, timeout_ms) in sessions {
            out.write_long(session.0);
            out.write_int(*timeout_ms);
        }
        SnapshotWriter {
            as_of: tree.last_processed_zxid(),
            pass: Pass::Numbering,
            walk: Preorder::new(tree.last_processed_zxid()),
            acls: AclRefs::default(),
            written: 0,
        }
    }

    /// Walks on over `tree` as it is now, within `budget`, writing to `out`: the ACL map
    /// once the first walk is over, then the nodes, then the end marker. True once the end
    /// marker is written.
    pub fn advance(&mut self, tree: &DataTree, budget: Budget, out: &mut Writer) -> bool {
        let from = out.len();
        let mut nodes = budget.nodes;
        while nodes > 0 && out.len() - from < budget.bytes {
            match self.pass {
                Pass::Numbering => match self.walk.next(tree) {
                    Some((path, node)) => {
                        self.acls.number(path, node);
                    }
                    None => {
                        self.acls.write(out);
                        self.walk = Preorder::new(self.as_of);
                        self.pass = Pass::Writing;
                        continue;
                    }
                },
                Pass::Writing => match self.walk.next(tree) {
                    Some((path, node)) => {
                        let acl_ref = self.acls.of(path, node).unwrap_or(NULL_ACL_REF);
                        write_node(out, path, node, acl_ref);
                        self.written += 1;
                    }
                    None => {
                        out.write_ustring(Some(END_OF_NODES));
                        self.pass = Pass::Done;
                    }
                },
                Pass::Done => break,
            }
            nodes -= 1;
        }
        self.is_done()
    }

    /// Nodes written so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// Whether the end marker is written.
    pub fn is_done(&self) -> bool {
        self.pass == Pass::Done
    }
}
// ANCHOR_END: snapshot_writer

/// One node: its path (the root's as `""`, so that `"/"` can mark the end), data, ACL
/// reference and `StatPersisted`.
fn write_node(out: &mut Writer, path: &str, node: DataNode, acl_ref: i64) {
    out.write_ustring(Some(if path == "/" { "" } else { path }));
    out.write_buffer(node.data);
    out.write_long(acl_ref);
    write_stat(out, &node.stat);
}

// ANCHOR: write_snapshot
/// Appends the sessions, the ACL map, every node and the end marker
/// (`SerializeUtils.serializeSnapshot`): a [`SnapshotWriter`] that walks the whole tree in
/// one go, so nothing changes under it.
pub fn write_snapshot(w: &mut Writer, tree: &DataTree, sessions: &BTreeMap<SessionId, i32>) {
    let mut writer = SnapshotWriter::start(tree, sessions, w);
    writer.advance(tree, Budget::ALL, w);
}
// ANCHOR_END: write_snapshot

/// The snapshot's bytes, as a snapshot file holds them after its header.
pub fn encode_snapshot(tree: &DataTree, sessions: &BTreeMap<SessionId, i32>) -> Vec<u8> {
    let mut w = Writer::new();
    write_snapshot(&mut w, tree, sessions);
    w.into_bytes()
}

/// What a leader writes right after a SNAP packet: the snapshot, then [`SIGNATURE`].
pub fn encode_snap_body(tree: &DataTree, sessions: &BTreeMap<SessionId, i32>) -> Vec<u8> {
    let mut w = Writer::new();
    write_snapshot(&mut w, tree, sessions);
    w.write_ustring(Some(SIGNATURE));
    w.into_bytes()
}

// ---- reading ------------------------------------------------------------------------------

/// Why bytes are not a snapshot (yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The bytes so far are the start of a snapshot; at least `needed` more must come.
    Incomplete { needed: usize },
    /// One item (a node, an ACL list) of at least `len` bytes, over the limit `max`.
    TooLarge { len: usize, max: usize },
    /// Bytes that break jute's rules (a negative count, a null path, a null ACL list).
    Malformed(DecodeError),
    /// The nodes are not a tree written parents first.
    Tree(RestoreError),
    /// Something other than `BenWasHere` after the snapshot that followed a SNAP.
    BadSignature { found: String },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Incomplete { needed } => {
                write!(f, "snapshot cut short: at least {needed} more bytes needed")
            }
            SnapshotError::TooLarge { len, max } => {
                write!(
                    f,
                    "snapshot item of at least {len} bytes, over the limit of {max}"
                )
            }
            SnapshotError::Malformed(e) => write!(f, "malformed snapshot: {e}"),
            SnapshotError::Tree(e) => write!(f, "snapshot: {e}"),
            SnapshotError::BadSignature { found } => {
                write!(f, "missing signature after the snapshot: got {found:?}")
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

impl From<Shortfall> for SnapshotError {
    fn from(s: Shortfall) -> SnapshotError {
        match s {
            Shortfall::Incomplete { needed } => SnapshotError::Incomplete { needed },
            Shortfall::TooLarge { len, max } => SnapshotError::TooLarge { len, max },
            Shortfall::Invalid(e) => SnapshotError::Malformed(e),
        }
    }
}

/// Where a [`SnapshotDecoder`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    SessionCount,
    Sessions { left: u32 },
    AclCount,
    Acls { left: u32 },
    Nodes,
    Signature,
    Done,
}

/// One node as the stream holds it.
struct NodeItem {
    path: String,
    data: Option<Vec<u8>>,
    acl_ref: i64,
    stat: StatPersisted,
}

// ANCHOR: snapshot_decoder
/// Reads a snapshot item by item from bytes that arrive in pieces, holding on to nothing but
/// the tree it is rebuilding (`SerializeUtils.deserializeSnapshot`, `DataTree.deserialize`).
pub struct SnapshotDecoder {
    part: Part,
    /// Also read the [`SIGNATURE`] after the end marker (the SNAP stream).
    signed: bool,
    max_item_len: usize,
    /// What the last incomplete item still lacked.
    needed: usize,
    sessions: BTreeMap<SessionId, i32>,
    /// The file's ACL map. A handful of lists as a rule: a B-tree finds a reference in a
    /// few integer comparisons, cheaper than hashing it once per node.
    acls: BTreeMap<i64, Vec<Acl>>,
    tree: TreeBuilder,
    /// The order items came in, when asked for ([`decode_snapshot_in_order`]).
    order: Option<FileOrder>,
}
// ANCHOR_END: snapshot_decoder

/// The order a snapshot lists its sessions and nodes in. A reader rebuilding the tree does
/// not need it, but upstream's `SnapshotFormatter` prints children in the iteration order of
/// the hash sets it fills in this order, so a tool that prints as it does needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileOrder {
    pub sessions: Vec<SessionId>,
    /// Node paths, the root as `/`.
    pub nodes: Vec<String>,
}

/// Reads a count: jute writes it as an `int`, and a negative one is no count.
fn read_count(r: &mut Reader<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let count = r.read_int(what)?;
    u32::try_from(count).map_err(|_| DecodeError::InvalidValue {
        what,
        value: count.into(),
    })
}

fn read_stat(r: &mut Reader<'_>) -> Result<StatPersisted, DecodeError> {
    Ok(StatPersisted {
        czxid: Zxid(r.read_long("StatPersisted.czxid")?),
        mzxid: Zxid(r.read_long("StatPersisted.mzxid")?),
        ctime: r.read_long("StatPersisted.ctime")?,
        mtime: r.read_long("StatPersisted.mtime")?,
        version: r.read_int("StatPersisted.version")?,
        cversion: r.read_int("StatPersisted.cversion")?,
        aversion: r.read_int("StatPersisted.aversion")?,
        ephemeral_owner: r.read_long("StatPersisted.ephemeralOwner")?,
        pzxid: Zxid(r.read_long("StatPersisted.pzxid")?),
    })
}

/// An ACL list of the map: unlike elsewhere, a null one is an error (upstream throws
/// "missing acls").
fn read_acl_list(r: &mut Reader<'_>) -> Result<Vec<Acl>, DecodeError> {
    let what = "ACL map: list";
    let count = r
        .read_len(what)?
        .ok_or(DecodeError::UnexpectedNull { what })?;
    (0..count).map(|_| r.field::<Acl>("ACL map: ACL")).collect()
}

/// A node, or `None` for the end marker.
fn read_node(r: &mut Reader<'_>) -> Result<Option<NodeItem>, DecodeError> {
    let path: String = r.field("node path")?;
    if path == END_OF_NODES {
        return Ok(None);
    }
    Ok(Some(NodeItem {
        path,
        data: r.read_buffer("DataNode.data")?,
        acl_ref: r.read_long("DataNode.acl")?,
        stat: read_stat(r)?,
    }))
}

// ANCHOR: count_nodes
/// How many nodes the whole snapshot at the front of `bytes` lists, found by skipping over
/// them: a quick first pass, so that the tree's table is sized once instead of doubling its
/// way to a million nodes. `None` if the bytes do not parse; the real pass says why.
fn count_nodes(bytes: &[u8]) -> Option<usize> {
    /// A node's ACL reference and `StatPersisted`: one long, then 6 longs and 3 ints.
    const FIXED: usize = 8 + 6 * 8 + 3 * 4;
    let mut r = Reader::new(bytes);
    let sessions = read_count(&mut r, "sessions").ok()? as usize;
    r.take(sessions.checked_mul(12)?, "sessions").ok()?;
    for _ in 0..read_count(&mut r, "ACL map").ok()? {
        r.read_long("ACL map: ref").ok()?;
        read_acl_list(&mut r).ok()?;
    }
    let mut nodes = 0;
    loop {
        let path_len = r.read_len("node path").ok()??;
        if r.take(path_len, "node path").ok()? == END_OF_NODES.as_bytes() {
            return Some(nodes);
        }
        let data_len = r.read_len("DataNode.data").ok()?.unwrap_or(0);
        r.take(data_len + FIXED, "node").ok()?;
        nodes += 1;
    }
}
// ANCHOR_END: count_nodes

impl SnapshotDecoder {
    /// A decoder for a snapshot's bytes (sessions to end marker), as a file holds them;
    /// `extended_types` as for [`DataTree::with_extended_types`].
    pub fn new(extended_types: bool) -> SnapshotDecoder {
        SnapshotDecoder {
            part: Part::SessionCount,
            signed: false,
            max_item_len: DEFAULT_MAX_PACKET_LEN,
            needed: 0,
            sessions: BTreeMap::new(),
            acls: BTreeMap::new(),
            tree: TreeBuilder::new(extended_types),
            order: None,
        }
    }

    /// The same decoder, also reading the [`SIGNATURE`] that ends the SNAP stream.
    pub fn signed(self) -> SnapshotDecoder {
        SnapshotDecoder {
            signed: true,
            ..self
        }
    }

    /// The same decoder, refusing items (a node with its path and data, one ACL list) over
    /// `max_item_len` bytes.
    pub fn with_max_item_len(self, max_item_len: usize) -> SnapshotDecoder {
        SnapshotDecoder {
            max_item_len,
            ..self
        }
    }

    /// The same decoder, with room for `nodes` nodes in the tree it builds.
    pub fn expecting_nodes(self, nodes: usize) -> SnapshotDecoder {
        SnapshotDecoder {
            tree: self.tree.with_capacity(nodes),
            ..self
        }
    }

    /// True once the end marker (and the signature, if signed) has been read.
    pub fn is_done(&self) -> bool {
        self.part == Part::Done
    }

    // ANCHOR: feed
    /// Decodes as many whole items as the front of `buf` holds and returns the bytes they
    /// took. An item cut off at the end of `buf` is left for a later call with more bytes.
    pub fn feed(&mut self, buf: &[u8]) -> Result<usize, SnapshotError> {
        let mut used = 0;
        while !self.is_done() {
            match self.step(&buf[used..]) {
                Ok(n) => used += n,
                Err(SnapshotError::Incomplete { needed }) => {
                    self.needed = needed;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(used)
    }
    // ANCHOR_END: feed

    /// Decodes the next item from the front of `buf`.
    fn step(&mut self, buf: &[u8]) -> Result<usize, SnapshotError> {
        let max = self.max_item_len;
        match self.part {
            Part::SessionCount => {
                let (count, used) = decode_bounded(buf, max, |r| read_count(r, "sessions"))?;
                self.part = match count {
                    0 => Part::AclCount,
                    left => Part::Sessions { left },
                };
                Ok(used)
            }
            Part::Sessions { left } => {
                let ((session, timeout), used) = decode_bounded(buf, max, |r| {
                    Ok((r.read_long("session id")?, r.read_int("session timeout")?))
                })?;
                self.sessions.insert(SessionId(session), timeout);
                if let Some(order) = &mut self.order {
                    order.sessions.push(SessionId(session));
                }
                self.part = match left - 1 {
                    0 => Part::AclCount,
                    left => Part::Sessions { left },
                };
                Ok(used)
            }
            Part::AclCount => {
                let (count, used) = decode_bounded(buf, max, |r| read_count(r, "ACL map"))?;
                self.part = match count {
                    0 => Part::Nodes,
                    left => Part::Acls { left },
                };
                Ok(used)
            }
            Part::Acls { left } => {
                let ((acl_ref, list), used) = decode_bounded(buf, max, |r| {
                    Ok((r.read_long("ACL map: ref")?, read_acl_list(r)?))
                })?;
                self.acls.insert(acl_ref, list);
                self.part = match left - 1 {
                    0 => Part::Nodes,
                    left => Part::Acls { left },
                };
                Ok(used)
            }
            Part::Nodes => {
                let (node, used) = decode_bounded(buf, max, read_node)?;
                match node {
                    Some(node) => self.add(node)?,
                    None if self.signed => self.part = Part::Signature,
                    None => self.part = Part::Done,
                }
                Ok(used)
            }
            Part::Signature => {
                let (found, used) = decode_bounded(buf, max, |r| r.field::<String>("signature"))?;
                if found != SIGNATURE {
                    return Err(SnapshotError::BadSignature { found });
                }
                self.part = Part::Done;
                Ok(used)
            }
            Part::Done => Ok(0),
        }
    }

    // ANCHOR: add_node
    /// Resolves a node's ACL reference and hands it to the tree.
    fn add(&mut self, node: NodeItem) -> Result<(), SnapshotError> {
        // The root is written as "" (upstream keeps it under both names).
        let path = match node.path.is_empty() {
            true => "/".to_string(),
            false => node.path,
        };
        let fallback;
        let acl: &[Acl] = match node.acl_ref {
            NULL_ACL_REF => {
                fallback = Acl::open_unsafe();
                &fallback
            }
            acl_ref => match self.acls.get(&acl_ref) {
                Some(list) => list,
                // A fuzzy snapshot's node given its list after the map was written: the
                // log replayed over the snapshot gives it back (see the module doc).
                None => {
                    fallback = unresolved_acl();
                    &fallback
                }
            },
        };
        // The tree copies the path and the data into the node's one allocation.
        let added = self.tree.add(&path, node.data.as_deref(), acl, node.stat);
        added.map_err(SnapshotError::Tree)?;
        if let Some(order) = &mut self.order {
            order.nodes.push(path);
        }
        Ok(())
    }
    // ANCHOR_END: add_node

    /// The snapshot, as of `last_processed_zxid` (the SNAP packet's zxid, or the zxid in a
    /// snapshot file's name): the stream does not say.
    pub fn finish(self, last_processed_zxid: Zxid) -> Result<Snapshot, SnapshotError> {
        if !self.is_done() {
            return Err(SnapshotError::Incomplete {
                needed: self.needed.max(1),
            });
        }
        Ok(Snapshot {
            tree: self
                .tree
                .finish(last_processed_zxid)
                .map_err(SnapshotError::Tree)?,
            sessions: self.sessions,
        })
    }
}

fn decode_all(
    mut decoder: SnapshotDecoder,
    bytes: &[u8],
    last_processed_zxid: Zxid,
) -> Result<(Snapshot, usize), SnapshotError> {
    let used = decoder.feed(bytes)?;
    Ok((decoder.finish(last_processed_zxid)?, used))
}

/// Reads a snapshot (sessions to end marker) from the front of `bytes`, which must hold all
/// of it, and says how many bytes it took.
pub fn decode_snapshot(
    bytes: &[u8],
    extended_types: bool,
    last_processed_zxid: Zxid,
) -> Result<(Snapshot, usize), SnapshotError> {
    let nodes = count_nodes(bytes).unwrap_or(0);
    decode_all(
        SnapshotDecoder::new(extended_types).expecting_nodes(nodes),
        bytes,
        last_processed_zxid,
    )
}

/// [`decode_snapshot`], also saying in which order the file lists sessions and nodes.
pub fn decode_snapshot_in_order(
    bytes: &[u8],
    extended_types: bool,
    last_processed_zxid: Zxid,
) -> Result<(Snapshot, FileOrder, usize), SnapshotError> {
    let mut decoder = SnapshotDecoder::new(extended_types);
    decoder.order = Some(FileOrder::default());
    let used = decoder.feed(bytes)?;
    let order = decoder.order.take().unwrap_or_default();
    Ok((decoder.finish(last_processed_zxid)?, order, used))
}

/// Reads what follows a SNAP packet (the snapshot and [`SIGNATURE`]) from the front of
/// `bytes`, which must hold all of it.
pub fn decode_snap_body(
    bytes: &[u8],
    extended_types: bool,
    snap_zxid: Zxid,
) -> Result<(Snapshot, usize), SnapshotError> {
    decode_all(
        SnapshotDecoder::new(extended_types).signed(),
        bytes,
        snap_zxid,
    )
}

// ANCHOR: read_snap_body
/// Reads what follows a SNAP packet from the quorum connection, item by item, as
/// `Learner.syncWithLeader` does; `snap_zxid` is the SNAP packet's zxid, which becomes the
/// tree's last processed zxid. Each item is bounded by the reader's limit.
pub async fn read_snap_body<R: AsyncRead + Unpin>(
    reader: &mut QuorumReader<R>,
    extended_types: bool,
    snap_zxid: Zxid,
) -> Result<Snapshot, ReadError<SnapshotError>> {
    let mut decoder = SnapshotDecoder::new(extended_types)
        .signed()
        .with_max_item_len(reader.max_len());
    loop {
        let used = decoder
            .feed(reader.buffered())
            .map_err(ReadError::Invalid)?;
        reader.consume(used);
        if decoder.is_done() {
            return decoder.finish(snap_zxid).map_err(ReadError::Invalid);
        }
        if !reader.fill(decoder.needed).await? {
            let buffered = reader.buffered().len();
            return Err(ReadError::Closed { buffered });
        }
    }
}
// ANCHOR_END: read_snap_body

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arb;
    use crate::packet::{write_packet, Packet};
    use ch01_znode::{CreateMode, Request, Standalone};
    use proptest::prelude::*;
    use tokio::io::AsyncWriteExt;

    /// `new DataTree()` as ZooKeeper 3.8's `DataTree.serialize` writes it (captured from the
    /// real class), after an empty session count: one ACL list (READ_ACL_UNSAFE, for
    /// `/zookeeper/config`), the root as `""` and the built-ins with reference -1.
    const FRESH_TREE: &str = concat!(
        "00000000", // no sessions
        "00000001", // one ACL list:
        "0000000000000001",
        "00000001",
        "00000001",
        "00000005776f726c64",   // world
        "00000006616e796f6e65", // anyone
        // "" (the root): empty data, ACL -1, Stat all zero
        "00000000",
        "00000000",
        "ffffffffffffffff",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        // /zookeeper
        "0000000a2f7a6f6f6b6565706572",
        "00000000",
        "ffffffffffffffff",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        // /zookeeper/config: ACL 1, aversion -1
        "000000112f7a6f6f6b65657065722f636f6e666967",
        "00000000",
        "0000000000000001",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000ffffffff",
        "00000000000000000000000000000000",
        // /zookeeper/quota
        "000000102f7a6f6f6b65657065722f71756f7461",
        "00000000",
        "ffffffffffffffff",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000",
        "00000000000000000000000000000000",
        "000000012f", // "/": the end
    );

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn no_sessions() -> BTreeMap<SessionId, i32> {
        BTreeMap::new()
    }

    /// A request to create a persistent, empty node at `path` with `acl`.
    fn create(path: &str, acl: Vec<Acl>) -> Request {
        Request::Create {
            path: path.into(),
            data: None,
            acl,
            mode: CreateMode::Persistent,
        }
    }

    #[test]
    fn a_fresh_tree_is_written_as_zookeeper_writes_a_fresh_data_tree() {
        let bytes = encode_snapshot(&DataTree::new(), &no_sessions());
        assert_eq!(bytes, hex(FRESH_TREE));
        let (read, used) = decode_snapshot(&bytes, false, Zxid::ZERO).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(read.tree, DataTree::new());
    }

    #[test]
    fn acl_lists_are_numbered_in_walk_order_and_the_built_ins_keep_the_null_reference() {
        let mut server = Standalone::default();
        server.submit(SessionId(1), 1, 10, &create("/b", Acl::read_unsafe()));
        server.submit(SessionId(1), 2, 10, &create("/a", Acl::open_unsafe()));
        let tree = server.tree;
        let mut acls = AclRefs::default();
        let refs: Vec<(String, i64)> = tree
            .walk()
            .map(|(path, node)| {
                let acl_ref = acls.number(&path, node);
                (path, acl_ref)
            })
            .collect();
        // The walk meets /a (open), then /b and /zookeeper/config (both read-only).
        let lists: Vec<&[Acl]> = acls.lists.iter().map(|l| &l[..]).collect();
        assert_eq!(lists, [&Acl::open_unsafe()[..], &Acl::read_unsafe()[..]]);
        let expected = [
            ("/", -1),
            ("/a", 1),
            ("/b", 2),
            ("/zookeeper", -1),
            ("/zookeeper/config", 2),
            ("/zookeeper/quota", -1),
        ];
        let expected: Vec<(String, i64)> =
            expected.iter().map(|(p, r)| (p.to_string(), *r)).collect();
        assert_eq!(refs, expected);
    }

    #[test]
    fn a_root_whose_acl_was_set_gets_a_numbered_reference() {
        let mut server = Standalone::default();
        let set_acl = Request::SetAcl {
            path: "/".into(),
            acl: Acl::open_unsafe(),
            version: -1,
        };
        server.submit(SessionId(1), 1, 10, &set_acl);
        let mut acls = AclRefs::default();
        let root = server.tree.node("/").unwrap();
        assert_eq!(acls.number("/", root), 1);
        let bytes = encode_snapshot(&server.tree, &no_sessions());
        let last = server.tree.last_processed_zxid();
        assert_eq!(
            decode_snapshot(&bytes, false, last).unwrap().0.tree,
            server.tree
        );
    }

    /// A snapshot whose only node is the root, with `acl_ref`, and the ACL map `map`.
    fn root_only(map: &[(i64, Option<Vec<Acl>>)], acl_ref: i64) -> Vec<u8> {
        let mut w = Writer::new();
        w.write_int(0);
        w.write_len(Some(map.len()));
        for (list_ref, list) in map {
            w.write_long(*list_ref);
            match list {
                Some(list) => write_acl(&mut w, list),
                None => w.write_len(None),
            }
        }
        w.write_ustring(Some(""));
        w.write_buffer(None);
        w.write_long(acl_ref);
        write_stat(&mut w, &StatPersisted::default());
        w.write_ustring(Some(END_OF_NODES));
        w.into_bytes()
    }

    #[test]
    fn references_resolve_through_the_map_and_unused_lists_are_dropped() {
        let map = [(7, Some(Acl::read_unsafe())), (9, Some(vec![]))];
        let (read, _) = decode_snapshot(&root_only(&map, 7), false, Zxid(3)).unwrap();
        let root = read.tree.node("/").unwrap();
        assert_eq!(**root.acl, Acl::read_unsafe()[..]);
        assert_eq!(read.tree.last_processed_zxid(), Zxid(3));

        let (read, _) = decode_snapshot(&root_only(&map, -1), false, Zxid(3)).unwrap();
        assert_eq!(**read.tree.node("/").unwrap().acl, Acl::open_unsafe()[..]);

        let null_list = [(7, None)];
        assert!(matches!(
            decode_snapshot(&root_only(&null_list, 7), false, Zxid(3)),
            Err(SnapshotError::Malformed(DecodeError::UnexpectedNull { .. }))
        ));
    }

    /// A node that names a list the map lacks (written after the map, by a fuzzy walk) is
    /// read granting nothing, and the create replayed over the snapshot gives it its list.
    #[test]
    fn a_reference_the_map_lacks_grants_nothing_until_the_replayed_create_gives_the_list() {
        let mut live = Standalone::default();
        live.submit(SessionId(1), 1, 10, &create("/app", Acl::open_unsafe()));
        let snapshot_zxid = live.tree.last_processed_zxid();
        let secret = vec![Acl::new(ch01_znode::acl::perms::READ, "digest", "alice:x")];
        let (txn, _) = live.submit(SessionId(1), 2, 10, &create("/app/secret", secret.clone()));

        // The map as it was when the walk started (no list 2 for /app/secret yet), the nodes
        // as the walk met them (/app/secret among them, naming list 2).
        let mut w = Writer::new();
        w.write_int(0);
        w.write_len(Some(2));
        w.write_long(1);
        write_acl(&mut w, &Acl::open_unsafe());
        w.write_long(3);
        write_acl(&mut w, &Acl::read_unsafe());
        for (path, node) in live.tree.walk() {
            let acl_ref = match path.as_str() {
                "/app" => 1,
                "/app/secret" => 2,
                "/zookeeper/config" => 3,
                _ => NULL_ACL_REF,
            };
            write_node(&mut w, &path, node, acl_ref);
        }
        w.write_ustring(Some(END_OF_NODES));

        let (mut read, _) = decode_snapshot(&w.into_bytes(), false, snapshot_zxid).unwrap();
        let before = read.tree.node("/app/secret").unwrap();
        assert_eq!(**before.acl, unresolved_acl()[..]);
        let stat_before = before.stat;

        read.tree.apply(&txn);
        let after = read.tree.node("/app/secret").unwrap();
        assert_eq!(**after.acl, secret[..]);
        assert_eq!(
            after.stat, stat_before,
            "the replayed create changes no stat"
        );
        assert_eq!(read.tree.digest(), live.tree.digest());
    }

    #[test]
    fn the_snap_stream_must_end_with_the_signature() {
        let mut bytes = encode_snapshot(&DataTree::new(), &no_sessions());
        let mut w = Writer::new();
        w.write_ustring(Some("BenWasNotHere"));
        bytes.extend(w.into_bytes());
        assert_eq!(
            decode_snap_body(&bytes, false, Zxid::ZERO),
            Err(SnapshotError::BadSignature {
                found: "BenWasNotHere".into()
            })
        );
    }

    #[test]
    fn a_node_over_the_item_limit_is_refused_before_its_data_arrives() {
        let mut w = Writer::new();
        w.write_int(0);
        w.write_int(0);
        w.write_ustring(Some(""));
        w.write_int(1 << 30); // a data length of 1 GiB, and no data
        let mut decoder = SnapshotDecoder::new(false).with_max_item_len(1024);
        assert_eq!(
            decoder.feed(&w.into_bytes()),
            Err(SnapshotError::TooLarge {
                len: 8 + (1 << 30),
                max: 1024
            })
        );
    }

    #[tokio::test]
    async fn a_learner_reads_snap_its_snapshot_and_the_next_packet_from_one_stream() {
        let mut server = Standalone::default();
        let create = Request::Create {
            path: "/a".into(),
            data: Some(vec![7; 3000]),
            acl: Acl::open_unsafe(),
            mode: CreateMode::Ephemeral,
        };
        server.submit(SessionId(5), 1, 10, &create);
        let sessions = BTreeMap::from([(SessionId(5), 4000)]);
        let zxid = server.tree.last_processed_zxid();
        let body = encode_snap_body(&server.tree, &sessions);

        let (mut tx, rx) = tokio::io::duplex(100); // the snapshot arrives in pieces
        let leader = tokio::spawn(async move {
            write_packet(&mut tx, &Packet::Snap(zxid).to_raw()).await?;
            tx.write_all(&body).await?;
            write_packet(&mut tx, &Packet::UpToDate.to_raw()).await
        });
        let mut reader = QuorumReader::new(rx);
        let snap = reader.read_packet().await.unwrap().unwrap();
        assert_eq!(Packet::from_raw(&snap), Ok(Packet::Snap(zxid)));
        let snapshot = read_snap_body(&mut reader, false, zxid).await.unwrap();
        assert_eq!(snapshot.tree, server.tree);
        assert_eq!(snapshot.sessions, sessions);
        let next = reader.read_packet().await.unwrap().unwrap();
        assert_eq!(Packet::from_raw(&next), Ok(Packet::UpToDate));
        leader.await.unwrap().unwrap();
    }

    proptest! {
        #[test]
        fn every_tree_and_session_table_reads_back_as_written(
            tree in arb::tree(),
            sessions in arb::sessions(),
        ) {
            let zxid = tree.last_processed_zxid();
            let file = encode_snapshot(&tree, &sessions);
            prop_assert_eq!(count_nodes(&file), Some(tree.node_count()));
            prop_assert_eq!(count_nodes(&file[..file.len() - 1]), None);
            let (read, used) = decode_snapshot(&file, true, zxid).unwrap();
            prop_assert_eq!(used, file.len());
            prop_assert_eq!(&read.tree, &tree);
            prop_assert_eq!(&read.sessions, &sessions);

            let body = encode_snap_body(&tree, &sessions);
            let (read, used) = decode_snap_body(&body, true, zxid).unwrap();
            prop_assert_eq!(used, body.len());
            prop_assert_eq!(read, Snapshot { tree, sessions });
        }

        #[test]
        fn bytes_fed_in_any_pieces_read_the_same_and_a_cut_stream_is_incomplete(
            tree in arb::tree(),
            sessions in arb::sessions(),
            piece in 1usize..40,
        ) {
            let body = encode_snap_body(&tree, &sessions);
            let mut decoder = SnapshotDecoder::new(true).signed();
            let mut pending = Vec::new();
            for chunk in body.chunks(piece) {
                prop_assert!(!decoder.is_done());
                pending.extend_from_slice(chunk);
                let used = decoder.feed(&pending).unwrap();
                pending.drain(..used);
            }
            prop_assert!(decoder.is_done() && pending.is_empty());
            let zxid = tree.last_processed_zxid();
            prop_assert_eq!(decoder.finish(zxid).unwrap(), Snapshot { tree, sessions });

            let cut = &body[..body.len() - piece.min(body.len())];
            let decoded = decode_snap_body(cut, true, zxid);
            prop_assert!(matches!(decoded, Err(SnapshotError::Incomplete { .. })), "{:?}", decoded);
        }

        #[test]
        fn random_bytes_are_a_snapshot_or_an_error_never_a_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let _ = decode_snap_body(&bytes, false, Zxid::ZERO);
        }

        #[test]
        fn a_damaged_snapshot_is_a_snapshot_or_an_error_never_a_panic(
            tree in arb::tree(),
            at in any::<proptest::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let mut bytes = encode_snap_body(&tree, &no_sessions());
            let at = at.index(bytes.len());
            bytes[at] = byte;
            let _ = decode_snap_body(&bytes, true, Zxid::ZERO);
        }
    }
}
