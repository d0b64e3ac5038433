//! What a peer reads on the election port: a notification of any generation, or an error,
//! never a panic; and a notification that reads says the same when this server sends it on,
//! in the current generation (the version it was read with is all that may change).
#![no_main]

use ch05_election::notification::Notification;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(notification) = Notification::decode(bytes) else {
        return;
    };
    let back = Notification::decode(&notification.encode()).expect("our own bytes read");
    let as_sent = Notification {
        version: back.version,
        ..notification
    };
    assert_eq!(back, as_sent);
});
