//! The chapter's stories: each one a small ensemble, its clients and its faults, run in
//! chapter 4's simulator.
//!
//! The idea to take away: every promise Zab makes shows up in a run you can replay. A write is
//! committed once **half the servers** have logged it, not all of them
//! ([`ScenarioName::WriteToFollower`]); a proposal only a minority logged may vanish, one a
//! majority logged never does ([`ScenarioName::LeaderCrashMinorityAck`],
//! [`ScenarioName::LeaderCrashMajorityAck`]); a server that comes back is made equal to the
//! leader by the cheapest of DIFF, SNAP and TRUNC; a leader cut off from its quorum stops
//! leading; `sync` makes a lagging follower catch up before it answers a read; a session
//! moves to another server only once the leader says it is alive
//! ([`ScenarioName::SessionMoves`]).
//!
//! A scenario is data: the servers (how fast each disk is, when each is switched on, what each
//! disk already holds), the clients and their scripts, and the faults as a chapter 4
//! [`Scenario`]. [`Setup::sim`] turns it into a simulation; [`run`] runs it to its end. The
//! network takes 5 to 15 ms per message (the seed picks each) and keeps each link in order,
//! as TCP does; every scenario's test checks its behaviour for several seeds, not just the one
//! the book prints.
//!
//! Every scenario starts from ZooKeeper's defaults (`tickTime=2000`, `initLimit=10`,
//! `syncLimit=5`): a follower gives up on a silent leader after 10 s, and so does a leader on
//! its silent followers.

use std::sync::Arc;

use ch01_znode::{Acl, EphemeralOwner, Epoch, SessionId, Sid, Txn, TxnHeader, TxnOp, Zxid};
use ch04_paxos::sim::{Millis, Network, NodeId, Scenario, Sim, CLIENT_BASE};
use ch05_election::quorum::QuorumMaj;

use crate::peer::{Config, Epochs};
use crate::sim::{ClientNode, ClientOp, Disk, Node, Script, ServerNode, SimTimer, Wire};

// ANCHOR: names
/// The chapter's scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScenarioName {
    /// The course's first picture: a write sent to the leader.
    WriteToLeader,
    /// The course's second picture: a write sent to a follower, which forwards it.
    WriteToFollower,
    /// A proposal only the leader logged, then the leader crashes: it is never committed.
    LeaderCrashMinorityAck,
    /// A proposal a majority logged, then the leader crashes: the new leader keeps it.
    LeaderCrashMajorityAck,
    /// A follower misses a few writes and catches up by DIFF.
    FollowerLagging,
    /// A follower misses more writes than the leader keeps: SNAP.
    FollowerFarBehind,
    /// A follower has a txn the leader never committed: TRUNC.
    FollowerAhead,
    /// A read after `sync` on a lagging follower sees what was committed before it.
    SyncRead,
    /// A leader cut off from its followers steps down; the majority goes on without it.
    PartitionedLeader,
    /// An observer: told each commit (INFORM), never counted.
    Observer,
    /// A client's session moves from one follower to another, which asks the leader first
    /// (REVALIDATE).
    SessionMoves,
    /// Lab 6.2's bug hunt: the run you write in `src/lab.rs` (try it with `--flaw`).
    #[value(name = "lab-6-2")]
    Lab62,
    /// The model checker's ensemble (`--model-check`), for replaying what it found.
    Checked,
}
// ANCHOR_END: names

impl ScenarioName {
    /// Every scenario, in the chapter's order.
    pub const ALL: [ScenarioName; 11] = [
        ScenarioName::WriteToLeader,
        ScenarioName::WriteToFollower,
        ScenarioName::LeaderCrashMinorityAck,
        ScenarioName::LeaderCrashMajorityAck,
        ScenarioName::FollowerLagging,
        ScenarioName::FollowerFarBehind,
        ScenarioName::FollowerAhead,
        ScenarioName::SyncRead,
        ScenarioName::PartitionedLeader,
        ScenarioName::Observer,
        ScenarioName::SessionMoves,
    ];

