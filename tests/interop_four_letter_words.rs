//! The four-letter words on the client port answer as ZooKeeper 3.8's do.
//!
//! Monitoring scripts and `zkServer.sh status` read these answers (`ruok`,
//! `srvr`, `conf`), and the whitelist (`4lw.commands.whitelist`, here
//! `ruok,srvr,stat,conf`) is what keeps the rest switched off. The expected
//! texts below are what Debian's ZooKeeper 3.8 prints on a fresh standalone
//! server; the tests run against it too, so they cannot drift from it
//! (upstream `FourLetterCommands`, `StatCommand`, `ConfCommand`).
//!
//! These tests share one server per kind that no other file uses
//! ([`Server::private`]); none of them opens a session, so the server stays
//! as fresh as it started.

use crate::common;

use common::{four_letter_bytes, four_letter_word, servers_under_test, Server, TICK_TIME_MS};

/// Runs `check` with the answer to `word` from each server under test.
fn on_every_server(test: &str, word: &str, check: impl Fn(&str, &Server)) {
    for kind in servers_under_test() {
        let Some(server) = Server::private(kind, test) else {
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
    // A refused `stmk` is answered at once: the server does not wait for a mask.
    for word in ["envi", "stmk"] {
        on_every_server(word, word, |answer, server| {
            assert_eq!(
                answer,
                format!("{word} is not executed because it is not in the whitelist.\n"),
                "{}",
                server.kind()
            );
        });
    }
}

#[test]
fn four_bytes_that_are_no_command_get_no_answer() {
    // Not a command, so the server reads them as a frame length
    // ("xyzw" = 2021227127 bytes), over jute.maxbuffer: it closes the socket.
    on_every_server("xyzw", "xyzw", |answer, server| {
        assert_eq!(answer, "", "{}", server.kind());
    });
}

/// `mntr`'s keys that Keeper prints, in the order ZooKeeper 3.8 prints them: all of a
/// standalone 3.8 server's keys but the JVM's, the metrics provider's summaries and the
/// counters of features Keeper does not have.
const MNTR_KEYS: [&str; 22] = [
    "zk_version",
    "zk_server_state",
    "zk_ephemerals_count",
    "zk_num_alive_connections",
    "zk_avg_latency",
    "zk_outstanding_requests",
    "zk_znode_count",
    "zk_global_sessions",
    "zk_last_client_response_size",
    "zk_packets_sent",
    "zk_packets_received",
    "zk_max_client_response_size",
    "zk_connection_drop_probability",
    "zk_watch_count",
    "zk_auth_failed_count",
    "zk_min_latency",
    "zk_max_file_descriptor_count",
    "zk_approximate_data_size",
    "zk_open_file_descriptor_count",
    "zk_uptime",
    "zk_max_latency",
    "zk_min_client_response_size",
];

/// `envi`'s keys in upstream's order (`Environment.list`).
const ENVI_KEYS: [&str; 18] = [
    "zookeeper.version",
    "host.name",
    "java.version",
    "java.vendor",
    "java.home",
    "java.class.path",
    "java.library.path",
    "java.io.tmpdir",
    "java.compiler",
    "os.name",
    "os.arch",
    "os.version",
    "user.name",
    "user.home",
    "user.dir",
    "os.memory.free",
    "os.memory.max",
    "os.memory.total",
];

/// Session ids and times differ between two servers: `0x…` ids become `0xS` (but `0x0`, no
/// session, stays), `expire at <date>` loses its date, ports become `P`.
fn masked(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.find(" expire at ") {
            Some(i) => format!("{} expire at D:", &line[..i]),
            None => line.to_string(),
        };
        let words: Vec<String> = line
            .split(' ')
            .map(|w| {
                let bare = w.trim_start_matches('\t').trim_end_matches(':');
                let id = bare.starts_with("0x") && bare != "0x0";
                let port = bare.starts_with("/127.0.0.1:");
                match (id, port) {
                    (true, _) => w.replace(bare, "0xS"),
                    (_, true) => w.replace(bare, "/127.0.0.1:P"),
                    _ => w.to_string(),
                }
            })
            .collect();
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

/// A create request: `path`, empty data, open ACL, `flags`.
fn create(path: &str, flags: i32) -> Vec<u8> {
    let mut w = ch03_sessions::jute::Writer::new();
    w.write_ustring(Some(path));
    w.write_buffer(Some(b""));
    w.write_int(1);
    w.write_int(31);
    w.write_ustring(Some("world"));
    w.write_ustring(Some("anyone"));
    w.write_int(flags);
    w.into_bytes()
}

fn path_watch(path: &str) -> Vec<u8> {
    let mut w = ch03_sessions::jute::Writer::new();
    w.write_ustring(Some(path));
    w.write_bool(true);
    w.into_bytes()
}

#[test]
fn every_word_answers_in_zookeepers_shape_once_the_whitelist_allows_it() {
    use common::raw::{RawSession, ERR_NO_NODE, ERR_OK};
    const TEST: &str = "every four-letter word";
    let mut numbers = Vec::new();
    for kind in servers_under_test() {
        let all = [("4lw.commands.whitelist", "*")];
        let Some(server) = Server::start_with_or_skip(kind, TEST, &all) else {
            continue;
        };
        let word = |w: &str| {
            four_letter_word(server.port(), w).unwrap_or_else(|e| panic!("`{w}` to {kind}: {e}"))
        };
        // One session: a node, an ephemeral under it, two data watches and a child watch.
        let mut s = RawSession::open(&server);
        assert_eq!(s.ask(1, 1, &create("/fourlw", 0)), (1, ERR_OK), "{kind}");
        assert_eq!(s.ask(2, 1, &create("/fourlw/e", 1)), (2, ERR_OK), "{kind}");
        assert_eq!(s.ask(3, 4, &path_watch("/fourlw")), (3, ERR_OK), "{kind}");
        assert_eq!(s.ask(4, 3, &path_watch("/nothing")), (4, ERR_NO_NODE));
        assert_eq!(s.ask(5, 8, &path_watch("/fourlw/e")), (5, ERR_OK), "{kind}");

        // The watch words show the data table only: the child watch is not in them.
        let mut wchc: Vec<String> = masked(&word("wchc")).lines().map(String::from).collect();
        wchc.sort();
        assert_eq!(wchc, ["", "\t/fourlw", "\t/nothing", "0xS"], "{kind} wchc");
        let mut wchp: Vec<String> = masked(&word("wchp")).lines().map(String::from).collect();
        wchp.sort();
        assert_eq!(
            wchp,
            ["", "\t0xS", "\t0xS", "/fourlw", "/nothing"],
            "{kind} wchp"
        );
        assert_eq!(
            word("wchs"),
            "1 connections watching 2 paths\nTotal watches:2\n",
            "{kind}"
        );

        // ZooKeeper's expiry queue may hold an emptied bucket for a moment (`0 expire at`,
        // counted in `Sets (buckets)/(members)`): only the members are compared.
        let dump: String = masked(&word("dump"))
            .lines()
            .filter(|l| !l.starts_with("0 expire at"))
            .map(|l| match l.split_once(" Sets (") {
                Some((head, counts)) => {
                    format!("{head} Sets {}\n", &counts[counts.find('(').unwrap_or(0)..])
                }
                None => format!("{l}\n"),
            })
            .collect();
        let sessions_and_ephemerals = "SessionTracker dump:\nSession Sets (1):\n\
            1 expire at D:\n\t0xS\nephemeral nodes dump:\nSessions with Ephemerals (1):\n\
            0xS:\n\t/fourlw/e\nConnections dump:\nConnections Sets (";
        assert!(dump.starts_with(sessions_and_ephemerals), "{kind}:\n{dump}");
        assert!(
            dump.contains("\tip: /127.0.0.1:P sessionId: 0xS\n"),
            "{kind}:\n{dump}"
        );

        // mntr: Keeper's keys are ZooKeeper's, in its order; the tree's numbers agree.
        let mntr = word("mntr");
        let pairs: Vec<(&str, &str)> = mntr.lines().filter_map(|l| l.split_once('\t')).collect();
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
        let in_order: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| MNTR_KEYS.contains(k))
            .collect();
        assert_eq!(in_order, MNTR_KEYS, "{kind} mntr:\n{mntr}");
        if kind == common::ServerKind::Keeper {
            assert_eq!(
                keys, MNTR_KEYS,
                "Keeper prints only the keys that carry over"
            );
        }
        let value = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        let same = [
            "zk_server_state",
            "zk_ephemerals_count",
            "zk_outstanding_requests",
            "zk_znode_count",
            "zk_global_sessions",
            "zk_watch_count",
            "zk_approximate_data_size",
            "zk_connection_drop_probability",
            "zk_auth_failed_count",
        ];
        numbers.push((kind, same.map(|k| (k, value(k).map(String::from)))));
        let fds: Vec<u64> = [
            "zk_open_file_descriptor_count",
            "zk_max_file_descriptor_count",
        ]
        .map(|k| value(k).and_then(|v| v.parse().ok()).expect(k))
        .into();
        assert!(
            fds[0] > 0 && fds[0] <= fds[1],
            "{kind} file descriptors {fds:?}"
        );

        let envi = word("envi");
        let envi_keys: Vec<&str> = envi
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(envi_keys, ENVI_KEYS, "{kind} envi:\n{envi}");

        let dirs = word("dirs");
        let sizes: Vec<u64> = dirs
            .lines()
            .map(|l| {
                l.split_once(": ")
                    .and_then(|(_, n)| n.parse().ok())
                    .expect(l)
            })
            .collect();
        assert!(
            dirs.starts_with("datadir_size: ") && sizes.iter().all(|&n| n > 0),
            "{kind}: {dirs}"
        );
        assert_eq!(word("gtmk"), "306", "{kind}");
        // stmk takes the mask as an 8-byte big-endian long and prints it back, signed; gtmk
        // then reports it. A mask cut short gets no answer and changes nothing.
        let stmk = |mask: &[u8]| {
            let bytes = [b"stmk".as_slice(), mask].concat();
            four_letter_bytes(server.port(), &bytes).expect("stmk")
        };
        assert_eq!(stmk(&(-1i64).to_be_bytes()), "-1", "{kind}");
        assert_eq!(word("gtmk"), "-1", "{kind}");
        assert_eq!(stmk(&[0, 0, 1]), "", "{kind}");
        assert_eq!(word("gtmk"), "-1", "{kind}");
        assert_eq!(stmk(&306i64.to_be_bytes()), "306", "{kind}");
        assert_eq!(word("gtmk"), "306", "{kind}");
        // Fewer than 128 txns: no digest logged yet.
        assert_eq!(word("hash"), "", "{kind}");

        // srst resets the server's counters: the next word is the only packet counted.
        assert_eq!(word("srst"), "Server stats reset.\n", "{kind}");
        let srvr = word("srvr");
        assert!(
            srvr.contains("Latency min/avg/max: 0/0.0/0\nReceived: 1\n"),
            "{kind}:\n{srvr}"
        );
        // crst resets each connection's: the session's line starts again.
        assert_eq!(word("crst"), "Connection stats reset.\n", "{kind}");
        let cons = word("cons");
        assert!(
            cons.contains("(queued=0,recved=0,sent=0,sid=")
                && cons.contains(",lop=NA,")
                && cons.contains(
                    ",lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)"
                ),
            "{kind}:\n{cons}"
        );
        s.assert_still_serves(&kind.to_string());
    }
    if let [(_, zookeeper), (_, keeper)] = &numbers[..] {
        assert_eq!(keeper, zookeeper, "mntr's numbers: Keeper vs ZooKeeper");
    }
}
