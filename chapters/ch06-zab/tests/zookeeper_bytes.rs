//! Our bytes are ZooKeeper's bytes: every format of this crate checked against ZooKeeper 3.8's
//! own classes.
//!
//! `tests/java/ZabBytes.java` is compiled with `javac` at test time against Debian's
//! ZooKeeper jars and run as the oracle:
//!
//! - **txns and packets**: it builds the table below with upstream's records (`TxnHeader`,
//!   `CreateTxn`, …, `QuorumPacket`, `LearnerInfo`), serializes them the way the server does
//!   (`Util.marshallTxnEntry`, `BinaryOutputArchive.writeRecord`, payloads written with a
//!   `DataOutputStream` as `Learner` and `Leader` write them), and our encoder must produce the
//!   same bytes while our decoder must read theirs back to the same values;
//! - **snapshots**: it replays a history of txns *we* encoded, the way a server replays its log
//!   (`SerializeUtils.deserializeTxn`, `FileTxnSnapLog.processTransaction`), and writes its
//!   database as a leader writes it after SNAP (`ZKDatabase.serializeSnapshot`, then
//!   `BenWasHere`). Our decoder must read that into the tree chapter 1 built from the same
//!   history, and ZooKeeper must read what we write back into the tree it built itself (same
//!   nodes, data, ACLs, Stats, sessions, ephemerals and tree digest). For one tree whose
//!   hash orders agree with ours (see `snapshot_stream`), the bytes must be identical.
//!
//! Without a JDK or the jars each test prints why (`SKIPPED ...`) and passes: CI has them, a
//! student's laptop may not.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use ch01_znode::acl::perms;
use ch01_znode::{
    Acl, CreateMode, DataTree, EphemeralOwner, Epoch, Id, Request, SessionId, Sid, Standalone, Txn,
    TxnHeader, TxnOp, Zxid,
};
use ch03_sessions::proto::{self, CreateRequest, OpCode};
use ch06_zab::packet::{
    ForwardedRequest, LearnerInfo, Packet, PacketType, SessionTouch, DEFAULT_MAX_PACKET_LEN,
    PROTOCOL_VERSION,
};
use ch06_zab::snapshot_stream::{decode_snap_body, encode_snap_body, Snapshot};
use ch06_zab::txn_codec::{txn_type, TxnDigest, TxnEntry};

const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
const SLF4J_NOP_JAR: &str = "/usr/share/java/slf4j-nop.jar";
const MAIN_CLASS: &str = "org.apache.zookeeper.server.quorum.ZabBytes";
/// A JVM start and a compile on a busy machine.
const JAVA_TIMEOUT: Duration = Duration::from_secs(180);

// ---- the oracle ---------------------------------------------------------------------------