    /// The name on the command line: `write-to-follower`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioName::WriteToLeader => "write-to-leader",
            ScenarioName::WriteToFollower => "write-to-follower",
            ScenarioName::LeaderCrashMinorityAck => "leader-crash-minority-ack",
            ScenarioName::LeaderCrashMajorityAck => "leader-crash-majority-ack",
            ScenarioName::FollowerLagging => "follower-lagging",
            ScenarioName::FollowerFarBehind => "follower-far-behind",
            ScenarioName::FollowerAhead => "follower-ahead",
            ScenarioName::SyncRead => "sync-read",
            ScenarioName::PartitionedLeader => "partitioned-leader",
            ScenarioName::Observer => "observer",
            ScenarioName::SessionMoves => "session-moves",
            ScenarioName::Lab62 => "lab-6-2",
            ScenarioName::Checked => "checked",
        }
    }
}

/// One server of a scenario.
#[derive(Clone, Debug)]
pub struct ServerSetup {
    /// Its id (and node id).
    pub sid: Sid,
    /// How long its disk takes to flush, ms.
    pub disk_ms: Millis,
    /// How late it reads what its leader sends, ms (0: at once).
    pub lag_ms: Millis,
    /// When the operator switches it on (0: at once).
    pub start_ms: Millis,
    /// What its disk holds when it starts.
    pub disk: Disk,
}

/// One client of a scenario: `c{k}`, the servers of its connect string, what it does.
#[derive(Clone, Debug)]
pub struct ClientSetup {
    /// Its number: node `CLIENT_BASE + k`, shown `ck`.
    pub k: u64,
    /// The connect string, in the order it tries them after losing a connection.
    pub servers: Vec<Sid>,
    /// What it does, and when.
    pub script: Script,
}

impl ClientSetup {
    /// The simulator's node id.
    pub fn id(&self) -> NodeId {
        CLIENT_BASE + self.k
    }
}

// ANCHOR: setup
/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Which scenario.
    pub name: ScenarioName,
    /// One line saying what to watch for.
    pub about: String,
    /// The ensemble (`zoo.cfg`): voters, observers, tick, limits, DIFF window.
    pub config: Config,
    /// The servers, in sid order.
    pub servers: Vec<ServerSetup>,
    /// The clients, in order.
    pub clients: Vec<ClientSetup>,
    /// Crashes, restarts, partitions, heals.
    pub faults: Scenario<Wire, SimTimer>,
    /// The story ends here.
    pub end_ms: Millis,
    /// Where the diagram starts: at the moment the story begins, leaving out the first
    /// election and sync (every lifeline opens with its node's state at that moment).
    pub picture_from_ms: Millis,
    /// Whether the nodes never see the clock (the model checker's runs: it has none).
    pub clock_stopped: bool,
}
// ANCHOR_END: setup

/// A disk that flushes in 5 ms: an SSD.
pub const FAST_DISK_MS: Millis = 5;
/// A disk that takes 100 ms: a busy spinning disk, slow enough to be overtaken.
pub const SLOW_DISK_MS: Millis = 100;
/// How late a lagging follower reads its leader's packets.
pub const LAG_MS: Millis = 300;

pub(crate) fn ensemble(voters: u64, observers: &[Sid]) -> Config {
    Config::new(Arc::new(QuorumMaj::new(
        (1..=voters).map(Sid),
        observers.iter().copied(),
    )))
}

/// Server `sid` with a fast, empty disk, switched on at once.
pub(crate) fn server(sid: u64) -> ServerSetup {
    ServerSetup {
        sid: Sid(sid),
        disk_ms: FAST_DISK_MS,
        lag_ms: 0,
        start_ms: 0,
        disk: Disk::default(),
    }
}

impl ServerSetup {
    /// The same server, whose disk flushes in `disk_ms`.
    pub(crate) fn disk_ms(self, disk_ms: Millis) -> ServerSetup {
        ServerSetup { disk_ms, ..self }
    }

    /// The same server, reading its leader's packets `lag_ms` late.
    pub(crate) fn lag_ms(self, lag_ms: Millis) -> ServerSetup {
        ServerSetup { lag_ms, ..self }
    }

    /// The same server, switched on at `start_ms`, with `disk` on its disk.
    pub(crate) fn starting(self, start_ms: Millis, disk: Disk) -> ServerSetup {
        ServerSetup {
            start_ms,
            disk,
            ..self
        }
    }
}

/// Client `ck`: connects to `server` at `connect_ms` (its connect string names that server
/// first, then n1, n2, n3), then takes `steps`, each at its time or once the one before it is
/// answered.
pub(crate) fn client(
    k: u64,
    server: u64,
    connect_ms: Millis,
    steps: &[(Millis, ClientOp)],
) -> ClientSetup {
    let servers = std::iter::once(server)
        .chain((1..=3).filter(|s| *s != server))
        .map(Sid)
        .collect();
    let mut script = Script::new().at(
        connect_ms,
        ClientOp::Connect {
            server: Sid(server),
        },
    );
    for (at, op) in steps {
        script = script.at(*at, op.clone());
    }
    ClientSetup { k, servers, script }
}

