//! `keeper lab` on a checkout: start hands a lab out in place, list sees it, reset starts it
//! over and keeps the student's version, key writes the teacher's files. (Grading needs the
//! chapters built; `lab/tests/editions.rs` covers it.)

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A checkout holding only lab 5.1's two files, in a fresh folder under target/tmp.
fn checkout(name: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    for file in [
        "chapters/ch05-election/src/lab.rs",
        "chapters/ch05-election/tests/lab.rs",
    ] {
        let to = dir.join(file);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(repo.join(file), to).unwrap();
    }
    fs::write(dir.join("Cargo.toml"), "[workspace]\n").unwrap();
    dir
}

fn keeper(root: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_keeper"))
        .arg("lab")
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "keeper lab {args:?}: {out:?}");
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn lab_rs(root: &Path) -> String {
    fs::read_to_string(root.join("chapters/ch05-election/src/lab.rs")).unwrap()
}

fn status_of_5_1(root: &Path) -> String {
    let list = stdout(&keeper(root, &["list"]));
    let row = list.lines().find(|l| l.starts_with("5.1 ")).unwrap();
    row.to_string()
}

#[test]
fn start_then_work_then_reset_then_key() {
    let root = checkout("lab-command");
    assert!(status_of_5_1(&root).contains("answers in place"));

    let started = stdout(&keeper(&root, &["start", "5.1"]));
    assert!(
        started.contains("edit chapters/ch05-election/src/lab.rs"),
        "{started}"
    );
    assert!(started.contains("cargo run -- lab check 5.1"), "{started}");
    let skeleton = lab_rs(&root);
    assert!(skeleton.contains("// LAB 5.1 YOUR CODE"));
    assert!(
        !skeleton.contains(".then(b.leader.cmp(&a.leader))"),
        "the answer is gone"
    );
    assert!(status_of_5_1(&root).contains("started"));

    // The student works; starting again leaves the work alone.
    let worked = skeleton.replace(
        "    (a.peer_epoch, a.zxid, a.leader).cmp(&(b.peer_epoch, b.zxid, b.leader))\n    // LAB 5.1 END",
        "    std::cmp::Ordering::Equal\n    // LAB 5.1 END",
    );
    assert_ne!(worked, skeleton);
    fs::write(root.join("chapters/ch05-election/src/lab.rs"), &worked).unwrap();
    assert!(status_of_5_1(&root).contains("in progress"));
    let again = stdout(&keeper(&root, &["start", "5.1"]));
    assert!(again.contains("already started"), "{again}");
    assert_eq!(lab_rs(&root), worked);

    // Reset puts the skeleton back and keeps the student's version.
    let reset = stdout(&keeper(&root, &["reset", "5.1"]));
    assert!(reset.contains("target/keeper-lab/before-reset"), "{reset}");
    assert_eq!(lab_rs(&root), skeleton);
    let kept = root.join("target/keeper-lab/before-reset/chapters/ch05-election/src/lab.rs");
    assert_eq!(fs::read_to_string(kept).unwrap(), worked);

    // A key written from a started checkout says its answers are missing.
    let key = keeper(&root, &["key", "--out", "key"]);
    assert!(String::from_utf8_lossy(&key.stderr).contains("5.1"));
    let answers = fs::read_to_string(root.join("key/answer-key.md")).unwrap();
    assert!(answers.contains("This checkout has lab 5.1 started"));
    assert!(root.join("key/teachers-guide.md").exists());
}

#[test]
fn an_unknown_lab_is_refused_with_the_list() {
    let root = checkout("lab-command-unknown");
    let out = Command::new(env!("CARGO_BIN_EXE_keeper"))
        .args(["lab", "start", "9.9", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no lab 9.9; the labs are 1.1, 1.2"), "{err}");
    assert_eq!(
        lab_rs(&root),
        fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("chapters/ch05-election/src/lab.rs")
        )
        .unwrap()
    );
}
