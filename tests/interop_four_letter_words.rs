//! The four-letter words on the client port answer as ZooKeeper 3.8's do.
//!
//! Monitoring scripts and `zkServer.sh status` read these answers (`ruok`,
//! `srvr`, `conf`), and the whitelist (`4lw.commands.whitelist`, here
//! `ruok,srvr,stat,conf`) is what keeps the rest switched off. The expected
//! texts below are what Debian's ZooKeeper 3.8 prints on a fresh standalone
//! server; the tests run against it too, so they cannot drift from it
//! (upstream `FourLetterCommands`, `StatCommand`, `ConfCommand`).
//!
//! All tests share one server per kind; none of them opens a session, so
//! the server stays as fresh as it started.

mod common;

use common::{four_letter_word, servers_under_test, Server, TICK_TIME_MS};

/// Runs `check` with the answer to `word` from each server under test.
fn on_every_server(test: &str, word: &str, check: impl Fn(&str, &Server)) {
    for kind in servers_under_test() {
        let Some(server) = Server::shared(kind, test) else {
            continue;
        };
        let answer = four_letter_word(server.port(), word)
            .unwrap_or_else(|e| panic!("`{word}` to {kind}: {e}"));
        println!("`{word}` from {kind}:\n{answer}");
        check(&answer, server);
    }
}

/// `srvr`'s lines as (field, value) pairs.
fn fields(answer: &str) -> Vec<(&str, &str)> {
    answer
        .lines()
        .map(|line| line.split_once(": ").unwrap_or((line, "")))
        .collect()
}

#[test]
fn ruok_answers_imok() {
    on_every_server("ruok", "ruok", |answer, server| {
        assert_eq!(answer, "imok", "{}", server.kind());
    });
}

#[test]
fn srvr_reports_a_fresh_standalone_server_in_zookeepers_fields() {
    on_every_server("srvr", "srvr", |answer, server| {
        let fields = fields(answer);
        let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "Zookeeper version",
                "Latency min/avg/max",
                "Received",
                "Sent",
                "Connections",
                "Outstanding",
                "Zxid",
                "Mode",
                "Node count",
            ],
            "{}",
            server.kind()
        );
        let value = |name| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        assert_eq!(
            value("Mode"),
            Some("standalone"),
            "what zkServer.sh status shows"
        );
        assert_eq!(value("Zxid"), Some("0x0"), "no transaction yet");
        assert_eq!(value("Outstanding"), Some("0"));
        // ZooKeeper's DataTree counts the root twice (under "" and "/"),
        // then /zookeeper, /zookeeper/quota and /zookeeper/config.
        assert_eq!(value("Node count"), Some("5"));
    });
}

#[test]
fn conf_reports_the_settings_read_from_zoo_cfg() {
    on_every_server("conf", "conf", |answer, server| {
        let settings: Vec<(&str, &str)> =
            answer.lines().filter_map(|l| l.split_once('=')).collect();
        let port = server.port().to_string();
        // A session may last from 2 to 20 ticks.
        let (min, max) = (
            (2 * TICK_TIME_MS).to_string(),
            (20 * TICK_TIME_MS).to_string(),
        );
        for expected in [
            ("clientPort", port.as_str()),
            ("tickTime", &TICK_TIME_MS.to_string()),
            ("maxClientCnxns", "60"),
            ("minSessionTimeout", &min),
            ("maxSessionTimeout", &max),
        ] {
            assert!(
                settings.contains(&expected),
                "{} does not report {}={}",
                server.kind(),
                expected.0,
                expected.1
            );
        }
    });
}

#[test]
fn a_word_outside_the_whitelist_is_refused_in_zookeepers_words() {
    on_every_server("envi", "envi", |answer, server| {
        assert_eq!(
            answer,
            "envi is not executed because it is not in the whitelist.\n",
            "{}",
            server.kind()
        );
    });
}

#[test]
fn four_bytes_that_are_no_command_get_no_answer() {
    // Not a command, so the server reads them as a frame length
    // ("xyzw" = 2021227127 bytes), over jute.maxbuffer: it closes the socket.
    on_every_server("xyzw", "xyzw", |answer, server| {
        assert_eq!(answer, "", "{}", server.kind());
    });
}