/// `create(path, data)`, a persistent node.
pub fn create(path: &str, data: &str) -> ClientOp {
    ClientOp::Create {
        path: path.into(),
        data: data.into(),
        ephemeral: false,
    }
}

/// `create(path, data)`, an ephemeral node.
pub fn ephemeral(path: &str, data: &str) -> ClientOp {
    ClientOp::Create {
        path: path.into(),
        data: data.into(),
        ephemeral: true,
    }
}

/// `getData(path, false)`.
pub fn get(path: &str) -> ClientOp {
    ClientOp::GetData {
        path: path.into(),
        watch: false,
    }
}

/// `sync(path)`.
pub fn sync(path: &str) -> ClientOp {
    ClientOp::Sync { path: path.into() }
}

/// A follower is down while a client writes `paths` through leader n3; it comes back after.
fn follower_down_during(paths: &[&str]) -> (Vec<ClientSetup>, Scenario<Wire, SimTimer>) {
    let writes: Vec<(Millis, ClientOp)> = paths
        .iter()
        .zip(1..)
        .map(|(p, n)| (1_900 + 100 * n, create(p, &n.to_string())))
        .collect();
    let faults = Scenario::new().crash(1_500, 1).restart(3_000, 1);
    (vec![client(1, 3, 1_000, &writes)], faults)
}

