//! A txn log record's entry, as a follower reads it in a PROPOSAL and `keeper txnlog`
//! prints it: any bytes are a txn or an error, never a panic.
#![no_main]

use ch06_zab::txn_codec::TxnEntry;
use ch07_persistence::dump::txn_text::txn_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = TxnEntry::decode(bytes);
    let _ = txn_line(bytes);
});
