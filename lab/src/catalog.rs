//! Every lab of the book: what it asks, how it is graded, and what a teacher needs to run it.
//!
//! The code answers are not here: they live in the chapter sources, between the markers of
//! [`crate::marker`]. Each lab's `discuss` (the answers to the questions around it) is a
//! marked region of this file, so `keeper lab start` empties it too. This list says where to find the grader (`package`, `target`) and
//! names each check, so `keeper lab check` can print a hint beside every failing one. A test
//! (`lab/tests/catalog.rs`) holds the list, the sources, the graders and the book to each
//! other: a lab without regions, a check that is not a test, a test not listed here, or a lab
//! missing from the book's labs index fails `cargo test`.

/// One named check of a lab: a test function of its grading target.
#[derive(Debug)]
pub struct Check {
    /// The test's name, `lab_5_1_...`: every check of lab N.M starts with `lab_N_M_`.
    pub name: &'static str,
    /// What to look at when it fails; never the answer.
    pub hint: &'static str,
}

/// One lab.
#[derive(Debug)]
pub struct Lab {
    /// `"5.1"`: chapter, then the lab's number in it.
    pub id: &'static str,
    /// The book's heading says `Lab 5.1: <title>`.
    pub title: &'static str,
    /// The book page (under `book/src/`) the lab is on.
    pub page: &'static str,
    /// What it asks, in one line (the labs index, `keeper lab list`).
    pub asks: &'static str,
    /// The crate whose test grades it.
    pub package: &'static str,
    /// The file under the package's `tests/` (`tests/<target>.rs`) holding the checks: a
    /// module of the package's one test binary, `all`, so its tests are named `<target>::…`.
    pub target: &'static str,
    pub checks: &'static [Check],
    /// For the teacher's guide: roughly how long a student takes.
    pub minutes: u32,
    /// For the teacher's guide: the idea the lab drives home.
    pub teaches: &'static str,
    /// For the teacher's guide: commands worth running in front of the class.
    pub show: &'static [&'static str],
    /// For the teacher's key: the answers to the questions around the lab (the code answers
    /// are in the sources), and what to discuss. Marked as the lab's answer, so a student's
    /// edition (`keeper lab start`) has it empty, like every other answer.
    pub discuss: &'static str,
}

impl Lab {
    /// The chapter number.
    pub fn chapter(&self) -> u32 {
        let (chapter, _) = self.id.split_once('.').expect("lab ids are N.M");
        chapter.parse().expect("lab ids are N.M")
    }

    /// The prefix every check's name starts with, which is also the test filter:
    /// `lab_5_1_`.
    pub fn prefix(&self) -> String {
        format!("lab_{}_", self.id.replace('.', "_"))
    }

    /// The test filter that selects exactly the lab's checks: `lab::lab_5_1_`.
    pub fn filter(&self) -> String {
        format!("{}::{}", self.target, self.prefix())
    }

    /// The full name libtest gives one of the lab's checks: `lab::lab_5_1_lowest_sid`.
    pub fn test_name(&self, check: &str) -> String {
        format!("{}::{}", self.target, check)
    }

    /// The plain cargo command that grades the lab (what `keeper lab check` runs).
    pub fn cargo_command(&self) -> String {
        format!(
            "cargo test -p {} --test all {}",
            self.package,
            self.filter()
        )
    }

    /// The heading's anchor as mdBook makes it: `lab-51-the-lowest-sid-wins`.
    pub fn book_anchor(&self) -> String {
        heading_id(&format!("Lab {}: {}", self.id, self.title))
    }

    /// `ch05-election.md#lab-51-the-lowest-sid-wins`.
    pub fn book_link(&self) -> String {
        format!("{}#{}", self.page, self.book_anchor())
    }
}

/// mdBook's id for a heading: lower case, letters, digits, `-` and `_` kept, spaces to `-`,
/// everything else dropped.
pub fn heading_id(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The lab `id`, if there is one.
pub fn find(id: &str) -> Option<&'static Lab> {
    LABS.iter().find(|lab| lab.id == id)
}

/// Chapters whose crate exists but whose labs have not been written yet. Each chapter needs at
/// least two graded labs; a chapter listed here is let off until its labs land (then take it
/// off the list).
pub const CHAPTERS_WITHOUT_LABS_YET: &[&str] = &[];

