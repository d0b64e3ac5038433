//! Chapter 7's labs, graded: `cargo run -- lab check 7.1` and `7.2` run these.
//!
//! Each check compares what `src/lab.rs` says with what the code finds: chapter 6's simulator
//! replaying the scenario file (lab 7.1), this chapter's own log reader on the same bytes (lab
//! 7.2).

use ch06_zab::peer::Flaw;
use ch06_zab::txn_codec::txn_type;
use ch07_persistence::adler32::adler32;
use ch07_persistence::lab::{
    first_record, lost_write, replay_lost_writes, story_log_head, FIRST_RECORD_END,
};
use ch07_persistence::txn_log::{read_log, END_OF_RECORD, TXNLOG_DBID, TXNLOG_MAGIC, VERSION};

// ---- Lab 7.1: ACK before fsync — find the path that loses a write ----

/// A txn is durable when fsync returns: with servers that ACK before it, the answer's steps
/// replayed in chapter 6's simulator leave a later leader without a create c1 was told
/// succeeded, and it is the one the answer names (`Learner`'s ACK after `SyncRequestProcessor`'s
/// flush; ZooKeeper's `forceSync=no`).
#[test]
fn lab_7_1_the_scenario_loses_the_named_write_with_the_flaw() {
    let lost = lost_write();
    match replay_lost_writes(lost.scenario, Some(Flaw::AckBeforeFsync)) {
        Ok(zxids) => assert!(
            zxids.contains(&lost.zxid),
            "with the flaw, the scenario loses {zxids:?}, not {}",
            lost.zxid
        ),
        Err(e) => panic!("the scenario does not replay with the flaw: {e}"),
    }
}

/// The same steps without the flaw lose nothing: either a step needs the early ACK and cannot
/// be taken, or the run keeps every acknowledged create.
#[test]
fn lab_7_1_without_the_flaw_the_same_steps_keep_the_write() {
    let lost = lost_write();
    if let Ok(zxids) = replay_lost_writes(lost.scenario, None) {
        assert!(
            zxids.is_empty(),
            "the same steps lose {zxids:?} even without the flaw, so the flaw is not what lost it"
        );
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

/// The grader is no rubber stamp: the checked ensemble's start, with no step taken, loses
/// nothing, and a file that is not a scenario is refused in words.
#[test]
fn the_lab_7_1_grader_finds_no_lost_write_where_none_is_lost() {
    let flaw = Some(Flaw::AckBeforeFsync);
    assert_eq!(replay_lost_writes("steps\n", flaw), Ok(Vec::new()));
    assert!(replay_lost_writes("seed 23", flaw).is_err());
}
