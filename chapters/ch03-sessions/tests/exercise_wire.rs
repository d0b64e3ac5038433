//! The graders of the labs of the book's "Frames on the wire" (labs 3.4 to 3.6).
//!
//! Lab 3.4: lines 42 and 43 of `tests/fixtures/kazoo-2.8.frames` are a request kazoo sent and
//! the frame the server sent right after it. Work out each field with pen and paper (or a hex
//! editor), write your reading in the two functions below, and run
//! `cargo run -- lab check 3.4` (or `cargo test -p ch03-sessions --test all exercise_wire::
//! lab_3_4_`). The tests decode the same bytes with the codec and compare. The repository
//! ships the answers; start a lab with `cargo run -- lab start 3.4` to get the questions
//! without them.

use ch01_znode::{DataTree, Request as TreeRequest, SessionId, Standalone, TxnResult};
use ch03_sessions::jute::{DecodeError, Record};
use ch03_sessions::proto::*;

// ---- Lab 3.4: decode a captured frame by hand ----

/// Your reading of the request frame (fixture line 42).
struct RequestAnswer {
    xid: i32,
    opcode: i32,
    opcode_name: &'static str,
    path: &'static str,
    data: &'static [u8],
    version: i32,
}

/// Your reading of the server frame that followed (fixture line 43).
struct NotificationAnswer {
    xid: i32,
    zxid: i64,
    err: i32,
    event_type: &'static str,
    state: &'static str,
    path: &'static str,
}

fn request_answer() -> RequestAnswer {
    // LAB 3.4 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.4: your reading of line 42, as a RequestAnswer {{ xid: .., .. }}")
    RequestAnswer {
        xid: 13,
        opcode: 5,
        opcode_name: "setData",
        path: "/kz/app",
        data: b"v2",
        version: -1,
    }
    // LAB 3.4 END
}

fn notification_answer() -> NotificationAnswer {
    // LAB 3.4 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.4: your reading of line 43, as a NotificationAnswer {{ xid: .., .. }}")
    NotificationAnswer {
        xid: -1,
        zxid: -1,
        err: 0,
        event_type: "NodeDataChanged",
        state: "SyncConnected",
        path: "/kz/app",
    }
    // LAB 3.4 END
}

