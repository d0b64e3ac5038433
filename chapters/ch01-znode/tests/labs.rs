//! Grades lab 1 (`labs/lab1_rename.rs`): the rename's trace must equal the snapshot.

#[path = "../labs/lab1_rename.rs"]
mod student;

#[path = "../labs/solutions/lab1_rename.rs"]
mod solution;

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

#[test]
fn the_reference_solution_produces_the_lab_snapshot() {
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("lab1_rename", scenario(solution::rename_ops));
    });
}

#[test]
#[ignore = "lab 1: fill in labs/lab1_rename.rs, then run with --ignored"]
fn lab1_your_rename_matches_the_snapshot() {
    insta::with_settings!({omit_expression => true}, {
        insta::assert_snapshot!("lab1_rename", scenario(student::rename_ops));
    });
}
