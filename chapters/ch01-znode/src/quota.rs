//! Quotas: limits on a subtree, and the counts the server keeps for it, stored as znodes.
//!
//! A quota is nothing but two nodes under `/zookeeper/quota`, mirroring the path they are
//! about: `setquota -n 5 /app` (zkCli) creates `/zookeeper/quota/app/zookeeper_limits` holding
//! `count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1` and `.../zookeeper_stats` holding
//! the subtree's node count and data bytes. The client writes the limits; the server keeps the
//! stats current as nodes under `/app` are created, deleted and changed
//! ([`DataTree`](crate::DataTree) does it while applying txns). In 3.8 a quota only warns (in
//! the server log): `zookeeper.enforceQuota` is off by default, so nothing is refused.
//!
//! Upstream: `Quotas` (the paths), `StatsTrack` (the text format), `DataTree.updateQuotaStat`
//! and `updateQuotaForPath` (the counting).

use std::collections::BTreeMap;
use std::fmt;

/// `/zookeeper/quota`: the root of the quota nodes.
pub const QUOTA_ROOT: &str = "/zookeeper/quota";
/// The node holding a subtree's limits.
pub const LIMIT_NODE: &str = "zookeeper_limits";
/// The node holding a subtree's counts.
pub const STAT_NODE: &str = "zookeeper_stats";

/// `Quotas.quotaPath`: where the quota nodes of `path` live (`/zookeeper/quota/app`).
pub fn quota_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}")
}

/// `Quotas.limitPath`: `/zookeeper/quota/app/zookeeper_limits`.
pub fn limit_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}/{LIMIT_NODE}")
}

/// `Quotas.statPath`: `/zookeeper/quota/app/zookeeper_stats`.
pub fn stat_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}/{STAT_NODE}")
}

/// `StatsTrack`: named counts and limits, written as `count=2,bytes=8`; a missing value reads
/// as -1 (no limit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsTrack {
    values: BTreeMap<String, i64>,
}

impl StatsTrack {
    pub const COUNT: &'static str = "count";
    pub const BYTES: &'static str = "bytes";
    pub const COUNT_HARD_LIMIT: &'static str = "countHardLimit";
    pub const BYTE_HARD_LIMIT: &'static str = "byteHardLimit";

    /// Reads `key=value` pairs separated by `,` or `;` (the old and the new separator); an
    /// empty value reads as -1, a pair that does not parse is skipped.
    pub fn parse(text: &str) -> StatsTrack {
        let mut values = BTreeMap::new();
        for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut parts = pair.split('=');
            let key = parts.next().unwrap_or_default();
            let value = match parts.next() {
                Some("") | None => Some(-1),
                Some(v) => v.parse().ok(),
            };
            if let Some(value) = value {
                values.insert(key.to_string(), value);
            }
        }
        StatsTrack { values }
    }

    /// Reads a stats or limits node's data (`None`, null data, reads as empty).
    pub fn from_data(data: Option<&[u8]>) -> StatsTrack {
        StatsTrack::parse(&String::from_utf8_lossy(data.unwrap_or_default()))
    }

    /// The value of `key`, -1 when it is not set.
    pub fn get(&self, key: &str) -> i64 {
        self.values.get(key).copied().unwrap_or(-1)
    }

    pub fn set(&mut self, key: &str, value: i64) {
        self.values.insert(key.to_string(), value);
    }

    /// The text as bytes, for a node's data.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

/// `count=4,bytes=5=;byteHardLimit=10;countHardLimit=10`: count and bytes first, in the 3.4
/// format; any other key after an extra `=` (so a 3.4 parser ignores them), sorted, with `;`.
impl fmt::Display for StatsTrack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (count, bytes) = (StatsTrack::COUNT, StatsTrack::BYTES);
        write!(f, "{count}={},{bytes}={}", self.get(count), self.get(bytes))?;
        let mut rest = self
            .values
            .iter()
            .filter(|(k, _)| *k != count && *k != bytes)
            .peekable();
        if rest.peek().is_some() {
            f.write_str("=")?;
        }
        for (key, value) in rest {
            write!(f, ";{key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_print_count_and_bytes_first_then_the_hard_limits_after_an_extra_equals() {
        // What zkCli's `setquota -n 5 /q` writes (checked against a real 3.8 server).
        let mut limits = StatsTrack::default();
        for key in [
            StatsTrack::COUNT,
            StatsTrack::BYTES,
            StatsTrack::COUNT_HARD_LIMIT,
            StatsTrack::BYTE_HARD_LIMIT,
        ] {
            limits.set(key, -1);
        }
        limits.set(StatsTrack::COUNT, 5);
        let text = "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1";
        assert_eq!(limits.to_string(), text);
        assert_eq!(StatsTrack::parse(text), limits);
    }

    #[test]
    fn stats_have_only_count_and_bytes() {
        let stats = StatsTrack::parse("count=2,bytes=8");
        assert_eq!(stats.to_string(), "count=2,bytes=8");
        assert_eq!(stats.get(StatsTrack::COUNT_HARD_LIMIT), -1);
        assert_eq!(StatsTrack::parse("").to_string(), "count=-1,bytes=-1");
    }

    #[test]
    fn quota_paths_mirror_the_path() {
        assert_eq!(quota_path("/a/b"), "/zookeeper/quota/a/b");
        assert_eq!(limit_path("/a"), "/zookeeper/quota/a/zookeeper_limits");
        assert_eq!(stat_path("/a"), "/zookeeper/quota/a/zookeeper_stats");
    }
}
