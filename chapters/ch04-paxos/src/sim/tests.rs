//! Tests of the simulator itself, with a tiny scriptable node.

use super::render::{json_lines, plain, plain_with, Filter};
use super::*;

/// A node driven by its messages: `ping K` is answered with `pong K`; `send N TEXT` sends TEXT
/// to node N; `arm NAME MS` / `random NAME LO HI` / `cancel NAME` work its timers. It counts the
/// messages it has seen twice: once in memory (lost in a crash) and once "on disk" (kept).
#[derive(Clone, Debug)]
struct Echo {
    id: NodeId,
    seen: u64,
    seen_on_disk: u64,
}

impl Echo {
    fn new(id: NodeId) -> Self {
        Echo { id, seen: 0, seen_on_disk: 0 }
    }
    fn recover(&self) -> Self {
        Echo { id: self.id, seen: 0, seen_on_disk: self.seen_on_disk }
    }
}

impl Process for Echo {
    type Msg = String;
    type Timer = String;
    type Note = String;
    fn id(&self) -> NodeId {
        self.id
    }
    fn step(&mut self, input: Input<String, String>) -> Vec<Output<String, String, String>> {
        match input {
            Input::Start => vec![Output::Note(format!("started, {} on disk", self.seen_on_disk))],
            Input::Timeout(t) => vec![Output::Note(format!("{t} went off"))],
            Input::Receive { from, msg } => {
                self.seen += 1;
                self.seen_on_disk += 1;
                let w: Vec<&str> = msg.split_whitespace().collect();
                match w.as_slice() {
                    ["ping", k] => vec![Output::Send { to: from, msg: format!("pong {k}") }],
                    ["send", to, text @ ..] => {
                        vec![Output::Send { to: to.parse().unwrap(), msg: text.join(" ") }]
                    }
                    ["arm", t, ms] => vec![Output::SetTimer {
                        timer: t.to_string(),
                        after_ms: ms.parse().unwrap(),
                    }],
                    ["random", t, lo, hi] => vec![Output::SetRandomTimer {
                        timer: t.to_string(),
                        min_ms: lo.parse().unwrap(),
                        max_ms: hi.parse().unwrap(),
                    }],
                    ["cancel", t] => vec![Output::CancelTimer(t.to_string())],
                    _ => Vec::new(),
                }
            }
        }
    }
    fn status(&self) -> String {
        format!("seen {}", self.seen)
    }
}

fn echo_sim(seed: u64, net: Network) -> Sim<Echo> {
    Sim::new(seed, net, vec![Echo::new(1), Echo::new(2), Echo::new(3)], Echo::recover)
}

/// An outside input "from node 0" (the test itself).
fn tell(msg: &str) -> Input<String, String> {
    Input::Receive { from: 0, msg: msg.to_string() }
}

fn chatter(s: Scenario<String, String>) -> Scenario<String, String> {
    (0..20)
        .fold(s, |s, k| s.inject(k, 1 + k % 3, tell(&format!("send {} ping {k}", 1 + (k + 1) % 3))))
}

fn lossy() -> Network {
    Network {
        latency_min_ms: 1,
        latency_max_ms: 20,
        drop: 0.2,
        duplicate: 0.2,
        reorder: 0.2,
        ..Network::default()
    }
}

#[test]
fn the_same_seed_gives_the_identical_trace() {
    let run = |seed| {
        let mut sim = echo_sim(seed, lossy()).with_scenario(chatter(Scenario::new()));
        sim.run_until(1_000).unwrap();
        json_lines(sim.trace())
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8), "a different seed draws different faults");
}

#[test]
fn events_due_at_the_same_time_run_in_the_order_they_were_scheduled() {
    let mut sim = echo_sim(1, Network::default()).with_scenario(
        Scenario::new().inject(5, 1, tell("send 3 a")).inject(5, 2, tell("send 3 b")),
    );
    sim.run_until(100).unwrap();
    let arrivals: Vec<String> = sim
        .trace()
        .iter()
        .filter_map(|e| match &e.event {
            Event::Deliver { from, to: 3, msg, .. } => {
                Some(format!("{}@{} from n{from}", msg, e.at))
            }
            _ => None,
        })
        .collect();
    assert_eq!(arrivals, ["a@15 from n1", "b@15 from n2"]);
}

#[test]
fn a_partition_drops_messages_between_groups_until_healed() {
    let s = Scenario::new()
        .partition(0, vec![vec![1, 2], vec![3]])
        .inject(1, 1, tell("send 3 cut"))
        .inject(1, 1, tell("send 2 same side"))
        .heal(50)
        .inject(60, 1, tell("send 3 healed"));
    let mut sim = echo_sim(1, Network::default()).with_scenario(s);
    sim.run_until(200).unwrap();
    let text = plain(sim.trace());
    assert!(text.contains("n1 → n3  cut  ✗ partitioned"), "{text}");
    assert!(text.contains("n1 → n2  same side\n"), "{text}");
    assert!(text.contains("n1 → n3  healed\n"), "{text}");
    assert_eq!(sim.stats().dropped, 1);
}

