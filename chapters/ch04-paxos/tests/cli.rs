//! The command line prints exactly what the snapshots and the book show.

use ch04_paxos::sim::command;

fn ch04(args: &[&str]) -> std::process::Output {
    command::run(env!("CARGO_BIN_EXE_ch04-paxos"), args, "")
}

fn snapshot_body(name: &str) -> String {
    command::snapshot_body(format!(
        "{}/tests/snapshots/all__scenarios__{name}.snap",
        env!("CARGO_MANIFEST_DIR")
    ))
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

/// Runs `ch04-paxos ARGS` with `typed` on its stdin, as a student at `--step` would type it.
fn ch04_typing(args: &[&str], typed: &str) -> std::process::Output {
    command::run(env!("CARGO_BIN_EXE_ch04-paxos"), args, typed)
}

/// The session the book shows: the Prepare to n4 first, the one to n2 lost, n4 crashing
/// after its Promise left, a step back, then the session as a file.
const BOOK_SESSION: &str = "until 0\n3\ndrop 1\n1\ncrash n4\n\n\n2\nback\nuntil 30\nsteps\nq\n";

/// The session's file, as `steps` printed it.
fn saved_file(session: &str) -> String {
    let from = session.find("> steps\n").expect("the session ends with `steps`") + 8;
    let to = from + session[from..].find("> ").expect("a prompt follows");
    session[from..to].to_string()
}

/// The trace lines of a session's output (not its prompts, lists or notes).
fn trace_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            let l = l.trim_start();
            l.split_once("ms  ").is_some_and(|(t, _)| t.chars().all(|c| c.is_ascii_digit()))
        })
        .collect()
}

#[test]
fn step_lets_the_student_choose_what_happens_next() {
    let out = ch04_typing(&["--step", "--no-color"], BOOK_SESSION);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let session = String::from_utf8(out.stdout).unwrap();
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("step_session", session);
    });
}

#[test]
fn a_saved_session_replays_with_scenario_file_and_the_run_carries_on() {
    let session =
        String::from_utf8(ch04_typing(&["--step", "--no-color"], BOOK_SESSION).stdout).unwrap();
    let path = std::env::temp_dir().join(format!("ch04-cli-session-{}.txt", std::process::id()));
    std::fs::write(&path, saved_file(&session)).unwrap();
    let file = path.to_str().unwrap();
    let replayed = ch04(&["--trace", "--scenario-file", file]);
    let resumed = ch04_typing(&["--step", "--no-color", "--scenario-file", file], "q\n");
    std::fs::remove_file(&path).unwrap();
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stderr));
    let (replayed, resumed) =
        (String::from_utf8(replayed.stdout).unwrap(), String::from_utf8(resumed.stdout).unwrap());
    // `--step --scenario-file` resumes where the session ended: its last line is the session's.
    assert!(resumed.contains("(replayed 6 choices from the file)"), "{resumed}");
    let (resumed, stepped) = (trace_lines(&resumed), trace_lines(&session));
    assert_eq!(resumed.last(), stepped.last());
    // Without --step, the same run, then on to its end as the network would go.
    assert!(trace_lines(&replayed).starts_with(&resumed), "{replayed}");
    assert!(
        replayed.contains("n2 • learned \"a\""),
        "n2 never promised, yet accepted:\n{replayed}"
    );
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("step_session_replayed", replayed);
    });
}

#[test]
fn save_writes_the_file_that_steps_prints() {
    let path = std::env::temp_dir().join(format!("ch04-cli-save-{}.txt", std::process::id()));
    let typed = format!("until 0\n2\ndrop 1\nsteps\nsave {}\n", path.display());
    let session = String::from_utf8(ch04_typing(&["--step"], &typed).stdout).unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(saved, saved_file(&session).replace("FILE", &path.display().to_string()));
    assert!(session.contains(&format!(
        "  saved 3 choices to {0}; replay them with --scenario-file {0}\n",
        path.display()
    )));
}

#[test]
fn a_session_file_saved_for_another_seed_is_refused_with_the_step_that_failed() {
    let path = std::env::temp_dir().join(format!("ch04-cli-stale-{}.txt", std::process::id()));
    std::fs::write(&path, "steps\nnext 5\ndeliver 4\n").unwrap();
    let out = ch04(&["--scenario-file", path.to_str().unwrap()]);
    let stepped = ch04_typing(&["--step", "--scenario-file", path.to_str().unwrap()], "q\n");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: step 2 `deliver 4`: item 4 is a timer (`n1 timer retry`): `fire 4`, or just `4`\n"
    );
    assert_eq!(stepped.status.code(), Some(2));
}
