//! ACLs: who may do what to a znode.
//!
//! The idea to take away: every znode carries its own access list, a set of
//! `(permissions, scheme:id)` pairs, and every connection carries the identities it has proved.
//! A request is allowed when **one** entry of the node's list grants the permission the request
//! needs **and** names an identity the connection holds. There is no inheritance: a child's ACL
//! is whatever its creator gave it, and only the parent's `CREATE`/`DELETE` bits decide who may
//! add or remove children. That is what keeps one tenant out of another's subtree.
//!
//! Schemes Keeper implements (upstream `org.apache.zookeeper.server.auth`):
//!
//! | scheme | id | how a connection gets it |
//! |---|---|---|
//! | `world` | `anyone` | everybody matches it |
//! | `digest` | `user:base64(sha1("user:pass"))` | `addauth digest user:pass` (`DigestAuthenticationProvider`) |
//! | `ip` | `127.0.0.1` or `127.0.0.0/8` | every connection holds `ip:<its address>` (`IPAuthenticationProvider`) |
//! | `auth` | (empty) | only in a create/setAcl: replaced by the caller's authenticated ids |
//!
//! The check is upstream `ZooKeeperServer.checkACL`, and the rewrite of a new ACL list (`auth`
//! expansion, validity of each id) is `PrepRequestProcessor.fixupACL`. Which permission each
//! operation needs is in client-protocol.md §7: create needs `CREATE` and delete needs `DELETE`
//! **on the parent**, setData `WRITE`, reads `READ`, setAcl `ADMIN`.

use std::net::IpAddr;

use base64::Engine as _;
use sha1::{Digest as _, Sha1};

pub use ch01_znode::acl::{perm_string, perms};
pub use ch01_znode::{Acl, Id};

/// `world:anyone`, the id everybody holds.
pub fn anyone() -> Id {
    id("world", "anyone")
}

/// An id from its two halves.
pub fn id(scheme: &str, id: &str) -> Id {
    Id {
        scheme: scheme.to_string(),
        id: id.to_string(),
    }
}

/// Why an ACL operation failed, as a `KeeperException.Code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclError {
    /// -102: no entry grants the permission to any id the connection holds.
    NoAuth,
    /// -114: an ACL list that is empty or names an invalid id.
    InvalidAcl,
    /// -115: `addauth` with an unknown scheme or malformed credentials.
    AuthFailed,
}

impl AclError {
    /// The error code on the wire.
    pub fn code(self) -> i32 {
        match self {
            AclError::NoAuth => -102,
            AclError::InvalidAcl => -114,
            AclError::AuthFailed => -115,
        }
    }
}

// ANCHOR: digest
/// The digest id of `user:password`: `user:` + base64(SHA-1(`user:password`))
/// (upstream `DigestAuthenticationProvider.generateDigest`).
pub fn digest(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or_default();
    let hash = Sha1::digest(user_password.as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}
// ANCHOR_END: digest

/// What `addauth <scheme> <auth>` adds to a connection from `client` (an auth packet, opcode
/// 100). The schemes are upstream's two built-in providers; `auth` is null when the packet
/// carried a null buffer.
pub fn authenticate(scheme: &str, auth: Option<&[u8]>, client: IpAddr) -> Result<Id, AclError> {
    match (scheme, auth) {
        // The digest provider hashes whatever it is given, decoded as Java's `new String(bytes)`
        // decodes it; a malformed id only fails later, when it cannot match anything. A null
        // buffer makes upstream's provider throw, which the server answers as AuthFailed.
        ("digest", Some(auth)) => Ok(id("digest", &digest(&String::from_utf8_lossy(auth)))),
        // `IPAuthenticationProvider.handleAuthentication` ignores the data and adds the
        // address the connection comes from: an id every connection already holds.
        ("ip", _) => Ok(id("ip", &client.to_string())),
        _ => Err(AclError::AuthFailed),
    }
}

// ANCHOR: check_acl
/// May a connection holding `ids` do `perm` on a node whose list is `acl`?
/// (upstream `ZooKeeperServer.checkACL`)
pub fn check_acl(acl: &[Acl], perm: i32, ids: &[Id]) -> Result<(), AclError> {
    // A node with no ACL at all is open (it cannot be created through the API).
    if acl.is_empty() || ids.iter().any(|id| id.scheme == "super") {
        return Ok(());
    }
    let granted = acl
        .iter()
        .filter(|entry| entry.perms & perm != 0)
        .any(|entry| match entry.id.scheme.as_str() {
            "world" => entry.id.id == "anyone",
            "digest" => ids
                .iter()
                .any(|held| held.scheme == "digest" && held.id == entry.id.id),
            "ip" => ids
                .iter()
                .any(|held| held.scheme == "ip" && ip_matches(&held.id, &entry.id.id)),
            _ => false,
        });
    if granted {
        Ok(())
    } else {
        Err(AclError::NoAuth)
    }
}
// ANCHOR_END: check_acl

/// Validates a client's ACL list and expands `auth` ids (upstream `PrepRequestProcessor.fixupACL`).
pub fn fixup_acl(acl: &[Acl], ids: &[Id]) -> Result<Vec<Acl>, AclError> {
    let mut unique: Vec<&Acl> = Vec::new();
    for entry in acl {
        if !unique.contains(&entry) {
            unique.push(entry);
        }
    }
    if unique.is_empty() {
        return Err(AclError::InvalidAcl);
    }
    let mut out = Vec::new();
    for entry in unique {
        match entry.id.scheme.as_str() {
            "world" if entry.id.id == "anyone" => out.push(entry.clone()),
            "auth" => {
                // Only ids proved by credentials count: an ip id is not "authenticated".
                let ordered = java_set_order(ids);
                let proved: Vec<&Id> = ordered.iter().filter(|id| id.scheme == "digest").collect();
                if proved.is_empty() {
                    return Err(AclError::InvalidAcl);
                }
                out.extend(proved.into_iter().map(|id| Acl {
                    perms: entry.perms,
                    id: id.clone(),
                }));
            }
            "digest" if digest_id_is_valid(&entry.id.id) => out.push(entry.clone()),
            "ip" if ip_is_valid(&entry.id.id) => out.push(entry.clone()),
            _ => return Err(AclError::InvalidAcl),
        }
    }
    Ok(out)
}

/// The list a getACL caller without ADMIN sees: digest hashes masked to `user:x`
/// (upstream `FinalRequestProcessor`, GetACL).
pub fn mask_digests(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|entry| match entry.id.scheme.as_str() {
            "digest" => {
                let user = entry.id.id.split(':').next().unwrap_or_default();
                Acl {
                    perms: entry.perms,
                    id: id("digest", &format!("{user}:x")),
                }
            }
            _ => entry.clone(),
        })
        .collect()
}

