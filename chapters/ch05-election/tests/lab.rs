//! The graders of the chapter's labs. They are ignored until you do the
//! lab: `cargo test -p ch05-election --test lab -- --ignored`.

use ch05_election::lab::lab_order;
use ch05_election::render::transcript;
use ch05_election::sim::{run, setup, ScenarioName, Server};

/// Lab 5.1: with the lowest sid winning ties, the first start elects the
/// first server: it is the one everybody already agrees on when the third
/// vote completes a quorum. (src/lab.rs)
#[test]
#[ignore = "lab 5.1: edit lab_order in src/lab.rs, then run with --ignored"]
fn lab_lowest_sid_first_start() {
    let mut setup = setup(ScenarioName::FirstStart, 5);
    setup.about = "the first start again, with the lab's vote order".into();
    setup.servers = setup
        .servers
        .iter()
        .map(|s: &Server| s.with_order(lab_order))
        .collect();
    let run = run(&setup, 1).expect("no invariant breaks");
    insta::with_settings!({ omit_expression => true, prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("lab_lowest_sid_first_start", transcript(&setup, 1, &run, false));
    });
}