/// Runs `command` to its end, or kills it (by its id) after `timeout`.
fn run(mut command: Command, timeout: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    let id = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(timeout) {
        Ok(output) => output.expect("the program's output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
            panic!("{command:?} did not finish within {timeout:?}");
        }
    }
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// ZabBytes compiled once per test run, or why it cannot be.
fn oracle() -> Result<&'static Path, String> {
    static CLASSES: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let compiled = CLASSES.get_or_init(|| {
        for jar in [ZOOKEEPER_JAR, SLF4J_NOP_JAR] {
            if !Path::new(jar).exists() {
                return Err(format!("{jar} is missing (apt-get install zookeeper)"));
            }
        }
        if !runs("java") || !runs("javac") {
            return Err("no javac (apt-get install default-jdk-headless)".into());
        }
        let classes = Path::new(env!("CARGO_TARGET_TMPDIR")).join("zab-bytes-classes");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/ZabBytes.java");
        let mut javac = Command::new("javac");
        javac.arg("-d").arg(&classes).args(["-cp", ZOOKEEPER_JAR]);
        javac.arg(source);
        let output = run(javac, JAVA_TIMEOUT);
        assert!(
            output.status.success(),
            "javac failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(classes)
    });
    compiled.as_deref().map_err(Clone::clone)
}

/// What ZabBytes prints for `args`.
fn java(classes: &Path, args: &[&str]) -> String {
    let classpath = format!("{}:{ZOOKEEPER_JAR}:{SLF4J_NOP_JAR}", classes.display());
    let mut command = Command::new("java");
    command
        .args(["-Xmx256m", "-Dzookeeper.extendedTypesEnabled=true", "-cp"])
        .arg(classpath)
        .arg(MAIN_CLASS)
        .args(args);
    let output = run(command, JAVA_TIMEOUT);
    assert!(
        output.status.success(),
        "ZabBytes {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("ZabBytes prints ASCII")
}

/// Runs a test body with the oracle, or says why it is skipped.
fn with_oracle(test: &str, body: impl FnOnce(&Path)) {
    match oracle() {
        Ok(classes) => body(classes),
        Err(reason) => {
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
        }
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `cases` output, one map per kind of line: name → the rest of the line.
fn cases(classes: &Path) -> &'static HashMap<(String, String), String> {
    static CASES: OnceLock<HashMap<(String, String), String>> = OnceLock::new();
    CASES.get_or_init(|| {
        java(classes, &["cases"])
            .lines()
            .map(|line| {
                let mut words = line.splitn(3, ' ');
                let mut word = || words.next().expect("kind name value").to_string();
                ((word(), word()), word())
            })
            .collect()
    })
}

fn case<'a>(classes: &Path, kind: &str, name: &str) -> &'a str {
    let key = (kind.to_string(), name.to_string());
    cases(classes)
        .get(&key)
        .unwrap_or_else(|| panic!("ZabBytes printed no {kind} {name}"))
}

/// A scratch directory under the test target dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("zab-bytes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("db")).expect("scratch directory");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- the table ----------------------------------------------------------------------------

const ALICE: SessionId = SessionId(0x100000000000001);
const BOB: SessionId = SessionId(0x100000000000002);
const CAROL: SessionId = SessionId(0x200000000000001);
const TIME: i64 = 1_700_000_000_000;

fn digest_acl() -> Vec<Acl> {
    vec![Acl::new(
        perms::ALL,
        "digest",
        "bob:N7p8kQSyZiIHeS2U6cRqcgN4+K8=",
    )]
}

fn read_ip_all_world() -> Vec<Acl> {
    vec![
        Acl::new(perms::READ, "ip", "127.0.0.1"),
        Acl::new(perms::ALL, "world", "anyone"),
    ]
}

fn text(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

/// The n-th txn of the table: ALICE's request n, at zxid 0x1_0000_000n.
fn entry(n: u32, op: TxnOp) -> TxnEntry {
    let header = TxnHeader {
        session: ALICE,
        cxid: n as i32,
        zxid: Zxid::new(Epoch(1), n),
        time_ms: TIME + i64::from(n),
    };
    TxnEntry::new(header.txn(op))
}

fn create(path: &str, data: Option<Vec<u8>>, owner: EphemeralOwner, cversion: i32) -> TxnOp {
    TxnOp::Create {
        path: path.into(),
        data,
        acl: Acl::open_unsafe(),
        owner,
        parent_cversion: cversion,
    }
}

fn set_data(path: &str, data: Option<Vec<u8>>, version: i32) -> TxnOp {
    TxnOp::SetData {
        path: path.into(),
        data,
        version,
    }
}

fn delete(path: &str) -> TxnOp {
    TxnOp::Delete { path: path.into() }
}

/// Txns we write exactly as ZooKeeper does.
fn txns() -> Vec<(&'static str, TxnEntry)> {
    let none = EphemeralOwner::None;
    vec![
        (
            "create_session",
            entry(1, TxnOp::CreateSession { timeout_ms: 30000 }),
        ),
        ("create", entry(2, create("/app", text("v1"), none, 1))),
        (
            "create_ephemeral",
            entry(
                3,
                TxnOp::Create {
                    path: "/app/e".into(),
                    data: None,
                    acl: digest_acl(),
                    owner: EphemeralOwner::Session(ALICE),
                    parent_cversion: 2,
                },
            ),
        ),
        (
            "create_container",
            entry(4, create("/c", Some(vec![]), EphemeralOwner::Container, 3)),
        ),
        (
            "create_ttl",
            entry(5, create("/t", text("x"), EphemeralOwner::Ttl(5000), 4)),
        ),
        ("delete", entry(6, delete("/c"))),
        ("set_data", entry(7, set_data("/app", text("v2"), 1))),
        (
            "set_acl",
            entry(
                8,
                TxnOp::SetAcl {
                    path: "/app".into(),
                    acl: read_ip_all_world(),
                    version: 1,
                },
            ),
        ),
        ("error", entry(9, TxnOp::Error { code: -110 })),
        (
            "close_session",
            entry(
                10,
                TxnOp::CloseSession {
                    paths_to_delete: vec!["/app/e".into(), "/app/f".into()],
                },
            ),
        ),
        (
            "multi",
            entry(
                11,
                TxnOp::Multi(vec![
                    create("/m", text("m"), none, 5),
                    TxnOp::Check {
                        path: "/app".into(),
                        version: 1,
                    },
                    set_data("/m", None, 1),
                    delete("/m"),
                ]),
            ),
        ),
        (
            "multi_failed",
            entry(
                12,
                TxnOp::Multi(vec![
                    create("/f", text("f"), none, 6),
                    TxnOp::Error { code: -101 },
                    TxnOp::Error { code: -2 },
                ]),
            ),
        ),
        (
            "with_digest",
            TxnEntry {
                digest: Some(TxnDigest {
                    version: 2,
                    tree_digest: 0x0123_4567_89ab_cdef,
                }),
                ..entry(13, set_data("/app", text("v3"), 2))
            },
        ),
    ]
}

/// Txns ZooKeeper writes that we read, but write otherwise (see `txn_codec`).
fn txns_read_only() -> Vec<(&'static str, TxnEntry)> {
    vec![
        (
            "create2",
            entry(14, create("/app", text("v1"), EphemeralOwner::None, 1)),
        ),
        ("delete_container", entry(15, delete("/c"))),
        (
            "reconfig",
            entry(
                16,
                set_data(
                    "/zookeeper/config",
                    text("server.1=127.0.0.1:2888:3888"),
                    -1,
                ),
            ),
        ),
        (
            "create_v0",
            entry(17, create("/old", text("o"), EphemeralOwner::None, -1)),
        ),
        (
            "close_session_3_5",
            entry(
                18,
                TxnOp::CloseSession {
                    paths_to_delete: vec![],
                },
            ),
        ),
    ]
}

fn packets() -> Vec<(&'static str, Packet)> {
    let zxid = Zxid::new(Epoch(1), 7);
    let create = proto::Request::Create(CreateRequest {
        path: "/app".into(),
        data: text("v1"),
        acl: Acl::open_unsafe(),
        flags: 0,
    });
    let localhost = Id {
        scheme: "ip".into(),
        id: "127.0.0.1".into(),
    };
    let header = |session, cxid| TxnHeader {
        session,
        cxid,
        zxid,
        time_ms: TIME,
    };
    let proposal = TxnEntry {
        txn: header(ALICE, 6).txn(set_data("/app", text("v2"), 1)),
        digest: Some(TxnDigest {
            version: 2,
            tree_digest: 0x0123_4567_89ab_cdef,
        }),
    };
    let inform = TxnEntry::new(header(BOB, 2).txn(delete("/app")));
    let alice = SessionTouch {
        session: ALICE,
        timeout_ms: 30000,
    };
    let bob = SessionTouch {
        session: BOB,
        timeout_ms: 10000,
    };
    let learner = |sid, config_version| LearnerInfo {
        sid: Sid(sid),
        protocol_version: PROTOCOL_VERSION,
        config_version,
    };
    vec![
        (
            "request",
            Packet::Request(ForwardedRequest::new(ALICE, 5, &create, vec![localhost])),
        ),
        (
            "request_create_session",
            Packet::Request(ForwardedRequest::create_session(BOB, 10000)),
        ),
        ("proposal", Packet::Proposal(proposal.clone())),
        // A DIFF's PROPOSALs and an observer's INFORM carry the digest too.
        ("diff_proposal", Packet::Proposal(proposal.clone())),
        ("inform_digested", Packet::Inform(proposal)),
        ("ack", Packet::Ack(zxid)),
        ("commit", Packet::Commit(zxid)),
        ("ping", Packet::Ping(zxid)),
        (
            "ping_reply",
            Packet::PingReply {
                zxid,
                touches: vec![alice, bob],
            },
        ),
        (
            "ping_reply_empty",
            Packet::PingReply {
                zxid,
                touches: vec![],
            },
        ),
        ("revalidate", Packet::Revalidate(alice)),
        (
            "revalidate_reply",
            Packet::RevalidateReply {
                session: ALICE,
                valid: true,
            },
        ),
        ("sync", Packet::Sync),
        ("inform", Packet::Inform(inform.clone())),
        (
            "commit_and_activate",
            Packet::CommitAndActivate {
                zxid,
                designated_leader: Sid(2),
            },
        ),
        (
            "new_leader",
            Packet::NewLeader {
                zxid: Epoch(2).first_zxid(),
                config: b"server.1=127.0.0.1:2888:3888:participant\nversion=0".to_vec(),
            },
        ),
        (
            "follower_info",
            Packet::FollowerInfo {
                accepted_epoch: Epoch(1),
                info: learner(2, 0),
            },
        ),
        ("up_to_date", Packet::UpToDate),
        ("diff", Packet::Diff(zxid)),
        ("trunc", Packet::Trunc(zxid)),
        ("snap", Packet::Snap(zxid)),
        (
            "observer_info",
            Packet::ObserverInfo {
                accepted_epoch: Epoch(1),
                info: learner(4, 0x1_0000_0000),
            },
        ),
        (
            "leader_info",
            Packet::LeaderInfo {
                epoch: Epoch(2),
                protocol_version: PROTOCOL_VERSION,
            },
        ),
        (
            "ack_epoch",
            Packet::AckEpoch {
                last_zxid: zxid,
                current_epoch: Some(Epoch(1)),
            },
        ),
        (
            "ack_epoch_already_accepted",
            Packet::AckEpoch {
                last_zxid: zxid,
                current_epoch: None,
            },
        ),
        (
            "inform_and_activate",
            Packet::InformAndActivate {
                designated_leader: Sid(3),
                entry: inform,
            },
        ),
    ]
}

// ---- txns and packets ---------------------------------------------------------------------

#[test]
fn packet_types_and_txn_types_carry_upstreams_numbers() {
    with_oracle("packet and txn type numbers", |classes| {
        for kind in PacketType::ALL {
            let number = case(classes, "type", kind.name());
            assert_eq!(number, kind.code().to_string(), "Leader.{kind}");
        }
        let ops = [
            (OpCode::Create, "create"),
            (OpCode::Create2, "create2"),
            (OpCode::CreateContainer, "createContainer"),
            (OpCode::CreateTtl, "createTTL"),
            (OpCode::Delete, "delete"),
            (OpCode::DeleteContainer, "deleteContainer"),
            (OpCode::SetData, "setData"),
            (OpCode::Reconfig, "reconfig"),
            (OpCode::SetAcl, "setACL"),
            (OpCode::Check, "check"),
            (OpCode::Multi, "multi"),
            (OpCode::Error, "error"),
            (OpCode::CreateSession, "createSession"),
            (OpCode::CloseSession, "closeSession"),
        ];
        for (op, name) in ops {
            assert_eq!(
                case(classes, "opcode", name),
                op.code().to_string(),
                "{name}"
            );
        }
        // Every op we write is typed with one of those numbers, as the table's headers show.
        for (name, entry) in txns() {
            let written = &hex(case(classes, "txn", name))[28..32];
            let code = i32::from_be_bytes(written.try_into().unwrap());
            assert_eq!(txn_type(&entry.txn.op).code(), code, "{name}");
        }
    });
}

#[test]
fn our_txns_are_zookeepers_bytes_and_theirs_read_back_as_ours() {
    with_oracle("txn bytes", |classes| {
        for (name, entry) in txns() {
            let theirs = hex(case(classes, "txn", name));
            assert_eq!(entry.encode(), theirs, "{name}: our bytes");
            assert_eq!(TxnEntry::decode(&theirs), Ok(entry), "{name}: read back");
        }
        for (name, entry) in txns_read_only() {
            let theirs = hex(case(classes, "txn", name));
            assert_eq!(TxnEntry::decode(&theirs), Ok(entry), "{name}: read back");
        }
    });
}

#[test]
fn our_packets_are_zookeepers_bytes_and_theirs_read_back_as_ours() {
    with_oracle("packet bytes", |classes| {
        for (name, packet) in packets() {
            let theirs = hex(case(classes, "packet", name));
            assert_eq!(packet.encode(), theirs, "{name}: our bytes");
            let (read, used) = Packet::decode(&theirs, DEFAULT_MAX_PACKET_LEN).unwrap();
            assert_eq!(used, theirs.len(), "{name}: the whole packet");
            assert_eq!(read, Ok(packet), "{name}: read back");
        }
    });
}

// ---- snapshots ----------------------------------------------------------------------------

/// A history of requests, run through chapter 1's prep and apply: the txns, and the database
/// they leave (sessions kept as upstream's log replay keeps them).
fn history(requests: &[(SessionId, Request)]) -> (Vec<Txn>, Snapshot) {
    let mut server = Standalone::new(DataTree::new().with_extended_types());
    let mut sessions = BTreeMap::new();
    let mut txns = Vec::new();
    for (cxid, (session, request)) in requests.iter().enumerate() {
        let time = TIME + cxid as i64;
        let (txn, _) = server.submit(*session, cxid as i32, time, request);
        match &txn.op {
            TxnOp::CreateSession { timeout_ms } => {
                sessions.insert(*session, *timeout_ms);
            }
            TxnOp::CloseSession { .. } => {
                sessions.remove(session);
            }
            _ => {}
        }
        txns.push(txn);
    }
    let tree = server.tree;
    (txns, Snapshot { tree, sessions })
}

fn new_session(timeout_ms: i32) -> Request {
    Request::CreateSession { timeout_ms }
}

fn create_request(path: &str, data: &str, acl: Vec<Acl>, mode: CreateMode) -> Request {
    Request::Create {
        path: path.into(),
        data: text(data),
        acl,
        mode,
    }
}

/// What the two checks share: ZooKeeper replays our txns and writes its database; we read it
/// as the tree we built, and it reads ours as the tree it built. Returns (ours, theirs).
fn compare_snapshots(
    classes: &Path,
    name: &str,
    requests: &[(SessionId, Request)],
) -> (Vec<u8>, Vec<u8>) {
    let scratch = Scratch::new(name);
    let (txns, ours) = history(requests);
    let mut log = Vec::new();
    for txn in txns {
        let bytes = TxnEntry::new(txn).encode();
        log.extend((bytes.len() as i32).to_be_bytes());
        log.extend(bytes);
    }
    std::fs::write(scratch.path("txns"), log).unwrap();
    let db = scratch.path("db");
    let their_dump = java(
        classes,
        &[
            "replay",
            &scratch.path("txns"),
            &scratch.path("theirs"),
            &db,
        ],
    );
    let theirs = std::fs::read(scratch.path("theirs")).unwrap();

    let zxid = ours.tree.last_processed_zxid();
    let (read, used) = decode_snap_body(&theirs, true, zxid).expect("ZooKeeper's snapshot reads");
    assert_eq!(used, theirs.len());
    assert_eq!(read.sessions, ours.sessions, "{name}: sessions");
    assert_eq!(
        read.tree, ours.tree,
        "{name}: the tree read from ZooKeeper's bytes"
    );

    let bytes = encode_snap_body(&ours.tree, &ours.sessions);
    std::fs::write(scratch.path("ours"), &bytes).unwrap();
    let our_dump = java(classes, &["load", &scratch.path("ours"), &db]);
    assert_eq!(
        our_dump, their_dump,
        "{name}: ZooKeeper's view of our bytes"
    );
    (bytes, theirs)
}

#[test]
fn zookeeper_reads_our_snapshot_as_the_tree_it_built_and_we_read_its_as_ours() {
    with_oracle("snapshot of a general tree", |classes| {
        let open = Acl::open_unsafe;
        let requests = [
            (ALICE, new_session(30000)),
            (BOB, new_session(10000)),
            (CAROL, new_session(5000)),
            (
                ALICE,
                create_request("/app", "v1", open(), CreateMode::Persistent),
            ),
            (
                ALICE,
                create_request("/app/config", "{}", digest_acl(), CreateMode::Persistent),
            ),
            (
                BOB,
                create_request("/app/lock-", "b", open(), CreateMode::EphemeralSequential),
            ),
            (
                CAROL,
                create_request("/app/lock-", "c", open(), CreateMode::EphemeralSequential),
            ),
            (
                ALICE,
                create_request("/jobs", "", open(), CreateMode::Container),
            ),
            (
                ALICE,
                Request::Create {
                    path: "/jobs/j1".into(),
                    data: None,
                    acl: read_ip_all_world(),
                    mode: CreateMode::Persistent,
                },
            ),
            // createContainer with the sequential flag: a container txn whose path has /jobs's
            // counter (box-0000000001).
            (
                ALICE,
                create_request("/jobs/box-", "b", open(), CreateMode::ContainerSequential),
            ),
            (
                ALICE,
                create_request("/ttl", "t", open(), CreateMode::PersistentWithTtl(60000)),
            ),
            (
                ALICE,
                Request::SetData {
                    path: "/app".into(),
                    data: text("v2"),
                    version: -1,
                },
            ),
            // The digest list loses its only user: upstream forgets its number.
            (
                ALICE,
                Request::SetAcl {
                    path: "/app/config".into(),
                    acl: Acl::read_unsafe(),
                    version: 0,
                },
            ),
            (
                ALICE,
                Request::Multi(vec![
                    create_request("/batch", "1", open(), CreateMode::Persistent),
                    Request::SetData {
                        path: "/batch".into(),
                        data: text("2"),
                        version: 0,
                    },
                    Request::Check {
                        path: "/app".into(),
                        version: 1,
                    },
                ]),
            ),
            (
                ALICE,
                Request::Multi(vec![
                    create_request("/never", "", open(), CreateMode::Persistent),
                    Request::Delete {
                        path: "/missing".into(),
                        version: -1,
                    },
                ]),
            ),
            (
                BOB,
                Request::Delete {
                    path: "/jobs/j1".into(),
                    version: -1,
                },
            ),
            (CAROL, Request::CloseSession),
            (
                ALICE,
                create_request("/app", "again", open(), CreateMode::Persistent),
            ),
            (
                ALICE,
                Request::SetAcl {
                    path: "/".into(),
                    acl: open(),
                    version: -1,
                },
            ),
        ];
        compare_snapshots(classes, "general", &requests);
    });
}

#[test]
fn a_tree_whose_hash_orders_agree_with_ours_is_written_byte_for_byte_as_zookeeper_writes_it() {
    with_oracle("snapshot bytes", |classes| {
        // Java's hash sets happen to list {zookeeper, zp, zq} and {a, b} in name order, and
        // ACL lists first appear in the walk in the order the history creates them, so
        // ZooKeeper's numbering and ours agree too.
        let requests = [
            (ALICE, new_session(30000)),
            (BOB, new_session(10000)),
            (
                ALICE,
                create_request("/zp", "p", Acl::open_unsafe(), CreateMode::Persistent),
            ),
            (
                BOB,
                Request::Create {
                    path: "/zp/a".into(),
                    data: None,
                    acl: digest_acl(),
                    mode: CreateMode::Ephemeral,
                },
            ),
            (
                ALICE,
                create_request("/zp/b", "b", Acl::open_unsafe(), CreateMode::Persistent),
            ),
            (
                ALICE,
                create_request("/zq", "", read_ip_all_world(), CreateMode::Container),
            ),
            (
                ALICE,
                Request::SetData {
                    path: "/zp/b".into(),
                    data: text("b2"),
                    version: 0,
                },
            ),
        ];
        let (ours, theirs) = compare_snapshots(classes, "identical", &requests);
        if let Some(at) = (0..ours.len().max(theirs.len())).find(|&i| ours.get(i) != theirs.get(i))
        {
            let around =
                |bytes: &[u8]| hex_string(&bytes[at.saturating_sub(8)..bytes.len().min(at + 8)]);
            panic!(
                "the bytes differ at offset {at} of {} (ours) and {} (theirs): ...{}... vs ...{}...",
                ours.len(),
                theirs.len(),
                around(&ours),
                around(&theirs)
            );
        }
    });
}
