//! The tree digest: one number that changes whenever any znode does.
//!
//! The idea to take away: **the digest of a tree is the sum of a hash of each node, so it can
//! be kept up to date in O(1) per change** — subtract the node's old hash, add its new one —
//! and two servers whose digests differ after the same txn know at once that their trees have
//! diverged. ZooKeeper 3.6+ logs the leader's digest with every txn (`TxnDigest`) and in every
//! snapshot (`ZxidDigest`); a server applying the txn, or loading the snapshot, compares its
//! own digest and reports a mismatch (`DataTree.compareDigest`, `DIGEST_MISMATCHES_COUNT`).
//!
//! The rules, as in ZooKeeper 3.8 (`DigestCalculator`, `NodeHashMapImpl`, `AdHash`):
//!
//! * A node's hash is the CRC32 of its path, its data (nothing for null data) and 60 bytes of
//!   its stored Stat, big-endian: `czxid, mzxid, pzxid, ctime, mtime` (longs), `version,
//!   cversion, aversion` (ints), `ephemeralOwner` (long). The root hashes as the path `""`.
//! * The ACL, the children and the derived Stat fields are not hashed: a change to them shows
//!   through the Stat fields it moves (aversion, cversion, pzxid).
//! * Nodes under `/zookeeper/` (the quota and config nodes, which each server updates on its
//!   own) are left out; `/zookeeper` itself is counted.
//! * The tree digest is the wrapping 64-bit sum of the node hashes (digest version 2).

use super::node::StoredNode;
use crate::stat::StatPersisted;

/// `DigestCalculator.DIGEST_VERSION` in ZooKeeper 3.8: which fields are hashed, and how.
pub const DIGEST_VERSION: i32 = 2;

/// Nodes below this prefix are not part of the digest (`ZooDefs.ZOOKEEPER_NODE_SUBTREE`).
const UNDIGESTED_SUBTREE: &str = "/zookeeper/";

// ANCHOR: node_digest
/// The hash one node adds to its tree's digest (`DigestCalculator.calculateDigest`); 0 for the
/// nodes the digest leaves out.
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> u64 {
    digest_of(path.as_bytes(), data, stat)
}

/// [`node_digest`] of a path given as its bytes, as a stored node holds it.
fn digest_of(path: &[u8], data: Option<&[u8]>, stat: &StatPersisted) -> u64 {
    if path.starts_with(UNDIGESTED_SUBTREE.as_bytes()) {
        return 0;
    }
    // Upstream stores the root under both "" and "/"; it always hashes it as "".
    let path = if path == b"/" { b"" } else { path };
    let mut fields = [0u8; 60];
    let longs = [
        stat.czxid.0,
        stat.mzxid.0,
        stat.pzxid.0,
        stat.ctime,
        stat.mtime,
    ];
    for (i, value) in longs.iter().enumerate() {
        fields[i * 8..i * 8 + 8].copy_from_slice(&value.to_be_bytes());
    }
    for (i, value) in [stat.version, stat.cversion, stat.aversion]
        .iter()
        .enumerate()
    {
        fields[40 + i * 4..44 + i * 4].copy_from_slice(&value.to_be_bytes());
    }
    fields[52..60].copy_from_slice(&stat.ephemeral_owner.to_be_bytes());
    let mut crc = Crc32::new();
    crc.update(path);
    crc.update(data.unwrap_or_default());
    crc.update(&fields);
    u64::from(crc.finish())
}
// ANCHOR_END: node_digest

impl super::DataNode<'_> {
    /// This node's share of the tree digest, were it stored at `path`.
    pub fn digest(&self, path: &str) -> u64 {
        node_digest(path, self.data, &self.stat)
    }
}

impl StoredNode {
    /// This node's share of the tree digest.
    pub(super) fn digest(&self) -> u64 {
        digest_of(self.path_bytes(), self.data(), &self.stat())
    }
}