/// A connection's ids in the order a real server lists them (`whoami`, `auth` expansion).
/// Upstream keeps them in a `ConcurrentHashMap` key set, so they come out by hash bucket:
/// Java's `Id.hashCode` (`37 * (37 * 17 + scheme.hashCode()) + id.hashCode()`), spread and
/// masked to the default 16 buckets; ids in one bucket keep the order they were added.
pub fn java_set_order(ids: &[Id]) -> Vec<Id> {
    fn string_hash(s: &str) -> i32 {
        s.encode_utf16()
            .fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(unit as i32))
    }
    let bucket = |id: &Id| {
        let h = 37i32
            .wrapping_mul(37i32.wrapping_mul(17).wrapping_add(string_hash(&id.scheme)))
            .wrapping_add(string_hash(&id.id));
        let spread = (h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff;
        spread & 15
    };
    let mut ordered = ids.to_vec();
    ordered.sort_by_key(bucket);
    ordered
}

/// `DigestAuthenticationProvider.isValid`: `id.split(":")` has exactly two pieces. Java's
/// split drops trailing empty pieces, which is why `user:` is refused and `user:hash:` is
/// accepted: trimming the trailing colons first gives the same count.
fn digest_id_is_valid(id: &str) -> bool {
    id.trim_end_matches(':').split(':').count() == 2
}

/// `addr` or `addr/bits` (upstream `IPAuthenticationProvider.isValid`). Upstream 3.8 parses
/// IPv4 only (its IPv6 parser is a TODO), so `::1` is not a valid ip id there, nor here.
fn ip_is_valid(expr: &str) -> bool {
    parse_cidr(expr).is_some()
}

fn parse_cidr(expr: &str) -> Option<([u8; 4], u32)> {
    let (addr, bits) = match expr.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (expr, None),
    };
    let bytes = ipv4_bytes(addr)?;
    let bits = match bits {
        Some(b) => java_parse_int(b).filter(|b| (0..=32).contains(b))? as u32,
        None => 32,
    };
    Some((bytes, bits))
}

/// Four dot-separated numbers 0..=255, each read as Java's `Integer.parseInt` reads it (so
/// `010` and `+1` are numbers; upstream `IPAuthenticationProvider.v4addr2Bytes`).
fn ipv4_bytes(addr: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = addr.split('.').collect();
    let mut out = [0u8; 4];
    if parts.len() != 4 {
        return None;
    }
    for (byte, part) in out.iter_mut().zip(parts) {
        *byte = u8::try_from(java_parse_int(part)?).ok()?;
    }
    Some(out)
}

/// `Integer.parseInt` for ASCII input: an optional sign, then at least one digit.
fn java_parse_int(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i32>().ok()
}

