//! The client protocol's records, field for field as `zookeeper.jute` lists
//! them (modules `org.apache.zookeeper.data` and `org.apache.zookeeper.proto`).
//!
//! Each `jute_record!` below reads like the `.jute` declaration it mirrors:
//! the field order *is* the wire order. Types map as `int` → `i32`, `long` →
//! `i64`, `boolean` → `bool`, `ustring` → `String`, zxids and session ids → chapter 1's `Zxid` and
//! `SessionId`, nullable `buffer` →
//! `Option<Vec<u8>>`, `vector<T>` → `Vec<T>`. Two records are not here because
//! their encoding is more than "fields end to end": the connect handshake
//! (a trailing optional byte, see [`super::connect`]) and multi (a list ended
//! by a sentinel header, see [`super::multi`]).

pub use ch01_znode::{Acl, Id, SessionId, Stat, Zxid};
use ch02_watches::{AddWatchMode, WatcherType};

use crate::jute::{DecodeError, Reader, Record, Writer};
use crate::{impl_jute_record, jute_record};

// ANCHOR: stat
// `Stat`: a znode's metadata, 68 bytes on the wire: 6 longs, 5 ints.
// The type is chapter 1's; this line gives it its wire order.
impl_jute_record!(Stat {
    czxid: Zxid,
    mzxid: Zxid,
    ctime: i64,
    mtime: i64,
    version: i32,
    cversion: i32,
    aversion: i32,
    ephemeral_owner: SessionId,
    data_length: i32,
    num_children: i32,
    pzxid: Zxid,
});
// ANCHOR_END: stat

