//! Labs: a path that loses a write, and a log record read by hand.
//!
//! # Lab 7.1: ACK before fsync — find the path that loses a write
//!
//! `--flaw ack-before-fsync` gives every server of chapter 6 the bug of telling its peer a txn
//! is logged as soon as it is written, before the fsync (what `forceSync=no` does to
//! ZooKeeper). Chapter 6's model checker runs its three servers and c1, which creates `/a`
//! twice, through orders of events no seed may draw; its random walks (`--walks`) go deep
//! enough to reach a crash after a commit. Find an order in which the bug loses a write the
//! client was told succeeded: the checker writes it as a scenario file. Put that file's text
//! in [`lost_write`], with the zxid of the create that vanished.
//!
//! ```text
//! cargo run --release -p ch06-zab -- --model-check --false-suspicions --flaw ack-before-fsync \
//!     --walks 15 --walk-steps 60 --seed 1 --counterexample lost-write.txt
//! ```
//!
//! (try other seeds until one fails). The grader replays your file in chapter 6's simulator
//! ([`replay_lost_writes`]): with the flaw, a later leader must be missing the create you
//! named; without it, the same steps must not lose it. A replayable path is the answer, as
//! for every lab whose checker finds the bug: anyone can run it, `--trace` it and `--step`
//! through it.
//!
//! # Lab 7.2: decode a log record by hand
//!
//! The book prints the first 65 bytes of the story's `log.1` as a hexdump: the file header
//! and the first record. Read them with the table of [`crate::txn_log`] and
//! `ch06_zab::txn_codec` beside you, and write down every field in [`first_record`]. The
//! grader reads the same bytes with this chapter's own reader and compares.

use ch01_znode::Zxid;
use ch04_paxos::sim::{ChoiceError, Process, Scenario};
use ch06_zab::model_check::{acknowledged_write_lost, simulation};
use ch06_zab::peer::Flaw;
use ch06_zab::sim::{
    ClientNode, ClientOp, HistoryEvent, Node, Outcome, ServerNode, SimTimer, Wire,
};

/// A write the client was told succeeded, which servers acknowledging before fsync lose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LostWrite {
    /// The path that loses it: a scenario file of chapter 6's `checked` ensemble, as
    /// `--model-check --counterexample FILE` (or `--step`'s `save`) writes it.
    pub scenario: &'static str,
    /// The create's txn, which a later leader no longer has.
    pub zxid: Zxid,
}

