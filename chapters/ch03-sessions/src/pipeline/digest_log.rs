//! The digest history `hash` prints (upstream `DataTree.logZxidDigest`): the tree digest
//! after every 128th zxid, the last 1024 of them.
//!
//! Why every 128th: 128 is `0x80`, so the zxids logged end in `00` or `80` on every server of
//! an ensemble, and two servers' histories line up to be compared by eye or by script; a
//! digest that differs at the same zxid shows where their trees parted.

use std::collections::VecDeque;

use ch01_znode::Zxid;

/// Upstream's `DIGEST_LOG_INTERVAL`.
const INTERVAL: i64 = 128;
/// Upstream's `DIGEST_LOG_LIMIT`.
const LIMIT: usize = 1024;

/// The last `LIMIT` (zxid, digest) pairs logged, oldest first.
#[derive(Clone, Debug, Default, Hash)]
pub struct DigestLog {
    entries: VecDeque<(Zxid, u64)>,
}

impl DigestLog {
    /// A txn was applied and the tree's digest is now `digest`.
    pub fn applied(&mut self, zxid: Zxid, digest: u64) {
        if zxid.0 % INTERVAL != 0 {
            return;
        }
        self.entries.push_back((zxid, digest));
        if self.entries.len() > LIMIT {
            self.entries.pop_front();
        }
    }

    /// The history, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = (Zxid, u64)> + '_ {
        self.entries.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_every_128th_zxid_is_kept_and_only_the_last_1024() {
        let mut log = DigestLog::default();
        for zxid in 1..=(1025 * 128 + 5) {
            log.applied(Zxid(zxid), zxid as u64 * 7);
        }
        let entries: Vec<_> = log.entries().collect();
        assert_eq!(entries.len(), 1024);
        assert_eq!(entries[0], (Zxid(2 * 128), 2 * 128 * 7));
        assert_eq!(entries[1023], (Zxid(1025 * 128), 1025 * 128 * 7));
    }
}
