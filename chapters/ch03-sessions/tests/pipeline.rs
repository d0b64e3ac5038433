//! The request pipeline, driven without sockets: every rule here is a step and its outputs.

use crate::support;

use ch01_znode::{EventType, SessionId, WatchedEvent, ZkError, Zxid};
use ch03_sessions::pipeline::standalone::StandalonePipeline;
use ch03_sessions::pipeline::{ConnId, Input, Limits, Output, ServerMessage};
use ch03_sessions::proto::{self, ConnectRequest, ReplyHeader, Request, Response};
use ch03_sessions::session::{session_password, STANDALONE_SID};
use support::{
    connect_request, create, exists, frames_to, local, open, reply, send, undecodable, T0, TICK,
};

fn server() -> StandalonePipeline {
    StandalonePipeline::new(TICK, Limits::for_tick(TICK), STANDALONE_SID, T0)
}

#[test]
fn a_new_session_is_the_first_txn_and_the_first_create_the_second() {
    // client-protocol.md §12: createSession is zxid 0x1, the first create 0x2.
    let mut s = server();
    let session = open(&mut s, 1, T0);
    assert_eq!(
        session.0 >> 56,
        1,
        "a standalone server's id is in the top byte"
    );
    assert_eq!(s.pipeline().tree().last_processed_zxid().0, 1);
    let out = send(&mut s, 1, 1, create("/a", 0), T0);
    let (header, body) = reply(&out, 1);
    assert_eq!(
        header,
        ReplyHeader {
            xid: 1,
            zxid: Zxid(2),
            err: 0
        }
    );
    assert_eq!(
        body,
        Some(Response::Create(proto::CreateResponse {
            path: "/a".into()
        }))
    );
}

#[test]
fn the_timeout_is_clamped_to_two_to_twenty_ticks() {
    // ZooKeeperServer.processConnectRequest with the default min/max.
    let mut s = server();
    for (asked, got) in [(1000, 4000), (30_000, 30_000), (100_000, 40_000)] {
        let out = s.step(
            T0,
            Input::Connect {
                conn: ConnId(asked as u64),
                addr: local(),
                request: connect_request(SessionId(0), vec![0; 16], asked),
            },
        );
        let Some(ServerMessage::Connected(c)) = frames_to(&out, asked as u64).pop() else {
            panic!("no ConnectResponse");
        };
        assert_eq!(c.time_out, got);
        assert_eq!(c.passwd, session_password(c.session_id));
    }
}

#[test]
fn a_failed_write_still_takes_a_zxid() {
    // ZooKeeper 3.8 logs failed writes as error txns (real-zookeeper.md).
    let mut s = server();
    open(&mut s, 1, T0);
    send(&mut s, 1, 1, create("/a", 0), T0);
    let out = send(&mut s, 1, 2, create("/a", 0), T0);
    assert_eq!(
        reply(&out, 1).0,
        ReplyHeader {
            xid: 2,
            zxid: Zxid(3),
            err: -110
        }
    );
    let out = send(&mut s, 1, 3, create("/b", 0), T0);
    assert_eq!(reply(&out, 1).0.zxid, Zxid(4));
}

#[test]
fn a_watch_fires_before_the_reply_to_the_write_that_fired_it() {
    // client-protocol.md §10: the event is sent before the reply on the same connection.
    let mut s = server();
    open(&mut s, 1, T0);
    let out = send(&mut s, 1, 1, exists("/a", true), T0);
    assert_eq!(reply(&out, 1).0.err, -101, "no node, but the watch is left");
    let out = send(&mut s, 1, 2, create("/a", 0), T0);
    let frames = frames_to(&out, 1);
    let created = WatchedEvent::node(EventType::NodeCreated, "/a");
    assert!(matches!(&frames[0], ServerMessage::Event(e) if *e == created));
    assert!(matches!(&frames[1], ServerMessage::Reply(h, _) if h.xid == 2));
}

