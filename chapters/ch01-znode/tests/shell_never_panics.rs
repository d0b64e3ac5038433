//! Bad input gets zkCli's error text, never a panic: random lines, built from the shell's own
//! vocabulary and from arbitrary characters, are fed to one shell in sequence.

use ch01_znode::trace::fixed_shell;
use proptest::prelude::*;

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "ls",
            "get",
            "set",
            "create",
            "delete",
            "deleteall",
            "stat",
            "getAcl",
            "setAcl",
            "getEphemerals",
            "getAllChildrenNumber",
            "history",
            "help",
            "-s",
            "-e",
            "-c",
            "-w",
            "-R",
            "-v",
            "-t",
            "-b",
            "-es",
            "-v3",
            "-1",
            "/",
            "/a",
            "/a/b",
            "/a/",
            "//",
            "/.",
            "\"x y\"",
            "'q",
            "\"",
            "world:anyone:r",
            "digest:u:p:cdrwa",
            "bad",
            "0",
            "1000",
        ])
        .prop_map(str::to_string),
        "\\PC{0,6}",
        "[/a-c.\\-\"' ]{0,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_sequence_of_lines_runs_without_panicking(
        lines in prop::collection::vec(prop::collection::vec(word(), 0..5), 1..20)
    ) {
        let mut shell = fixed_shell();
        for words in &lines {
            let line = words.join(" ");
            let _ = shell.execute_line(&line);
            prop_assert!(shell.prompt().starts_with("[zk: local("));
        }
    }
}