/// Every lab, in book order.
pub const LABS: &[Lab] = &[
    // ---- Chapter 1: the znode tree ----
    Lab {
        id: "1.1",
        title: "an atomic, conditional rename",
        page: "ch01-znode.md",
        asks: "write `rename_ops` in `chapters/ch01-znode/labs/lab1_rename.rs`: one multi (create + versioned delete) that renames a znode, or fails as a whole if the node changed",
        package: "ch01-znode",
        target: "labs",
        checks: &[
            Check {
                name: "lab_1_1_your_rename_matches_the_snapshot",
                hint: "compare your trace with tests/snapshots/all__labs__lab_1_1_rename.snap: the new node needs the old one's data and ACL, and the delete must name the version you read",
            },
            Check {
                name: "lab_1_1_a_stale_rename_changes_nothing",
                hint: "another client changed the node after you read it: which field of your delete makes the whole multi fail then?",
            },
        ],
        minutes: 30,
        teaches: "A multi is one txn at one zxid: all of it or nothing. A versioned delete is how a client says \"only if nobody changed it since I read it\" (optimistic concurrency), and the failed multi still takes a zxid.",
        show: &[
            "cargo run -p ch01-znode -- --trace",
            "cargo run -- lab check 1.1",
        ],
        // LAB 1.1 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "The failed multi in the snapshot still takes zxid 0x9 and is logged with the create that would have happened. That is safe because a failed multi is applied as error txns: `process_multi` in `tree.rs` applies nothing of it, on every server, in the same order, so every replica skips the same create. A rename that must also move children needs one create and one delete per node, deepest deletes first.",
        // LAB 1.1 END
    },
    Lab {
        id: "1.2",
        title: "predict the suffix and the cversions",
        page: "ch01-znode.md",
        asks: "predict the name of a second sequential node, its parent's cversion, and the cversion of `/zookeeper` (answers in `chapters/ch01-znode/tests/labs.rs`)",
        package: "ch01-znode",
        target: "labs",
        checks: &[
            Check {
                name: "lab_1_2_the_second_sequential_name",
                hint: "the suffix is the parent's *stored* cversion (a count of child creates), printed in ten digits: count the creates, not the children",
            },
            Check {
                name: "lab_1_2_the_cversion_of_q",
                hint: "the cversion a client sees is derived: 2 x creates - children (read `copy_stat` in stat.rs)",
            },
            Check {
                name: "lab_1_2_the_cversion_of_zookeeper",
                hint: "/zookeeper's children were never created by a txn: the tree starts with them. Apply 2 x creates - children",
            },
        ],
        minutes: 15,
        teaches: "The server stores less than Stat shows: cversion is derived from a count of creates, and the sequential suffix comes from that stored count, not from the number of children.",
        show: &["cargo run -p ch01-znode   (then: create /q, create -s /q/x-, create /q/y, delete /q/y, create -s /q/x-, stat /q, stat /zookeeper)"],
        // LAB 1.2 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Part 1: `/q/x-0000000002` (two creates happened under /q before it, one of them later deleted). Part 2: 4 (three creates, two children: 2 x 3 - 2). Part 3: -2 (no creates, two children: quota and config). The root of a fresh server shows -1 for the same reason.",
        // LAB 1.2 END
    },
    // ---- Chapter 2: watches ----
    Lab {
        id: "2.1",
        title: "registered twice, told once",
        page: "ch02-watches.md",
        asks: "predict what a client with two watches on one node hears after a `set`, and after a `delete` (answers in `chapters/ch02-watches/tests/labs.rs`)",
        package: "ch02-watches",
        target: "labs",
        checks: &[
            Check {
                name: "lab_2_1_two_data_watches_then_a_set",
                hint: "`get -w` and `stat -w` on an existing node both leave a *data* watch: how many entries can one session have in one table for one path?",
            },
            Check {
                name: "lab_2_1_a_data_and_a_child_watch_then_a_delete",
                hint: "a delete fires both tables; read the NodeDeleted arm of `trigger` in registry.rs",
            },
        ],
        minutes: 15,
        teaches: "Watch tables hold sets of sessions, so registering twice is registering once, and a delete that fires both tables tells a session once.",
        show: &["cargo run -p ch02-watches -- --trace", "cargo run -p ch02-watches   (connect B, use A: try both scripts)"],
        // LAB 2.1 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Part 1: one NodeDataChanged /x. Part 2: one NodeDeleted /x (DataTree.deleteNode passes the data watchers to the child-watch trigger as `suppress`). The tests `a_watch_registered_twice_is_told_once` and `delete_tells_a_session_with_both_watches_once` in tests/trigger_table.rs pin the same rules on the registry.",
        // LAB 2.1 END
    },
    Lab {
        id: "2.2",
        title: "what a recursive watch hears",
        page: "ch02-watches.md",
        asks: "predict, event by event, what a persistent recursive watch and a persistent watch on `/p` hear while another client changes the subtree",
        package: "ch02-watches",
        target: "labs",
        checks: &[
            Check {
                name: "lab_2_2_what_a_recursive_watch_hears",
                hint: "a recursive watch sits in the data table only (read `add_watch` in registry.rs): which events does the data table hear, and for which paths?",
            },
            Check {
                name: "lab_2_2_what_a_persistent_watch_hears",
                hint: "a persistent watch sits in both tables, for its own path only: a grandchild's change is nobody's business here",
            },
        ],
        minutes: 20,
        teaches: "PERSISTENT watches are a one-shot data watch plus a one-shot child watch that never expire; PERSISTENT_RECURSIVE watches cover the whole subtree but only through the data table, so they never hear NodeChildrenChanged.",
        show: &["cargo run -p ch02-watches   (A: create /p; connect B; addWatch /p; use A; then change the subtree)"],
        // LAB 2.2 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Recursive: NodeCreated /p/c, NodeCreated /p/c/d, NodeDataChanged /p/c/d, NodeDataChanged /p, NodeDeleted /p/c/d, NodeDeleted /p/c. Persistent: NodeChildrenChanged /p, NodeDataChanged /p, NodeChildrenChanged /p. A recursive watcher learns of new children from their NodeCreated, so NodeChildrenChanged would be redundant (ZooKeeper's docs: \"Recursive watches do not get NodeChildrenChanged events\").",
        // LAB 2.2 END
    },
    Lab {
        id: "2.3",
        title: "waiting for a node to go away",
        page: "ch02-watches.md",
        asks: "write the shell commands with which B hears `/lock` go away, and predict what B hears if it was already gone",
        package: "ch02-watches",
        target: "labs",
        checks: &[
            Check {
                name: "lab_2_3_b_hears_the_lock_go",
                hint: "one read that both answers \"is it there?\" and leaves a watch, in one request: no delete can slip between them",
            },
            Check {
                name: "lab_2_3_when_the_lock_was_already_gone",
                hint: "`exists` with a watch on a missing node still leaves a watch: what would fire it?",
            },
        ],
        minutes: 15,
        teaches: "Read-and-watch is one request, so there is no gap between checking and watching; `exists` watches work on nodes that are not there yet. This is the building block of locks and barriers.",
        show: &["cargo run -p ch02-watches   (create /lock, connect B, stat -w /lock, use A, delete /lock)"],
        // LAB 2.3 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "`stat -w /lock` (or `get -w /lock`) is enough: the server registers the watch while it answers the read, in one step of its single request pipeline, so no delete can come between. If B's `stat -w` answers `Node does not exist`, the lock is free: B goes ahead (in a lock recipe: tries to create it), and the watch it left fires NodeCreated when somebody creates /lock. A persistent `addWatch /lock` also hears the delete, and keeps hearing afterwards.",
        // LAB 2.3 END
    },
    Lab {
        id: "2.4",
        title: "survive a burst of changes",
        page: "ch02-watches.md",
        asks: "fix `StudentClient::on_event` in `chapters/ch02-watches/src/labs/burst.rs` so the membership client keeps up when three servers join at once, then one leaves and one joins",
        package: "ch02-watches",
        target: "labs",
        checks: &[Check {
            name: "lab_2_4_student_client_survives_a_burst",
            hint: "compare with tests/snapshots/all__labs__lab_2_4_burst.snap: after the first event your client hears nothing more. What does a one-shot watch need after it fired?",
        }],
        minutes: 20,
        teaches: "A one-shot watch must be set again by the read that follows it; and one event can stand for many changes, so a client re-reads the state instead of counting events.",
        show: &["cargo run -p ch02-watches --example servers_up_down"],
        // LAB 2.4 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "`on_event` must read the children *with* a watch (`children(session, SERVICES, true)`). The first event stands for three new servers: a client that counted events would believe one came up.",
        // LAB 2.4 END
    },
    // ---- Chapter 3: sessions and the wire ----
    Lab {
        id: "3.1",
        title: "timeouts, buckets and ACLs",
        page: "ch03-sessions.md",
        asks: "work out the timeout the course's server grants four clients, the time at which a silent session expires, and which of three requests an ACL allows",
        package: "ch03-sessions",
        target: "exercise_sessions",
        checks: &[
            Check {
                name: "lab_3_1_part1_timeouts_are_clamped_to_two_and_twenty_ticks",
                hint: "without minSessionTimeout/maxSessionTimeout in zoo.cfg they are 2 and 20 ticks; the request is clamped to them",
            },
            Check {
                name: "lab_3_1_part2_a_silent_session_expires_at_the_tick_after_its_deadline",
                hint: "deadline = last contact + timeout, then rounded *up* to the next multiple of tickTime (a deadline exactly on a tick goes to the next one)",
            },
            Check {
                name: "lab_3_1_part3_one_matching_entry_is_enough_and_there_is_no_inheritance",
                hint: "one entry that grants the permission to an id the client holds is enough; and creating a child needs CREATE on the node itself",
            },
        ],
        minutes: 25,
        teaches: "Session timeouts are negotiated and counted in ticks; the session tracker expires whole buckets, one per tick; an ACL is a list of (permissions, id) entries checked per node, without inheritance.",
        show: &["cargo run -- server --config conf/zoo.cfg", "printf stat | nc 127.0.0.1 2181"],
        // LAB 3.1 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Part 1: 10000, 30000, 4000 and 40000 ms. Part 2: 24000 (12345 + 10000 = 22345, next bucket 24000). Part 3: bob may read (world:anyone:r), may not create a child (only alice has c), anyone may read.",
        // LAB 3.1 END
    },
    Lab {
        id: "3.2",
        title: "watch a server disappear",
        page: "ch03-sessions.md",
        asks: "predict when a killed zkCli's session expires and the longest silence a 30 s session survives; then see it with a real zkCli",
        package: "ch03-sessions",
        target: "exercise_sessions",
        checks: &[
            Check {
                name: "lab_3_2_the_killed_clients_session_expires_at_its_bucket",
                hint: "the same rule as lab 3.1 part 2: last contact + timeout, rounded up to the next tick",
            },
            Check {
                name: "lab_3_2_the_longest_silence_a_session_survives",
                hint: "try a last contact exactly on a tick and one just after it: which gives the later bucket, relative to the contact?",
            },
        ],
        minutes: 30,
        teaches: "A session dies only when the tracker's bucket for it comes due: between the timeout and the timeout plus one tick after the last contact. Its ephemerals go with it in one closeSession txn, and watchers hear NodeDeleted.",
        show: &[
            "cargo run -- server --config conf/zoo.cfg",
            "zkCli: create -e /up me; a second zkCli: get -w /up; kill -9 the first; time the event",
        ],
        // LAB 3.2 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "72000 ms (41000 + 30000 = 71000, next bucket 72000), i.e. 31 s after the last ping. The longest silence is 31999 ms: a contact exactly on a tick (40000) gives a deadline on a tick (70000), which goes to the next bucket (72000), alive until 71999. With a real zkCli (pinging every 10 s) the watch fires 20 to 32 s after the kill.",
        // LAB 3.2 END
    },
    Lab {
        id: "3.3",
        title: "who is asking?",
        page: "ch03-sessions.md",
        asks: "write the ACL with which alice shares `/alice` with bob, read-only, and nobody else; and the code bob's setData gets",
        package: "ch03-sessions",
        target: "exercise_sessions",
        checks: &[
            Check {
                name: "lab_3_3_alice_may_do_everything",
                hint: "alice needs an entry of her own: digest ids come from `digest(\"user:password\")`",
            },
            Check {
                name: "lab_3_3_bob_may_read_and_nothing_else",
                hint: "give bob's digest id only the READ bit; and the error is the KeeperException code for \"not authorized\"",
            },
            Check {
                name: "lab_3_3_nobody_else_may_read",
                hint: "no world:anyone entry, and a digest id is checked with the password hashed in",
            },
        ],
        minutes: 20,
        teaches: "Digest ACLs: the id is user:base64(sha1(user:password)), several entries add up, and a request fails with NoAuth (-102) unless one entry grants its permission.",
        show: &["keeper cli: addauth digest alice:secret; setAcl /alice digest:alice:<hash>:cdrwa,digest:bob:<hash>:r; getAcl /alice"],
        // LAB 3.3 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "[digest alice:secret -> cdrwa, digest bob:pw -> r]; bob's setData gets -102 (NoAuth). With `auth:` instead of `digest:` alice can write `setAcl /alice auth::cdrwa` for her own entry, but bob's entry must name his digest.",
        // LAB 3.3 END
    },
    Lab {
        id: "3.4",
        title: "decode a captured frame by hand",
        page: "ch03-wire.md",
        asks: "read a real kazoo `setData` frame and the notification that followed it byte by byte, and write each field",
        package: "ch03-sessions",
        target: "exercise_wire",
        checks: &[
            Check {
                name: "lab_3_4_your_reading_of_the_request_frame_matches_the_codec",
                hint: "after the xid (4 bytes) comes the opcode (4 bytes); a string is a 4-byte length then the bytes; -1 is ff ff ff ff",
            },
            Check {
                name: "lab_3_4_your_reading_of_the_server_frame_matches_the_codec",
                hint: "a notification's reply header has a special xid; then a WatcherEvent: type, state, path (type and state codes are in proto/watch.rs)",
            },
        ],
        minutes: 30,
        teaches: "Jute is big-endian ints, longs and length-prefixed strings, nothing more; a notification is a reply with xid -1 and zxid -1.",
        show: &["cargo run -p ch03-sessions -- --trace --bytes"],
        // LAB 3.4 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Request: xid 13, opcode 5 (setData), path /kz/app, data \"v2\", version -1. Notification: xid -1, zxid -1, err 0, NodeDataChanged, SyncConnected, /kz/app.",
        // LAB 3.4 END
    },
    Lab {
        id: "3.5",
        title: "a count nobody should trust",
        page: "ch03-wire.md",
        asks: "predict exactly what the reader returns for a `GetChildrenResponse` claiming 2^31-1 children in 12 bytes, and the largest count it lets through",
        package: "ch03-sessions",
        target: "exercise_wire",
        checks: &[
            Check {
                name: "lab_3_5_a_huge_count_is_refused_before_anything_is_allocated",
                hint: "read `read_len` in src/jute/reader.rs: which arm does 0x7fffffff take, and what does `remaining` hold after the count was read?",
            },
            Check {
                name: "lab_3_5_the_largest_count_the_reader_lets_through",
                hint: "read_len allows at most one byte per item of what is left",
            },
        ],
        minutes: 20,
        teaches: "A length on the wire is a claim, not a fact: the reader checks it against the bytes really left before it allocates, so a hostile frame costs nothing.",
        show: &["cargo test -p ch03-sessions --test all malformed::"],
        // LAB 3.5 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "LengthTooLarge { what: \"GetChildrenResponse.children\", len: 2147483647, remaining: 8 }; the largest count read_len lets through is 8. A reader that trusted the count would reserve room for 2^31-1 strings (tens of GB) before noticing the frame ends: that is a one-packet denial of service. `a_huge_vector_count_is_refused_without_allocating_it` in tests/malformed.rs pins it.",
        // LAB 3.5 END
    },
    Lab {
        id: "3.6",
        title: "deleteall, deepest first",
        page: "ch03-wire.md",
        asks: "predict the result codes of zkCli's `deleteall` multi when a child appears in between, and when the deletes run shallowest first",
        package: "ch03-sessions",
        target: "exercise_wire",
        checks: &[
            Check {
                name: "lab_3_6_a_child_that_appears_fails_the_whole_multi",
                hint: "in a failed multi, ops before the failing one carry 0, the failing one its error, the ones after it -2 (RuntimeInconsistency)",
            },
            Check {
                name: "lab_3_6_shallowest_first_fails_at_once",
                hint: "which op fails first when /app still has children?",
            },
        ],
        minutes: 15,
        teaches: "A multi is checked op by op against the tree as the earlier ops would leave it, and fails as a whole; the results say where.",
        show: &["cargo run -p ch03-sessions -- --trace"],
        // LAB 3.6 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Part 1: [0, 0, -111] (NotEmpty on /app, because of /app/new). Part 2: [-111, -2, -2]. Deepest first is the only order in which every delete can succeed; zkCli 3.8 sends the whole subtree in one multi, so a concurrent create makes it fail as a whole instead of leaving half a tree.",
        // LAB 3.6 END
    },
    // ---- Chapter 4: Paxos ----
    Lab {
        id: "4.1",
        title: "the forgetful acceptor",
        page: "ch04-paxos.md",
        asks: "write the seed search `find_disagreement` (`chapters/ch04-paxos/src/labs/mod.rs`) that finds the shortest run in which forgetful acceptors let two learners disagree, and name the acceptor that kept quiet",
        package: "ch04-paxos",
        target: "scenarios",
        checks: &[
            Check {
                name: "lab_4_1_a_forgetful_acceptor_lets_two_learners_disagree",
                hint: "run `scenarios::forgetful(seed)` for every seed and keep the violation with the fewest steps: `sim::shortest_violation` does exactly that",
            },
            Check {
                name: "lab_4_1_the_acceptor_that_kept_quiet",
                hint: "in the snapshot, find an acceptor that sent `Accepted` and later answered a Prepare with `Promise ... (no value)`",
            },
        ],
        minutes: 45,
        teaches: "Safety rests on one rule: a Promise reports the highest value accepted. Break it and two majorities, which must share an acceptor, no longer share what it knows. A seed search finds the run; the seed replays it.",
        show: &[
            "cargo run -p ch04-paxos -- --trace --scenario forgetful --seed 141",
            "cargo run -p ch04-paxos -- --trace --scenario forgetful --seed 141 --step",
        ],
        // LAB 4.1 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "n1 and n3 accepted \"v1\" at ballot 1.1: a majority of three, so \"v1\" was chosen. But n1 had already promised ballot 1.2 to n2, and its promise said \"no value\". With promises from n1 and itself, n2 believed nothing could have been chosen and proposed its own \"v2\", which n2 and n3 then accepted at 1.2: a second majority, a second value. The two majorities {n1, n3} and {n1, n2} intersected in n1, as they must, and n1 kept quiet. Extensions for quick students (not graded): switch the flaw on in `scenarios::random` and look for a seed where the `stability` invariant fails before agreement does; or make the acceptor report the value of its *lowest* accepted ballot and let the seed search say whether that is safe.",
        // LAB 4.1 END
    },
    Lab {
        id: "4.2",
        title: "feel the majority",
        page: "ch04-paxos.md",
        asks: "predict what the proposer learns with two of three acceptors down, how many rounds it tries, and what happens when one comes back",
        package: "ch04-paxos",
        target: "labs",
        checks: &[
            Check {
                name: "lab_4_2_two_of_three_acceptors_down",
                hint: "a quorum of three acceptors is two; the proposer retries every 100 ms from time 0, and the run stops at 1000 ms (inclusive)",
            },
            Check {
                name: "lab_4_2_one_comes_back",
                hint: "an acceptor restarts from its durable state; the proposer's next retry finds a majority again",
            },
        ],
        minutes: 15,
        teaches: "Paxos needs a majority of acceptors to decide, and never decides wrongly without one: it just keeps trying.",
        show: &[
            "cargo run -p ch04-paxos -- --trace --scenario acceptor-crash",
            "cargo run -p ch04-paxos -- --trace --scenario majority-down",
        ],
        // LAB 4.2 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Part 1: nothing is learned (None). Part 2: 11 rounds (at 0, 100, ..., 1000 ms). Part 3: \"a\" is chosen after n4 is back (the retry at 100 ms gets promises from n2 and n4).",
        // LAB 4.2 END
    },
    Lab {
        id: "4.3",
        title: "how much jitter is enough?",
        page: "ch04-paxos.md",
        asks: "find the narrowest randomized back-off (20..=max ms) with which the duel decides on all of the first 1000 seeds",
        package: "ch04-paxos",
        target: "labs",
        checks: &[Check {
            name: "lab_4_3_the_narrowest_back_off_that_always_decides",
            hint: "bisect: try a max, run the grader, read which seed fails; the grader says whether you are too narrow or not narrow enough",
        }],
        minutes: 25,
        teaches: "Randomized back-off breaks the symmetry of a duel; how much randomness is needed depends on the round trip and on luck, which a sweep over seeds measures.",
        show: &[
            "cargo run -p ch04-paxos -- --trace --scenario duel",
            "cargo run -p ch04-paxos -- --trace --scenario duel-backoff --step",
        ],
        // LAB 4.3 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "22: with 20..=22 ms every one of the first 1000 seeds decides, with 20..=21 seed 38 does not within 10 s. Far below the round trip of 40 ms, yet enough here: each failed round draws again, so the two proposers' rhythms drift apart until one of them gets a round trip of quiet. The narrower the range, the more rounds that takes, and the more a deadline matters: a sweep over seeds is the honest way to answer \"enough\".",
        // LAB 4.3 END
    },
    Lab {
        id: "4.4",
        title: "ballots are unique and ordered",
        page: "ch04-paxos.md",
        asks: "predict which Prepares and Accepts an acceptor that promised ballot 3.2 takes",
        package: "ch04-paxos",
        target: "labs",
        checks: &[
            Check {
                name: "lab_4_4_which_prepares_an_acceptor_promises",
                hint: "ballots compare by round, then by node id; an equal ballot is a repeated Prepare and is answered again",
            },
            Check {
                name: "lab_4_4_which_accepts_an_acceptor_takes",
                hint: "an acceptor accepts any ballot at least as high as its promise (read `on_accept`)",
            },
        ],
        minutes: 15,
        teaches: "A ballot (round, node) is totally ordered and owned by one proposer, so no ballot ever carries two values; acceptors only ever move up.",
        show: &["cargo run -p ch04-paxos -- --trace --scenario competing"],
        // LAB 4.4 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Prepares 2.9, 3.1, 3.2, 3.3, 4.1: no, no, yes (a repeat), yes, yes. Accept 3.1: no; Accept 3.3: yes. Without the node id two proposers in round 3 would share ballot 3: an acceptor that promised 3 to one would also accept the other's Accept 3 with another value, and two majorities could accept two values at \"the same\" ballot; learners counting votes per ballot would see one ballot chosen twice.",
        // LAB 4.4 END
    },
    Lab {
        id: "4.5",
        title: "durable or not",
        page: "ch04-paxos.md",
        asks: "predict whether Paxos stays safe when a restarted proposer forgets its round, and when a restarted acceptor forgets what it accepted",
        package: "ch04-paxos",
        target: "labs",
        checks: &[
            Check {
                name: "lab_4_5_a_proposer_that_forgets_its_round",
                hint: "a restarted proposer reuses a ballot: what do the acceptors' Promises tell it, and what value can it propose?",
            },
            Check {
                name: "lab_4_5_an_acceptor_that_forgets_what_it_accepted",
                hint: "a chosen value lives only in the acceptors that accepted it: what does the next proposer's majority report if one of them forgot?",
            },
        ],
        minutes: 30,
        teaches: "What must be on disk before an acceptor answers: its promise and its accepted value. A proposer's round is only about progress and uniqueness; an acceptor that forgets can un-choose a value.",
        show: &["cargo test -p ch04-paxos --test all safety::"],
        // LAB 4.5 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Part 1: still safe on these runs (true). A restarted proposer re-runs phase 1 with a round it used before; whatever was chosen is reported by the majority and proposed again, and its own value is always the same. It would break if the proposer's value could change across a restart (a reused ballot with a different value) or if acceptors did not treat an equal ballot as a repeat. Part 2: not safe (false): an acceptor that forgets its accepted value hides a chosen value from the next majority, exactly like lab 4.1's forgetful acceptor.",
        // LAB 4.5 END
    },
    Lab {
        id: "4.6",
        title: "break it yourself, and let the checker catch you",
        page: "ch04-paxos.md",
        asks: "write `your_accept_rule` (`chapters/ch04-paxos/src/labs/mod.rs`): an acceptor's rule for taking an Accept that looks right and is not; the model checker must find the order of events that breaks agreement, and the simulator replay it",
        package: "ch04-paxos",
        target: "labs",
        checks: &[
            Check {
                name: "lab_4_6_the_checker_finds_your_bug",
                hint: "as handed out the rule is the correct one, and every order of events is safe: let the acceptor take an Accept it promised not to (which ballots does `>=` on a Ballot compare?)",
            },
            Check {
                name: "lab_4_6_the_counterexample_replays_in_the_simulator",
                hint: "the checker found a path the simulator cannot replay: does your rule depend on anything but its two ballots?",
            },
        ],
        minutes: 30,
        teaches: "A model checker is a bug finder a student can aim: break one comparison, and it returns the shortest order of events that turns it into two learners who disagree, as a run the simulator replays. A seed sweep may or may not draw that order.",
        show: &[
            "cargo run --release -p ch04-paxos -- --model-check --flaw YourAcceptRule --acceptors 1",
            "cargo run -- lab check 4.6",
        ],
        // LAB 4.6 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "The reference rule compares rounds only (`ballot.round >= promised.round`): an acceptor that promised 1.2 still takes n1's Accept 1.1 \"a\", so n1 learns \"a\" while n2 learns \"b\" at 1.2. With one acceptor the checker's path is ten steps. Other bugs students write: accepting anything (the same kind of counterexample); accepting only `ballot > promised` (safe: it refuses more, and the checker says so, which is the point: a stricter acceptor costs liveness, never safety). Then ask whether the seed sweep (`cargo test -p ch04-paxos --test all safety::`, with the flaw switched on in `random_parts`) would have caught theirs, and compare how long each took.",
        // LAB 4.6 END
    },
    // ---- Chapter 5: electing a leader ----
    Lab {
        id: "5.1",
        title: "the lowest sid wins",
        page: "ch05-election.md",
        asks: "predict the first start's leader if ties went to the smaller sid, then make `lab_order` (`chapters/ch05-election/src/lab.rs`) do that",
        package: "ch05-election",
        target: "lab",
        checks: &[
            Check {
                name: "lab_5_1_lowest_sid_first_start",
                hint: "keep epoch and zxid first and reverse only the sid; the run must match tests/snapshots/lab_lowest_sid_first_start.snap",
            },
            Check {
                name: "lab_5_1_your_prediction_is_what_your_order_elects",
                hint: "this check runs with *your* lab_order: with ties going to the smaller sid, whose vote is the best one from the very first start?",
            },
        ],
        minutes: 30,
        teaches: "The sid only breaks ties between equally up-to-date servers; any rule works if all servers share it, but it changes who knows the best vote first, and so how fast the election ends.",
        show: &[
            "cargo run -p ch05-election -- --trace",
            "cargo run -p ch05-election -- --trace --step",
        ],
        // LAB 5.1 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "n1 leads. With the larger-sid rule each newcomer's own vote is the best one, so its first broadcast spreads the news. With the smaller-sid rule the best vote is n1's, and only n1 knows it: the newcomers' worse votes do not make it answer (they are in the same round), and each one restarts its notTimeout. Only when they go quiet for 400 ms does n1 re-send, and the election ends at 2.8 s, after all five have started, instead of 1.2 s.",
        // LAB 5.1 END
    },
    Lab {
        id: "5.2",
        title: "start them together",
        page: "ch05-election.md",
        asks: "predict the first start's leader when the five start 50 ms apart, and find the smallest gap from which on n3 still wins",
        package: "ch05-election",
        target: "lab",
        checks: &[
            Check {
                name: "lab_5_2_the_leader_when_they_start_50ms_apart",
                hint: "when do n4 and n5 start, compared with the moment n3 has a quorum plus finalizeWait?",
            },
            Check {
                name: "lab_5_2_the_smallest_gap_at_which_n3_still_wins",
                hint: "compare the gap with finalizeWait (200 ms) plus a message's latency (5 to 15 ms)",
            },
        ],
        minutes: 20,
        teaches: "finalizeWait is a bet: after a quorum agrees, a server waits 200 ms for a better vote. Servers that start within that window are heard; later ones join the existing leader.",
        show: &["cargo run -p ch05-election -- --trace", "cargo run -p ch05-election -- --trace --scenario restart"],
        // LAB 5.2 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "50 ms apart n5 leads: it starts before anyone's finalizeWait is over, and its vote is the best. n3 wins from a gap of 219 ms on: n3 has its quorum about 10 ms after it starts and decides 200 ms later; n4, started one gap after n3, must not reach anyone before that.",
        // LAB 5.2 END
    },
    Lab {
        id: "5.3",
        title: "no patience",
        page: "ch05-election.md",
        asks: "predict the leader without finalizeWait when the five start 100 ms apart, and the smallest gap from which on n3 wins then",
        package: "ch05-election",
        target: "lab",
        checks: &[
            Check {
                name: "lab_5_3_who_leads_without_finalize_wait",
                hint: "without finalizeWait a server decides the moment a quorum agrees: who has a quorum before n4 starts?",
            },
            Check {
                name: "lab_5_3_the_smallest_gap_without_finalize_wait",
                hint: "now only message latency (5 to 15 ms) stands between n3's quorum and n4's vote",
            },
        ],
        minutes: 20,
        teaches: "Without finalizeWait servers decide before the best vote has reached them; the election is faster and elects a less preferred leader, which matters when logs differ.",
        show: &["cargo run -p ch05-election -- --trace --scenario first-start"],
        // LAB 5.3 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "n3 (with the usual 200 ms, n5 would lead at 100 ms apart): n1, n2 and n3 decide for n3 at about 210 ms, before n4 (300 ms) and n5 (400 ms) exist; with finalizeWait they would have waited and switched to n5. Without it n3 wins from a gap of 14 ms on. Here every log is empty, so any leader is as good: the wait buys the *preferred* leader, not safety. Safety comes from the quorum rule: a leader is elected only by a quorum that compared logs, and every quorum holds every committed transaction.",
        // LAB 5.3 END
    },
    Lab {
        id: "5.4",
        title: "a latecomer and a dead leader",
        page: "ch05-election.md",
        asks: "predict what a server that restarts while the others still follow a dead leader does, at 5 s and at 30 s",
        package: "ch05-election",
        target: "lab",
        checks: &[
            Check {
                name: "lab_5_4_a_quorum_of_followers_is_not_enough",
                hint: "read `check_leader` in peer.rs: whose own vote must a latecomer hear before it follows?",
            },
            Check {
                name: "lab_5_4_after_the_followers_give_up_on_the_dead_leader",
                hint: "the followers notice after syncLimit (5 ticks of 2 s) and elect the best of those alive",
            },
        ],
        minutes: 25,
        teaches: "checkLeader: a quorum of FOLLOWING votes is not enough to follow someone; the leader itself must say it is LEADING, because it may have died since the others voted.",
        show: &["cargo run -p ch05-election -- --trace --scenario leader-crash"],
        // LAB 5.4 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "At 5 s n1 is LOOKING: n2, n3 and n4 tell it they follow n5, but n5 is dead and never says LEADING. At 30 s n4 leads and n1 follows it. If check_leader returned true for any leader, n1 would follow the dead n5 at once (the unit test `followers_alone_do_not_make_a_latecomer_follow` pins this) and sit there until its own syncLimit ran out.",
        // LAB 5.4 END
    },
    Lab {
        id: "5.5",
        title: "cutting servers off",
        page: "ch05-election.md",
        asks: "predict whether four servers elect with two cut off, and how many you can cut off from five and from four",
        package: "ch05-election",
        target: "lab",
        checks: &[
            Check {
                name: "lab_5_5_four_servers_two_cut_off",
                hint: "a quorum of four voters is three",
            },
            Check {
                name: "lab_5_5_the_most_you_can_cut_off",
                hint: "a leader needs a quorum on its side: more than half of all voters, not of those it can reach",
            },
        ],
        minutes: 15,
        teaches: "A majority quorum of 2f+1 servers survives f failures; a fourth server adds no fault tolerance, only one more machine that can fail.",
        show: &[
            "cargo run -p ch05-election -- --trace --scenario partition",
            "cargo run -p ch05-election -- --trace --servers 4 --scenario partition",
        ],
        // LAB 5.5 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Two of four cut off: nobody leads (false). From five you can cut off 2, from four only 1: that is why ensembles have an odd number of voters.",
        // LAB 5.5 END
    },
    // ---- Chapter 6: Zab ----
    Lab {
        id: "6.1",
        title: "commit on a quorum, not on everyone",
        page: "ch06-zab.md",
        asks: "write `can_commit` (`chapters/ch06-zab/src/lab.rs`): when are a proposal's ACKs enough for the leader to commit it?",
        package: "ch06-zab",
        target: "lab",
        checks: &[
            Check {
                name: "lab_6_1_a_slow_follower_does_not_hold_back_the_commit",
                hint: "the leader must not wait for every follower: how many servers does the course's \"过半\" ask for?",
            },
            Check {
                name: "lab_6_1_a_minority_never_commits",
                hint: "the leader's own ACK alone is not enough: a write committed on a minority is lost when another quorum elects a leader without it",
            },
            Check {
                name: "lab_6_1_five_voters_need_three_and_observers_never_count",
                hint: "count voters only, and let the ensemble's QuorumVerifier decide (it knows weights and observers)",
            },
        ],
        minutes: 20,
        teaches: "A write is committed once more than half the voters have it on disk: any later quorum shares a server with it, so every later leader has it. Waiting for everyone would let one slow disk stall every write; committing on fewer would lose writes a client was told succeeded.",
        show: &[
            "cargo run -p ch06-zab -- --trace --scenario write-to-follower",
            "cargo run -p ch06-zab -- --trace --scenario leader-crash-minority-ack",
        ],
        // LAB 6.1 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "`qv.contains_quorum(acks)`: more than half of the voters (weighted, for a hierarchical quorum), observers ignored. With 'every voter' the write-to-follower run commits only when slow n2's ACK arrives, 100 ms later, and one dead follower would stop every write. With 'any ACK' the cut-off leader of leader-crash-minority-ack commits /lost on its own ACK and answers c1; n1 and n2 then elect n2, which never had it, and the write c1 was told about is gone.",
        // LAB 6.1 END
    },
    Lab {
        id: "6.2",
        title: "the follower that promised too early",
        page: "ch06-zab.md",
        asks: "write the run (`hunt` in `chapters/ch06-zab/src/lab.rs`) in which followers that log a DIFF's txns only after UPTODATE (ZOOKEEPER-3911) lose a committed write, and correct followers keep it",
        package: "ch06-zab",
        target: "lab",
        checks: &[
            Check {
                name: "lab_6_2_the_hunted_write_was_committed_and_the_flaw_loses_it",
                hint: "a follower synced by DIFF must answer NEWLEADER (taking the new epoch as currentEpoch) and then crash before it reads UPTODATE; a lagging follower (lag_ms) gives you time; its next vote wins on the epoch",
            },
            Check {
                name: "lab_6_2_without_the_flaw_the_same_run_keeps_it",
                hint: "a correct follower logged the DIFF's txns before its ACK: its disk has them when it restarts, so the same run must keep the write",
            },
        ],
        minutes: 45,
        teaches: "Order of durable writes is part of the protocol: a follower may promise the new epoch (currentEpoch) only once the history that epoch stands for is in its log; otherwise its vote claims a history it does not have, and it can win an election and truncate a committed write away.",
        show: &[
            "cargo run -p ch06-zab -- --trace --scenario follower-lagging",
            "cargo run -p ch06-zab -- --trace --scenario lab-6-2 --flaw",
        ],
        // LAB 6.2 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "n1 (lagging 300 ms, missing /a) and n2 elect n2; n2 DIFFs /a to n1; n1 reads NEWLEADER at about 865 ms, takes currentEpoch 2 and answers; the flawed n1 has not logged /a. n1 crashes at 1000 ms, before it reads UPTODATE; n2 crashes at 1100 ms. n1 restarts with currentEpoch 2 and zxid 0x100000001, n3 starts with currentEpoch 1 and zxid 0x100000002: the vote compares epochs first, so n1 leads epoch 3 and tells n3 (and later n2) to TRUNC to 0x100000001. /a, committed in epoch 1 by n2 and n3, is gone. A correct n1 logged /a at NEWLEADER, 5 ms before it could crash, so it leads with /a and DIFFs it to the others. ZooKeeper 3.8 still sends the NEWLEADER ACK before the fsync completes (ZOOKEEPER-4643, ZOOKEEPER-4646); Keeper waits for the fsync, because chapter 7's disk faults lost a committed write in that window.",
        // LAB 6.2 END
    },
    // ---- Chapter 7: persistence ----
    Lab {
        id: "7.1",
        title: "ACK before fsync: find the path that loses a write",
        page: "ch07-persistence.md",
        asks: "with `--flaw ack-before-fsync`, let chapter 6's model checker find an order of events that loses a write the client was told succeeded, and put the scenario file it writes and the lost zxid in `lost_write` (`chapters/ch07-persistence/src/lab.rs`); the grader replays it with and without the flaw",
        package: "ch07-persistence",
        target: "lab",
        checks: &[
            Check {
                name: "lab_7_1_the_scenario_loses_the_named_write_with_the_flaw",
                hint: "run `cargo run --release -p ch06-zab -- --model-check --false-suspicions --flaw ack-before-fsync --walks 15 --walk-steps 60 --seed 1 --counterexample lost-write.txt` (other seeds if it finds nothing), paste the file's text, and name the create's zxid from the replayed trace (`xid=… zxid=… ok path=/a`)",
            },
            Check {
                name: "lab_7_1_without_the_flaw_the_same_steps_keep_the_write",
                hint: "your steps lose the write even without the flaw: a path found without `--flaw ack-before-fsync` is not this lab's",
            },
        ],
        minutes: 30,
        teaches: "A txn is durable when fsync returns, not when write() does. A server that ACKs (or counts its own vote) before the fsync lets a quorum 'have' a txn that only a page cache holds; a crash, a failed fsync or a power cut then loses a write a client was told succeeded. And a model checker's path is an answer anyone can replay, trace and step through.",
        show: &[
            "cargo run --release -p ch06-zab -- --model-check --false-suspicions --flaw ack-before-fsync --walks 15 --walk-steps 60 --seed 1 --counterexample lost-write.txt",
            "cargo run -p ch06-zab -- --trace --scenario checked --flaw ack-before-fsync --scenario-file lost-write.txt",
        ],
        // LAB 7.1 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "The reference path (15 walks of 60 steps, seed 29): n3 leads epoch 1; n1 gives up on it, and c1 moves to n3 and creates /a, 0x100000002. The flawed n2 ACKs the PROPOSAL as soon as it has written it, before the fsync, and crashes before the fsync: it comes back without /a (`the crash lost unsynced 0x100000002`). n1 and n2, both logged up to 0x100000001, elect n2, which leads epoch 2. Only then does n2's early ACK, sent before its crash, reach n3: with it n3 has a quorum, commits /a and tells c1 it succeeded, and the new leader does not have it. Without the flaw n2's ACK waits for its fsync, which the crash prevents, so the step that delivers it cannot be replayed (the grader's second check). Any path the checker finds with the flaw that loses an acknowledged create is right. forceSync=no in zoo.cfg is exactly this flaw, traded for speed.",
        // LAB 7.1 END
    },
    Lab {
        id: "7.2",
        title: "decode a log record by hand",
        page: "ch07-persistence.md",
        asks: "read the hexdump of the story's first log record and write down every field (`first_record` in `chapters/ch07-persistence/src/lab.rs`)",
        package: "ch07-persistence",
        target: "lab",
        checks: &[
            Check {
                name: "lab_7_2_the_file_header",
                hint: "16 bytes, big-endian: an int, an int, a long (ZKLG is the magic as ASCII)",
            },
            Check {
                name: "lab_7_2_the_record_frame",
                hint: "a long checksum, an int length, then the entry; the length counts the entry only, the checksum covers it only",
            },
            Check {
                name: "lab_7_2_the_txn_header_and_body",
                hint: "TxnHeader is clientId (long), cxid (int), zxid (long), time (long), type (int); negative types are session ops",
            },
        ],
        minutes: 25,
        teaches: "The log is plain big-endian jute, framed so that a reader can tell a record cut short by a crash (no 0x42 after it, or a length that runs past the data) from damage (a checksum that does not match).",
        show: &[
            "cargo run -p ch07-persistence -- --trace",
            "cargo run -p ch07-persistence -- --data-dir /tmp/dd && xxd /tmp/dd/version-2/log.1 | head -5",
        ],
        // LAB 7.2 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Header: magic 0x5a4b4c47 ('ZKLG'), version 2, dbid 0. Record: checksum 0x3a090745 (Adler-32 of the 36-byte entry), length 0x24 = 36. TxnHeader: clientId 0x100000000000001, cxid 0 (a createSession always has 0), zxid 0x1, time 0x18bcfe56801 = 1700000000001 ms, type 0xfffffff6 = -10 (createSession). Body: timeOut 0x7530 = 30000 ms. Then 0x42 ('B'), the end-of-record byte; the zeros after it are preallocation. A crash that cut the record after byte 0x30 would leave no 0x42: a torn tail, cut off at 16 by recovery.",
        // LAB 7.2 END
    },
    // ---- Chapter 8: the whole ensemble ----
    Lab {
        id: "8.1",
        title: "how many servers may die",
        page: "ch08-ensemble.md",
        asks: "write `may_die` in `tests/ensemble_lab/quorum.rs`: how many of N servers may crash with the rest still serving writes; four real servers then check your answer",
        package: "keeper",
        target: "ensemble_lab",
        checks: &[
            Check {
                name: "lab_8_1_the_quorum_rule_agrees_for_every_size_up_to_nine",
                hint: "the survivors must be *more than half* of all the servers in zoo.cfg, not of those still running: try 3, 4 and 5 on paper first",
            },
            Check {
                name: "lab_8_1_four_real_servers_agree",
                hint: "the message says after which death the real cluster did something else than you said: a leader you did not expect, or none where you expected one",
            },
        ],
        minutes: 20,
        teaches: "A quorum is a majority of the configured voters, so 2n+1 servers survive n crashes and 2n+2 survive no more: the fourth server adds a vote to every quorum and no safety. The dead still count in the denominator.",
        show: &[
            "cargo run -- cluster start --servers 4",
            "cargo run -- cluster kill N   (the leader, twice; `cargo run -- cluster status` after each)",
            "cargo test --test all cluster_size:: -- --nocapture",
        ],
        // LAB 8.1 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "`(servers - 1) / 2`: 3 → 1, 4 → 1, 5 → 2, 7 → 3. A quorum is `servers / 2 + 1` of the servers listed in zoo.cfg whether they run or not; the survivors never get to vote a smaller denominator in, or two halves of a partition could each elect a leader. So the course says to install an odd number: four servers cost one more machine and one more ACK per write for the same one failure. Ask what changes with observers (nothing: they never vote, `may_die` counts voters) and why 100 machines still get only 11 ZooKeepers (every write waits for a majority of ACKs).",
        // LAB 8.1 END
    },
    Lab {
        id: "8.2",
        title: "down, or without a quorum?",
        page: "ch08-ensemble.md",
        asks: "write `read_srvr` in `tests/ensemble_lab/leader.rs`: from a server's `srvr` answer (or none), say whether it leads, follows, observes, runs alone, runs without a quorum, or is not running; three real servers check it against `mntr`",
        package: "keeper",
        target: "ensemble_lab",
        checks: &[
            Check {
                name: "lab_8_2_every_role_of_a_running_cluster",
                hint: "print what `srvr` answers on each port (`cargo run -- cluster start`, then `echo srvr | nc 127.0.0.1 PORT`): which line names the role?",
            },
            Check {
                name: "lab_8_2_a_dead_server_and_one_without_a_quorum",
                hint: "a server with no leader still accepts the connection and answers `srvr`, with one sentence and no Mode line; a dead one answers nothing",
            },
            Check {
                name: "lab_8_2_a_standalone_server_and_an_observer",
                hint: "there are four modes a serving server can report; keep the word after `Mode: `",
            },
        ],
        minutes: 20,
        teaches: "\"Error contacting service. It is probably not running.\" means only that `srvr` gave no Mode line. The server may be down (connection refused: check the process and the log), or up and looking for a leader it cannot reach (it answers \"not currently serving requests\": check the other servers, the server.N lines, the 2888/3888 ports and the firewall).",
        show: &[
            "cargo run -- cluster start",
            "cargo run -- cluster kill N   (the leader, twice), then `cargo run -- cluster status`",
            "cargo test --test all ensemble_lab::reference_ -- --nocapture",
        ],
        // LAB 8.2 ANSWER (lab start puts the //> lines here)
        //> discuss: "",
        discuss: "Read the `Mode: ` line: leader, follower, observer or standalone. No answer at all is `NotRunning`; an answer without a Mode line (\"This ZooKeeper instance is not currently serving requests\") is `NoQuorum`. In the course's log the servers were up and `Cannot open channel to 2 at election address` said why they had no quorum: the firewall closed port 3888. `zkServer.sh status` cannot tell the two apart because it only looks for the Mode line; ask `ruok` (`imok` from a running server, even without a quorum) or `srvr` to tell. Discuss why a server without a quorum refuses even reads: its data may be stale beyond any bound, and a client told to reconnect elsewhere does better.",
        // LAB 8.2 END
    },
];
