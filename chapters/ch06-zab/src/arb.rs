//! Random values for the property tests: txns as prep makes them, packets as peers send
//! them, trees as histories of client requests leave them.

use std::collections::BTreeMap;

use ch01_znode::acl::perms;
use ch01_znode::{
    Acl, CreateMode, DataTree, EphemeralOwner, Epoch, Id, Request, SessionId, Sid, Standalone,
    TxnHeader, TxnOp, Zxid,
};
use ch03_sessions::proto::OpCode;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::packet::{
    ForwardedRequest, LearnerInfo, Packet, PacketType, QuorumPacket, SessionTouch,
};
use crate::txn_codec::{TxnDigest, TxnEntry};

/// A txn of session 1 at `zxid` doing `op`, for tests that care only about zxids.
pub fn txn_at(zxid: i64, op: TxnOp) -> ch01_znode::Txn {
    TxnHeader {
        session: SessionId(1),
        cxid: 0,
        zxid: Zxid(zxid),
        time_ms: 0,
    }
    .txn(op)
}

pub fn acl() -> impl Strategy<Value = Vec<Acl>> {
    let entry = (any::<i32>(), "[a-z]{0,6}", "\\PC{0,8}")
        .prop_map(|(perms, scheme, id)| Acl::new(perms, &scheme, &id));
    vec(entry, 0..3)
}

pub fn data() -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(vec(any::<u8>(), 0..16))
}

fn path() -> impl Strategy<Value = String> {
    "/\\PC{0,12}"
}

/// Ops that may sit inside a multi, for a txn of `session` (the only owner an ephemeral
/// create can have).
fn sub_op(session: SessionId) -> impl Strategy<Value = TxnOp> {
    let owner = prop_oneof![
        Just(EphemeralOwner::None),
        Just(EphemeralOwner::Session(session)),
        Just(EphemeralOwner::Container),
        any::<i64>().prop_map(EphemeralOwner::Ttl),
    ];
    prop_oneof![
        (path(), data(), acl(), owner, any::<i32>()).prop_map(
            |(path, data, acl, owner, parent_cversion)| TxnOp::Create {
                path,
                data,
                acl,
                owner,
                parent_cversion
            }
        ),
        path().prop_map(|path| TxnOp::Delete { path }),
        (path(), data(), any::<i32>()).prop_map(|(path, data, version)| TxnOp::SetData {
            path,
            data,
            version
        }),
        (path(), any::<i32>()).prop_map(|(path, version)| TxnOp::Check { path, version }),
        any::<i32>().prop_map(|code| TxnOp::Error { code }),
    ]
}

/// Any op prep may produce at the top level, for a txn of `session`.
fn op(session: SessionId) -> impl Strategy<Value = TxnOp> {
    prop_oneof![
        sub_op(session).prop_filter("check only inside a multi", |op| {
            !matches!(op, TxnOp::Check { .. })
        }),
        (path(), acl(), any::<i32>()).prop_map(|(path, acl, version)| TxnOp::SetAcl {
            path,
            acl,
            version
        }),
        any::<i32>().prop_map(|timeout_ms| TxnOp::CreateSession { timeout_ms }),
        vec(path(), 0..3).prop_map(|paths_to_delete| TxnOp::CloseSession { paths_to_delete }),
        vec(sub_op(session), 0..4).prop_map(TxnOp::Multi),
    ]
}

pub fn txn_entry() -> impl Strategy<Value = TxnEntry> {
    let header = (any::<i64>(), any::<i32>(), any::<i64>(), any::<i64>()).prop_map(
        |(session, cxid, zxid, time_ms)| TxnHeader {
            session: SessionId(session),
            cxid,
            zxid: Zxid(zxid),
            time_ms,
        },
    );
    let digest = proptest::option::of((any::<i32>(), any::<i64>()).prop_map(
        |(version, tree_digest)| TxnDigest {
            version,
            tree_digest,
        },
    ));
    (header, digest).prop_flat_map(|(header, digest)| {
        op(header.session).prop_map(move |op| TxnEntry {
            txn: header.txn(op),
            digest,
        })
    })
}

fn id() -> impl Strategy<Value = Id> {
    ("[a-z]{0,6}", "\\PC{0,8}").prop_map(|(scheme, id)| Id { scheme, id })
}

/// Any record, whatever its data says.
pub fn quorum_packet() -> impl Strategy<Value = QuorumPacket> {
    let kind = proptest::sample::select(PacketType::ALL);
    let authinfo = proptest::option::of(vec(id(), 0..3));
    (
        kind,
        any::<i64>(),
        proptest::option::of(vec(any::<u8>(), 0..32)),
        authinfo,
    )
        .prop_map(|(kind, zxid, data, authinfo)| QuorumPacket {
            kind,
            zxid: Zxid(zxid),
            data,
            authinfo,
        })
}

fn sid() -> impl Strategy<Value = Sid> {
    (0..=i64::MAX as u64).prop_map(Sid)
}

fn touch() -> impl Strategy<Value = SessionTouch> {
    (any::<i64>(), any::<i32>()).prop_map(|(session, timeout_ms)| SessionTouch {
        session: SessionId(session),
        timeout_ms,
    })
}

fn learner_info() -> impl Strategy<Value = LearnerInfo> {
    (sid(), any::<i32>(), any::<i64>()).prop_map(|(sid, protocol_version, config_version)| {
        LearnerInfo {
            sid,
            protocol_version,
            config_version,
        }
    })
}

