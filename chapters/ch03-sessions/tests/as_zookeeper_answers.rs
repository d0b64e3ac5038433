//! Requests real clients send that a server could easily answer "reasonably" but differently
//! from ZooKeeper 3.8: each rule here was checked against a real 3.8.0 server on the wire, and
//! each test names the upstream code that decides it.

use crate::support;

use ch01_znode::acl::perms;
use ch03_sessions::jute::{DecodeError, Reader, Record, Writer};
use ch03_sessions::pipeline::standalone::StandalonePipeline;
use ch03_sessions::pipeline::{Limits, Output};
use ch03_sessions::proto::{self, Request, Response};
use ch03_sessions::session::STANDALONE_SID;
use support::{create, open, reply, send, T0, TICK};

fn server() -> StandalonePipeline {
    StandalonePipeline::new(TICK, Limits::for_tick(TICK), STANDALONE_SID, T0)
}

/// An ACL entry as bytes, with `None` written as a null string (length -1), as kazoo writes
/// the empty id of its `CREATOR_ALL_ACL`.
fn acl_bytes(scheme: Option<&str>, id: Option<&str>) -> Vec<u8> {
    let mut w = Writer::new();
    w.write_int(perms::ALL);
    w.write_ustring(scheme);
    w.write_ustring(id);
    w.into_bytes()
}

fn decode_acl(bytes: &[u8]) -> Result<proto::Acl, DecodeError> {
    proto::Acl::decode(&mut Reader::new(bytes))
}

fn add_auth(s: &mut StandalonePipeline, conn: u64, scheme: &str, auth: &[u8]) -> Vec<Output> {
    let packet = Request::Auth(proto::AuthPacket {
        r#type: 0,
        scheme: Some(scheme.into()),
        auth: Some(auth.to_vec()),
    });
    send(s, conn, -4, packet, T0)
}

fn create_with(path: &str, acl: Vec<proto::Acl>) -> Request {
    Request::Create(proto::CreateRequest {
        path: path.into(),
        data: None,
        acl,
        flags: 0,
    })
}

fn closes(out: &[Output]) -> bool {
    out.iter().any(|o| matches!(o, Output::Close { .. }))
}

#[test]
fn an_auth_entry_with_a_null_id_becomes_the_callers_digest_ids() {
    // PrepRequestProcessor.fixupACL never reads the id of an `auth` entry: kazoo's
    // CREATOR_ALL_ACL (id null on the wire) works after add_auth, and is InvalidACL before.
    let creator_all = decode_acl(&acl_bytes(Some("auth"), None)).expect("a null auth id is read");
    let mut s = server();
    open(&mut s, 1, T0);
    let out = send(
        &mut s,
        1,
        1,
        create_with("/a", vec![creator_all.clone()]),
        T0,
    );
    assert_eq!(reply(&out, 1).0.err, -114, "no authenticated id yet");
    assert_eq!(
        reply(&add_auth(&mut s, 1, "digest", b"user:pw"), 1).0.err,
        0
    );
    let out = send(&mut s, 1, 2, create_with("/a", vec![creator_all]), T0);
    assert_eq!(reply(&out, 1).0.err, 0);
    let node = s.pipeline().tree().node("/a").expect("created");
    assert_eq!(
        node.acl.to_vec(),
        vec![proto::Acl::new(
            perms::ALL,
            "digest",
            &ch03_sessions::acl::digest("user:pw")
        )]
    );
}

