//! Writes the first corpus of each fuzz target: real sessions, so that the fuzzer starts
//! from frames a server reads every day and mutates them into ones it should refuse.
//!
//! Run from `fuzz/`: `cargo run --example seeds` (it writes under `corpus/`).

use std::fs;
use std::path::Path;

use ch01_znode::acl::{perms, Acl};
use ch01_znode::watch::{AddWatchMode, WatcherType};
use ch01_znode::{Epoch, Sid, Zxid};
use ch03_sessions::jute::Record;
use ch03_sessions::proto::*;
use ch06_zab::message::Message;
use ch06_zab::wire::encode as encode_message;
use ch07_persistence::story::tell;
use keeper_fuzz::session::{encode, Event};

/// A fresh client's handshake.
fn connect() -> Vec<u8> {
    ConnectRequest::new_session(30_000).to_bytes()
}

fn create(path: &str, data: &[u8], flags: i32) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: Acl::open_unsafe(),
        flags,
    }
}

/// Every request a client sends in a day's work, one of each kind.
fn requests() -> Vec<Request> {
    let path = |p: &str| p.to_string();
    vec![
        Request::Create(create("/app", b"hello", 0)),
        Request::Create2(create("/app/seq-", b"x", 3)),
        Request::CreateContainer(create("/box", b"", 4)),
        Request::GetData(GetDataRequest {
            path: path("/app"),
            watch: true,
        }),
        Request::Exists(ExistsRequest {
            path: path("/missing"),
            watch: true,
        }),
        Request::SetData(SetDataRequest {
            path: path("/app"),
            data: Some(b"v2".to_vec()),
            version: 0,
        }),
        Request::GetChildren2(GetChildren2Request {
            path: path("/app"),
            watch: true,
        }),
        Request::GetChildren(GetChildrenRequest {
            path: path("/"),
            watch: false,
        }),
        Request::Multi(MultiRequest {
            ops: vec![
                MultiOp::Create(create("/m", b"1", 0)),
                MultiOp::SetData(SetDataRequest {
                    path: path("/m"),
                    data: None,
                    version: -1,
                }),
                MultiOp::Check(CheckVersionRequest {
                    path: path("/m"),
                    version: 1,
                }),
                MultiOp::Delete(DeleteRequest {
                    path: path("/m"),
                    version: -1,
                }),
            ],
        }),
        Request::SetWatches2(SetWatches2 {
            relative_zxid: Zxid(1),
            data_watches: vec![path("/app")],
            exist_watches: vec![path("/gone")],
            child_watches: vec![path("/")],
            persistent_watches: vec![path("/app")],
            persistent_recursive_watches: vec![path("/")],
        }),
        Request::AddWatch(AddWatchRequest {
            path: path("/app"),
            mode: AddWatchMode::PersistentRecursive,
        }),
        Request::GetAcl(GetAclRequest { path: path("/app") }),
        Request::SetAcl(SetAclRequest {
            path: path("/app"),
            acl: vec![Acl::new(perms::READ | perms::WRITE, "ip", "127.0.0.1")],
            version: 0,
        }),
        Request::Sync(SyncRequest {
            path: Some(path("/app")),
        }),
        Request::CheckWatches(CheckWatchesRequest {
            path: path("/app"),
            r#type: WatcherType::Data,
        }),
        Request::RemoveWatches(RemoveWatchesRequest {
            path: path("/app"),
            r#type: WatcherType::Any,
        }),
        Request::GetEphemerals(GetEphemeralsRequest {
            prefix_path: path("/"),
        }),
        Request::GetAllChildrenNumber(GetAllChildrenNumberRequest { path: path("/") }),
        Request::Auth(AuthPacket {
            r#type: 0,
            scheme: Some(path("digest")),
            auth: Some(b"user:pw".to_vec()),
        }),
        Request::WhoAmI,
        Request::Ping,
        Request::Delete(DeleteRequest {
            path: path("/app/seq-0000000001"),
            version: -1,
        }),
        Request::CloseSession,
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("the corpus directory");
    fs::write(dir.join(name), bytes).expect("a seed file");
}

fn main() {
    let dir = Path::new("corpus/client_session");
    let connect = connect();
    let frames: Vec<Vec<u8>> = requests()
        .iter()
        .enumerate()
        .map(|(xid, request)| encode_request(xid as i32 + 1, request))
        .collect();
    // Each request alone after a handshake: small seeds the fuzzer can mutate one at a time.
    for (i, frame) in frames.iter().enumerate() {
        let events = [
            Event::Frame {
                slot: 0,
                payload: &connect,
            },
            Event::Frame {
                slot: 0,
                payload: frame,
            },
        ];
        write(dir, &format!("request-{i:02}"), &encode(&events));
    }
    // The whole day on one connection, and a second client watching, then leaving and
    // letting time pass so its session expires.
    let mut events = vec![
        Event::Frame {
            slot: 0,
            payload: &connect,
        },
        Event::Frame {
            slot: 1,
            payload: &connect,
        },
    ];
    for frame in &frames {
        events.push(Event::Frame {
            slot: 0,
            payload: frame,
        });
        events.push(Event::Frame {
            slot: 1,
            payload: &frames[3],
        });
    }
    events.push(Event::Disconnect { slot: 1 });
    events.push(Event::Wait { steps: 255 });
    write(dir, "day", &encode(&events));
    println!("wrote {} seeds under {}", frames.len() + 1, dir.display());

    // The standalone config this repository ships, and the course's three servers.
    let configs = Path::new("corpus/zoo_cfg");
    let standalone = fs::read("../conf/zoo.cfg").expect("conf/zoo.cfg");
    write(configs, "standalone", &standalone);
    let mut quorum = standalone;
    quorum.extend_from_slice(QUORUM_LINES.as_bytes());
    write(configs, "quorum", &quorum);
    println!("wrote 2 seeds under {}", configs.display());

    // Chapter 7's story leaves snapshots and logs in ZooKeeper's formats: each snapshot with
    // the log after it is a recovery seed.
    let story = std::env::temp_dir().join(format!("keeper-seeds-{}", std::process::id()));
    let _ = fs::remove_dir_all(&story);
    tell(&story, 1).expect("chapter 7's story runs");
    let files = story.join("version-2");
    let recovery = Path::new("corpus/recovery");
    let mut pairs = 0;
    for zxid in 0..=u8::MAX {
        let (Ok(snapshot), Ok(log)) = (
            fs::read(files.join(format!("snapshot.{zxid:x}"))),
            fs::read(files.join(format!("log.{:x}", u16::from(zxid) + 1))),
        ) else {
            continue;
        };
        // The zeros a log is extended by ahead of its records add nothing to mutate.
        let end = log.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        let mut seed = vec![zxid];
        let len = u16::try_from(snapshot.len()).expect("a story's snapshot under 64 KiB");
        seed.extend_from_slice(&len.to_be_bytes());
        seed.extend_from_slice(&snapshot);
        seed.extend_from_slice(&log[..end]);
        write(recovery, &format!("story-{zxid:x}"), &seed);
        pairs += 1;
    }
    let _ = fs::remove_dir_all(&story);
    println!("wrote {pairs} seeds under {}", recovery.display());

    let peers = Path::new("corpus/quorum_peer");
    write(peers, "follower", &follower_seed());
    write(peers, "leader", &leader_seed());
    println!("wrote 2 seeds under {}", peers.display());
}

/// A vote move of `quorum_peer`: from n2 (`from_n3` false) or n3, in `state` (0 LOOKING,
/// 1 FOLLOWING, 2 LEADING), for `leader`, zxid 0, epoch 0, round 1.
fn vote(from_n3: bool, state: u8, leader: u8) -> Vec<u8> {
    let mut first = if from_n3 { 128 } else { 0 };
    while first % 3 != state {
        first += 1;
    }
    vec![0, first, leader - 1, 0, 0, 1]
}

/// A packet move of `quorum_peer`: `msg` from `from` on the peer's connection `pick`.
fn packet(pick: u8, from: u64, msg: &Message) -> Vec<u8> {
    let bytes = encode_message(msg, Sid(from), Zxid(0));
    let len = u16::try_from(bytes.len()).expect("a small packet");
    let mut out = vec![1, pick];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes);
    out
}