/// An epoch as it fits in a zxid (the high 32 bits, sign included).
fn epoch() -> impl Strategy<Value = Epoch> {
    any::<i32>().prop_map(|e| Epoch(e.into()))
}

fn forwarded() -> impl Strategy<Value = ForwardedRequest> {
    let op = proptest::sample::select(OpCode::ALL);
    let auth = proptest::option::of(vec(id(), 0..3));
    (
        any::<i64>(),
        any::<i32>(),
        op,
        vec(any::<u8>(), 0..24),
        auth,
    )
        .prop_map(|(session, cxid, op, body, auth)| ForwardedRequest {
            session: SessionId(session),
            cxid,
            op,
            body,
            auth,
        })
}

fn zxid() -> impl Strategy<Value = Zxid> {
    any::<i64>().prop_map(Zxid)
}

/// Any packet a peer may send.
pub fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        forwarded().prop_map(Packet::Request),
        txn_entry().prop_map(Packet::Proposal),
        zxid().prop_map(Packet::Ack),
        zxid().prop_map(Packet::Commit),
        zxid().prop_map(Packet::Ping),
        (zxid(), vec(touch(), 0..4))
            .prop_map(|(zxid, touches)| Packet::PingReply { zxid, touches }),
        touch().prop_map(Packet::Revalidate),
        (any::<i64>(), any::<bool>()).prop_map(|(session, valid)| Packet::RevalidateReply {
            session: SessionId(session),
            valid
        }),
        Just(Packet::Sync),
        txn_entry().prop_map(Packet::Inform),
        (zxid(), sid()).prop_map(|(zxid, designated_leader)| Packet::CommitAndActivate {
            zxid,
            designated_leader
        }),
        (zxid(), vec(any::<u8>(), 0..24))
            .prop_map(|(zxid, config)| Packet::NewLeader { zxid, config }),
        (epoch(), learner_info()).prop_map(|(accepted_epoch, info)| Packet::FollowerInfo {
            accepted_epoch,
            info
        }),
        Just(Packet::UpToDate),
        zxid().prop_map(Packet::Diff),
        zxid().prop_map(Packet::Trunc),
        zxid().prop_map(Packet::Snap),
        (epoch(), learner_info()).prop_map(|(accepted_epoch, info)| Packet::ObserverInfo {
            accepted_epoch,
            info
        }),
        (epoch(), any::<i32>()).prop_map(|(epoch, protocol_version)| Packet::LeaderInfo {
            epoch,
            protocol_version
        }),
        (
            zxid(),
            proptest::option::of((0..=i32::MAX).prop_map(|e| Epoch(e.into())))
        )
            .prop_map(|(last_zxid, current_epoch)| Packet::AckEpoch {
                last_zxid,
                current_epoch
            }),
        (sid(), txn_entry()).prop_map(|(designated_leader, entry)| Packet::InformAndActivate {
            designated_leader,
            entry
        }),
    ]
}

/// A client request on a few paths, so that creates, deletes and setACLs meet.
fn request() -> impl Strategy<Value = Request> {
    let path = proptest::sample::select(vec!["/a", "/b", "/a/c", "/a/d", "/b/e", "/a/c/f"]);
    let acl = proptest::sample::select(vec![
        Acl::open_unsafe(),
        Acl::read_unsafe(),
        vec![Acl::new(
            perms::ALL,
            "digest",
            "bob:N7p8kQSyZiIHeS2U6cRqcgN4+K8=",
        )],
        vec![
            Acl::new(perms::READ, "ip", "127.0.0.1"),
            Acl::new(perms::ALL, "world", "anyone"),
        ],
    ]);
    let mode = proptest::sample::select(vec![
        CreateMode::Persistent,
        CreateMode::Ephemeral,
        CreateMode::PersistentSequential,
        CreateMode::Container,
        CreateMode::ContainerSequential,
        CreateMode::PersistentWithTtl(5000),
    ]);
    let path = move || path.clone().prop_map(String::from);
    prop_oneof![
        (path(), data(), acl.clone(), mode).prop_map(|(path, data, acl, mode)| Request::Create {
            path,
            data,
            acl,
            mode
        }),
        (path(), data()).prop_map(|(path, data)| Request::SetData {
            path,
            data,
            version: -1
        }),
        (path(), acl).prop_map(|(path, acl)| Request::SetAcl {
            path,
            acl,
            version: -1
        }),
        path().prop_map(|path| Request::Delete { path, version: -1 }),
        Just(Request::Create {
            path: "/zookeeper/config/x".into(),
            data: None,
            acl: Acl::open_unsafe(),
            mode: CreateMode::Persistent,
        }),
        Just(Request::SetAcl {
            path: "/".into(),
            acl: Acl::open_unsafe(),
            version: -1,
        }),
    ]
}

/// The tree a history of requests from two sessions leaves (TTL nodes allowed).
pub fn tree() -> impl Strategy<Value = DataTree> {
    let sessions = [SessionId(0x100000000000001), SessionId(0x200000000000001)];
    vec(
        (proptest::sample::select(sessions.to_vec()), request()),
        0..24,
    )
    .prop_map(|history| {
        let mut server = Standalone::new(DataTree::new().with_extended_types());
        for (cxid, (session, request)) in history.iter().enumerate() {
            server.submit(*session, cxid as i32, 1000 + cxid as i64, request);
        }
        server.tree
    })
}

/// A session table.
pub fn sessions() -> impl Strategy<Value = BTreeMap<SessionId, i32>> {
    proptest::collection::btree_map(any::<i64>().prop_map(SessionId), any::<i32>(), 0..4)
}