#[test]
fn a_partition_catches_messages_already_in_flight() {
    let s =
        Scenario::new().inject(0, 1, tell("send 2 doomed")).partition(5, vec![vec![1], vec![2, 3]]);
    let mut sim = echo_sim(1, Network::default()).with_scenario(s);
    sim.run_until(100).unwrap();
    assert!(plain(sim.trace()).contains("n1 → n2  doomed  ✗ partitioned"));
}

#[test]
fn a_crash_loses_volatile_state_and_keeps_durable_state() {
    let s = Scenario::new()
        .inject(0, 2, tell("hello"))
        .inject(1, 2, tell("again"))
        .crash(5, 2)
        .inject(6, 1, tell("send 2 while down"))
        .restart(30, 2);
    let mut sim = echo_sim(1, Network::default()).with_scenario(s);
    sim.run_until(4).unwrap();
    assert_eq!((sim.node(2).seen, sim.node(2).seen_on_disk), (2, 2));
    sim.run_until(100).unwrap();
    assert!(sim.is_up(2));
    assert_eq!((sim.node(2).seen, sim.node(2).seen_on_disk), (0, 2), "memory lost, disk kept");
    let text = plain(sim.trace());
    assert!(text.contains("n1 → n2  while down  ✗ receiver down"), "{text}");
    assert!(text.contains("n2 ↻ restarted\n    30ms  n2 • started, 2 on disk"), "{text}");
}

#[test]
fn a_crash_forgets_the_nodes_timers() {
    let s = Scenario::new().inject(0, 1, tell("arm wake 50")).crash(10, 1).restart(20, 1);
    let mut sim = echo_sim(1, Network::default()).with_scenario(s);
    sim.run_until(200).unwrap();
    assert_eq!(sim.stats().timers_fired, 0);
}

#[test]
fn setting_an_armed_timer_again_re_arms_it_and_cancel_disarms() {
    let s = Scenario::new()
        .inject(0, 1, tell("arm wake 50"))
        .inject(30, 1, tell("arm wake 50"))
        .inject(0, 2, tell("arm nap 20"))
        .inject(10, 2, tell("cancel nap"))
        .inject(12, 2, tell("cancel nothing-armed"));
    let mut sim = echo_sim(1, Network::default()).with_scenario(s);
    sim.run_until(500).unwrap();
    let fired: Vec<String> = sim
        .trace()
        .iter()
        .filter(|e| matches!(e.event, Event::TimerFired { .. }))
        .map(|e| e.to_string())
        .collect();
    assert_eq!(fired, ["    80ms  n1 timer wake fired"], "fires once, 50ms after the re-arm");
    assert_eq!(
        sim.trace().iter().filter(|e| matches!(e.event, Event::TimerCancelled { .. })).count(),
        1
    );
}

#[test]
fn a_random_timer_draws_its_delay_from_the_seeded_rng() {
    let fire_time = |seed| {
        let mut sim = echo_sim(seed, Network::default()).with_scenario(Scenario::new().inject(
            0,
            1,
            tell("random r 100 200"),
        ));
        sim.run_until(1_000).unwrap();
        sim.trace()
            .iter()
            .find(|e| matches!(e.event, Event::TimerFired { .. }))
            .map(|e| e.at)
            .unwrap()
    };
    let times: Vec<u64> = (0..20).map(fire_time).collect();
    assert!(times.iter().all(|t| (100..=200).contains(t)), "{times:?}");
    assert_eq!(fire_time(3), fire_time(3));
    assert!(times.iter().any(|t| *t != times[0]), "different seeds, different delays");
}

#[test]
fn a_message_to_oneself_is_delivered() {
    let mut sim = echo_sim(1, Network::default()).with_scenario(Scenario::new().inject(
        0,
        1,
        tell("send 1 note to self"),
    ));
    sim.run_until(100).unwrap();
    assert!(plain(sim.trace()).contains("    10ms  n1 → n1  note to self"));
}

#[test]
fn drops_duplicates_and_reordering_all_happen_on_a_lossy_network() {
    let mut sim = echo_sim(3, lossy()).with_scenario(chatter(Scenario::new()));
    sim.run_until(1_000).unwrap();
    let st = sim.stats();
    assert!(st.dropped > 0 && st.duplicated > 0, "{st:?}");
    assert!(overtaken(sim.trace()), "some message overtook an earlier one on its link");
}

/// Whether a message on some link arrived after one sent later on the same link.
fn overtaken(trace: &[Entry<String, String, String>]) -> bool {
    let mut last_sent: std::collections::HashMap<(NodeId, NodeId), u64> = Default::default();
    trace.iter().any(|e| match e.event {
        Event::Deliver { from, to, sent_at, .. } => {
            let prev = last_sent.entry((from, to)).or_insert(0);
            let out_of_order = sent_at < *prev;
            *prev = (*prev).max(sent_at);
            out_of_order
        }
        _ => false,
    })
}