// ANCHOR: scenarios
/// The scenario `name`. Three voters start empty at once, so n3 (the highest sid) leads
/// epoch 1 unless the story says otherwise.
pub fn setup(name: ScenarioName) -> Setup {
    let base = Setup {
        name,
        about: String::new(),
        config: ensemble(3, &[]),
        servers: (1..=3).map(server).collect(),
        clients: Vec::new(),
        faults: Scenario::new(),
        end_ms: 3_000,
        picture_from_ms: 0,
        clock_stopped: false,
    };
    let slow_n2 = vec![server(1), server(2).disk_ms(SLOW_DISK_MS), server(3)];
    match name {
        ScenarioName::WriteToLeader => Setup {
            about: "c1 writes to the leader n3; n3 commits once n3 and n1 have logged it \
                    (2 of 3), before slow n2's ACK arrives, and answers c1"
                .into(),
            servers: slow_n2,
            clients: vec![client(1, 3, 1_000, &[(1_500, create("/course", "leader"))])],
            picture_from_ms: 1_500,
            ..base
        },
        ScenarioName::WriteToFollower => Setup {
            about: "c1 writes to follower n1, which forwards it to leader n3; n3 commits once \
                    n3 and n1 have logged it (2 of 3), before slow n2's ACK arrives; n1 answers c1"
                .into(),
            servers: slow_n2,
            clients: vec![client(
                1,
                1,
                1_000,
                &[(1_500, create("/course", "follower"))],
            )],
            picture_from_ms: 1_500,
            ..base
        },
        ScenarioName::LeaderCrashMinorityAck => Setup {
            about: "cut off with c1, leader n3 logs c1's write alone and crashes; n1 n2 elect \
                    n2, which never commits it; c1 never hears back; n3 returns and cuts it off \
                    its log"
                .into(),
            clients: vec![
                client(1, 3, 1_000, &[(2_100, create("/lost", "minority"))]),
                client(2, 1, 14_000, &[(14_500, get("/lost"))]),
            ],
            faults: Scenario::new()
                .partition(2_000, vec![vec![3, CLIENT_BASE + 1], vec![1, 2]])
                .crash(2_200, 3)
                .heal(2_300)
                .restart(13_000, 3),
            end_ms: 15_500,
            picture_from_ms: 2_000,
            ..base
        },
        ScenarioName::LeaderCrashMajorityAck => Setup {
            about: "n1 and n2 log c1's write, then leader n3 crashes before their ACKs arrive: \
                    nothing was committed, yet n1 n2 elect n2, which keeps it; c2 reads it"
                .into(),
            servers: vec![server(1).disk_ms(50), server(2).disk_ms(50), server(3)],
            clients: vec![
                client(1, 3, 1_000, &[(2_000, create("/kept", "majority"))]),
                client(2, 1, 14_000, &[(14_500, get("/kept"))]),
            ],
            faults: Scenario::new().crash(2_045, 3).restart(13_000, 3),
            end_ms: 15_500,
            picture_from_ms: 2_000,
            ..base
        },
        ScenarioName::FollowerLagging => {
            let (clients, faults) = follower_down_during(&["/a", "/b", "/c"]);
            Setup {
                about: "n1 is down while c1 writes three times; restarted, it gets the three \
                        from leader n3 by DIFF"
                    .into(),
                clients,
                faults,
                end_ms: 4_500,
                picture_from_ms: 1_500,
                ..base
            }
        }
        ScenarioName::FollowerFarBehind => {
            let (clients, faults) = follower_down_during(&["/a", "/b", "/c", "/d"]);
            let mut config = ensemble(3, &[]);
            config.commit_log_count = 2;
            Setup {
                about: "the leader keeps only its last 2 txns (commitLogCount=2; ZooKeeper's \
                        least is 500); n1 misses 4 writes and gets a SNAP"
                    .into(),
                config,
                clients,
                faults,
                end_ms: 4_500,
                picture_from_ms: 1_500,
                ..base
            }
        }
        ScenarioName::FollowerAhead => Setup {
            about: "n3 led epoch 1 and logged 0x100000003 alone before it went down; n1 n2 \
                    elect n2 without it; when n3 starts, n2 tells it to TRUNC to 0x100000002"
                .into(),
            servers: vec![
                server(1).starting(0, epoch_one_disk(2)),
                server(2).starting(0, epoch_one_disk(2)),
                server(3).starting(1_000, epoch_one_disk(3)),
            ],
            clients: vec![client(1, 3, 2_000, &[(2_500, get("/b"))])],
            picture_from_ms: 1_000,
            ..base
        },
        ScenarioName::SyncRead => Setup {
            about: "c1 writes through leader n3 and is answered; c2 then reads on n2, which \
                    reads its leader's packets 300 ms late, and finds nothing; after sync, its \
                    read sees c1's write"
                .into(),
            servers: vec![server(1), server(2).lag_ms(LAG_MS), server(3)],
            clients: vec![
                client(1, 3, 1_000, &[(3_500, create("/news", "fresh"))]),
                client(
                    2,
                    2,
                    2_500,
                    &[
                        (3_650, get("/news")),
                        (3_700, sync("/news")),
                        (3_700, get("/news")),
                    ],
                ),
            ],
            end_ms: 5_000,
            picture_from_ms: 3_500,
            ..base
        },
        ScenarioName::PartitionedLeader => Setup {
            about: "leader n3 and c1 are cut off: c1's write is never acknowledged, n3 stops \
                    leading after syncLimit; n1 n2 elect n2 and serve c2; after the heal n3 \
                    follows n2"
                .into(),
            clients: vec![
                client(1, 3, 1_000, &[(2_100, create("/minority", "n3"))]),
                client(2, 1, 13_000, &[(13_500, create("/majority", "n2"))]),
            ],
            faults: Scenario::new()
                .partition(
                    2_000,
                    vec![vec![3, CLIENT_BASE + 1], vec![1, 2, CLIENT_BASE + 2]],
                )
                .heal(15_000),
            end_ms: 20_000,
            picture_from_ms: 2_000,
            ..base
        },
        ScenarioName::Observer => Setup {
            about: "n4 observes: c1's write through it is forwarded, committed by the voters \
                    alone, and sent to n4 as INFORM; n4 answers c1"
                .into(),
            config: ensemble(3, &[Sid(4)]),
            servers: (1..=4).map(server).collect(),
            clients: vec![client(1, 4, 1_000, &[(1_500, create("/seen", "observer"))])],
            picture_from_ms: 1_500,
            ..base
        },
        ScenarioName::SessionMoves => Setup {
            about: "c1 creates an ephemeral through follower n1, then moves its session to \
                    follower n2; n2 asks leader n3 (REVALIDATE), n3 touches the session and \
                    says it is valid, and only then does n2 let c1 in; the ephemeral is still c1's"
                .into(),
            clients: vec![client(
                1,
                1,
                1_000,
                &[
                    (1_500, ephemeral("/owner", "c1")),
                    (2_000, ClientOp::Connect { server: Sid(2) }),
                    (2_100, get("/owner")),
                ],
            )],
            picture_from_ms: 2_000,
            ..base
        },
        ScenarioName::Lab62 => Setup {
            name,
            ..crate::lab::hunt()
        },
        ScenarioName::Checked => Setup {
            name,
            ..crate::model_check::setup()
        },
    }
}
// ANCHOR_END: scenarios

