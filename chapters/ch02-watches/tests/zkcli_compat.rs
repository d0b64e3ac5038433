//! Our shell against a transcript of the real zkCli 3.8 on a ZooKeeper 3.8 server.
//!
//! `tests/zkcli/watches.commands` (one client: `-w` on get/ls/stat, exists watches on missing
//! nodes, `removewatches` in every form, `addWatch` in both modes, `printwatches`, bad input)
//! was piped into `ZooKeeperMain -server 127.0.0.1:PORT`; its stdout (the three banner lines
//! cut) and stderr are saved next to it. Our shell, reading the same commands from a pipe,
//! must print the same two streams, byte for byte: the watch events, the removal events, the
//! error and usage texts.

use ch01_znode::shell::repl::piped;
use ch01_znode::shell::Shell;
use ch01_znode::trace::fixed_clock;
use ch02_watches::shell::{run, Clients};

#[test]
fn a_watch_session_prints_what_zkcli_prints() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zkcli/");
    let read = |ext: &str| std::fs::read_to_string(format!("{dir}watches.{ext}")).unwrap();
    let commands = read("commands");
    let mut shell = Shell::new(Clients::new("A", fixed_clock()));
    let (out, err) = piped(&commands, |input, out, err| {
        run(&mut shell, input, out, err, false)
    })
    .unwrap();
    assert_eq!(out, read("stdout"), "stdout");
    assert_eq!(err, read("stderr"), "stderr");
}
