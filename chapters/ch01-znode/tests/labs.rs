//! The graders of chapter 1's labs: `cargo run -- lab check 1.1` runs the tests named
//! `lab_1_1_*`, and so on. The repository ships the answers, so here they pass; after
//! `cargo run -- lab start 1.1` they fail until you have done the lab.

#[path = "../labs/lab1_rename.rs"]
mod rename;

use ch01_znode::shell::{Backend, Line, LocalBackend, Shell};
use ch01_znode::trace::{fixed_shell, output_events, trace_commands, Event, Tracer};
use ch01_znode::{DataTree, Request};

const SETUP: &[&str] = &[
    "create /sanguo \"diaochan\"",
    "create /sanguo/weiguo \"caocao\"",
    "create -s /sanguo/weiguo/zhangliao \"zhangliao\"",
    "create /sanguo/jin \"simayi\"",
];
const FROM: &str = "/sanguo/weiguo/zhangliao0000000000";

/// Submits one multi as a traced step labelled `label`.
fn traced_multi(
    shell: &mut Shell<LocalBackend>,
    tracer: &mut Tracer,
    label: &str,
    ops: Vec<Request>,
    events: &mut Vec<Event>,
) {
    let count = events
        .iter()
        .filter(|e| matches!(e, Event::Command { .. }))
        .count();
    events.push(Event::Command {
        count,
        line: label.to_string(),
    });
    let lines = match shell.backend.multi(ops) {
        Ok(_) => vec![],
        Err(e) => vec![Line::Err(format!("multi failed: {e:?}"))],
    };
    events.extend(output_events(&lines));
    events.extend(tracer.step(shell));
}

/// The lab's scenario with `rename_ops`: a clean rename, then a rename raced by a setData.
fn scenario(rename_ops: fn(&DataTree, &str, &str) -> Vec<Request>) -> String {
    let mut shell = fixed_shell();
    trace_commands(&mut shell, SETUP);
    let mut tracer = Tracer::new(&shell);
    tracer.step(&shell);
    let mut events = Vec::new();
    let to = "/sanguo/jin/zhangliao";

    let ops = rename_ops(shell.backend.tree(), FROM, to);
    traced_multi(
        &mut shell,
        &mut tracer,
        "rename to /sanguo/jin/zhangliao",
        ops,
        &mut events,
    );
    let back = rename_ops(shell.backend.tree(), to, FROM);
    traced_multi(&mut shell, &mut tracer, "rename it back", back, &mut events);

    // Someone changes the node between our read and our write.
    let stale = rename_ops(shell.backend.tree(), FROM, to);
    let set = "set /sanguo/weiguo/zhangliao0000000000 \"zhangliao of Wei\"";
    events.push(Event::Command {
        count: 2,
        line: format!("(another client) {set}"),
    });
    let lines = shell.execute_line(set);
    events.extend(output_events(&lines));
    events.extend(tracer.step(&shell));
    traced_multi(
        &mut shell,
        &mut tracer,
        "rename with a stale version",
        stale,
        &mut events,
    );
    events.iter().map(|e| format!("{e}\n")).collect()
}

// ---- Lab 1.1: an atomic, conditional rename (labs/lab1_rename.rs) ----

#[test]
fn lab_1_1_your_rename_matches_the_snapshot() {
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("lab_1_1_rename", scenario(rename::rename_ops));
    });
}

/// A rename whose version is stale must change nothing: one multi, all or nothing
/// (`DataTree.processTxn` applies a failed multi's ops as error txns).
#[test]
fn lab_1_1_a_stale_rename_changes_nothing() {
    let mut shell = fixed_shell();
    trace_commands(&mut shell, SETUP);
    let stale = rename::rename_ops(shell.backend.tree(), FROM, "/sanguo/jin/zhangliao");
    assert!(
        !stale.is_empty(),
        "rename_ops returned no ops for a node that exists"
    );
    shell.execute_line("set /sanguo/weiguo/zhangliao0000000000 \"changed\"");
    let before = shell.backend.tree().paths();
    let result = shell.backend.multi(stale);
    assert!(
        result.is_err(),
        "the multi succeeded although the node changed after it was read"
    );
    assert_eq!(
        shell.backend.tree().paths(),
        before,
        "a failed multi left a node behind or took one away"
    );
}

// ---- Lab 1.2: predict the suffix and the cversions (answers in this file) ----

/// Part 1. Under a fresh `/q`: `create -s /q/x-`, `create /q/y`, `delete /q/y`,
/// `create -s /q/x-`. What is the second sequential node called (its full path)?
fn second_sequential_name() -> &'static str {
    // LAB 1.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 1.2: the full path of the second sequential node")
    "/q/x-0000000002"
    // LAB 1.2 END
}

/// Part 2. And what cversion does `stat /q` show after those four commands?
fn cversion_of_q() -> i32 {
    // LAB 1.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 1.2: /q's cversion after the four commands")
    4
    // LAB 1.2 END
}

/// Part 3. On a fresh server, what cversion does `stat /zookeeper` show?
fn cversion_of_zookeeper() -> i32 {
    // LAB 1.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 1.2: the cversion of /zookeeper on a fresh server")
    -2
    // LAB 1.2 END
}

/// The four commands of parts 1 and 2, on a fresh tree.
fn q_session() -> Shell<LocalBackend> {
    let mut shell = fixed_shell();
    for line in [
        "create /q",
        "create -s /q/x-",
        "create /q/y",
        "delete /q/y",
        "create -s /q/x-",
    ] {
        shell.execute_line(line);
    }
    shell
}

#[test]
fn lab_1_2_the_second_sequential_name() {
    let shell = q_session();
    let (children, _) = shell.backend.tree().get_children("/q").unwrap();
    let second = format!("/q/{}", children.last().unwrap());
    assert_eq!(second_sequential_name(), second);
}

#[test]
fn lab_1_2_the_cversion_of_q() {
    let shell = q_session();
    let stat = shell.backend.tree().stat("/q").unwrap();
    assert_eq!(cversion_of_q(), stat.cversion);
}

#[test]
fn lab_1_2_the_cversion_of_zookeeper() {
    let stat = fixed_shell().backend.tree().stat("/zookeeper").unwrap();
    assert_eq!(cversion_of_zookeeper(), stat.cversion);
}
