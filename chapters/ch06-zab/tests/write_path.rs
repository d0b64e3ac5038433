//! The write path end to end in the simulator: a client writes through a follower, the
//! leader proposes, a quorum logs, everyone applies, and the follower answers.

use std::sync::Arc;

use ch01_znode::{Sid, Zxid};
use ch04_paxos::sim::{Network, Scenario, Sim, CLIENT_BASE};
use ch05_election::quorum::QuorumMaj;
use ch05_election::vote::ServerState;
use ch06_zab::peer::Config;
use ch06_zab::sim::{
    ClientNode, ClientOp, HistoryEvent, Node, Outcome, Script, ServerNode, SimNote,
};
use ch06_zab::trace::{Note, ZabNote};

fn three_servers_and(script: Script) -> Sim<Node> {
    let qv = Arc::new(QuorumMaj::new([Sid(1), Sid(2), Sid(3)], []));
    let cfg = Config::new(qv);
    let mut nodes: Vec<Node> = (1..=3)
        .map(|i| Node::Server(Box::new(ServerNode::new(Sid(i), cfg.clone(), 5))))
        .collect();
    let client = ClientNode::new(1, vec![Sid(1), Sid(2), Sid(3)], script);
    nodes.push(Node::Client(Box::new(client)));
    Sim::new(1, Network::default(), nodes, |n: &Node| n.recover())
}

/// A client connects to n1 and creates `/a` with `x`.
fn create_a_through_n1() -> Script {
    create_a_through(1)
}

/// A client connects to `server` and creates `/a` with `x`.
fn create_a_through(server: u64) -> Script {
    Script::new()
        .at(
            3000,
            ClientOp::Connect {
                server: Sid(server),
            },
        )
        .at(
            3100,
            ClientOp::Create {
                path: "/a".into(),
                data: "x".into(),
                ephemeral: false,
            },
        )
}

#[test]
fn a_write_sent_to_a_follower_is_committed_by_the_leader_and_answered_by_the_follower() {
    // zab.md §6: REQUEST, PROPOSAL, a quorum of ACKs, COMMIT; the server the client is
    // connected to replies after it applies the commit.
    let mut sim = three_servers_and(create_a_through_n1());
    sim.run_until(5000).unwrap();
    let leader = sim.node(3).server().unwrap().peer();
    assert_eq!(leader.leader(), Some(Sid(3)), "n3 has the largest sid");
    let history = sim.node(1001).client().unwrap().history();
    let created = history.iter().find_map(|e| match e {
        HistoryEvent::Complete {
            outcome: Outcome::Ok { zxid, .. },
            ..
        } => Some(*zxid),
        _ => None,
    });
    assert_eq!(
        created,
        Some(Zxid(0x1_0000_0002)),
        "epoch 1: createSession, then the create"
    );
    let trees: Vec<_> = (1..=3)
        .map(|i| sim.node(i).server().unwrap().peer().database().clone())
        .collect();
    assert!(trees[0].tree.node("/a").is_some());
    assert_eq!(trees[0], trees[1]);
    assert_eq!(trees[1], trees[2]);
}

/// Every server snapshots after more than `snapCount / 2` plus a random share of the other
/// half of logged txns, the share drawn from the seed its driver gave it, afresh after each
/// snapshot (upstream `SyncRequestProcessor.shouldSnapshot`, persistence.md §4). One that
/// falls due while the last is still being walked is skipped, as upstream's is ("Too busy to
/// snap"). What a server recovers from its fuzzy snapshot and the log after it is the tree it
/// served.
#[test]
fn each_server_snapshots_every_snap_count_or_so_txns_on_its_own_schedule() {
    let qv = Arc::new(QuorumMaj::new([Sid(1), Sid(2), Sid(3)], []));
    let mut script = Script::new().at(3000, ClientOp::Connect { server: Sid(1) });
    for i in 0..40 {
        let create = ClientOp::Create {
            path: format!("/n{i}"),
            data: "x".into(),
            ephemeral: false,
        };
        script = script.at(3100 + 10 * i, create);
    }
    let mut nodes: Vec<Node> = (1..=3)
        .map(|i| {
            let mut cfg = Config::new(qv.clone());
            cfg.snap_count = 10;
            cfg.snap_seed = 7 * i;
            Node::Server(Box::new(ServerNode::new(Sid(i), cfg, 5)))
        })
        .collect();
    nodes.push(Node::Client(Box::new(ClientNode::new(
        1,
        vec![Sid(1), Sid(2), Sid(3)],
        script,
    ))));
    let mut sim = Sim::new(1, Network::default(), nodes, |n: &Node| n.recover());
    sim.run_until(10_000).unwrap();
    let mut snapshot_zxids = Vec::new();
    for i in 1..=3 {
        let server = sim.node(i).server().unwrap();
        let disk = server.disk();
        let snapshot = disk.snapshot.as_ref().expect("a snapshot after 41 txns");
        let at = snapshot.last_processed_zxid();
        // Due after 6 to 10 txns: at most 10 behind, or 20 when one due was skipped.
        let logged = disk.log.iter().filter(|t| t.zxid > at).count();
        assert!(
            logged <= 20,
            "n{i}: {logged} txns logged after the snapshot at {at}"
        );
        let recovered = disk.recover(0).db;
        assert_eq!(&recovered, server.peer().database(), "n{i}");
        snapshot_zxids.push(at);
    }
    assert_eq!(
        sim.node(1)
            .server()
            .unwrap()
            .peer()
            .database()
            .tree
            .paths()
            .len(),
        44,
        "40 nodes and the root, /zookeeper, quota and config"
    );
    snapshot_zxids.dedup();
    assert!(
        snapshot_zxids.len() > 1,
        "seeds differ, so do schedules: {snapshot_zxids:?}"
    );
}

