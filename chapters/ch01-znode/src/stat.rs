//! `Stat`: the eleven numbers ZooKeeper keeps about every znode.
//!
//! They answer "when and how often did this node change?" without reading its data, which is
//! what makes optimistic concurrency work: read a node's `version`, then write with "only if
//! the version is still N".
//!
//! | field | set by | meaning |
//! |---|---|---|
//! | `czxid`, `ctime` | create | zxid and leader time of the create |
//! | `mzxid`, `mtime` | create, setData | zxid and time of the last data change |
//! | `pzxid` | create, child create/delete | zxid of the last change to the list of children |
//! | `version` | setData | data version: 0, then +1 per setData |
//! | `cversion` | child create/delete | child version: +1 per child create **or** delete |
//! | `aversion` | setACL | ACL version: 0, then +1 per setACL |
//! | `ephemeral_owner` | create | owning session of an ephemeral node, else 0 |
//! | `data_length` | derived | bytes of data (0 for null data) |
//! | `num_children` | derived | number of children |
//!
//! The server does not store all eleven. It stores `StatPersisted` (nine fields: no
//! `data_length`, no `num_children`, both derived) and — a subtle point — its stored
//! `cversion` counts only child *creates*. The client-visible `cversion` is computed as
//! `2 × stored − numChildren`: every child not present any more was created once and deleted
//! once. `DataNode.copyStat` does that conversion; so does [`StatPersisted::to_stat`].

use crate::zxid::{SessionId, Zxid};
use serde::{Deserialize, Serialize};

// ANCHOR: stat
/// The Stat a client sees (the jute record `Stat`, 68 bytes on the wire).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Stat {
    pub czxid: Zxid,
    pub mzxid: Zxid,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: SessionId,
    pub data_length: i32,
    pub num_children: i32,
    pub pzxid: Zxid,
}
// ANCHOR_END: stat

// ANCHOR: stat_persisted
/// What the server stores per node (`StatPersisted`): Stat minus its two derived fields, with
/// `cversion` counting child creates and `ephemeral_owner` holding the raw owner (which may be
/// a container or TTL marker, see [`crate::mode::EphemeralOwner`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct StatPersisted {
    pub czxid: Zxid,
    pub mzxid: Zxid,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    pub ephemeral_owner: i64,
    pub pzxid: Zxid,
}
// ANCHOR_END: stat_persisted

impl StatPersisted {
    /// `DataTree.createStat`: a new node's stat, all three zxids the create's zxid.
    pub fn created(zxid: Zxid, time_ms: i64, ephemeral_owner: i64) -> StatPersisted {
        StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time_ms,
            mtime: time_ms,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner,
            pzxid: zxid,
        }
    }

    // ANCHOR: copy_stat
    /// `DataNode.copyStat`: the client's view of this node.
    pub fn to_stat(
        &self,
        client_owner: SessionId,
        data_length: usize,
        num_children: usize,
    ) -> Stat {
        let num_children = num_children as i32;
        Stat {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            // Stored cversion counts creates; each child that is gone was also deleted once.
            cversion: self.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: self.aversion,
            ephemeral_owner: client_owner,
            data_length: data_length as i32,
            num_children,
            pzxid: self.pzxid,
        }
    }
    // ANCHOR_END: copy_stat
}

/// Names a Stat field the way zkCli prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatField {
    #[serde(rename = "cZxid")]
    CZxid,
    #[serde(rename = "ctime")]
    Ctime,
    #[serde(rename = "mZxid")]
    MZxid,
    #[serde(rename = "mtime")]
    Mtime,
    #[serde(rename = "pZxid")]
    PZxid,
    #[serde(rename = "cversion")]
    Cversion,
    #[serde(rename = "dataVersion")]
    DataVersion,
    #[serde(rename = "aclVersion")]
    AclVersion,
    #[serde(rename = "ephemeralOwner")]
    EphemeralOwner,
    #[serde(rename = "dataLength")]
    DataLength,
    #[serde(rename = "numChildren")]
    NumChildren,
}

impl Stat {
    /// The eleven fields as (zkCli name, value as zkCli prints it but with times in ms), in
    /// StatPrinter's order, which is not the wire order.
    pub fn fields(&self) -> [(StatField, String); 11] {
        [
            (StatField::CZxid, self.czxid.to_string()),
            (StatField::Ctime, self.ctime.to_string()),
            (StatField::MZxid, self.mzxid.to_string()),
            (StatField::Mtime, self.mtime.to_string()),
            (StatField::PZxid, self.pzxid.to_string()),
            (StatField::Cversion, self.cversion.to_string()),
            (StatField::DataVersion, self.version.to_string()),
            (StatField::AclVersion, self.aversion.to_string()),
            (StatField::EphemeralOwner, self.ephemeral_owner.to_string()),
            (StatField::DataLength, self.data_length.to_string()),
            (StatField::NumChildren, self.num_children.to_string()),
        ]
    }

    /// The fields that differ between `self` (before) and `after`, with both values.
    pub fn diff(&self, after: &Stat) -> Vec<(StatField, String, String)> {
        self.fields()
            .into_iter()
            .zip(after.fields())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((field, a), (_, b))| (field, a, b))
            .collect()
    }
}

impl StatField {
    /// The name zkCli's StatPrinter uses.
    pub fn name(self) -> &'static str {
        match self {
            StatField::CZxid => "cZxid",
            StatField::Ctime => "ctime",
            StatField::MZxid => "mZxid",
            StatField::Mtime => "mtime",
            StatField::PZxid => "pZxid",
            StatField::Cversion => "cversion",
            StatField::DataVersion => "dataVersion",
            StatField::AclVersion => "aclVersion",
            StatField::EphemeralOwner => "ephemeralOwner",
            StatField::DataLength => "dataLength",
            StatField::NumChildren => "numChildren",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_stat_has_czxid_mzxid_and_pzxid_equal() {
        let s = StatPersisted::created(Zxid(5), 1000, 0);
        assert_eq!((s.czxid, s.mzxid, s.pzxid), (Zxid(5), Zxid(5), Zxid(5)));
        assert_eq!((s.ctime, s.mtime), (1000, 1000));
        assert_eq!((s.version, s.cversion, s.aversion), (0, 0, 0));
    }

    #[test]
    fn client_cversion_is_twice_the_creates_minus_the_children_left() {
        // DataNode.copyStat: 3 creates, 1 delete => 2 children, cversion 4 = 3 + 1.
        let s = StatPersisted {
            cversion: 3,
            ..StatPersisted::default()
        };
        assert_eq!(s.to_stat(SessionId(0), 0, 2).cversion, 4);
        // The root of a fresh server: no creates, one built-in child => -1.
        assert_eq!(
            StatPersisted::default()
                .to_stat(SessionId(0), 0, 1)
                .cversion,
            -1
        );
    }

    #[test]
    fn diff_names_only_the_fields_that_changed() {
        let a = Stat::default();
        let b = Stat {
            version: 1,
            mzxid: Zxid(0xa),
            ..a
        };
        let names: Vec<_> = a.diff(&b).iter().map(|(f, _, _)| f.name()).collect();
        assert_eq!(names, ["mZxid", "dataVersion"]);
    }
}
