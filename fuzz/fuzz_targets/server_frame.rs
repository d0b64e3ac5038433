//! What a client reads from a server: the handshake's answer, a notification, a ping's or
//! auth's answer, or a reply to whichever request it sent, any bytes in it, and never a
//! panic. `keeper cli` and the load generator read with these, from any server a user points
//! them at.
#![no_main]

use ch03_sessions::jute::Record;
use ch03_sessions::proto::{
    decode_response, decode_server_frame, ConnectResponse, OpCode, ServerFrame,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // The first byte picks the request the reply answers.
    let Some((&pick, frame)) = bytes.split_first() else {
        return;
    };
    // A session's first frame is the handshake's answer.
    let _ = ConnectResponse::from_bytes(frame);
    let op = OpCode::ALL[usize::from(pick) % OpCode::ALL.len()];
    if let Ok((ServerFrame::Reply(header), mut body)) = decode_server_frame(frame) {
        let _ = decode_response(op, &header, &mut body);
    }
});