/// `srvr`'s proposal sizes count the whole serialized request, the 12-byte `TxnDigest` the
/// leader worked out at prepare included (upstream `Leader.propose`:
/// `proposalStats.setLastBufferSize(SerializeUtils.serializeRequest(request).length)`).
#[test]
fn proposal_sizes_count_the_digest_each_proposal_carries() {
    let mut sim = three_servers_and(create_a_through_n1());
    sim.run_until(5000).unwrap();
    let leader = sim.node(3).server().unwrap().peer();
    let sizes = leader.leader_report().expect("n3 leads").proposal_sizes;
    // TxnHeader: 32 bytes. createSession: + int timeOut = 36. create /a "x" with
    // world:anyone ALL: + ustring path (4 + 2) + buffer data (4 + 1) + acl vector (4 + perms
    // 4 + "world" 4 + 5 + "anyone" 4 + 6) + bool ephemeral 1 + int parentCVersion 4 = 75.
    // Each + TxnDigest (int version, long treeDigest) = 12.
    assert_eq!((sizes.min, sizes.last, sizes.max), (48, 87, 87));
}

/// A leader that loses its quorum steps down, but votes only once what it appended is on its
/// disk: its vote will name those txns, and an epoch it takes after the vote must not outlive
/// them (upstream: `Leader.shutdown` → `ProposalRequestProcessor.shutdown` →
/// `SyncRequestProcessor.shutdown`, which flushes). Here n3's disk takes 20 s: it commits c1's
/// writes on n1's and n2's ACKs, is cut off with c1, stops leading a syncLimit later, and
/// stays out of the election until its fsync, while n1 and n2 elect without it.
#[test]
fn a_leader_that_steps_down_votes_only_once_its_appends_are_on_disk() {
    let qv = Arc::new(QuorumMaj::new([Sid(1), Sid(2), Sid(3)], []));
    let cfg = Config::new(qv);
    let mut nodes: Vec<Node> = (1..=3)
        .map(|i| {
            let disk_ms = if i == 3 { 20_000 } else { 5 };
            Node::Server(Box::new(ServerNode::new(Sid(i), cfg.clone(), disk_ms)))
        })
        .collect();
    let script = create_a_through(3);
    nodes.push(Node::Client(Box::new(ClientNode::new(
        1,
        vec![Sid(3)],
        script,
    ))));
    let cut = Scenario::new().partition(3_500, vec![vec![3, CLIENT_BASE + 1], vec![1, 2]]);
    let mut sim = Sim::new(1, Network::default(), nodes, |n: &Node| n.recover()).with_scenario(cut);
    sim.run_until(20_000).unwrap();
    let n3 = sim.node(3).server().unwrap().peer();
    assert_eq!(n3.logical_clock(), 1, "n3 has not looked again");
    assert!(!n3.is_serving() && n3.state() == ServerState::Leading);
    let waits = sim.trace().iter().any(|e| {
        matches!(
            &e.event,
            ch04_paxos::sim::Event::Note {
                node: 3,
                note: SimNote::Peer {
                    note: Note::Zab(ZabNote::SyncsTail { zxids })
                },
            } if zxids == &[Zxid(0x1_0000_0001), Zxid(0x1_0000_0002)]
        )
    });
    assert!(waits, "n3 waits for createSession and /a");
    let n2 = sim.node(2).server().unwrap().peer();
    assert_eq!(
        (n2.state(), n2.epochs().current.0),
        (ServerState::Leading, 2)
    );
    sim.run_until(24_000).unwrap();
    let n3 = sim.node(3).server().unwrap();
    assert_eq!(
        n3.peer().logical_clock(),
        2,
        "n3 votes once its fsync is done"
    );
    assert_eq!(n3.disk().log.len(), 2, "with both txns on its disk");
}