#[test]
fn a_null_id_is_a_marshalling_error_only_where_zookeeper_reads_it() {
    // fixupACL calls `id.getId().equals(..)` for world and the providers' isValid for digest
    // and ip: a null id throws there (MarshallingError); a null scheme, or a scheme without a
    // provider, is InvalidACL without looking at the id.
    for scheme in ["world", "digest", "ip"] {
        let err = decode_acl(&acl_bytes(Some(scheme), None)).expect_err(scheme);
        assert!(matches!(err, DecodeError::UnexpectedNull { .. }), "{err}");
    }
    for (scheme, id) in [(None, None), (None, Some("anyone")), (Some("foo"), None)] {
        let acl = decode_acl(&acl_bytes(scheme, id)).expect("read");
        let mut s = server();
        open(&mut s, 1, T0);
        let out = send(&mut s, 1, 1, create_with("/a", vec![acl]), T0);
        assert_eq!(reply(&out, 1).0.err, -114, "{scheme:?}:{id:?}");
    }
}

#[test]
fn exists_answers_the_stat_of_a_node_the_caller_may_not_read() {
    // FinalRequestProcessor (3.8), exists: no checkACL; getData on the same node is NoAuth.
    let mut s = server();
    open(&mut s, 1, T0);
    open(&mut s, 2, T0);
    add_auth(&mut s, 1, "digest", b"user:pw");
    let private = vec![proto::Acl::new(perms::ALL, "auth", "")];
    assert_eq!(
        reply(&send(&mut s, 1, 1, create_with("/p", private), T0), 1)
            .0
            .err,
        0
    );
    let (header, body) = reply(&send(&mut s, 2, 1, support::exists("/p", false), T0), 2);
    assert_eq!(header.err, 0);
    assert!(matches!(body, Some(Response::Exists(_))));
    let get = Request::GetData(proto::GetDataRequest {
        path: "/p".into(),
        watch: false,
    });
    assert_eq!(reply(&send(&mut s, 2, 2, get, T0), 2).0.err, -102);
}

#[test]
fn addauth_ip_succeeds_and_keeps_the_connection() {
    // IPAuthenticationProvider.handleAuthentication: OK, the id is the client's address.
    let mut s = server();
    open(&mut s, 1, T0);
    let out = add_auth(&mut s, 1, "ip", b"anything");
    assert_eq!(reply(&out, 1).0.err, 0);
    assert!(!closes(&out));
    let whoami = send(&mut s, 1, 1, Request::WhoAmI, T0);
    let Some(Response::WhoAmI(me)) = reply(&whoami, 1).1 else {
        panic!("whoAmI answers");
    };
    assert_eq!(me.client_info.len(), 1, "the ip id is not added twice");
}

#[test]
fn sasl_without_sasl_answers_ok_with_a_null_token() {
    // ZooKeeperServer.processSasl: no SASL server on the connection, so no token: OK, null.
    // A null client token throws before the answer, and the connection is closed.
    let mut s = server();
    open(&mut s, 1, T0);
    let sasl = |token: Option<&[u8]>| {
        Request::Sasl(proto::SaslToken {
            token: token.map(<[u8]>::to_vec),
        })
    };
    let out = send(&mut s, 1, 1, sasl(Some(b"")), T0);
    let (header, body) = reply(&out, 1);
    assert_eq!((header.err, header.zxid.0), (0, 0));
    assert_eq!(body, Some(Response::Sasl(proto::SaslToken { token: None })));
    assert!(!closes(&out));
    let out = send(&mut s, 1, 2, sasl(None), T0);
    assert_eq!(
        out,
        vec![Output::Close {
            conn: ch03_sessions::pipeline::ConnId(1)
        }]
    );
}