#[test]
fn expiry_deletes_ephemerals_and_tells_their_watchers() {
    // SessionTrackerImpl expires a whole bucket; the closeSession txn deletes the ephemerals.
    let mut s = server();
    open(&mut s, 1, T0);
    open(&mut s, 2, T0);
    send(&mut s, 1, 1, create("/e", 1), T0);
    send(&mut s, 2, 1, exists("/e", true), T0);
    // Session 2 pings; session 1 says nothing. Session 1's deadline is
    // roundUp(T0 + 30 s) = T0 + 32 s (T0 is a whole tick); session 2's moved to T0 + 60 s.
    send(&mut s, 2, -2, Request::Ping, T0 + 29_000);
    assert!(s.step(T0 + 31_999, Input::Tick).is_empty(), "not yet due");
    let out = s.step(T0 + 32_000, Input::Tick);
    let closed = out
        .iter()
        .any(|o| matches!(o, Output::Close { conn } if *conn == ConnId(1)));
    assert!(
        closed,
        "the expired session's connection is closed: {out:?}"
    );
    let told = frames_to(&out, 2);
    let deleted = WatchedEvent::node(EventType::NodeDeleted, "/e");
    assert!(
        matches!(&told[..], [ServerMessage::Event(e)] if *e == deleted),
        "{told:?}"
    );
    assert!(s.pipeline().tree().node("/e").is_none());
}

#[test]
fn close_session_answers_then_closes_and_deletes_ephemerals() {
    let mut s = server();
    open(&mut s, 1, T0);
    send(&mut s, 1, 1, create("/e", 1), T0);
    let out = send(&mut s, 1, 2, Request::CloseSession, T0);
    assert_eq!(
        reply(&out, 1).0,
        ReplyHeader {
            xid: 2,
            zxid: Zxid(3),
            err: 0
        }
    );
    assert!(matches!(out.last(), Some(Output::Close { conn }) if *conn == ConnId(1)));
    assert!(s.pipeline().tree().node("/e").is_none());
    assert_eq!(s.pipeline().sessions().len(), 0);
}

#[test]
fn a_reconnect_with_the_password_keeps_the_session_and_its_ephemerals() {
    let mut s = server();
    let id = open(&mut s, 1, T0);
    send(&mut s, 1, 1, create("/e", 1), T0);
    s.step(T0 + 1000, Input::Disconnected { conn: ConnId(1) });
    let passwd = session_password(id).to_vec();
    let out = s.step(
        T0 + 2000,
        Input::Connect {
            conn: ConnId(2),
            addr: local(),
            request: connect_request(id, passwd, 30_000),
        },
    );
    assert!(matches!(&frames_to(&out, 2)[..], [ServerMessage::Connected(c)] if c.session_id == id));
    assert!(s.pipeline().tree().node("/e").is_some());
    // A wrong password gets the "expired" answer: timeout 0, id 0.
    let out = s.step(
        T0 + 2000,
        Input::Connect {
            conn: ConnId(3),
            addr: local(),
            request: connect_request(id, vec![1; 16], 30_000),
        },
    );
    assert!(
        matches!(&frames_to(&out, 3)[..], [ServerMessage::Connected(c)] if c.time_out == 0 && c.session_id == SessionId(0))
    );
    // ...and, as in ZooKeeper's processConnectRequest, the owner's connection was closed
    // before the password was checked. The session itself lives on.
    assert!(out.contains(&Output::Close { conn: ConnId(2) }), "{out:?}");
    assert!(s.pipeline().tree().node("/e").is_some());
}