/// A disk of epoch 1 holding its first `txns` txns: a session, then `/a`, `/b`, ...
pub(crate) fn epoch_one_disk(txns: u32) -> Disk {
    let session = SessionId::new(Sid(3), 1);
    let header = |counter: u32| TxnHeader {
        session,
        cxid: counter as i32 - 1,
        zxid: Zxid::new(Epoch(1), counter),
        time_ms: 0,
    };
    let log: Vec<Txn> = (1..=txns)
        .map(|counter| match counter {
            1 => header(1).txn(TxnOp::CreateSession { timeout_ms: 30_000 }),
            n => {
                let name = (b'a' + (n - 2) as u8) as char;
                header(n).txn(TxnOp::Create {
                    path: format!("/{name}"),
                    data: Some(name.to_string().into_bytes()),
                    acl: Acl::open_unsafe(),
                    owner: EphemeralOwner::None,
                    parent_cversion: n as i32 - 1,
                })
            }
        })
        .collect();
    Disk {
        epochs: Epochs {
            accepted: Epoch(1),
            current: Epoch(1),
        },
        snapshot: None,
        fuzzy: false,
        log,
        torn: None,
    }
}

/// The network of every scenario: 5 to 15 ms a message (the seed picks), nothing lost, and
/// each link in order, as a TCP connection is.
pub fn network() -> Network {
    Network {
        latency_min_ms: 5,
        latency_max_ms: 15,
        fifo: true,
        ..Network::default()
    }
}

impl Setup {
    /// The command that replays this run.
    pub fn command(&self, seed: u64) -> String {
        format!(
            "cargo run -p ch06-zab -- --trace --scenario {} --seed {seed}",
            self.name.as_str()
        )
    }

    /// The simulation of this scenario with `seed`.
    pub fn sim(&self, seed: u64) -> Sim<Node> {
        let sim = Sim::new(seed, network(), self.nodes(), Node::recover)
            .with_scenario(self.faults.clone())
            .replay_command(self.command(seed));
        match self.clock_stopped {
            true => sim.clock_stopped(),
            false => sim,
        }
    }

    /// The servers, then the clients, as they start.
    pub fn nodes(&self) -> Vec<Node> {
        let mut nodes: Vec<Node> = self
            .servers
            .iter()
            .map(|s| {
                let node =
                    ServerNode::from_disk(s.sid, self.config.clone(), s.disk.clone(), s.disk_ms)
                        .with_lag_ms(s.lag_ms)
                        .starting_at(s.start_ms);
                Node::Server(Box::new(node))
            })
            .collect();
        nodes.extend(self.clients.iter().map(|c| {
            Node::Client(Box::new(ClientNode::new(
                c.k,
                c.servers.clone(),
                c.script.clone(),
            )))
        }));
        nodes
    }
}

/// A finished run: the simulation as it stands at the end.
pub struct Run {
    /// The simulation, for its trace and its nodes.
    pub sim: Sim<Node>,
}

impl Run {
    /// Server `sid`.
    pub fn server(&self, sid: u64) -> &ServerNode {
        self.sim.node(sid).server().expect("a server")
    }

    /// Client `ck`.
    pub fn client(&self, k: u64) -> &ClientNode {
        self.sim.node(CLIENT_BASE + k).client().expect("a client")
    }

    /// The servers, in id order.
    pub fn servers(&self) -> impl Iterator<Item = &ServerNode> + '_ {
        self.sim.nodes().filter_map(Node::server)
    }

    /// The clients, in id order.
    pub fn clients(&self) -> impl Iterator<Item = &ClientNode> + '_ {
        self.sim.nodes().filter_map(Node::client)
    }
}

/// Runs scenario `setup` with `seed` to its end.
pub fn run(setup: &Setup, seed: u64) -> Result<Run, String> {
    run_with(setup, seed, Scenario::new())
}

/// Runs scenario `setup` with `seed` to its end, after the faults and the stepped choices of
/// `file` (a `--scenario-file`, as `--step` saves it).
pub fn run_with(setup: &Setup, seed: u64, file: Scenario<Wire, SimTimer>) -> Result<Run, String> {
    let mut sim = setup.sim(seed);
    sim.play(file).map_err(|e| e.to_string())?;
    sim.run_until(setup.end_ms).map_err(|v| v.to_string())?;
    Ok(Run { sim })
}
