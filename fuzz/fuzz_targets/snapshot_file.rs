//! Any bytes in a snapshot file are a snapshot or an error with its offset, never a panic;
//! and so are any bytes after a SNAP packet on the quorum port.
#![no_main]

use ch01_znode::Zxid;
use ch06_zab::snapshot_stream::decode_snap_body;
use ch07_persistence::snapshot_file::decode_snapshot_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, bytes)) = bytes.split_first() else {
        return;
    };
    let extended = flags & 1 == 1;
    let _ = decode_snapshot_file(bytes, Zxid(0x1_0000_0005), extended);
    let _ = decode_snap_body(bytes, extended, Zxid(0x1_0000_0005));
});
