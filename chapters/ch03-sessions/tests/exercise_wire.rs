//! Exercise from the book's "Frames on the wire": decode two captured
//! frames by hand.
//!
//! Lines 42 and 43 of `tests/fixtures/kazoo-2.8.frames` are a request kazoo
//! sent and the frame the server sent right after it. Work out each field
//! with pen and paper (or a hex editor), write your answer in the two
//! constants below, and run
//!
//! ```text
//! cargo test -p ch03-sessions --test exercise_wire
//! ```
//!
//! The tests decode the same bytes with the codec and compare.
//! (The answer is filled in; cover it up before you start.)

use ch03_sessions::proto::*;

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

const REQUEST: RequestAnswer = RequestAnswer {
    xid: 13,
    opcode: 5,
    opcode_name: "setData",
    path: "/kz/app",
    data: b"v2",
    version: -1,
};

const NOTIFICATION: NotificationAnswer = NotificationAnswer {
    xid: -1,
    zxid: -1,
    err: 0,
    event_type: "NodeDataChanged",
    state: "SyncConnected",
    path: "/kz/app",
};

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
fn your_reading_of_the_request_frame_matches_the_codec() {
    let (header, request) = decode_request(&fixture_line(42, "C ")).unwrap();
    assert_eq!(header.xid, REQUEST.xid, "xid");
    assert_eq!(header.r#type, REQUEST.opcode, "opcode");
    assert_eq!(request.op_code().name(), REQUEST.opcode_name, "opcode name");
    let Request::SetData(set) = request else {
        panic!("this frame is not the request you think it is")
    };
    assert_eq!(set.path, REQUEST.path, "path");
    assert_eq!(set.data.as_deref(), Some(REQUEST.data), "data");
    assert_eq!(set.version, REQUEST.version, "version");
}

#[test]
fn your_reading_of_the_server_frame_matches_the_codec() {
    let frame = fixture_line(43, "S ");
    let (kind, _) = decode_server_frame(&frame).unwrap();
    let ServerFrame::Notification(event) = kind else {
        panic!("this frame is not the kind of frame you think it is")
    };
    // The header fields sit in the first 16 bytes.
    let header: ReplyHeader = ch03_sessions::jute::Record::from_bytes(&frame).unwrap();
    assert_eq!(header.xid, NOTIFICATION.xid, "xid");
    assert_eq!(header.zxid, Zxid(NOTIFICATION.zxid), "zxid");
    assert_eq!(header.err, NOTIFICATION.err, "err");
    assert_eq!(
        event.event_type.to_string(),
        NOTIFICATION.event_type,
        "event type"
    );
    assert_eq!(event.state.to_string(), NOTIFICATION.state, "state");
    assert_eq!(event.path.as_deref(), Some(NOTIFICATION.path), "path");
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