/// Does a client address fall in an ACL's `addr/bits` range? (`IPAuthenticationProvider.matches`)
fn ip_matches(client: &str, expr: &str) -> bool {
    let (Some((acl, bits)), Some(remote)) = (parse_cidr(expr), ipv4_bytes(client)) else {
        return false;
    };
    masked(&acl, bits as usize) == masked(&remote, bits as usize)
}

fn masked(bytes: &[u8], bits: usize) -> Vec<u8> {
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let keep = bits.saturating_sub(i * 8).min(8);
            if keep == 0 {
                0
            } else {
                b & (0xffu8 << (8 - keep))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use perms::*;

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn acl(perms: i32, scheme: &str, name: &str) -> Acl {
        Acl::new(perms, scheme, name)
    }

    /// Four ids added in this order come out of a real `ServerCnxn.authInfo` (the 3.8 jute
    /// jar's `Id` in a `ConcurrentHashMap` key set) as below: by bucket, then first come first.
    #[test]
    fn four_ids_are_listed_as_a_real_authinfo_set_lists_them() {
        let added: Vec<Id> = [
            ("ip", "127.0.0.1"),
            ("digest", "alice:x"),
            ("digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="),
            ("digest", "bob:y"),
        ]
        .iter()
        .map(|(scheme, name)| id(scheme, name))
        .collect();
        let listed: Vec<String> = java_set_order(&added)
            .iter()
            .map(|i| format!("{}:{}", i.scheme, i.id))
            .collect();
        assert_eq!(
            listed,
            [
                "digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=",
                "digest:alice:x",
                "ip:127.0.0.1",
                "digest:bob:y"
            ]
        );
    }

    #[test]
    fn the_digest_is_base64_of_sha1_of_user_colon_password() {
        // DigestAuthenticationProvider.generateDigest("super:admin"): the value the
        // ZooKeeper admin guide uses for its superDigest example.
        assert_eq!(digest("super:admin"), "super:xQJmxLMiHGwaqBvst5y6rkB6HQs=");
    }

    #[test]
    fn world_anyone_grants_its_bits_to_everybody() {
        let open = Acl::open_unsafe();
        assert_eq!(check_acl(&open, WRITE, &[]), Ok(()));
        let read_only = Acl::read_unsafe();
        assert_eq!(check_acl(&read_only, READ, &[]), Ok(()));
        assert_eq!(check_acl(&read_only, WRITE, &[]), Err(AclError::NoAuth));
    }

    #[test]
    fn a_digest_entry_needs_the_same_digest_on_the_connection() {
        // checkACL: the entry's bits must include perm and its id match one the client holds.
        let node = vec![acl(ALL, "digest", &digest("alice:secret"))];
        let alice = authenticate("digest", Some(b"alice:secret"), LOCAL).unwrap();
        let mallory = authenticate("digest", Some(b"alice:guess"), LOCAL).unwrap();
        assert_eq!(check_acl(&node, DELETE, &[alice]), Ok(()));
        assert_eq!(check_acl(&node, DELETE, &[mallory]), Err(AclError::NoAuth));
        assert_eq!(check_acl(&node, READ, &[]), Err(AclError::NoAuth));
    }

    #[test]
    fn an_entry_grants_only_its_own_bits() {
        let node = vec![acl(READ | CREATE, "ip", "127.0.0.1")];
        let local = [id("ip", "127.0.0.1")];
        assert_eq!(check_acl(&node, CREATE, &local), Ok(()));
        assert_eq!(check_acl(&node, DELETE, &local), Err(AclError::NoAuth));
    }

    #[test]
    fn an_ip_entry_matches_a_whole_subnet() {
        // IPAuthenticationProvider.matches masks both addresses to the prefix length.
        let node = vec![acl(READ, "ip", "127.1.0.0/16")];
        assert_eq!(check_acl(&node, READ, &[id("ip", "127.1.200.3")]), Ok(()));
        assert_eq!(
            check_acl(&node, READ, &[id("ip", "127.2.0.1")]),
            Err(AclError::NoAuth)
        );
        assert_eq!(
            check_acl(&node, READ, &[id("ip", "::1")]),
            Err(AclError::NoAuth)
        );
        let node = vec![acl(READ, "ip", "127.1.2.3/12")];
        assert_eq!(check_acl(&node, READ, &[id("ip", "127.15.0.0")]), Ok(()));
        assert_eq!(
            check_acl(&node, READ, &[id("ip", "127.16.0.0")]),
            Err(AclError::NoAuth)
        );
    }

    #[test]
    fn a_super_id_passes_every_check() {
        let node = vec![acl(READ, "digest", "nobody:x")];
        assert_eq!(check_acl(&node, ADMIN, &[id("super", "")]), Ok(()));
    }

    #[test]
    fn fixup_expands_auth_to_the_callers_digest_ids() {
        // PrepRequestProcessor.fixupACL: "auth" becomes each authenticated id of the caller.
        let alice = authenticate("digest", Some(b"alice:secret"), LOCAL).unwrap();
        let ip = id("ip", "127.0.0.1");
        let fixed = fixup_acl(&[acl(ALL, "auth", "")], &[ip.clone(), alice.clone()]).unwrap();
        assert_eq!(
            fixed,
            vec![Acl {
                perms: ALL,
                id: alice
            }]
        );
        assert_eq!(
            fixup_acl(&[acl(ALL, "auth", "")], &[ip]),
            Err(AclError::InvalidAcl)
        );
    }

    #[test]
    fn fixup_rejects_empty_lists_and_malformed_ids() {
        assert_eq!(fixup_acl(&[], &[]), Err(AclError::InvalidAcl));
        for bad in [
            acl(ALL, "digest", "no-colon"),
            acl(ALL, "ip", "300.1.1.1"),
            acl(ALL, "ip", "127.0.0.0/33"),
            acl(ALL, "world", "someone"),
            acl(ALL, "kerberos", "x"),
        ] {
            assert_eq!(
                fixup_acl(std::slice::from_ref(&bad), &[]),
                Err(AclError::InvalidAcl),
                "{bad:?}"
            );
        }
        let twice = [acl(READ, "world", "anyone"), acl(READ, "world", "anyone")];
        assert_eq!(
            fixup_acl(&twice, &[]).unwrap().len(),
            1,
            "duplicates are removed"
        );
    }

    #[test]
    fn ids_are_validated_as_zookeeper_3_8_validates_them() {
        // DigestAuthenticationProvider.isValid: `id.split(":")` has exactly two pieces, and
        // Java's split drops trailing empty pieces. IPAuthenticationProvider.isValid: IPv4
        // only, each part read by Integer.parseInt. Each answer was checked on a real 3.8.
        let valid = |scheme: &str, name: &str| fixup_acl(&[acl(ALL, scheme, name)], &[]).is_ok();
        for name in ["user:", "user", ":", "::", "a:b:c"] {
            assert!(!valid("digest", name), "digest {name}");
        }
        for name in [":hash", "user:hash:", "user:hash"] {
            assert!(valid("digest", name), "digest {name}");
        }
        for name in [
            "::1",
            "1.2.3.4/",
            "1.2.3.4.",
            "1.2.3",
            "256.0.0.1",
            "1.2.3.4/-1",
        ] {
            assert!(!valid("ip", name), "ip {name}");
        }
        for name in [
            "010.0.0.1",
            "+1.2.3.4",
            "1.2.3.4/+8",
            "10.0.0.0/0",
            "-0.0.0.0",
        ] {
            assert!(valid("ip", name), "ip {name}");
        }
    }

    #[test]
    fn addauth_ip_adds_the_address_the_connection_comes_from() {
        // IPAuthenticationProvider.handleAuthentication ignores its data, even a null one.
        for data in [Some(&b"10.0.0.9"[..]), None] {
            assert_eq!(authenticate("ip", data, LOCAL), Ok(id("ip", "127.0.0.1")));
        }
    }

    #[test]
    fn addauth_digest_reads_any_bytes_but_not_a_null_buffer() {
        // `new String(bytes)` replaces what is not UTF-8; a null buffer makes it throw.
        assert_eq!(
            authenticate("digest", Some(b"\xff:pw"), LOCAL),
            Ok(id("digest", &digest("\u{fffd}:pw")))
        );
        assert_eq!(
            authenticate("digest", None, LOCAL),
            Err(AclError::AuthFailed)
        );
    }

    #[test]
    fn ids_are_listed_in_javas_hash_set_order() {
        // A real 3.8 server's whoami after `addauth digest alice:secret` from 127.0.0.1
        // lists the digest id before the ip id.
        let ip = id("ip", "127.0.0.1");
        let alice = authenticate("digest", Some(b"alice:secret"), LOCAL).unwrap();
        let listed = java_set_order(&[ip.clone(), alice.clone()]);
        assert_eq!(listed, vec![alice, ip]);
    }

    #[test]
    fn unknown_auth_schemes_fail() {
        assert_eq!(
            authenticate("kerberos", Some(b"x"), LOCAL),
            Err(AclError::AuthFailed)
        );
        assert_eq!(AclError::AuthFailed.code(), -115);
    }

    #[test]
    fn get_acl_without_admin_masks_digest_hashes() {
        let node = vec![
            acl(ALL, "digest", &digest("alice:secret")),
            acl(READ, "world", "anyone"),
        ];
        let masked = mask_digests(&node);
        assert_eq!(masked[0].id, id("digest", "alice:x"));
        assert_eq!(masked[1], node[1]);
    }
}
