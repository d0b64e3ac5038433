//! What a peer reads on the quorum port: any bytes are a packet, a prefix of one, or an
//! error, never a panic; and a packet that reads is the packet its own bytes read back as.
#![no_main]

use ch06_zab::packet::Packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok((Ok(packet), used)) = Packet::decode(bytes, 1 << 20) else {
        return;
    };
    assert!(used <= bytes.len());
    let again = packet.encode();
    match Packet::decode(&again, usize::MAX) {
        Ok((Ok(back), n)) => {
            assert_eq!(back, packet);
            assert_eq!(n, again.len());
        }
        other => panic!("{packet:?} encodes to bytes that read as {other:?}"),
    }
});