#[test]
fn set_watches_re_arms_a_watch_after_a_reconnect() {
    // DataTree.setWatches: an unchanged node gets its watch back.
    let mut s = server();
    let id = open(&mut s, 1, T0);
    send(&mut s, 1, 1, create("/w", 0), T0);
    s.step(T0, Input::Disconnected { conn: ConnId(1) });
    let passwd = session_password(id).to_vec();
    s.step(
        T0,
        Input::Connect {
            conn: ConnId(2),
            addr: local(),
            request: ConnectRequest {
                last_zxid_seen: Zxid(2),
                ..connect_request(id, passwd, 30_000)
            },
        },
    );
    let set = Request::SetWatches(proto::SetWatches {
        relative_zxid: Zxid(2),
        data_watches: vec!["/w".into()],
        exist_watches: vec![],
        child_watches: vec![],
    });
    assert_eq!(reply(&send(&mut s, 2, 2, set, T0), 2).0.err, 0);
    open(&mut s, 3, T0);
    let set_data = Request::SetData(proto::SetDataRequest {
        path: "/w".into(),
        data: Some(b"y".to_vec()),
        version: -1,
    });
    let out = send(&mut s, 3, 1, set_data, T0);
    assert!(matches!(
        &frames_to(&out, 2)[..],
        [ServerMessage::Event(e)] if e.event_type == EventType::NodeDataChanged
    ));
}

#[test]
fn a_digest_acl_keeps_other_clients_out() {
    // PrepRequestProcessor.checkACL: CREATE on the parent; getData needs READ.
    let mut s = server();
    open(&mut s, 1, T0);
    open(&mut s, 2, T0);
    let auth = Request::Auth(proto::AuthPacket {
        r#type: 0,
        scheme: Some("digest".into()),
        auth: Some(b"alice:secret".to_vec()),
    });
    assert_eq!(reply(&send(&mut s, 1, -4, auth, T0), 1).0.err, 0);
    let private = Request::Create(proto::CreateRequest {
        path: "/alice".into(),
        data: Some(b"mine".to_vec()),
        acl: vec![proto::Acl {
            perms: 31,
            id: proto::Id {
                scheme: "auth".into(),
                id: "".into(),
            },
        }],
        flags: 0,
    });
    assert_eq!(reply(&send(&mut s, 1, 1, private, T0), 1).0.err, 0);
    let get = |path: &str| {
        Request::GetData(proto::GetDataRequest {
            path: path.into(),
            watch: false,
        })
    };
    assert_eq!(reply(&send(&mut s, 1, 2, get("/alice"), T0), 1).0.err, 0);
    assert_eq!(reply(&send(&mut s, 2, 1, get("/alice"), T0), 2).0.err, -102);
    let out = send(&mut s, 2, 2, create("/alice/x", 0), T0);
    assert_eq!(reply(&out, 2).0.err, -102, "no CREATE on the parent");
}

#[test]
fn an_unknown_auth_scheme_fails_and_closes() {
    let mut s = server();
    open(&mut s, 1, T0);
    let auth = Request::Auth(proto::AuthPacket {
        r#type: 0,
        scheme: Some("kerberos".into()),
        auth: Some(b"x".to_vec()),
    });
    let out = send(&mut s, 1, -4, auth, T0);
    assert_eq!(reply(&out, 1).0.err, -115);
    assert!(matches!(out.last(), Some(Output::Close { .. })));
}

#[test]
fn an_undecodable_request_is_answered_in_turn() {
    let mut s = server();
    open(&mut s, 1, T0);
    let out = undecodable(&mut s, 1, 7, ZkError::MarshallingError, T0);
    assert_eq!(out.len(), 1, "the connection stays open: {out:?}");
    assert_eq!(reply(&out, 1).0.err, -5);
}

#[test]
fn an_unknown_opcode_is_answered_then_its_connection_closed() {
    // UnimplementedRequestProcessor: reply Unimplemented, then sendCloseSession.
    let mut s = server();
    open(&mut s, 1, T0);
    let out = undecodable(&mut s, 1, 7, ZkError::Unimplemented, T0);
    assert_eq!(reply(&out, 1).0.err, -6);
    assert!(matches!(out.last(), Some(Output::Close { conn }) if *conn == ConnId(1)));
}

#[test]
fn a_ping_is_answered_with_the_last_zxid() {
    let mut s = server();
    open(&mut s, 1, T0);
    let out = send(&mut s, 1, -2, Request::Ping, T0);
    assert_eq!(
        frames_to(&out, 1),
        vec![ServerMessage::Reply(
            ReplyHeader {
                xid: -2,
                zxid: Zxid(1),
                err: 0
            },
            None
        )]
    );
}
