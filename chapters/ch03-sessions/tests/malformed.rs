//! Bad bytes get a clear error, never a panic and never an allocation of a
//! size the peer merely claimed (client-protocol.md §1; ZooKeeper's
//! `BinaryInputArchive.checkLength` and `NIOServerCnxn.readLength`).

use ch03_sessions::jute::{DecodeError, Reader, Record};
use ch03_sessions::proto::*;

fn frame_of(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Every strict prefix of a real create frame is an error (or, for the
/// prefixes that stop exactly between header and body, a different error),
/// and none of them panics.
#[test]
fn every_truncation_of_a_create_frame_is_an_error() {
    let full = encode_request(
        1,
        &Request::Create(CreateRequest {
            path: "/app".into(),
            data: Some(b"hello".to_vec()),
            acl: Acl::open_unsafe(),
            flags: 0,
        }),
    );
    assert!(decode_request(&full).is_ok());
    for cut in 0..full.len() {
        let err = decode_request(&full[..cut]).expect_err("a truncated frame");
        assert!(
            matches!(
                err.cause,
                DecodeError::Truncated { .. } | DecodeError::LengthTooLarge { .. }
            ),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn a_truncated_header_has_no_xid_to_answer_so_the_server_must_close() {
    let err = decode_request(&[0, 0, 0, 1, 0, 0]).unwrap_err();
    assert_eq!(err.header, None);
    assert_eq!(err.reply_error(), None);
}

/// An opcode ZooKeeper does not define is answered `Unimplemented` under
/// the request's own xid (ZooKeeperServer.submitRequestNow).
#[test]
fn an_unknown_opcode_is_answered_unimplemented_under_its_xid() {
    let err = decode_request(&frame_of(&[&7i32.to_be_bytes(), &999i32.to_be_bytes()])).unwrap_err();
    assert_eq!(
        err.header,
        Some(RequestHeader {
            xid: 7,
            r#type: 999
        })
    );
    assert_eq!(err.cause, DecodeError::UnknownOpCode { op: 999 });
    assert_eq!(err.reply_error(), Some(ZkError::Unimplemented));
}

/// createSession sent as a request is taken as upstream takes it: the body's
/// first int is the timeout, and without one the body cannot be read.
#[test]
fn a_create_session_sent_as_a_request_reads_one_int() {
    let err =
        decode_request(&frame_of(&[&1i32.to_be_bytes(), &(-10i32).to_be_bytes()])).unwrap_err();
    assert_eq!(err.reply_error(), Some(ZkError::MarshallingError));
    let frame = frame_of(&[&1i32.to_be_bytes(), &(-10i32).to_be_bytes(), &[0; 20]]);
    let (_, request) = decode_request(&frame).unwrap();
    assert_eq!(request, Request::CreateSession { timeout_ms: 0 });
}

/// The notification marker (0) is no request.
#[test]
fn a_notification_sent_as_a_request_is_unknown() {
    let err = decode_request(&frame_of(&[&1i32.to_be_bytes(), &0i32.to_be_bytes()])).unwrap_err();
    assert_eq!(err.cause, DecodeError::UnknownOpCode { op: 0 });
}

/// A path that is not UTF-8 decodes as Java decodes it, malformed bytes becoming U+FFFD
/// (`BinaryInputArchive.readString`): ZooKeeper 3.8 answers such a request, it does not
/// reject it.
#[test]
fn a_path_that_is_not_utf8_decodes_with_replacement_characters_as_java_does() {
    let frame = frame_of(&[
        &3i32.to_be_bytes(),
        &OpCode::Exists.code().to_be_bytes(),
        &2i32.to_be_bytes(),
        &[b'/', 0xff],
        &[0],
    ]);
    let (_, request) = decode_request(&frame).unwrap();
    assert_eq!(
        request,
        Request::Exists(ExistsRequest {
            path: "/\u{fffd}".into(),
            watch: false
        })
    );
}

/// A string claiming 2 GB in a 20-byte frame is rejected before any
/// allocation: the claim is checked against the bytes actually left.
#[test]
fn a_huge_string_length_is_refused_without_allocating_it() {
    let frame = frame_of(&[
        &1i32.to_be_bytes(),
        &OpCode::GetData.code().to_be_bytes(),
        &i32::MAX.to_be_bytes(),
        b"/abc",
    ]);
    let err = decode_request(&frame).unwrap_err();
    assert_eq!(
        err.cause,
        DecodeError::LengthTooLarge {
            what: "GetDataRequest.path",
            len: i32::MAX,
            remaining: 4
        }
    );
}

#[test]
fn a_huge_vector_count_is_refused_without_allocating_it() {
    let bytes = frame_of(&[&i32::MAX.to_be_bytes(), &[0; 8]]);
    let err = GetChildrenResponse::from_bytes(&bytes).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::LengthTooLarge { len: i32::MAX, .. }
    ));
}

#[test]
fn a_length_below_minus_one_is_an_error_and_minus_one_is_null() {
    let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xfe]);
    assert_eq!(
        r.read_buffer("x"),
        Err(DecodeError::NegativeLength { what: "x", len: -2 })
    );
    let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
    assert_eq!(r.read_buffer("x"), Ok(None));
}

/// A null path (-1) is not a path: where ZooKeeper fails on a null (a read
/// looks it up and throws), it is a clear error rather than an empty string.
#[test]
fn a_null_path_is_an_error() {
    let frame = frame_of(&[
        &1i32.to_be_bytes(),
        &OpCode::GetData.code().to_be_bytes(),
        &(-1i32).to_be_bytes(),
        &[0],
    ]);
    let err = decode_request(&frame).unwrap_err();
    assert_eq!(
        err.cause,
        DecodeError::UnexpectedNull {
            what: "GetDataRequest.path"
        }
    );
}

/// A notification frame: header xid -1, zxid -1, err 0, then the
/// WatcherEvent fields `type`, `state` and the path bytes (`None` for null).
fn notification(event_type: i32, state: i32, path: Option<&[u8]>) -> Vec<u8> {
    let path = match path {
        Some(p) => [&(p.len() as i32).to_be_bytes()[..], p].concat(),
        None => (-1i32).to_be_bytes().to_vec(),
    };
    frame_of(&[
        &(-1i32).to_be_bytes(),
        &(-1i64).to_be_bytes(),
        &0i32.to_be_bytes(),
        &event_type.to_be_bytes(),
        &state.to_be_bytes(),
        &path,
    ])
}

/// A notification whose event type or keeper state ZooKeeper does not
/// define does not decode: the Java client's `WatchedEvent(WatcherEvent)`
/// calls `EventType.fromInt` / `KeeperState.fromInt`, which throw, and
/// `ClientCnxn` drops the connection.
#[test]
fn a_notification_with_an_undefined_event_type_or_state_is_an_error() {
    let ok = notification(3, 3, Some(b"/a"));
    let (frame, _) = decode_server_frame(&ok).unwrap();
    assert_eq!(
        frame,
        ServerFrame::Notification(WatchedEvent::node(EventType::NodeDataChanged, "/a"))
    );
    let undefined_type = notification(99, 3, Some(b"/a"));
    assert_eq!(
        decode_server_frame(&undefined_type).unwrap_err(),
        DecodeError::InvalidValue {
            what: "WatchedEvent.event_type",
            value: 99
        }
    );
    // 0 is no event type and 2 no state: both sets have gaps.
    assert!(decode_server_frame(&notification(0, 3, Some(b"/a"))).is_err());
    assert_eq!(
        decode_server_frame(&notification(3, 2, Some(b"/a"))).unwrap_err(),
        DecodeError::InvalidValue {
            what: "WatchedEvent.state",
            value: 2
        }
    );
}

/// The path of a WatcherEvent is a jute `ustring`, so a null one reads as
/// Java reads it: no path, printed `path:null`.
#[test]
fn a_notification_with_a_null_path_has_no_path() {
    let (frame, _) = decode_server_frame(&notification(-1, 3, None)).unwrap();
    let ServerFrame::Notification(event) = frame else {
        panic!("a notification: {frame:?}")
    };
    assert_eq!(event, WatchedEvent::state(KeeperState::SyncConnected));
    assert_eq!(
        event.to_string(),
        "WatchedEvent state:SyncConnected type:None path:null"
    );
}

/// A checkWatches, removeWatches or addWatch frame for "/" with this type or
/// mode code.
fn watch_request(op: OpCode, code: i32) -> Vec<u8> {
    frame_of(&[
        &3i32.to_be_bytes(),
        &op.code().to_be_bytes(),
        &1i32.to_be_bytes(),
        b"/",
        &code.to_be_bytes(),
    ])
}

/// A watcher type or addWatch mode ZooKeeper 3.8 does not define makes a
/// body the server cannot read, answered MarshallingError under its xid:
/// 3.8's `FinalRequestProcessor` calls `WatcherType.fromInt` /
/// `WatcherMode.fromZooDef`, which throw, and answers any exception so.
/// 3.9's persistent watcher types (4, 5) are undefined to 3.8.
/// (`real_zookeeper.rs` asks a real 3.8 server the same.)
#[test]
fn an_undefined_watcher_type_or_add_watch_mode_is_answered_marshalling_error() {
    for (op, code) in UNDEFINED_WATCH_CODES {
        let err = decode_request(&watch_request(op, code)).unwrap_err();
        assert!(
            matches!(err.cause, DecodeError::InvalidValue { value, .. } if value == i64::from(code)),
            "{op} {code}: {err}"
        );
        assert_eq!(
            err.reply_error(),
            Some(ZkError::MarshallingError),
            "{op} {code}"
        );
    }
    for (op, code) in [
        (OpCode::CheckWatches, 1),
        (OpCode::RemoveWatches, 3),
        (OpCode::AddWatch, 0),
        (OpCode::AddWatch, 1),
    ] {
        assert!(
            decode_request(&watch_request(op, code)).is_ok(),
            "{op} {code}"
        );
    }
}

/// Watcher types 0, 4, 5, 9, -1 and addWatch modes 2, -1: each answered
/// MarshallingError by a real 3.8 server.
const UNDEFINED_WATCH_CODES: [(OpCode, i32); 7] = [
    (OpCode::CheckWatches, 0),
    (OpCode::CheckWatches, 4),
    (OpCode::CheckWatches, 5),
    (OpCode::RemoveWatches, 9),
    (OpCode::RemoveWatches, -1),
    (OpCode::AddWatch, 2),
    (OpCode::AddWatch, -1),
];

/// A multi without its terminating `done` header is truncated, and an op
/// type that cannot appear in a multi is rejected (MultiOperationRecord).
#[test]
fn a_multi_without_its_done_header_or_with_a_foreign_op_is_an_error() {
    let mut w = ch03_sessions::jute::Writer::new();
    MultiHeader {
        r#type: 2,
        done: false,
        err: -1,
    }
    .encode(&mut w);
    DeleteRequest {
        path: "/a".into(),
        version: -1,
    }
    .encode(&mut w);
    let unterminated = w.into_bytes();
    assert!(matches!(
        MultiRequest::from_bytes(&unterminated),
        Err(DecodeError::Truncated { .. })
    ));

    let foreign = MultiHeader {
        r#type: OpCode::Ping.code(),
        done: false,
        err: -1,
    }
    .to_bytes();
    assert_eq!(
        MultiRequest::from_bytes(&foreign),
        Err(DecodeError::InvalidValue {
            what: "MultiHeader.type",
            value: 11
        })
    );
}

/// Frames over jute.maxbuffer (0xfffff) or with a negative length are
/// refused as soon as their 4 length bytes arrive.
#[test]
fn the_frame_decoder_refuses_oversized_and_negative_lengths_at_once() {
    let mut d = FrameDecoder::default();
    d.extend(&0x10_0000i32.to_be_bytes());
    assert_eq!(
        d.next_frame(),
        Err(DecodeError::BadFrameLength {
            len: 0x10_0000,
            max: DEFAULT_MAX_BUFFER
        })
    );

    let mut d = FrameDecoder::default();
    d.extend(&(-5i32).to_be_bytes());
    assert!(matches!(
        d.next_frame(),
        Err(DecodeError::BadFrameLength { len: -5, .. })
    ));
}

#[test]
fn a_frame_of_exactly_max_buffer_bytes_is_accepted() {
    let mut d = FrameDecoder::new(8);
    d.extend(&encode_frame(&[1; 8]));
    assert_eq!(d.next_frame(), Ok(Some(vec![1; 8])));
}

/// Bytes arrive in arbitrary pieces; frames come out whole and in order.
#[test]
fn the_frame_decoder_reassembles_frames_split_across_reads() {
    let mut stream = encode_frame(b"first");
    stream.extend(encode_frame(b""));
    stream.extend(encode_frame(b"third frame"));
    let mut d = FrameDecoder::default();
    let mut out = Vec::new();
    for byte in &stream {
        d.extend(std::slice::from_ref(byte));
        while let Some(f) = d.next_frame().unwrap() {
            out.push(f);
        }
    }
    assert_eq!(
        out,
        vec![b"first".to_vec(), vec![], b"third frame".to_vec()]
    );
    assert!(d.buffered().is_empty());
}

/// "ruok" read as a length is 0x72756f6b, far over jute.maxbuffer: that is
/// how a server tells a four-letter word from a frame.
#[test]
fn a_four_letter_word_reads_as_an_oversized_length() {
    let mut d = FrameDecoder::default();
    d.extend(b"ruok");
    assert_eq!(
        d.next_frame(),
        Err(DecodeError::BadFrameLength {
            len: 0x7275_6f6b,
            max: DEFAULT_MAX_BUFFER
        })
    );
}

/// A ConnectRequest from a client too old to send the readOnly byte still
/// decodes, with `read_only: None` (ZooKeeperServer's isOldClient).
#[test]
fn a_connect_request_without_the_read_only_byte_is_an_old_client() {
    let with = ConnectRequest {
        time_out: 10_000,
        passwd: vec![0; 16],
        read_only: Some(true),
        ..ConnectRequest::default()
    }
    .to_bytes();
    let old = ConnectRequest::from_bytes(&with[..with.len() - 1]).unwrap();
    assert_eq!(old.read_only, None);
    assert_eq!(
        ConnectRequest::from_bytes(&with).unwrap().read_only,
        Some(true)
    );
}

/// Garbage instead of a ConnectRequest is an error, not a session.
#[test]
fn garbage_before_the_connect_request_is_an_error() {
    let err = ConnectRequest::from_bytes(b"GET / HTTP/1.1\r\n").unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            what: "ConnectRequest.sessionId",
            needed: 8,
            remaining: 0
        }
    );
}
