//! The command line prints exactly what the snapshots and the book show.

use std::process::Command;

fn ch04(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ch04-paxos")).args(args).output().expect("the binary runs")
}

fn snapshot_body(name: &str) -> String {
    let path = format!("{}/tests/snapshots/scenarios__{name}.snap", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    // The book includes from line 4: the header is exactly three lines.
    text.lines().skip(3).map(|l| format!("{l}\n")).collect()
}

#[test]
fn the_default_run_is_the_basic_scenario_the_book_shows() {
    let out = ch04(&["--trace", "--no-color"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), snapshot_body("basic"));
}

#[test]
fn the_multi_scenario_prints_its_snapshot() {
    let out = ch04(&["--trace", "--scenario", "multi"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), snapshot_body("multi"));
}

#[test]
fn json_prints_one_object_per_event() {
    let out = ch04(&["--scenario", "lossy", "--seed", "3", "--json"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().count() > 100);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["at"].is_u64() && v["kind"].is_string(), "{line}");
    }
}

#[test]
fn svg_writes_the_diagram_the_book_embeds() {
    let path = std::env::temp_dir().join(format!("ch04-cli-test-{}.svg", std::process::id()));
    let out = ch04(&["--trace", "--scenario", "competing", "--svg", path.to_str().unwrap()]);
    assert!(out.status.success());
    let written = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let book = format!("{}/../../book/src/diagrams/ch04-competing.svg", env!("CARGO_MANIFEST_DIR"));
    assert_eq!(written, std::fs::read_to_string(book).unwrap());
}

#[test]
fn a_failing_seed_exits_non_zero_and_prints_the_replay_command() {
    let seed =
        ch04_paxos::labs::find_disagreement(0..2_000).expect("the lab finds one").seed.to_string();
    let out = ch04(&["--trace", "--scenario", "forgetful", "--seed", &seed]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invariant `agreement` violated"), "{err}");
    let replay =
        format!("replay it: cargo run -p ch04-paxos -- --trace --scenario forgetful --seed {seed}");
    assert!(err.contains(&replay), "{err}");
}

#[test]
fn an_unknown_scenario_or_a_bad_fault_script_is_a_clear_error() {
    let out = ch04(&["--scenario", "paxos-made-hard"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .starts_with("error: unknown scenario `paxos-made-hard`; choose one of: basic,"));
    let script = std::env::temp_dir().join(format!("ch04-cli-faults-{}.txt", std::process::id()));
    std::fs::write(&script, "at 10 crash n8\n").unwrap();
    let out = ch04(&["--faults", script.to_str().unwrap()]);
    std::fs::remove_file(&script).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: at 10ms `crash n8`: there is no node n8 (nodes: n1 n2 n3 n4)\n"
    );
}