#[test]
fn create_container_makes_a_container_whatever_its_flags() {
    // PrepRequestProcessor: createContainer always logs a CreateContainerTxn; only a TTL flag
    // still counts (refused: TTLs are off by default), and a flag naming no mode is
    // BadArguments.
    let mut s = server();
    open(&mut s, 1, T0);
    let container = |path: &str, flags: i32| {
        let Request::Create(r) = create(path, flags) else {
            unreachable!()
        };
        Request::CreateContainer(r)
    };
    for (xid, flags) in [(1, 1), (2, 4), (3, 0)] {
        let path = format!("/c{flags}");
        let out = send(&mut s, 1, xid, container(&path, flags), T0);
        assert_eq!(reply(&out, 1).0.err, 0, "flags {flags}");
        let node = s.pipeline().tree().node(&path).expect("created");
        assert_eq!(
            node.stat.ephemeral_owner,
            i64::MIN,
            "a container, flags {flags}"
        );
    }
    let out = send(&mut s, 1, 4, container("/c5", 5), T0);
    assert_eq!(reply(&out, 1).0.err, -6);
    let out = send(&mut s, 1, 5, container("/c9", 9), T0);
    assert_eq!(reply(&out, 1).0.err, -8);
    // The sequential bit still counts: the name gets the parent's counter (the root has
    // seen three creates; /zookeeper is built in and counts none).
    for (xid, flags) in [(6, 2), (7, 3)] {
        let out = send(&mut s, 1, xid, container("/s-", flags), T0);
        let Some(Response::Create2(r)) = reply(&out, 1).1 else {
            panic!("a created node, flags {flags}")
        };
        let node = s.pipeline().tree().node(&r.path).expect("created");
        assert_eq!(node.stat.ephemeral_owner, i64::MIN, "{}", r.path);
    }
    let children = s.pipeline().tree().get_children("/").unwrap().0;
    assert!(
        children.contains(&"s-0000000003".to_string()),
        "{children:?}"
    );
    assert!(
        children.contains(&"s-0000000004".to_string()),
        "{children:?}"
    );
}

#[test]
fn a_create_with_a_stat_in_a_multi_answers_result_type_create2() {
    // FinalRequestProcessor: create2, createTTL and createContainer all answer
    // `new CreateResult(path, stat)`, whose type is create2 (15); MultiResponse writes no
    // other create type. And a TTL flag on an op without a TTL fails the whole multi as it is
    // read (MultiOperationRecord.deserialize): MarshallingError.
    let mut s = server();
    open(&mut s, 1, T0);
    let Request::Create(c) = create("/c", 4) else {
        unreachable!()
    };
    let multi = |op| Request::Multi(proto::MultiRequest { ops: vec![op] });
    let out = send(
        &mut s,
        1,
        1,
        multi(proto::MultiOp::CreateContainer(c.clone())),
        T0,
    );
    let Some(Response::Multi(m)) = reply(&out, 1).1 else {
        panic!("a multi reply")
    };
    assert_eq!(m.results.len(), 1);
    assert_eq!(m.results[0].result_type(), 15);
    let ttl = proto::CreateRequest { flags: 5, ..c };
    let out = send(
        &mut s,
        1,
        2,
        multi(proto::MultiOp::CreateContainer(ttl)),
        T0,
    );
    assert_eq!(reply(&out, 1).0.err, -5);
}

#[test]
fn ttl_modes_are_unimplemented_while_extended_types_are_off() {
    // validateCreateRequest: a TTL mode without zookeeper.extendedTypesEnabled is
    // Unimplemented; EphemeralType.validateTTL: createTTL of a mode without a TTL is
    // BadArguments (upstream fails applying it when the TTL is negative; here it is refused).
    let mut s = server();
    open(&mut s, 1, T0);
    let ttl = |path: &str, flags: i32, ttl: i64| {
        Request::CreateTtl(proto::CreateTtlRequest {
            path: path.into(),
            data: None,
            acl: proto::Acl::open_unsafe(),
            flags,
            ttl,
        })
    };
    let cases = [
        (ttl("/t1", 5, 1000), -6),
        (ttl("/t2", 6, 1000), -6),
        (ttl("/t3", 0, 1000), -8),
        (ttl("/t4", 0, -1), -8),
        (ttl("/t5", 1, 5), -8),
        (create("/t6", 5), -6),
        (create("/t7", 6), -6),
    ];
    for (xid, (request, err)) in (1..).zip(cases) {
        let out = send(&mut s, 1, xid, request.clone(), T0);
        assert_eq!(reply(&out, 1).0.err, err, "{request:?}");
    }
}