/// CRC-32 (the IEEE polynomial, reflected, as `java.util.zip.CRC32` computes it).
///
/// Every node of a loaded snapshot is hashed, so this is on the recovery path a million
/// times over. The textbook loop looks up one table entry per byte, each lookup waiting for
/// the last; "slicing by 8" takes eight bytes per step through eight tables, whose lookups
/// are independent, and is several times faster for the same result (Intel's
/// slicing-by-8 paper; zlib uses a variant of it, `java.util.zip.CRC32` a CPU instruction).
struct Crc32 {
    state: u32,
}

/// The tables: `CRC_TABLES[0][b]` is the CRC of the byte `b` (the byte-at-a-time table), and
/// `CRC_TABLES[k][b]` is that byte's contribution when `k` more zero bytes follow it, so
/// eight bytes are folded in with eight lookups XORed together. Built at compile time.
const CRC_TABLES: [[u32; 256]; 8] = {
    let mut tables = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        tables[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            // One more zero byte after the byte: shift it through the byte table once more.
            let previous = tables[k - 1][i];
            tables[k][i] = (previous >> 8) ^ tables[0][(previous & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    tables
};

impl Crc32 {
    fn new() -> Crc32 {
        Crc32 { state: !0 }
    }

    fn update(&mut self, bytes: &[u8]) {
        let t = &CRC_TABLES;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            // The first four bytes meet the running state; the last four enter as they are.
            let low = self.state ^ u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let high = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            self.state = t[7][(low & 0xFF) as usize]
                ^ t[6][((low >> 8) & 0xFF) as usize]
                ^ t[5][((low >> 16) & 0xFF) as usize]
                ^ t[4][(low >> 24) as usize]
                ^ t[3][(high & 0xFF) as usize]
                ^ t[2][((high >> 8) & 0xFF) as usize]
                ^ t[1][((high >> 16) & 0xFF) as usize]
                ^ t[0][(high >> 24) as usize];
        }
        for &b in chunks.remainder() {
            self.state = t[0][((self.state ^ u32::from(b)) & 0xFF) as usize] ^ (self.state >> 8);
        }
    }

    fn finish(&self) -> u32 {
        !self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{DataTree, TreeBuilder};
    use crate::zxid::{SessionId, Zxid};
    use crate::{Acl, CreateMode, Request, Standalone};

    fn crc(bytes: &[u8]) -> u32 {
        let mut crc = Crc32::new();
        crc.update(bytes);
        crc.finish()
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32 catalogue's check value for "123456789"; and the empty input.
        assert_eq!(crc(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc(b""), 0);
    }

    /// The CRC one bit at a time, straight from its definition.
    fn crc_bitwise(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn slicing_by_8_agrees_with_the_bitwise_crc_at_every_length_and_split() {
        let bytes: Vec<u8> = (0..100u32).map(|i| (i * 131 + 7) as u8).collect();
        for len in 0..bytes.len() {
            assert_eq!(
                crc(&bytes[..len]),
                crc_bitwise(&bytes[..len]),
                "length {len}"
            );
        }
        // Fed in pieces (path, data, Stat) as a node is: the same CRC as in one go.
        for split in [1, 3, 8, 13] {
            let mut crc = Crc32::new();
            crc.update(&bytes[..split]);
            crc.update(&bytes[split..]);
            assert_eq!(crc.finish(), crc_bitwise(&bytes), "split at {split}");
        }
    }

    #[test]
    fn the_root_hashes_as_the_empty_path_and_the_zookeeper_subtree_not_at_all() {
        let stat = StatPersisted::default();
        assert_eq!(node_digest("/", Some(b""), &stat), u64::from(crc(&[0; 60])));
        assert_eq!(node_digest("/zookeeper/quota", Some(b""), &stat), 0);
        assert_eq!(node_digest("/zookeeper/config", Some(b"x"), &stat), 0);
        assert_ne!(node_digest("/zookeeper", Some(b""), &stat), 0);
    }

    #[test]
    fn every_hashed_field_changes_the_node_digest_and_null_data_hashes_like_empty() {
        let stat = StatPersisted::created(Zxid(5), 1000, 0);
        let base = node_digest("/a", Some(b"x"), &stat);
        let changes: [fn(&mut StatPersisted); 9] = [
            |s| s.czxid = Zxid(6),
            |s| s.mzxid = Zxid(6),
            |s| s.pzxid = Zxid(6),
            |s| s.ctime += 1,
            |s| s.mtime += 1,
            |s| s.version += 1,
            |s| s.cversion += 1,
            |s| s.aversion += 1,
            |s| s.ephemeral_owner += 1,
        ];
        for change in changes {
            let mut changed = stat;
            change(&mut changed);
            assert_ne!(node_digest("/a", Some(b"x"), &changed), base);
        }
        assert_ne!(node_digest("/b", Some(b"x"), &stat), base);
        assert_ne!(node_digest("/a", Some(b"y"), &stat), base);
        // Upstream feeds nothing to the CRC for null data, so null and empty hash alike.
        assert_eq!(
            node_digest("/a", None, &stat),
            node_digest("/a", Some(b""), &stat)
        );
    }

    fn create(path: &str, mode: CreateMode) -> Request {
        Request::Create {
            path: path.into(),
            data: Some(path.as_bytes().to_vec()),
            acl: Acl::open_unsafe(),
            mode,
        }
    }

    #[test]
    fn the_kept_digest_equals_the_sum_recomputed_after_every_kind_of_change() {
        let owner = SessionId(0x1_0000_0001);
        let requests = [
            Request::CreateSession { timeout_ms: 30000 },
            create("/app", CreateMode::Persistent),
            create("/app/seq-", CreateMode::PersistentSequential),
            create("/app/e", CreateMode::Ephemeral),
            Request::SetData {
                path: "/app".into(),
                data: None,
                version: -1,
            },
            Request::SetAcl {
                path: "/app".into(),
                acl: Acl::read_unsafe(),
                version: -1,
            },
            Request::SetData {
                path: "/".into(),
                data: Some(b"root".to_vec()),
                version: -1,
            },
            // A quota's nodes live under /zookeeper/ and leave the digest alone.
            create("/zookeeper/quota/app", CreateMode::Persistent),
            Request::Multi(vec![
                create("/m", CreateMode::Persistent),
                Request::Delete {
                    path: "/app/seq-0000000000".into(),
                    version: -1,
                },
            ]),
            // A failed multi changes nothing.
            Request::Multi(vec![
                create("/n", CreateMode::Persistent),
                create("/no/parent", CreateMode::Persistent),
            ]),
            Request::CloseSession,
        ];
        let mut server = Standalone::default();
        let fresh = server.tree.digest();
        assert_eq!(fresh, server.tree.recomputed_digest());
        let mut seen = vec![fresh];
        for (i, request) in requests.iter().enumerate() {
            server.submit(owner, i as i32, 1000 + i as i64, request);
            let digest = server.tree.digest();
            assert_eq!(digest, server.tree.recomputed_digest(), "after {request:?}");
            seen.push(digest);
        }
        // Each change of a counted node moved the digest; the no-ops did not.
        let moved: Vec<bool> = seen.windows(2).map(|w| w[0] != w[1]).collect();
        let expected = [
            false, true, true, true, true, true, true, false, true, false, true,
        ];
        assert_eq!(moved, expected);
        // The tree read back from its node list (as from a snapshot) has the same digest.
        let rebuilt = rebuild(&server.tree);
        assert_eq!(rebuilt.digest(), server.tree.digest());
    }

    /// The tree as a snapshot would carry it, read back.
    fn rebuild(tree: &DataTree) -> DataTree {
        let mut builder = TreeBuilder::new(false);
        for (path, node) in tree.walk() {
            let added = builder.add(&path, node.data, node.acl, node.stat);
            added.expect("a walked tree rebuilds");
        }
        builder
            .finish(tree.last_processed_zxid())
            .expect("not empty")
    }
}