// ANCHOR: lost_write
/// Lab 7.1: an order of events in which chapter 6's three servers, with
/// `--flaw ack-before-fsync`, lose the create `zxid` that c1 was told succeeded.
pub fn lost_write() -> LostWrite {
    // LAB 7.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 7.1: run the model checker with --flaw ack-before-fsync, paste the scenario file it writes")
    LostWrite {
        scenario: r#"# A counterexample the model checker found: `no acknowledged write lost` fails. Replay it (add --step to carry on from where it ends):
#   cargo run -p ch06-zab -- --trace --scenario checked --flaw ack-before-fsync --scenario-file lost-write.txt
steps
do 1                     # 0ms  n1 starts
do 1                     # 0ms  n2 starts
do 1                     # 0ms  n3 starts
do 1                     # 0ms  c1 starts
deliver 1                # 5ms  n1 → n1  LOOKING, round 1: vote n1 (epoch 0, zxid 0x0)
deliver 5                # 11ms  n1 → n2  LOOKING, round 1: vote n1 (epoch 0, zxid 0x0)
deliver 5                # 13ms  n1 → n3  LOOKING, round 1: vote n1 (epoch 0, zxid 0x0)
deliver 6                # 15ms  n2 → n1  LOOKING, round 1: vote n2 (epoch 0, zxid 0x0)
deliver 6                # 20ms  n1 → n1  LOOKING, round 1: vote n2 (epoch 0, zxid 0x0)
deliver 7                # 29ms  n1 → n2  LOOKING, round 1: vote n2 (epoch 0, zxid 0x0)
deliver 6                # 25ms  n1 → n3  LOOKING, round 1: vote n2 (epoch 0, zxid 0x0)
deliver 1                # 5ms  n2 → n2  LOOKING, round 1: vote n2 (epoch 0, zxid 0x0)
deliver 2                # 9ms  n2 → n3  LOOKING, round 1: vote n2 (epoch 0, zxid 0x0)
deliver 2                # 9ms  n3 → n1  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
deliver 3                # 34ms  n1 → n1  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
deliver 3                # 37ms  n1 → n2  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
deliver 3                # 42ms  n1 → n3  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
deliver 4                # 46ms  n2 → n1  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
deliver 3                # 42ms  n2 → n2  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
deliver 3                # 48ms  n2 → n3  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
deliver 2                # 13ms  n3 → n2  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
deliver 1                # 5ms  n3 → n3  LOOKING, round 1: vote n3 (epoch 0, zxid 0x0)
fire 1                   # 246ms  n1 timer Election(FinalizeWait)
deliver 3                # 256ms  n1 → n3  FOLLOWERINFO acceptedEpoch 0
fire 1                   # 248ms  n2 timer Election(FinalizeWait)
deliver 2                # 266ms  n2 → n3  FOLLOWERINFO acceptedEpoch 0
fire 1                   # 248ms  n3 timer Election(FinalizeWait)
deliver 2                # 275ms  n3 → n1  LEADERINFO epoch 1
deliver 2                # 287ms  n1 → n3  ACKEPOCH currentEpoch 0, last zxid 0x0
deliver 2                # 300ms  n3 → n1  DIFF 0x0
deliver 2                # 300ms  n3 → n1  NEWLEADER epoch 1
deliver 2                # 314ms  n1 → n3  ACK 0x100000000
deliver 2                # 319ms  n3 → n1  UPTODATE
deliver 2                # 324ms  n1 → n3  ACK 0x100000000
deliver 1                # 272ms  n3 → n2  LEADERINFO epoch 1
deliver 1                # 334ms  n2 → n3  ACKEPOCH currentEpoch 0, last zxid 0x0
deliver 1                # 340ms  n3 → n2  DIFF 0x0
deliver 1                # 342ms  n3 → n2  NEWLEADER epoch 1
deliver 1                # 347ms  n2 → n3  ACK 0x100000000
deliver 1                # 357ms  n3 → n2  UPTODATE
deliver 1                # 369ms  n2 → n3  ACK 0x100000000
fire 1                   # 1000ms  c1 timer next step
deliver 1                # 1005ms  c1 → n1  connect ConnectRequest protocolVersion=0 lastZxidSeen=0x0 timeOut=30000 sessionId=0x0 passwd=<16 bytes> readOnly=false
deliver 1                # 1020ms  n1 → n3  REQUEST session 0x100000000000000 cxid 0: createSession timeout=30000ms
deliver 2                # 1031ms  n3 → n1  PROPOSAL 0x100000001 createSession timeout=30000ms
deliver 4                # 1040ms  n1 → n3  ACK 0x100000001
deliver 5                # 1049ms  n3 → n1  COMMIT 0x100000001
deliver 5                # 1059ms  n1 → c1  connected ConnectResponse protocolVersion=0 timeOut=30000 sessionId=0x100000000000000 passwd=<16 bytes> readOnly=false
deliver 2                # 1031ms  n3 → n2  PROPOSAL 0x100000001 createSession timeout=30000ms
deliver 5                # 1069ms  n2 → n3  ACK 0x100000001
deliver 3                # 1047ms  n3 → n2  COMMIT 0x100000001
fire 2                   # 1036ms  n1 timer fsync
fire 2                   # 1064ms  n2 timer fsync
fire 1                   # 1025ms  n3 timer fsync
fire 5                   # 11069ms  n2 timer LeaderSilent
deliver 7                # 11082ms  n2 → n1  LOOKING, round 2: vote n2 (epoch 1, zxid 0x100000001)
fire 2                   # 2559ms  c1 timer next step
deliver 6                # 11082ms  n2 → n3  LOOKING, round 2: vote n2 (epoch 1, zxid 0x100000001)
deliver 6                # 11089ms  n3 → n2  LEADING, round 1: leader n3 (epoch 1, zxid 0x0)
deliver 4                # 11074ms  n2 → n2  LOOKING, round 2: vote n2 (epoch 1, zxid 0x100000001)
deliver 5                # 11094ms  c1 → n1  xid=1 create /a data="1" acl=[world:anyone:cdrwa] flags=0
deliver 6                # 11106ms  n1 → n3  REQUEST session 0x100000000000000 cxid 1: create
deliver 7                # 11120ms  n3 → n1  PROPOSAL 0x100000002 create /a "1" parentCVersion=1
deliver 8                # 11128ms  n1 → n3  ACK 0x100000002
deliver 4                # 11096ms  n1 → n2  FOLLOWING, round 1: leader n3 (epoch 1, zxid 0x0)
deliver 7                # 11134ms  n3 → n1  COMMIT 0x100000002
deliver 8                # 11142ms  n1 → c1  xid=1 zxid=0x100000002 ok path=/a
crash n3                 # at 11142ms
fire 9                   # 31128ms  n2 timer LeaderSilent
deliver 9                # 31133ms  n2 → n2  LOOKING, round 2: vote n2 (epoch 1, zxid 0x100000001)
restart n3               # at 31133ms
deliver 14               # 31143ms  n2 → n3  LOOKING, round 2: vote n2 (epoch 1, zxid 0x100000001)
deliver 11               # 31138ms  n3 → n2  LOOKING, round 1: vote n3 (epoch 1, zxid 0x100000001)
deliver 14               # 31149ms  n3 → n2  LOOKING, round 2: vote n3 (epoch 1, zxid 0x100000001)
deliver 16               # 31158ms  n2 → n3  LOOKING, round 2: vote n2 (epoch 1, zxid 0x100000001)
deliver 15               # 31154ms  n2 → n2  LOOKING, round 2: vote n3 (epoch 1, zxid 0x100000001)
deliver 15               # 31159ms  n2 → n3  LOOKING, round 2: vote n3 (epoch 1, zxid 0x100000001)
deliver 11               # 31138ms  n3 → n3  LOOKING, round 1: vote n3 (epoch 1, zxid 0x100000001)
deliver 12               # 31148ms  n3 → n3  LOOKING, round 2: vote n3 (epoch 1, zxid 0x100000001)
fire 16                  # 31359ms  n3 timer Election(FinalizeWait)
fire 15                  # 31358ms  n2 timer Election(FinalizeWait)
deliver 15               # 31364ms  n2 → n3  FOLLOWERINFO acceptedEpoch 1
deliver 15               # 31377ms  n3 → n2  LEADERINFO epoch 2
deliver 15               # 31387ms  n2 → n3  ACKEPOCH currentEpoch 1, last zxid 0x100000001
deliver 15               # 31399ms  n3 → n2  DIFF 0x100000001
deliver 15               # 31399ms  n3 → n2  NEWLEADER epoch 2
deliver 15               # 31404ms  n2 → n3  ACK 0x200000000
"#,
        zxid: Zxid(0x1_0000_0002),
    }
    // LAB 7.1 END
}
// ANCHOR_END: lost_write