#[test]
fn fifo_links_never_reorder_even_when_the_network_holds_messages_back() {
    let net = Network { fifo: true, ..lossy() };
    for seed in 0..20 {
        let mut sim = echo_sim(seed, net).with_scenario(chatter(Scenario::new()));
        sim.run_until(1_000).unwrap();
        assert!(!overtaken(sim.trace()), "seed {seed}");
        assert!(sim.stats().dropped > 0, "seed {seed}: still lossy");
    }
}

#[test]
fn a_failed_invariant_stops_the_run_with_the_trace_and_the_replay_command() {
    let mut sim = echo_sim(5, Network::default())
        .with_scenario(chatter(Scenario::new()))
        .replay_command("cargo run -p ch04-paxos -- --trace --seed 5")
        .invariant("quiet", |sim: &Sim<Echo>| match sim.node(3).seen {
            n if n >= 2 => Err(format!("n3 has seen {n} messages")),
            _ => Ok(()),
        });
    let v = sim.run_until(1_000).unwrap_err();
    assert_eq!(
        (v.invariant.as_str(), v.message.as_str(), v.seed),
        ("quiet", "n3 has seen 2 messages", 5)
    );
    let report = v.to_string();
    assert!(report.starts_with("invariant `quiet` violated at "), "{report}");
    assert!(report.contains("VIOLATION of quiet: n3 has seen 2 messages"), "{report}");
    assert!(report.ends_with("replay it: cargo run -p ch04-paxos -- --trace --seed 5"), "{report}");
    assert!(sim.step().is_err(), "a stopped run stays stopped");
}

#[test]
fn seed_search_finds_the_shortest_failing_run_and_traces_it() {
    let build = |seed| {
        echo_sim(seed, lossy()).tracing(false).with_scenario(chatter(Scenario::new())).invariant(
            "no duplicates at n3",
            |sim: &Sim<Echo>| {
                if sim.stats().duplicated > 0 && sim.node(3).seen > 3 {
                    Err("n3 saw a duplicated conversation".into())
                } else {
                    Ok(())
                }
            },
        )
    };
    let first = check_seeds(0..50, 1_000, build).unwrap_err();
    assert!(first.trace.is_some(), "the failing seed is re-run with tracing on");
    let shortest = shortest_violation(0..50, 1_000, build).unwrap();
    assert!(shortest.steps <= first.steps);
    assert!(shortest.trace.as_ref().unwrap().contains("VIOLATION"));
}

#[test]
fn json_lines_carry_every_event_with_its_kind_and_time() {
    let mut sim = echo_sim(1, Network::default()).with_scenario(Scenario::new().inject(
        0,
        1,
        tell("send 2 ping 1"),
    ));
    sim.run_until(100).unwrap();
    let lines = json_lines(sim.trace());
    let first_deliver = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["kind"] == "deliver" && v["to"] == 2)
        .unwrap();
    assert_eq!(
        first_deliver,
        serde_json::json!({"at": 10, "kind": "deliver", "from": 1, "to": 2, "id": 1, "sent_at": 0, "msg": "ping 1"})
    );
    assert_eq!(lines.lines().count(), sim.trace().len());
    let all = plain_with(sim.trace(), Filter { sends: true, timer_sets: true });
    assert!(all.contains("     0ms  n1 → n2  ping 1  (sent)"));
}

#[test]
fn the_svg_is_a_pure_function_of_the_trace() {
    let run = || {
        let mut sim = echo_sim(4, lossy()).with_scenario(chatter(
            Scenario::new().crash(8, 3).restart(40, 3).partition(50, vec![vec![1]]).heal(70),
        ));
        sim.run_until(300).unwrap();
        svg::render("echo", &sim.ids(), sim.trace())
    };
    let a = run();
    assert_eq!(a, run());
    assert!(a.starts_with("<svg ") && a.ends_with("</svg>\n"));
    for mark in ["class=\"cross\"", "crashed", "restarted", "partition {n1}", "heal", "marker-end"]
    {
        assert!(a.contains(mark), "missing {mark}");
    }
}

#[test]
fn a_scenario_naming_a_missing_node_is_refused_whole() {
    let mut sim = echo_sim(1, Network::default());
    let e = sim
        .try_schedule(Scenario::parse("at 5 crash n1\nat 9 partition n1 | n7").unwrap())
        .unwrap_err();
    assert_eq!(e, "at 9ms `partition {n1} | {n7}`: there is no node n7 (nodes: n1 n2 n3)");
    assert_eq!(sim.next_at(), Some(0), "only the start-ups are queued");
    sim.run_until(100).unwrap();
    assert!(sim.is_up(1), "the crash was not queued either");
}

#[test]
fn a_message_to_oneself_dies_with_its_sender() {
    // Sent at 0, due at 10; the node crashes at 5 and is back at 8: the note is gone.
    let s = Scenario::new().inject(0, 1, tell("send 1 note to self")).crash(5, 1).restart(8, 1);
    let mut sim = echo_sim(1, Network::default()).with_scenario(s);
    sim.run_until(100).unwrap();
    assert!(
        plain(sim.trace()).contains("    10ms  n1 → n1  note to self  ✗ receiver down"),
        "{}",
        plain(sim.trace())
    );
}
