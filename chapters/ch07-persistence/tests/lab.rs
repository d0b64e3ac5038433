//! Chapter 7's labs, graded: `cargo run -- lab check 7.1` and `7.2` run these.
//!
//! Each check compares what `src/lab.rs` says with what the code finds: the checkers' run of
//! the seed (lab 7.1), this chapter's own log reader on the same bytes (lab 7.2).

use ch06_zab::check::{run_seed, run_seed_flawed, SeedResult};
use ch06_zab::peer::Flaw;
use ch06_zab::txn_codec::txn_type;
use ch07_persistence::adler32::adler32;
use ch07_persistence::lab::{first_record, lost_write, story_log_head, FIRST_RECORD_END};
use ch07_persistence::txn_log::{read_log, END_OF_RECORD, TXNLOG_DBID, TXNLOG_MAGIC, VERSION};

// ---- Lab 7.1: ACK before fsync — find the seed that loses a write ----

#[test]
fn lab_7_1_the_seed_loses_a_committed_write_with_the_flaw() {
    let lost = lost_write();
    assert_eq!(lost.servers, 5, "the lab asks for a run of five servers");
    match run_seed_flawed(lost.seed, lost.servers, Some(Flaw::AckBeforeFsync)) {
        SeedResult::Failed(failure) => assert!(
            failure.message.contains(&format!("had {}", lost.zxid))
                || failure.message.contains(&lost.zxid.to_string())
                    && failure.check.contains("write"),
            "seed {} fails, but not by losing {}:\n{failure}",
            lost.seed,
            lost.zxid
        ),
        other => panic!(
            "with the flaw, seed {} ({} servers) does not lose a write: {other:?}",
            lost.seed, lost.servers
        ),
    }
}

#[test]
fn lab_7_1_without_the_flaw_the_same_seed_keeps_every_promise() {
    let lost = lost_write();
    match run_seed(lost.seed, lost.servers) {
        SeedResult::Passed(_) => {}
        other => panic!(
            "seed {} fails even without the flaw, so the flaw is not what lost the write: {other:?}",
            lost.seed
        ),
    }
}

// ---- Lab 7.2: decode a log record by hand ----

/// The bytes the book shows, and the first record as this chapter's reader reads them.
fn the_record() -> (Vec<u8>, ch06_zab::txn_codec::TxnEntry) {
    let head = story_log_head(FIRST_RECORD_END).expect("the story runs");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("log.1");
    std::fs::write(&path, &head).expect("write the bytes");
    let log = read_log(&path).expect("the bytes are a log");
    let entry = log.records[0].entry.clone();
    (head, entry)
}

#[test]
fn lab_7_2_the_file_header() {
    let you = first_record();
    assert_eq!(you.magic, TXNLOG_MAGIC, "magic (bytes 0-3)");
    assert_eq!(you.version, VERSION, "version (bytes 4-7)");
    assert_eq!(you.dbid, TXNLOG_DBID, "dbid (bytes 8-15)");
}

#[test]
fn lab_7_2_the_record_frame() {
    let you = first_record();
    let (head, entry) = the_record();
    let bytes = entry.encode();
    assert_eq!(you.checksum, adler32(&bytes), "checksum (bytes 16-23)");
    assert_eq!(you.length as usize, bytes.len(), "length (bytes 24-27)");
    assert_eq!(you.end_of_record, END_OF_RECORD, "the byte after the entry");
    assert_eq!(head[FIRST_RECORD_END - 1], you.end_of_record);
}

#[test]
fn lab_7_2_the_txn_header_and_body() {
    let you = first_record();
    let (_, entry) = the_record();
    let h = &entry.txn;
    assert_eq!(you.session, h.session.0, "clientId");
    assert_eq!(you.cxid, h.cxid, "cxid");
    assert_eq!(you.zxid, h.zxid.0, "zxid");
    assert_eq!(you.time_ms, h.time_ms, "time");
    assert_eq!(you.op_type, txn_type(&entry.txn.op) as i32, "type");
    match entry.txn.op {
        ch01_znode::TxnOp::CreateSession { timeout_ms } => {
            assert_eq!(you.timeout_ms, timeout_ms, "the body: timeOut")
        }
        other => panic!("the first txn is {other}, not a createSession"),
    }
}