// ANCHOR: id
/// `Id` (`world:anyone`, `digest:user:hash`, `ip:127.0.0.1`). ZooKeeper's reader accepts a
/// null for either string, and `fixupACL` decides what a null means. Chapter 1's `Id` holds
/// strings, so a null is settled here, where each outcome is the same as upstream's for a
/// one-entry list:
/// - a null scheme names no provider, as `""` does: InvalidACL;
/// - a null id is ignored by `auth` (kazoo sends `auth` with a null id), and a scheme without a
///   provider is InvalidACL whatever its id: both read as `""`;
/// - `world`, `digest` and `ip` read the id, and upstream's code throws on a null one, which
///   its server answers MarshallingError: so does this decode error.
///
/// (In a longer list upstream's answer can depend on the entries before, since it stops at
/// the first bad one; that is the one place this reading can differ.)
impl Record for Id {
    fn encode(&self, w: &mut Writer) {
        self.scheme.encode(w);
        self.id.encode(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let scheme: Option<String> = r.field("Id.scheme")?;
        let scheme = scheme.unwrap_or_default();
        let id = match r.field::<Option<String>>("Id.id")? {
            Some(id) => id,
            None if matches!(scheme.as_str(), "world" | "digest" | "ip") => {
                return Err(DecodeError::UnexpectedNull { what: "Id.id" })
            }
            None => String::new(),
        };
        Ok(Id { scheme, id })
    }
}
// ANCHOR_END: id

#[cfg(test)]
impl crate::jute::arb::Arb for Id {
    fn arb() -> proptest::strategy::BoxedStrategy<Self> {
        use proptest::strategy::Strategy;
        (String::arb(), String::arb())
            .prop_map(|(scheme, id)| Id { scheme, id })
            .boxed()
    }
}

// `ACL`: permission bits from `ch01_znode::acl::perms` for one Id.
impl_jute_record!(Acl { perms: i32, id: Id });

// ANCHOR: headers
jute_record! {
    /// `RequestHeader`: starts every client frame after the handshake.
    pub struct RequestHeader { pub xid: i32, pub r#type: i32 }
}

jute_record! {
    /// `ReplyHeader`: starts every server frame after the handshake.
    pub struct ReplyHeader { pub xid: i32, pub zxid: Zxid, pub err: i32 }
}
// ANCHOR_END: headers

jute_record! {
    /// `MultiHeader`: precedes each op (and each result) inside a multi.
    pub struct MultiHeader { pub r#type: i32, pub done: bool, pub err: i32 }
}

// ---- requests ----

jute_record! {
    /// `CreateRequest`: create (1), create2 (15) and createContainer (19).
    pub struct CreateRequest {
        pub path: String,
        pub data: Option<Vec<u8>>,
        pub acl: Vec<Acl>,
        /// A `CreateMode` flag: 0 persistent, 1 ephemeral, 2 sequential...
        pub flags: i32,
    }
}

jute_record! {
    /// `CreateTTLRequest`: createTTL (21).
    pub struct CreateTtlRequest {
        pub path: String,
        pub data: Option<Vec<u8>>,
        pub acl: Vec<Acl>,
        pub flags: i32,
        pub ttl: i64,
    }
}

jute_record! {
    /// `DeleteRequest`; version -1 matches any version.
    pub struct DeleteRequest { pub path: String, pub version: i32 }
}

jute_record! {
    /// `ExistsRequest`.
    pub struct ExistsRequest { pub path: String, pub watch: bool }
}

jute_record! {
    /// `GetDataRequest`.
    pub struct GetDataRequest { pub path: String, pub watch: bool }
}

jute_record! {
    /// `SetDataRequest`; version -1 matches any version.
    pub struct SetDataRequest { pub path: String, pub data: Option<Vec<u8>>, pub version: i32 }
}

jute_record! {
    /// `GetACLRequest`.
    pub struct GetAclRequest { pub path: String }
}

jute_record! {
    /// `SetACLRequest`; the version is checked against `aversion`.
    pub struct SetAclRequest { pub path: String, pub acl: Vec<Acl>, pub version: i32 }
}

jute_record! {
    /// `GetChildrenRequest`.
    pub struct GetChildrenRequest { pub path: String, pub watch: bool }
}

jute_record! {
    /// `GetChildren2Request`.
    pub struct GetChildren2Request { pub path: String, pub watch: bool }
}

jute_record! {
    /// `SyncRequest`. Upstream reads no path of a sync (it only waits), so a null one is
    /// answered OK, with the same null in the reply.
    pub struct SyncRequest { pub path: Option<String> }
}

jute_record! {
    /// `CheckVersionRequest`: check (13), normally inside a multi.
    pub struct CheckVersionRequest { pub path: String, pub version: i32 }
}

jute_record! {
    /// `ReconfigRequest`: the server lists may be null.
    pub struct ReconfigRequest {
        pub joining_servers: Option<String>,
        pub leaving_servers: Option<String>,
        pub new_members: Option<String>,
        pub cur_config_id: i64,
    }
}

// The three watch requests carry chapter 2's enums (their wire codes are in
// `super::watch`); an enum has no default value, so these are declared by hand.

/// `CheckWatchesRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CheckWatchesRequest {
    pub path: String,
    pub r#type: WatcherType,
}
impl_jute_record!(CheckWatchesRequest {
    path: String,
    r#type: WatcherType,
});

/// `RemoveWatchesRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RemoveWatchesRequest {
    pub path: String,
    pub r#type: WatcherType,
}
impl_jute_record!(RemoveWatchesRequest {
    path: String,
    r#type: WatcherType,
});

jute_record! {
    /// `AuthPacket` (xid -4): `type` is 0, `auth` is e.g. `user:password`. Both may be null
    /// on the wire: the server's answer to a null is AuthFailed, or OK for scheme `ip`.
    pub struct AuthPacket { pub r#type: i32, pub scheme: Option<String>, pub auth: Option<Vec<u8>> }
}

jute_record! {
    /// `SetWatches`: the watches a reconnecting client still holds.
    pub struct SetWatches {
        pub relative_zxid: Zxid,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
    }
}

// `SetWatches2`: `SetWatches` plus persistent watches (3.6+). Its fields are
// exactly chapter 2's reconnect request, so that type is the record; this line
// gives it its wire order.
pub use ch02_watches::SetWatches as SetWatches2;
impl_jute_record!(SetWatches2 {
    relative_zxid: Zxid,
    data_watches: Vec<String>,
    exist_watches: Vec<String>,
    child_watches: Vec<String>,
    persistent_watches: Vec<String>,
    persistent_recursive_watches: Vec<String>,
});

impl From<SetWatches> for SetWatches2 {
    /// An old client's `SetWatches` is a `SetWatches2` with no persistent watches.
    fn from(r: SetWatches) -> SetWatches2 {
        SetWatches2 {
            relative_zxid: r.relative_zxid,
            data_watches: r.data_watches,
            exist_watches: r.exist_watches,
            child_watches: r.child_watches,
            persistent_watches: Vec::new(),
            persistent_recursive_watches: Vec::new(),
        }
    }
}

jute_record! {
    /// `GetSASLRequest` / `SetSASLResponse`: an opaque SASL token, null in the answer of a
    /// server without SASL.
    pub struct SaslToken { pub token: Option<Vec<u8>> }
}

jute_record! {
    /// `GetEphemeralsRequest` (3.6+): the caller's ephemerals under a prefix.
    pub struct GetEphemeralsRequest { pub prefix_path: String }
}

jute_record! {
    /// `GetAllChildrenNumberRequest` (3.6+).
    pub struct GetAllChildrenNumberRequest { pub path: String }
}

/// `AddWatchRequest` (3.6+).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddWatchRequest {
    pub path: String,
    pub mode: AddWatchMode,
}
impl_jute_record!(AddWatchRequest {
    path: String,
    mode: AddWatchMode,
});

// ---- responses ----

jute_record! {
    /// `CreateResponse`: the created path (with any sequence suffix).
    pub struct CreateResponse { pub path: String }
}

jute_record! {
    /// `Create2Response`: create2, createContainer and createTTL.
    pub struct Create2Response { pub path: String, pub stat: Stat }
}

jute_record! {
    /// `ExistsResponse`.
    pub struct ExistsResponse { pub stat: Stat }
}

jute_record! {
    /// `GetDataResponse`; data is null for a node created with null data.
    pub struct GetDataResponse { pub data: Option<Vec<u8>>, pub stat: Stat }
}

jute_record! {
    /// `SetDataResponse`.
    pub struct SetDataResponse { pub stat: Stat }
}

jute_record! {
    /// `GetACLResponse`.
    pub struct GetAclResponse { pub acl: Vec<Acl>, pub stat: Stat }
}

jute_record! {
    /// `SetACLResponse`.
    pub struct SetAclResponse { pub stat: Stat }
}

jute_record! {
    /// `GetChildrenResponse`: names, not paths, in no particular order.
    pub struct GetChildrenResponse { pub children: Vec<String> }
}

jute_record! {
    /// `GetChildren2Response`.
    pub struct GetChildren2Response { pub children: Vec<String>, pub stat: Stat }
}

jute_record! {
    /// `SyncResponse`: the request's path, null if it was.
    pub struct SyncResponse { pub path: Option<String> }
}

jute_record! {
    /// `ErrorResponse`: a failed multi op's result, and addWatch's reply.
    pub struct ErrorResponse { pub err: i32 }
}

jute_record! {
    /// `GetEphemeralsResponse`.
    pub struct GetEphemeralsResponse { pub ephemerals: Vec<String> }
}

jute_record! {
    /// `GetAllChildrenNumberResponse`: all descendants, not the node itself.
    pub struct GetAllChildrenNumberResponse { pub total_number: i32 }
}

jute_record! {
    /// `ClientInfo`: one identity of the caller, in whoAmI's reply.
    pub struct ClientInfo { pub auth_scheme: String, pub user: String }
}

jute_record! {
    /// `WhoAmIResponse` (3.7+).
    pub struct WhoAmIResponse { pub client_info: Vec<ClientInfo> }
}

// `WatcherEvent`, the body of a notification, is chapter 1's `WatchedEvent`:
// its wire order is given in `super::watch`.
