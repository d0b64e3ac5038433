//! Frames captured from real clients talking to a real ZooKeeper 3.8 server
//! (tests/fixtures/*.frames, each file's header says what produced it).
//!
//! Three checks per capture: every frame decodes; re-encoding what we decoded
//! gives back the captured bytes exactly (so our encoder writes what
//! ZooKeeper writes); and the decoded trace is snapshotted for review.

use std::collections::HashMap;

use ch03_sessions::jute::Record;
use ch03_sessions::proto::*;

/// (is_client, payload) for each frame line of a fixture.
fn load(name: &str) -> Vec<(bool, Vec<u8>)> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (dir, hex) = l.split_once(' ').expect("`C hex` or `S hex`");
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (dir == "C", bytes)
        })
        .collect()
}

/// Decodes every frame and re-encodes it, asserting byte equality.
fn decode_and_reencode(frames: &[(bool, Vec<u8>)]) {
    let mut pending: HashMap<i32, OpCode> = HashMap::new();
    let (mut client_first, mut server_first) = (true, true);
    for (i, (is_client, bytes)) in frames.iter().enumerate() {
        let again = match (is_client, client_first, server_first) {
            (true, true, _) => {
                client_first = false;
                ConnectRequest::from_bytes(bytes)
                    .expect("ConnectRequest")
                    .to_bytes()
            }
            (false, _, true) => {
                server_first = false;
                ConnectResponse::from_bytes(bytes)
                    .expect("ConnectResponse")
                    .to_bytes()
            }
            (true, false, _) => {
                let (h, req) = decode_request(bytes).unwrap_or_else(|e| panic!("frame {i}: {e}"));
                pending.insert(h.xid, req.op_code());
                encode_request(h.xid, &req)
            }
            (false, _, false) => match decode_server_frame(bytes).expect("reply header") {
                (ServerFrame::Notification(ev), _) => encode_notification(&ev),
                (ServerFrame::Ping(h) | ServerFrame::Auth(h), _) => encode_reply(&h, None),
                (ServerFrame::Reply(h), mut body) => {
                    let op = pending.remove(&h.xid).expect("a request with this xid");
                    let rsp = decode_response(op, &h, &mut body)
                        .unwrap_or_else(|e| panic!("frame {i}: {e}"));
                    assert_eq!(body.remaining(), 0, "frame {i} fully read");
                    encode_reply(&h, rsp.as_ref())
                }
            },
        };
        assert_eq!(&again, bytes, "frame {i} re-encodes to the captured bytes");
    }
}

fn trace(frames: &[(bool, Vec<u8>)]) -> String {
    let mut printer = FramePrinter::new();
    frames
        .iter()
        .map(|(is_client, bytes)| {
            let (arrow, dir) = if *is_client {
                ("C→S", Direction::ClientToServer)
            } else {
                ("S→C", Direction::ServerToClient)
            };
            format!("{arrow} {}\n", printer.describe(dir, bytes))
        })
        .collect()
}

#[test]
fn every_frame_zkcli_exchanged_with_zookeeper_decodes_and_reencodes_byte_for_byte() {
    decode_and_reencode(&load("zkcli-3.8.frames"));
}

#[test]
fn every_frame_kazoo_exchanged_with_zookeeper_decodes_and_reencodes_byte_for_byte() {
    decode_and_reencode(&load("kazoo-2.8.frames"));
}

#[test]
fn the_zkcli_capture_reads_as_this_trace() {
    let text = trace(&load("zkcli-3.8.frames"));
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("zkcli_trace", text);
    });
}

/// The book opens the wire page with the start of the zkCli capture: the handshake and the
/// first ten requests, up to the reply to `xid=10`, whose watch event overtakes it. Cut from the
/// same trace, by that reply, and pinned on its own so the page need not count lines.
#[test]
fn the_zkcli_capture_begins_with_the_handshake_and_ten_requests() {
    let text = trace(&load("zkcli-3.8.frames"));
    let end = text
        .lines()
        .position(|l| l.starts_with("S→C xid=10 "))
        .expect("the capture has a reply to xid=10");
    let opening: String = text
        .lines()
        .take(end + 1)
        .map(|l| format!("{l}\n"))
        .collect();
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("zkcli_trace_opening", opening);
    });
}

#[test]
fn the_kazoo_capture_reads_as_this_trace() {
    let text = trace(&load("kazoo-2.8.frames"));
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("kazoo_trace", text);
    });
}