// ANCHOR: replay
/// The creates c1 was told succeeded that a later leader no longer has, once `scenario` (a
/// scenario file of chapter 6's `checked` ensemble) is replayed in the simulator with `flaw`
/// (or without): each with its txn. Fails when the file is not a scenario, or its steps cannot
/// be taken (without the flaw, a path that needs it).
pub fn replay_lost_writes(scenario: &str, flaw: Option<Flaw>) -> Result<Vec<Zxid>, String> {
    let steps = Scenario::<Wire, SimTimer>::parse(scenario)?;
    let mut sim = simulation(flaw);
    match sim.play(steps) {
        // A broken invariant stops the replay where the checker's path ended.
        Ok(()) | Err(ChoiceError::Violation(_)) => {}
        Err(ChoiceError::Refused(why)) => return Err(why),
    }
    let servers: Vec<(&ServerNode, bool)> = sim
        .nodes()
        .filter_map(|n| Some((n.server()?, sim.is_up(n.id()))))
        .collect();
    let clients: Vec<&ClientNode> = sim.nodes().filter_map(Node::client).collect();
    let Some((_, path)) = acknowledged_write_lost(&servers, &clients) else {
        return Ok(Vec::new());
    };
    Ok(clients
        .iter()
        .flat_map(|c| created(c.history(), &path))
        .collect())
}
// ANCHOR_END: replay