/// The payload on a 1-based line of the kazoo capture.
fn fixture_line(line: usize, direction: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/kazoo-2.8.frames"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let row = text.lines().nth(line - 1).unwrap();
    let hex = row
        .strip_prefix(direction)
        .expect("the line the book names");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn lab_3_4_your_reading_of_the_request_frame_matches_the_codec() {
    let answer = request_answer();
    let (header, request) = decode_request(&fixture_line(42, "C ")).unwrap();
    assert_eq!(header.xid, answer.xid, "xid");
    assert_eq!(header.r#type, answer.opcode, "opcode");
    assert_eq!(request.op_code().name(), answer.opcode_name, "opcode name");
    let Request::SetData(set) = request else {
        panic!("this frame is not the request you think it is")
    };
    assert_eq!(set.path, answer.path, "path");
    assert_eq!(set.data.as_deref(), Some(answer.data), "data");
    assert_eq!(set.version, answer.version, "version");
}

#[test]
fn lab_3_4_your_reading_of_the_server_frame_matches_the_codec() {
    let answer = notification_answer();
    let frame = fixture_line(43, "S ");
    let (kind, _) = decode_server_frame(&frame).unwrap();
    let ServerFrame::Notification(event) = kind else {
        panic!("this frame is not the kind of frame you think it is")
    };
    // The header fields sit in the first 16 bytes.
    let header: ReplyHeader = Record::from_bytes(&frame).unwrap();
    assert_eq!(header.xid, answer.xid, "xid");
    assert_eq!(header.zxid, Zxid(answer.zxid), "zxid");
    assert_eq!(header.err, answer.err, "err");
    assert_eq!(
        event.event_type.to_string(),
        answer.event_type,
        "event type"
    );
    assert_eq!(event.state.to_string(), answer.state, "state");
    assert_eq!(event.path.as_deref(), Some(answer.path), "path");
}

/// The annotated create frame the book walks through byte by byte is the
/// real frame zkCli sent (line 16 of the zkCli capture), length included.
#[test]
fn the_books_annotated_create_frame_is_the_captured_one() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    let annotated = std::fs::read_to_string(format!("{dir}create-annotated.txt")).unwrap();
    let bytes: Vec<u8> = annotated
        .lines()
        // Each line is the bytes, two spaces, then what they mean.
        .flat_map(|l| l.split("  ").next().unwrap_or("").split_whitespace())
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    let capture = std::fs::read_to_string(format!("{dir}zkcli-3.8.frames")).unwrap();
    let line = capture.lines().nth(15).unwrap().strip_prefix("C ").unwrap();
    let payload: Vec<u8> = (0..line.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(bytes, encode_frame(&payload));
}

// ---- Lab 3.5: a count nobody should trust ----

/// A `GetChildrenResponse` body of 12 bytes: the count `count`, then eight zero bytes.
fn children_frame(count: i32) -> Vec<u8> {
    [&count.to_be_bytes()[..], &[0; 8]].concat()
}

/// Part 1. The count is `7f ff ff ff`. What exactly does `GetChildrenResponse::from_bytes`
/// return? (Read `read_len` in `src/jute/reader.rs`.)
fn huge_count_error() -> DecodeError {
    // LAB 3.5 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.5: the DecodeError for a count of 7fffffff")
    DecodeError::LengthTooLarge {
        what: "GetChildrenResponse.children",
        len: i32::MAX,
        remaining: 8,
    }
    // LAB 3.5 END
}

/// Part 2. What is the largest count this 12-byte frame can claim before the reader refuses
/// the count itself (rather than failing later, on a string it cannot find)?
fn largest_count_read_past() -> i32 {
    // LAB 3.5 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.5: the largest count read_len lets through here")
    8
    // LAB 3.5 END
}

#[test]
fn lab_3_5_a_huge_count_is_refused_before_anything_is_allocated() {
    let err = GetChildrenResponse::from_bytes(&children_frame(i32::MAX)).unwrap_err();
    assert_eq!(huge_count_error(), err);
}

#[test]
fn lab_3_5_the_largest_count_the_reader_lets_through() {
    let refused = |count| {
        matches!(
            GetChildrenResponse::from_bytes(&children_frame(count)),
            Err(DecodeError::LengthTooLarge { .. })
        )
    };
    let largest = (0..64).filter(|&count| !refused(count)).max().unwrap();
    assert_eq!(largest_count_read_past(), largest);
}

// ---- Lab 3.6: deleteall, deepest first ----

/// `/app` holds `/app/eph` and `/app/seq-0000000001`; zkCli's `deleteall /app` read the
/// children, then sends one multi. One code per op (0 for an op that is fine).
///
/// Part 1. Between the read and the multi, another client creates `/app/new`. The multi is
/// `delete /app/eph`, `delete /app/seq-0000000001`, `delete /app`. What are its results?
fn results_after_a_child_appeared() -> Vec<i32> {
    // LAB 3.6 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.6: the three result codes of the raced multi")
    vec![0, 0, -111]
    // LAB 3.6 END
}

/// Part 2. Nobody interferes, but the multi lists the deletes shallowest first: `delete /app`,
/// `delete /app/eph`, `delete /app/seq-0000000001`. What are its results?
fn results_shallowest_first() -> Vec<i32> {
    // LAB 3.6 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.6: the three result codes of the shallowest-first multi")
    vec![-111, -2, -2]
    // LAB 3.6 END
}

/// Runs `ops` as one multi on the tree of the lab, after `meanwhile`; one code per op.
fn multi_codes(meanwhile: &[&str], ops: &[&str]) -> Vec<i32> {
    let me = SessionId(0x100000000000001);
    let mut zk = Standalone::new(DataTree::new());
    let create = |path: &str| TreeRequest::Create {
        path: path.into(),
        data: None,
        acl: ch01_znode::Acl::open_unsafe(),
        mode: ch01_znode::CreateMode::Persistent,
    };
    let tree = ["/app", "/app/eph", "/app/seq-0000000001"];
    for path in tree.iter().chain(meanwhile) {
        zk.submit(me, 0, 0, &create(path));
    }
    let deletes = ops
        .iter()
        .map(|path| TreeRequest::Delete {
            path: path.to_string(),
            version: -1,
        })
        .collect();
    let (_, applied) = zk.submit(me, 0, 0, &TreeRequest::Multi(deletes));
    let TxnResult::Multi(results) = applied.result else {
        panic!("a multi answers with one result per op")
    };
    results
        .iter()
        .map(|r| match r {
            TxnResult::Error { code } => *code,
            _ => 0,
        })
        .collect()
}

#[test]
fn lab_3_6_a_child_that_appears_fails_the_whole_multi() {
    let codes = multi_codes(&["/app/new"], &["/app/eph", "/app/seq-0000000001", "/app"]);
    assert_eq!(results_after_a_child_appeared(), codes);
}

#[test]
fn lab_3_6_shallowest_first_fails_at_once() {
    let codes = multi_codes(&[], &["/app", "/app/eph", "/app/seq-0000000001"]);
    assert_eq!(results_shallowest_first(), codes);
}