/// Let time pass and fire the peer's first timer: after the votes, the election's
/// finalizeWait.
fn finalize() -> Vec<u8> {
    vec![4, 3, 0]
}

/// Let time pass, firing nothing.
fn wait() -> Vec<u8> {
    vec![4]
}

/// n2 and n3 elect n3, and n3 leads n1 through a DIFF sync to UPTODATE.
fn follower_seed() -> Vec<u8> {
    let epoch = Epoch(1);
    [
        vote(false, 0, 3),
        vote(true, 0, 3),
        finalize(),
        packet(0, 3, &Message::LeaderInfo { epoch }),
        packet(0, 3, &Message::Diff { zxid: Zxid(0) }),
        packet(0, 3, &Message::NewLeader { epoch }),
        wait(),
        packet(0, 3, &Message::UpToDate),
        packet(0, 3, &Message::Ping(Zxid(0))),
    ]
    .concat()
}

/// n2 and n3 vote for n1, and n2 follows it through discovery and sync.
fn leader_seed() -> Vec<u8> {
    let info = Message::LearnerInfo {
        observer: false,
        accepted_epoch: Epoch(0),
    };
    [
        vote(false, 0, 1),
        vote(true, 0, 1),
        finalize(),
        packet(200, 2, &info),
        packet(
            0,
            2,
            &Message::AckEpoch {
                current_epoch: Some(Epoch(0)),
                last_zxid: Zxid(0),
            },
        ),
        wait(),
        packet(0, 2, &Message::Ack(Zxid(1 << 32))),
        wait(),
    ]
    .concat()
}

/// What turns the standalone config into one of the course's three servers.
const QUORUM_LINES: &str = "\ninitLimit=10\nsyncLimit=5\nstandaloneEnabled=false\n\
4lw.commands.whitelist=srvr,stat,mntr,ruok\nserver.1=127.0.0.1:2888:3888\n\
server.2=127.0.0.1:2889:3889:participant;2182\nserver.3=127.0.0.1:2890:3890:observer\n";
