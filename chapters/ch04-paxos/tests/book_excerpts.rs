//! The short views the book prints above a long transcript, which it folds away. Each is cut
//! from a snapshot another test pins from the real program (so it is the same run), by what
//! its lines are, never by line number, and pinned on its own.

use std::path::PathBuf;

/// The body of snapshot `name` (in `tests/snapshots/`), without insta's header.
fn snapshot_body(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.snap"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
    let (_, body) = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .unwrap_or_else(|| panic!("{} has insta's header", path.display()));
    body.to_string()
}

/// The `--step` session the book shows (pinned by `tests/cli.rs`), without the pending lists
/// printed between the choices and without the file `steps` printed: each line typed, and what
/// it did. The book shows that above the folded session.
#[test]
fn the_step_session_reads_as_its_choices_and_what_each_did() {
    let session = snapshot_body("all__cli__step_session");
    let mut shown = Vec::new();
    let mut in_pending_list = false;
    let mut in_steps_file = false;
    for line in session.lines() {
        if line.starts_with("> ") || line == ">" {
            in_pending_list = false;
            in_steps_file = false;
        } else if line.starts_with("  pending at ") {
            in_pending_list = true;
        } else if line.starts_with("# A session of --step") {
            in_steps_file = true;
        }
        if !in_pending_list && !in_steps_file {
            shown.push(line);
        }
    }
    assert!(shown.len() < session.lines().count(), "the session lists what is pending:\n{session}");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("step_session_without_pending_lists", shown.join("\n"));
    });
}
