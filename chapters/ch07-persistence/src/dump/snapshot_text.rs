//! `keeper snapshot FILE`: a snapshot printed as ZooKeeper's `SnapshotFormatter` prints it.
//!
//! The idea to take away: **a snapshot is a tree, and printing it is a walk from the root.**
//! Each node prints its stored Stat (`StatPersisted`, zxids in hex) and its data (base64
//! with `-d`, else its length); then come the sessions the snapshot holds, with their
//! timeouts and how many ephemeral nodes each owns, and the last zxid it covers.
//!
//! Upstream rebuilds the tree first and walks each node's children in the iteration order of
//! the `HashSet` that rebuilding filled, one name at a time in the order the file lists the
//! nodes; the sessions likewise come out of a `HashMap`. So this dump reads the file's order
//! ([`ch06_zab::snapshot_stream::decode_snapshot_in_order`]) and replays those hash tables
//! ([`super::java::hash_set_order`]): the output is upstream's, line for line, whichever
//! server wrote the file.

use std::collections::HashMap;
use std::io;

use base64::Engine as _;
use ch01_znode::{StatPersisted, Zxid};
use ch06_zab::snapshot_stream::decode_snapshot_in_order;

use super::java::{hash_set_order, long_hash, long_hex, padded_hex, string_hash};
use super::DumpError;
use crate::names::{zxid_of, SNAPSHOT_PREFIX};
use crate::snapshot_file::decode_snapshot_file;
use crate::txn_log::HEADER_LEN;
use ch01_znode::shell::printer::java_date;

/// `DataNode.addChild` makes each child set with `new HashSet<>(8)`.
const CHILD_SET_CAPACITY: usize = 8;
/// `SnapshotFormatter` reads the sessions into a `new HashMap<>()`: 16 buckets.
const SESSION_MAP_CAPACITY: usize = 16;

fn stat_lines(out: &mut impl io::Write, stat: &StatPersisted) -> io::Result<()> {
    writeln!(out, "  cZxid = {}", padded_hex(stat.czxid.0))?;
    writeln!(out, "  ctime = {}", java_date(stat.ctime))?;
    writeln!(out, "  mZxid = {}", padded_hex(stat.mzxid.0))?;
    writeln!(out, "  mtime = {}", java_date(stat.mtime))?;
    writeln!(out, "  pZxid = {}", padded_hex(stat.pzxid.0))?;
    writeln!(out, "  cversion = {}", stat.cversion)?;
    writeln!(out, "  dataVersion = {}", stat.version)?;
    writeln!(out, "  aclVersion = {}", stat.aversion)?;
    writeln!(
        out,
        "  ephemeralOwner = {}",
        padded_hex(stat.ephemeral_owner)
    )
}

// ANCHOR: dump_snapshot
/// Prints the snapshot file `name` (its bytes) as `SnapshotFormatter [-d]` does.
pub fn dump_snapshot(
    bytes: &[u8],
    name: &str,
    dump_data: bool,
    out: &mut impl io::Write,
) -> Result<(), DumpError> {
    let name_zxid = zxid_of(name, SNAPSHOT_PREFIX).unwrap_or(Zxid(-1));
    let file = decode_snapshot_file(bytes, name_zxid, false)
        .map_err(|(offset, why)| DumpError::Failed(format!("{name} at offset {offset}: {why}")))?;
    let body = &bytes[HEADER_LEN as usize..];
    let (_, order, _) = decode_snapshot_in_order(body, false, name_zxid)
        .map_err(|e| DumpError::Failed(format!("{name}: {e}")))?;
    let tree = &file.db.tree;

    // Each parent's children in the order the file lists them, as rebuilding adds them.
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for path in order.nodes.iter().filter(|p| *p != "/") {
        let cut = path.rfind('/').expect("a path below the root has a slash");
        let parent = if cut == 0 { "/" } else { &path[..cut] };
        children.entry(parent).or_default().push(&path[cut + 1..]);
    }

    // Upstream's node map holds the root twice, under "" and under "/", and counts both.
    writeln!(out, "ZNode Details (count={}):", order.nodes.len() + 1)?;
    let mut last = name_zxid.0;
    let mut stack = vec!["/".to_string()];
    while let Some(path) = stack.pop() {
        let node = tree.node(&path).expect("every listed path was rebuilt");
        writeln!(out, "----\n{path}")?;
        stat_lines(out, &node.stat)?;
        last = last.max(node.stat.mzxid.0).max(node.stat.pzxid.0);
        let data = node.data.unwrap_or_default();
        if dump_data {
            let text = base64::engine::general_purpose::STANDARD.encode(data);
            writeln!(out, "  data = {text}")?;
        } else {
            writeln!(out, "  dataLength = {}", data.len())?;
        }
        let names = children
            .get(path.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let hashes: Vec<i32> = names.iter().map(|n| string_hash(n)).collect();
        let prefix = if path == "/" { "" } else { path.as_str() };
        for i in hash_set_order(&hashes, CHILD_SET_CAPACITY)
            .into_iter()
            .rev()
        {
            stack.push(format!("{prefix}/{}", names[i]));
        }
    }
    writeln!(out, "----")?;

    writeln!(out, "Session Details (sid, timeout, ephemeralCount):")?;
    let hashes: Vec<i32> = order.sessions.iter().map(|s| long_hash(s.0)).collect();
    let mut owned: HashMap<i64, usize> = HashMap::new();
    for (_, node) in tree.walk() {
        *owned.entry(node.stat.ephemeral_owner).or_default() += 1;
    }
    for i in hash_set_order(&hashes, SESSION_MAP_CAPACITY) {
        let session = order.sessions[i];
        let timeout = file.db.sessions[&session];
        let count = owned.get(&session.0).copied().unwrap_or(0);
        writeln!(out, "{}, {timeout}, {count}", padded_hex(session.0))?;
    }
    writeln!(out, "----\nLast zxid: 0x{}", long_hex(last))?;
    Ok(())
}
// ANCHOR_END: dump_snapshot