/// The txns of the creates of `path` answered with success, in `history`.
fn created(history: &[HistoryEvent], path: &str) -> Vec<Zxid> {
    let creates = |id: u64| {
        history.iter().any(|e| {
            matches!(e, HistoryEvent::Invoke { id: i, op: ClientOp::Create { path: p, .. }, .. }
                if *i == id && p == path)
        })
    };
    history
        .iter()
        .filter_map(|e| match e {
            HistoryEvent::Complete {
                id,
                outcome: Outcome::Ok { zxid, .. },
                ..
            } if creates(*id) => Some(*zxid),
            _ => None,
        })
        .collect()
}

/// The fields of the file header and of the first record of a txn log, as read by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstRecord {
    /// The header's magic number.
    pub magic: i32,
    /// The header's format version.
    pub version: i32,
    /// The header's database id.
    pub dbid: i64,
    /// The record's checksum (Adler-32 of the entry).
    pub checksum: i64,
    /// The entry's length in bytes.
    pub length: i32,
    /// `TxnHeader.clientId`: the session.
    pub session: i64,
    /// `TxnHeader.cxid`.
    pub cxid: i32,
    /// `TxnHeader.zxid`.
    pub zxid: i64,
    /// `TxnHeader.time`, ms since the epoch.
    pub time_ms: i64,
    /// `TxnHeader.type`: the opcode.
    pub op_type: i32,
    /// The body of this type of txn: the session timeout, ms.
    pub timeout_ms: i32,
    /// The byte after the entry.
    pub end_of_record: u8,
}

// ANCHOR: first_record
/// Lab 7.2: the first 65 bytes of the story's `log.1`, decoded by hand.
pub fn first_record() -> FirstRecord {
    // LAB 7.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 7.2: read the hexdump in the book, field by field")
    FirstRecord {
        magic: 0x5A4B_4C47,
        version: 2,
        dbid: 0,
        checksum: 0x3a09_0745,
        length: 36,
        session: 0x1_0000_0000_0001,
        cxid: 0,
        zxid: 1,
        time_ms: 1_700_000_000_001,
        op_type: -10,
        timeout_ms: 30_000,
        end_of_record: 0x42,
    }
    // LAB 7.2 END
}
// ANCHOR_END: first_record

/// How many bytes of `log.1` lab 7.2 reads: the file header and the first record.
pub const FIRST_RECORD_END: usize = 65;

/// The first `len` bytes of `log.1` as the chapter's story (seed 1) writes it.
pub fn story_log_head(len: usize) -> std::io::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    crate::story::tell(dir.path(), 1).map_err(std::io::Error::other)?;
    let bytes = std::fs::read(dir.path().join("version-2").join("log.1"))?;
    Ok(bytes[..len.min(bytes.len())].to_vec())
}

/// `bytes` as `xxd` prints them: the offset, sixteen bytes in pairs, the printable ones.
pub fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk
            .chunks(2)
            .map(|pair| pair.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        let text: String = chunk
            .iter()
            .map(|&b| match b {
                0x20..=0x7e => b as char,
                _ => '.',
            })
            .collect();
        out.push_str(&format!("{:08x}: {:<40} {text}\n", row * 16, hex.join(" ")));
    }
    out
}