/// zkCli's handshake: protocol 0, no zxid seen, 30 s asked for, a new
/// session, 16 zero password bytes, and the trailing readOnly=false byte
/// (client-protocol.md §3).
#[test]
fn zkcli_opens_with_a_45_byte_connect_request_for_a_new_30_second_session() {
    let frames = load("zkcli-3.8.frames");
    let (is_client, bytes) = &frames[0];
    assert!(is_client);
    assert_eq!(bytes.len(), 45);
    let req = ConnectRequest::from_bytes(bytes).unwrap();
    assert_eq!(req, ConnectRequest::new_session(30_000));
}

/// A standalone server puts its server id 1 in the session id's top byte
/// (SessionTrackerImpl.initializeNextSessionId).
#[test]
fn the_real_server_answers_with_a_session_id_whose_top_byte_is_server_id_one() {
    let frames = load("zkcli-3.8.frames");
    let rsp = ConnectResponse::from_bytes(&frames[1].1).unwrap();
    assert_eq!(rsp.session_id.server_id(), ch01_znode::Sid(1));
    assert_eq!(rsp.time_out, 30_000);
    assert_eq!(rsp.passwd.len(), 16);
    assert_eq!(rsp.read_only, Some(false));
}

/// `create /app "hello"` is opcode 1 with the OPEN_ACL_UNSAFE list and flags
/// 0, and the first create after createSession (zxid 0x1) gets zxid 0x2.
#[test]
fn zkcli_create_is_a_create_request_with_the_open_acl_and_gets_zxid_2() {
    let frames = load("zkcli-3.8.frames");
    let (h, req) = decode_request(&frames[2].1).unwrap();
    assert_eq!(h, RequestHeader { xid: 1, r#type: 1 });
    assert_eq!(
        req,
        Request::Create(CreateRequest {
            path: "/app".into(),
            data: Some(b"hello".to_vec()),
            acl: Acl::open_unsafe(),
            flags: 0,
        })
    );
    let (kind, _) = decode_server_frame(&frames[3].1).unwrap();
    assert_eq!(
        kind,
        ServerFrame::Reply(ReplyHeader {
            xid: 1,
            zxid: Zxid(2),
            err: 0
        })
    );
}

/// kazoo pings with xid -2 and opcode 11, header only, and the server
/// answers with a bare header under xid -2 (client-protocol.md §4).
#[test]
fn kazoo_pings_with_xid_minus_2_and_gets_a_bare_header_back() {
    let frames = load("kazoo-2.8.frames");
    let ping = frames
        .iter()
        .position(|(c, b)| *c && decode_request(b).is_ok_and(|(_, r)| r == Request::Ping))
        .expect("the capture holds a ping");
    assert_eq!(frames[ping].1, [0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]);
    let reply = frames[ping + 1..].iter().find(|(c, _)| !c).unwrap();
    assert!(matches!(
        decode_server_frame(&reply.1).unwrap().0,
        ServerFrame::Ping(ReplyHeader {
            xid: -2,
            err: 0,
            ..
        })
    ));
}

/// A failed multi answers err 0 in the header; inside, every result is an
/// error: 0 before the failing op, its code on it, -2 after it
/// (client-protocol.md §6).
#[test]
fn a_failed_kazoo_transaction_reports_each_op_as_an_error_result() {
    let frames = load("kazoo-2.8.frames");
    let mut pending = HashMap::new();
    let mut failed = None;
    for (is_client, bytes) in &frames[2..] {
        if *is_client {
            let (h, req) = decode_request(bytes).unwrap();
            pending.insert(h.xid, req.op_code());
        } else if let (ServerFrame::Reply(h), mut body) = decode_server_frame(bytes).unwrap() {
            let op = pending.remove(&h.xid).unwrap();
            if let Some(Response::Multi(m)) = decode_response(op, &h, &mut body).unwrap() {
                if matches!(m.results.first(), Some(OpResult::Error(_))) {
                    failed = Some((h.err, m.results));
                }
            }
        }
    }
    let (header_err, results) = failed.expect("the capture holds a failed transaction");
    assert_eq!(header_err, 0);
    assert_eq!(
        results,
        vec![
            OpResult::Error(0),
            OpResult::Error(ZkError::BadVersion.code()),
            OpResult::Error(ZkError::RuntimeInconsistency.code()),
        ]
    );
}
