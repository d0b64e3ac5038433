//! The server's half of quotas: keeping each quota's `zookeeper_stats` node current.
//!
//! Upstream keeps a trie of the paths that have a `zookeeper_limits` node
//! (`DataTree.pTrie`) and, on every create, delete and setData under one of them, adds the
//! change to that quota's stats node (`updateQuotaStat`); creating a stats node counts its
//! subtree from scratch (`updateQuotaForPath`). The counts are written into the node's data
//! directly: no zxid, no version, no watch, exactly as upstream, so a stats node's Stat still
//! says it was never changed. We find the quota by looking for the limits nodes of the path's
//! prefixes in the tree itself instead of keeping a trie: the same answer for every tree zkCli
//! can build, and nothing extra to rebuild when a tree is loaded.

use super::DataTree;
use crate::path::join;
use crate::path::split_parent;
use crate::quota::{limit_path, stat_path, StatsTrack, QUOTA_ROOT, STAT_NODE};

impl DataTree {
    /// `DataTree.getMaxPrefixWithQuota`: the deepest prefix of `path` (itself included, `/`
    /// never) that has a quota.
    fn quota_prefix<'p>(&self, path: &'p str) -> Option<&'p str> {
        // Every quota lives under /zookeeper/quota: with none there (the usual tree), no
        // prefix has one, and the walk up the path is skipped (upstream asks its `pTrie`).
        let quotas = self.nodes.get(QUOTA_ROOT);
        if quotas.is_none_or(|node| node.children().is_empty()) {
            return None;
        }
        let mut prefix = path;
        while prefix != "/" && !prefix.is_empty() {
            if self.nodes.contains_key(limit_path(prefix).as_str()) {
                return Some(prefix);
            }
            prefix = split_parent(prefix).map_or("", |(parent, _)| parent);
        }
        None
    }

    /// `DataTree.updateQuotaStat`: adds a change under a quota to its stats node.
    fn add_to_quota(&mut self, prefix: &str, bytes: i64, count: i64) {
        let Some(node) = self.nodes.get_mut(stat_path(prefix).as_str()) else {
            return; // upstream logs "Missing node for stat" and goes on
        };
        let mut stats = StatsTrack::from_data(node.data());
        stats.set(StatsTrack::COUNT, stats.get(StatsTrack::COUNT) + count);
        stats.set(StatsTrack::BYTES, stats.get(StatsTrack::BYTES) + bytes);
        node.set_data(Some(&stats.to_bytes()));
    }

    /// `DataTree.updateQuotaForPath`: counts `path`'s subtree (itself included) into the stats
    /// node of its quota.
    fn count_into_quota(&mut self, path: &str) {
        // Upstream's root is also stored under "", which is what a quota on "/" trims to.
        let root = if path.is_empty() { "/" } else { path };
        let (mut count, mut bytes) = (0i64, 0i64);
        let mut todo = vec![root.to_string()];
        while let Some(p) = todo.pop() {
            if let Some(node) = self.nodes.get(p.as_str()) {
                count += 1;
                bytes += node.data_len() as i64;
                todo.extend(node.children().iter().map(|c| join(&p, c)));
            }
        }
        if let Some(node) = self.nodes.get_mut(stat_path(path).as_str()) {
            let mut stats = StatsTrack::default();
            stats.set(StatsTrack::COUNT, count);
            stats.set(StatsTrack::BYTES, bytes);
            node.set_data(Some(&stats.to_bytes()));
        }
    }

    /// After `path` was created with `bytes` of data: a new stats node counts its subtree, and
    /// the node counts towards its own quota.
    pub(super) fn quota_created(&mut self, path: &str, bytes: usize) {
        if let Some((parent, name)) = split_parent(path) {
            if name == STAT_NODE && parent.starts_with(QUOTA_ROOT) {
                self.count_into_quota(&parent[QUOTA_ROOT.len()..]);
            }
        }
        if let Some(prefix) = self.quota_prefix(path) {
            self.add_to_quota(prefix, bytes as i64, 1);
        }
    }

    /// After `path`, which held `bytes` of data, was deleted.
    pub(super) fn quota_deleted(&mut self, path: &str, bytes: usize) {
        if let Some(prefix) = self.quota_prefix(path) {
            self.add_to_quota(prefix, -(bytes as i64), -1);
        }
    }

    /// After `path`'s data went from `before` to `after` bytes.
    pub(super) fn quota_data_changed(&mut self, path: &str, before: usize, after: usize) {
        if let Some(prefix) = self.quota_prefix(path) {
            self.add_to_quota(prefix, after as i64 - before as i64, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::acl::Acl;
    use crate::mode::CreateMode;
    use crate::server::Standalone;
    use crate::txn::Request;
    use crate::zxid::SessionId;

    fn create(server: &mut Standalone, path: &str, data: &str) {
        let request = Request::Create {
            path: path.into(),
            data: Some(data.as_bytes().to_vec()),
            acl: Acl::open_unsafe(),
            mode: CreateMode::Persistent,
        };
        let (_, applied) = server.submit(SessionId::new(crate::Sid(1), 1), 0, 0, &request);
        assert_eq!(applied.result.err(), None, "create {path}");
    }

    fn stats(server: &Standalone) -> String {
        let (data, _) = server
            .tree
            .get_data("/zookeeper/quota/app/zookeeper_stats")
            .expect("the stats node");
        String::from_utf8_lossy(data.unwrap_or_default()).into_owned()
    }

    /// DataTree.updateQuotaForPath counts the subtree when the stats node is created;
    /// createNode, deleteNode and setData then add their change (`updateQuotaStat`), without
    /// touching the stats node's Stat.
    #[test]
    fn a_quotas_stats_node_counts_its_subtree_and_follows_every_change() {
        let mut server = Standalone::default();
        create(&mut server, "/app", "abc");
        create(&mut server, "/app/a", "12345");
        create(&mut server, "/zookeeper/quota/app", "");
        create(
            &mut server,
            "/zookeeper/quota/app/zookeeper_limits",
            "count=5,bytes=-1",
        );
        create(
            &mut server,
            "/zookeeper/quota/app/zookeeper_stats",
            "count=0,bytes=0",
        );
        assert_eq!(stats(&server), "count=2,bytes=8");
        let (_, before) = server
            .tree
            .get_data("/zookeeper/quota/app/zookeeper_stats")
            .unwrap();
        create(&mut server, "/app/a/b", "xy");
        let set = Request::SetData {
            path: "/app/a".into(),
            data: Some(b"1".to_vec()),
            version: -1,
        };
        server.submit(SessionId::new(crate::Sid(1), 1), 0, 0, &set);
        assert_eq!(stats(&server), "count=3,bytes=6");
        let delete = Request::Delete {
            path: "/app/a/b".into(),
            version: -1,
        };
        server.submit(SessionId::new(crate::Sid(1), 1), 0, 0, &delete);
        assert_eq!(stats(&server), "count=2,bytes=4");
        let (_, after) = server
            .tree
            .get_data("/zookeeper/quota/app/zookeeper_stats")
            .unwrap();
        assert_eq!((after.mzxid, after.version), (before.mzxid, before.version));
        // A node outside the quota counts for nothing.
        create(&mut server, "/other", "zzz");
        assert_eq!(stats(&server), "count=2,bytes=4");
    }
}
