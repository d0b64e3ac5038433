//! Every file under a package's `tests/` runs: each package builds one test binary, `all`
//! (`autotests = false` in its Cargo.toml), so a file that tests/all.rs does not name as a
//! module would compile nowhere and silently stop running. A directory with its own `main.rs`
//! (the book test, the conformance test) is a binary of its own and needs its `[[test]]`.

use std::fs;
use std::path::Path;

/// The workspace's members, from the root Cargo.toml's `members = [...]`.
fn members(root: &Path) -> Vec<String> {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("the root Cargo.toml");
    let list = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("a members list")
        .0;
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// What a package's tests/ holds that no test binary of it compiles.
fn missing(package: &Path) -> Vec<String> {
    let tests = package.join("tests");
    let Ok(entries) = fs::read_dir(&tests) else {
        return Vec::new();
    };
    let all = fs::read_to_string(tests.join("all.rs")).unwrap_or_default();
    let modules: Vec<&str> = all
        .lines()
        .filter_map(|line| line.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let manifest = fs::read_to_string(package.join("Cargo.toml")).expect("a package manifest");
    let mut missing = Vec::new();
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rs") {
            if stem != "all" && !modules.contains(&stem) {
                missing.push(format!("tests/{name} (no `mod {stem};` in tests/all.rs)"));
            }
        } else if path.join("main.rs").is_file()
            && !manifest.contains(&format!("path = \"tests/{name}/main.rs\""))
        {
            missing.push(format!("tests/{name}/main.rs (no [[test]] in Cargo.toml)"));
        }
    }
    missing
}

#[test]
fn every_test_file_is_a_module_of_its_packages_test_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    for member in members(root) {
        for file in self::missing(&root.join(&member)) {
            missing.push(format!("{member}/{file}"));
        }
    }
    assert!(
        missing.is_empty(),
        "never compiled, so never run:\n{}",
        missing.join("\n")
    );
}
