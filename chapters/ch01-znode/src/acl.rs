//! ACLs as data: who may do what to a node.
//!
//! Every znode carries a list of `(perms, scheme:id)` entries and an `aversion` that counts
//! setACL calls. This chapter only *stores* them (so `getAcl`/`setAcl` work and `aclVersion`
//! in Stat is exact); checking them against a session's identities is chapter 3's job,
//! because identities belong to sessions.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `ZooDefs.Perms`: one bit per kind of access.
pub mod perms {
    pub const READ: i32 = 1;
    pub const WRITE: i32 = 2;
    pub const CREATE: i32 = 4;
    pub const DELETE: i32 = 8;
    pub const ADMIN: i32 = 16;
    pub const ALL: i32 = READ | WRITE | CREATE | DELETE | ADMIN;
}

/// An identity in some auth scheme: `world:anyone`, `ip:127.0.0.1`, `digest:user:hash`, …
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Id {
    pub scheme: String,
    pub id: String,
}

/// One ACL entry: the permissions granted to an identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Acl {
    pub perms: i32,
    pub id: Id,
}

impl Acl {
    pub fn new(perms: i32, scheme: &str, id: &str) -> Acl {
        Acl {
            perms,
            id: Id {
                scheme: scheme.to_string(),
                id: id.to_string(),
            },
        }
    }

    /// `Ids.OPEN_ACL_UNSAFE`: everyone may do everything (zkCli's default).
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl::new(perms::ALL, "world", "anyone")]
    }

    /// `Ids.READ_ACL_UNSAFE`: everyone may read (the ACL of `/zookeeper/config`).
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl::new(perms::READ, "world", "anyone")]
    }
}

/// `ZKUtil.getPermString`: the granted letters in the order c d r w a.
pub fn perm_string(perms: i32) -> String {
    [
        (perms::CREATE, 'c'),
        (perms::DELETE, 'd'),
        (perms::READ, 'r'),
        (perms::WRITE, 'w'),
        (perms::ADMIN, 'a'),
    ]
    .iter()
    .filter(|(bit, _)| perms & bit != 0)
    .map(|(_, letter)| *letter)
    .collect()
}

/// Parses zkCli's `scheme:id:perms[,scheme:id:perms...]` as its AclParser does: leniently.
/// A malformed segment or an unknown perm letter is reported (the messages zkCli prints on
/// stderr) and skipped, so the list may come back shorter, even empty.
pub fn parse_acl(text: &str) -> (Vec<Acl>, Vec<String>) {
    let mut acls = Vec::new();
    let mut messages = Vec::new();
    for segment in text.split(',') {
        let (Some(first), Some(last)) = (segment.find(':'), segment.rfind(':')) else {
            messages.push(format!("{segment} does not have the form scheme:id:perm"));
            continue;
        };
        if first == last {
            messages.push(format!("{segment} does not have the form scheme:id:perm"));
            continue;
        }
        let mut bits = 0;
        for c in segment[last + 1..].chars() {
            match c.to_ascii_lowercase() {
                'r' => bits |= perms::READ,
                'w' => bits |= perms::WRITE,
                'c' => bits |= perms::CREATE,
                'd' => bits |= perms::DELETE,
                'a' => bits |= perms::ADMIN,
                _ => messages.push(format!("Unknown perm type: {c}")),
            }
        }
        acls.push(Acl::new(bits, &segment[..first], &segment[first + 1..last]));
    }
    (acls, messages)
}

impl fmt::Display for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.id.scheme,
            self.id.id,
            perm_string(self.perms)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perm_letters_come_in_the_order_c_d_r_w_a() {
        assert_eq!(perm_string(perms::ALL), "cdrwa");
        assert_eq!(perm_string(perms::READ | perms::ADMIN), "ra");
        assert_eq!(perm_string(0), "");
    }

    #[test]
    fn zkcli_acl_syntax_parses_and_bad_segments_are_named() {
        assert_eq!(
            parse_acl("world:anyone:r"),
            (vec![Acl::new(perms::READ, "world", "anyone")], vec![])
        );
        assert_eq!(
            parse_acl("digest:u:h:cdrwa").0[0].id.id,
            "u:h",
            "the id is everything between the first and the last colon"
        );
        let (acl, messages) = parse_acl("z,world:anyone:rq");
        assert_eq!(acl, [Acl::new(perms::READ, "world", "anyone")]);
        assert_eq!(
            messages,
            [
                "z does not have the form scheme:id:perm",
                "Unknown perm type: q"
            ]
        );
    }
}
