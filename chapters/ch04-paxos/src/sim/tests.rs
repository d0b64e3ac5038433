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

/// Choosing by hand (`engine/choose.rs`): the stepper's operations on the engine.
mod choosing {
    use super::*;

    /// `n1` sends `first` to n2 at 0ms (due 10ms) and `second` to n3 at 5ms (due 15ms).
    fn two_in_flight(net: Network) -> Sim<Echo> {
        let mut sim = echo_sim(1, net).with_scenario(
            Scenario::new().inject(0, 1, tell("send 2 first")).inject(5, 1, tell("send 3 second")),
        );
        sim.run_until(5).unwrap();
        sim
    }

    fn pending(sim: &Sim<Echo>) -> Vec<String> {
        sim.upcoming().iter().map(|u| u.to_string().trim_start().to_string()).collect()
    }

    /// The trace's deliveries and drops, as lines.
    fn arrivals(sim: &Sim<Echo>) -> Vec<String> {
        sim.trace()
            .iter()
            .filter(|e| matches!(e.event, Event::Deliver { .. } | Event::Drop { .. }))
            .map(|e| e.to_string())
            .collect()
    }

    fn refusal(result: Result<(), ChoiceError>) -> String {
        match result {
            Err(ChoiceError::Refused(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn upcoming_lists_what_the_network_would_do_in_order_without_dead_timers() {
        let s = Scenario::new()
            .inject(0, 1, tell("arm wake 50"))
            .inject(0, 1, tell("arm nap 20"))
            .inject(1, 1, tell("cancel nap"))
            .inject(2, 1, tell("send 2 hello"));
        let mut sim = echo_sim(1, Network::default()).with_scenario(s);
        sim.run_until(2).unwrap();
        assert_eq!(pending(&sim), ["12ms  n1 → n2  hello", "50ms  n1 timer wake"]);
        let first = sim.upcoming()[0].clone();
        assert_eq!(first.due.verb(), "deliver");
        sim.step().unwrap();
        assert_eq!(arrivals(&sim), ["    12ms  n1 → n2  hello"], "step did item 1");
    }

    #[test]
    fn choosing_next_every_time_makes_the_run_the_seed_makes() {
        for seed in 0..10 {
            let build = || echo_sim(seed, lossy()).with_scenario(chatter(Scenario::new()));
            let mut by_seed = build();
            by_seed.run_until(1_000).unwrap();
            let mut by_hand = build();
            while by_hand.upcoming().first().is_some_and(|u| u.at <= 1_000) {
                by_hand.choose(&Choice::Next(1)).unwrap();
            }
            assert_eq!(json_lines(by_hand.trace()), json_lines(by_seed.trace()), "seed {seed}");
        }
    }

    #[test]
    fn a_message_chosen_early_moves_the_clock_to_its_time_and_the_ones_before_it_are_late() {
        let mut sim = two_in_flight(Network::default());
        assert_eq!(pending(&sim), ["10ms  n1 → n2  first", "15ms  n1 → n3  second"]);
        sim.choose(&Choice::Deliver(2)).unwrap();
        assert_eq!(sim.now(), 15);
        sim.choose(&Choice::Next(1)).unwrap();
        assert_eq!(sim.now(), 15, "the clock never runs backwards");
        assert_eq!(arrivals(&sim), ["    15ms  n1 → n3  second", "    15ms  n1 → n2  first"]);
    }

    #[test]
    fn on_fifo_links_a_message_cannot_overtake_an_older_one_on_its_link() {
        let s = Scenario::new()
            .inject(0, 1, tell("send 2 one"))
            .inject(1, 1, tell("send 2 two"))
            .inject(2, 1, tell("send 3 elsewhere"));
        let mut sim = echo_sim(1, Network { fifo: true, ..Network::default() }).with_scenario(s);
        sim.run_until(2).unwrap();
        assert_eq!(
            pending(&sim),
            ["10ms  n1 → n2  one", "11ms  n1 → n2  two", "12ms  n1 → n3  elsewhere"]
        );
        assert_eq!(
            refusal(sim.choose(&Choice::Deliver(2))),
            "links are FIFO: item 1 (`n1 → n2  one`) is ahead of it on its link; deliver or drop \
             that one first"
        );
        let seq = sim.upcoming()[1].seq;
        assert!(refusal(sim.perform(seq)).starts_with("links are FIFO, and `n1 → n2  one`"));
        sim.choose(&Choice::Deliver(3)).unwrap();
        sim.choose(&Choice::Drop(1)).unwrap();
        sim.choose(&Choice::Deliver(1)).unwrap();
        assert_eq!(
            arrivals(&sim),
            [
                "    12ms  n1 → n3  elsewhere",
                "    12ms  n1 → n2  one  ✗ lost",
                "    12ms  n1 → n2  two"
            ]
        );
    }

    #[test]
    fn without_fifo_any_message_may_overtake_any_other() {
        let s = Scenario::new().inject(0, 1, tell("send 2 one")).inject(1, 1, tell("send 2 two"));
        let mut sim = echo_sim(1, Network::default()).with_scenario(s);
        sim.run_until(1).unwrap();
        sim.choose(&Choice::Deliver(2)).unwrap();
        assert_eq!(arrivals(&sim), ["    11ms  n1 → n2  two"]);
    }

    #[test]
    fn a_dropped_message_is_traced_as_lost_now_and_never_arrives() {
        let mut sim = two_in_flight(Network::default());
        sim.choose(&Choice::Drop(1)).unwrap();
        assert_eq!(pending(&sim), ["15ms  n1 → n3  second"]);
        assert_eq!(sim.stats().dropped, 1);
        let last = sim.trace().last().unwrap();
        assert_eq!(
            (last.at, &last.event),
            (
                5,
                &Event::Drop {
                    from: 1,
                    to: 2,
                    id: 1,
                    sent_at: 0,
                    reason: DropReason::Lost,
                    msg: "first".into()
                }
            )
        );
    }

    #[test]
    fn a_duplicated_message_arrives_twice_the_copy_under_a_new_id() {
        let mut sim = two_in_flight(Network::default());
        sim.choose(&Choice::Duplicate(1)).unwrap();
        assert_eq!(
            pending(&sim),
            ["10ms  n1 → n2  first", "15ms  n1 → n3  second", "15ms  n1 → n2  first"],
            "the copy leaves now, with the network's latency"
        );
        sim.run_until(100).unwrap();
        let ids: Vec<(u64, Millis)> = sim
            .trace()
            .iter()
            .filter_map(|e| match e.event {
                Event::Deliver { to: 2, id, sent_at, .. } => Some((id, sent_at)),
                _ => None,
            })
            .collect();
        assert_eq!(ids, [(1, 0), (3, 0)], "both copies were sent at 0ms");
        assert_eq!(sim.node(2).seen, 2);
        assert_eq!(sim.stats().duplicated, 1);
    }

    #[test]
    fn a_message_to_oneself_cannot_be_lost_or_copied() {
        let mut sim = echo_sim(1, Network::default()).with_scenario(Scenario::new().inject(
            0,
            1,
            tell("send 1 note to self"),
        ));
        sim.run_until(0).unwrap();
        let why = "n1's message to itself never crosses the network: it cannot be lost or copied";
        assert_eq!(refusal(sim.choose(&Choice::Drop(1))), why);
        assert_eq!(refusal(sim.choose(&Choice::Duplicate(1))), why);
        sim.choose(&Choice::Deliver(1)).unwrap();
    }

    #[test]
    fn an_item_is_named_by_its_place_and_must_be_what_the_choice_says() {
        let mut sim = echo_sim(1, Network::default())
            .with_scenario(Scenario::new().inject(0, 1, tell("arm wake 50")).crash(70, 3));
        sim.run_until(0).unwrap();
        assert_eq!(pending(&sim), ["50ms  n1 timer wake", "70ms  crash n3"]);
        assert_eq!(
            refusal(sim.choose(&Choice::Deliver(1))),
            "item 1 is a timer (`n1 timer wake`): `fire 1`, or just `1`"
        );
        assert_eq!(
            refusal(sim.choose(&Choice::Fire(2))),
            "item 2 is a scheduled fault (`crash n3`): `do 2`, or just `2`"
        );
        assert_eq!(
            refusal(sim.choose(&Choice::Drop(1))),
            "only a message can be dropped or duplicated"
        );
        assert_eq!(
            refusal(sim.choose(&Choice::Do(3))),
            "there is no item 3: the list goes from 1 to 2"
        );
        sim.choose(&Choice::Do(2)).unwrap();
        assert!(!sim.is_up(3), "the scheduled crash happened early, at its own time");
        assert_eq!(sim.now(), 70);
        sim.choose(&Choice::Fire(1)).unwrap();
        assert!(plain(sim.trace())
            .ends_with("    70ms  n1 timer wake fired\n    70ms  n1 • wake went off\n"));
    }

    #[test]
    fn faults_made_now_crash_restart_partition_and_heal() {
        let mut sim = echo_sim(1, Network::default());
        sim.run_until(0).unwrap();
        sim.choose(&Choice::Crash(2)).unwrap();
        assert!(!sim.is_up(2));
        assert_eq!(refusal(sim.choose(&Choice::Crash(2))), "n2 is down");
        assert_eq!(refusal(sim.choose(&Choice::Restart(1))), "n1 is running: crash it first");
        assert_eq!(
            refusal(sim.choose(&Choice::Crash(9))),
            "`crash n9`: there is no node n9 (nodes: n1 n2 n3)"
        );
        sim.choose(&Choice::Restart(2)).unwrap();
        sim.choose(&Choice::Partition(vec![vec![1]])).unwrap();
        sim.choose(&Choice::Heal).unwrap();
        assert!(plain(sim.trace()).ends_with(
            "     0ms  n2 ✗ crashed\n     0ms  n2 ↻ restarted\n     0ms  n2 • started, 0 on disk\n     \
             0ms  n2 ⇨ seen 0\n     0ms  partition {n1} | {n2 n3}\n     0ms  heal: every node reaches every other\n"
        ));
    }

    #[test]
    fn a_session_replayed_from_its_choices_is_the_same_run() {
        // Some choices of every kind on a lossy network, then the same list played again.
        let build = || echo_sim(3, lossy()).with_scenario(chatter(Scenario::new()));
        let mut by_hand = build();
        let mut made = Scenario::new().fifo(0, false);
        by_hand.try_schedule(Scenario::new().fifo(0, false)).unwrap();
        let mut k = 0u64;
        while by_hand.now() < 300 && !by_hand.upcoming().is_empty() {
            k += 1;
            let n = by_hand.upcoming().len();
            let choice = match k % 7 {
                0 => Choice::Drop(1 + (k as usize * 3) % n),
                1 => Choice::Duplicate(1 + (k as usize) % n),
                2 => Choice::Do(n),
                3 if k % 2 == 1 => Choice::Crash(1 + k % 3),
                4 => Choice::Restart(1 + k % 3),
                _ => Choice::Next(1 + (k % 3) as u32),
            };
            if by_hand.choose(&choice).is_ok() {
                made = made.step(choice);
            }
        }
        assert!(made.steps().len() > 20, "{} choices made", made.steps().len());
        let mut replayed = build();
        replayed.play(made).unwrap();
        assert_eq!(json_lines(replayed.trace()), json_lines(by_hand.trace()));
    }

    #[test]
    fn a_refused_step_of_a_replay_is_named() {
        let mut sim = echo_sim(1, Network::default());
        let e = sim.play(Scenario::new().step(Choice::Next(3)).step(Choice::Drop(1))).unwrap_err();
        assert_eq!(e, ChoiceError::Refused("step 2 `drop 1`: nothing is pending".into()));
    }

    #[test]
    fn after_a_broken_invariant_no_choice_is_made() {
        let mut sim =
            two_in_flight(Network::default()).invariant("n3 hears nothing", |sim: &Sim<Echo>| {
                match sim.node(3).seen {
                    0 => Ok(()),
                    n => Err(format!("n3 heard {n}")),
                }
            });
        sim.choose(&Choice::Deliver(1)).unwrap();
        let Err(ChoiceError::Violation(v)) = sim.choose(&Choice::Deliver(1)) else {
            panic!("the delivery to n3 breaks the invariant")
        };
        assert_eq!(v.message, "n3 heard 1");
        assert!(matches!(sim.choose(&Choice::Next(1)), Err(ChoiceError::Violation(_))));
        assert!(matches!(sim.choose(&Choice::Heal), Err(ChoiceError::Violation(_))));
    }
}

/// The stepper (`stepper.rs`) driven through its input, as a terminal would.
mod stepping {
    use super::*;
    use crate::sim::stepper::{Lesson, Stepper};

    /// Echo nodes chattering on a lossy network, told in plain text.
    struct Chatter;

    impl Lesson<Echo> for Chatter {
        fn sim(&self) -> Sim<Echo> {
            echo_sim(3, lossy())
                .with_scenario(chatter(Scenario::new()))
                .replay_command("echo --seed 3")
        }
        fn header(&self) -> String {
            "chatter (seed 3)".into()
        }
        fn tell(&mut self, entry: &EntryOf<Echo>) -> Option<String> {
            self.shows(entry).then(|| entry.to_string())
        }
        fn shows(&self, entry: &EntryOf<Echo>) -> bool {
            !matches!(entry.event, Event::TimerSet { .. } | Event::Status { .. })
        }
        fn is_over(&self, sim: &Sim<Echo>) -> bool {
            sim.upcoming().first().is_none_or(|u| u.at > 30)
        }
    }

    fn session(file: Scenario<String, String>, typed: &str) -> (Stepper<Echo, Chatter>, String) {
        let mut stepper = Stepper::new(Chatter, file).unwrap();
        let mut out = Vec::new();
        stepper.run(typed.as_bytes(), &mut out, true).unwrap();
        (stepper, String::from_utf8(out).unwrap())
    }

    fn played(file: Scenario<String, String>) -> Sim<Echo> {
        let mut sim = Chatter.sim();
        sim.play(file).unwrap();
        sim
    }

    #[test]
    fn a_session_is_its_choices_and_its_saved_script_replays_it() {
        let typed = "next 5\n\n\n3\ndup 1\ncrash n2\ndrop 1\nuntil 40\nrestart n2\n";
        let (stepper, out) = session(Scenario::new(), typed);
        assert!(out.starts_with("chatter (seed 3)\nYou are the network"), "{out}");
        assert!(out.contains("> dup 1\n"), "commands are echoed:\n{out}");
        assert!(out.contains("  ×2 duplicated\n"), "{out}");
        assert!(out.contains("  ✗ lost\n"), "{out}");
        let script = stepper.script("session.txt");
        assert!(script.starts_with(
            "# A session of --step. Replay it (add --step to carry on from where it ends):\n\
             #   echo --seed 3 --scenario-file session.txt\nsteps\n"
        ));
        assert!(script.contains("\nnext 7 "), "Enter twice after `next 5` is `next 7`:\n{script}");
        let file = Scenario::parse(&script).unwrap();
        assert_eq!(file.steps().len(), 7, "{script}");
        assert_eq!(json_lines(played(file).trace()), json_lines(stepper.sim().trace()));
    }

    #[test]
    fn stepping_back_replays_the_run_without_the_last_choice() {
        let (stepper, out) = session(Scenario::new(), "next 6\nnext 2\ncrash n1\nback\nback\n");
        let one_choice = played(Scenario::new().step(Choice::Next(6)));
        assert_eq!(json_lines(stepper.sim().trace()), json_lines(one_choice.trace()));
        assert_eq!(stepper.choices(), [Choice::Next(6)]);
        assert!(out.contains("  ↶ took back 1 choice: the run, replayed from its seed, stands at "));
        let (_, out) = session(Scenario::new(), "back\n");
        assert!(out.contains("  ✗ there is no choice to take back\n"), "{out}");
    }

    #[test]
    fn a_refused_choice_changes_nothing_and_is_not_recorded() {
        let (stepper, out) = session(Scenario::new(), "deliver 99\nfly\nnext 2\n");
        assert!(out.contains("> deliver 99\n  ✗ there is no item 99: the list goes from 1 to "));
        assert!(out.contains("> fly\n  ✗ `fly`: no such command (`help` lists the commands)\n"));
        assert_eq!(stepper.choices(), [Choice::Next(2)]);
    }

    #[test]
    fn a_session_resumes_from_a_saved_file_and_its_faults() {
        let file = Scenario::parse("at 30 crash n3\nsteps\nnext 5\ndrop 3\n").unwrap();
        let (stepper, out) = session(file.clone(), "until 50\nsteps\n");
        assert!(out.contains("(replayed 2 choices from the file)"), "{out}");
        assert!(
            out.contains("\nat 30 crash n3\nsteps\nnext 5 "),
            "the faults are saved too:\n{out}"
        );
        let mut again = Chatter.sim();
        again.play(Scenario::parse(&stepper.script("FILE")).unwrap()).unwrap();
        assert_eq!(json_lines(again.trace()), json_lines(stepper.sim().trace()));
        assert!(!stepper.sim().is_up(3));
        let bad = Scenario::parse("steps\ndeliver 40\n").unwrap();
        let Err(e) = Stepper::new(Chatter, bad) else { panic!("item 40 does not exist") };
        assert!(e.to_string().starts_with("step 1 `deliver 40`: there is no item 40"), "{e}");
    }

    #[test]
    fn enter_at_the_end_of_the_story_ends_the_session() {
        let (stepper, out) = session(Scenario::new(), &"\n".repeat(10_000));
        assert!(out.contains("the story is over at "), "{out}");
        assert!(stepper.sim().now() <= 30, "stopped at the story's end");
        assert!(out.lines().count() < 10_000, "Enter at the end quits rather than loops");
    }
}
