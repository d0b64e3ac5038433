//! The graders of the labs of the book's "Sessions and the wire": timeouts in ticks, expiry
//! buckets, ACLs (labs 3.1 to 3.3).
//!
//! Work each answer out with the rules of the chapter (pen and paper is enough), write it in
//! the function below its question, then run `cargo run -- lab check 3.1` (or
//! `cargo test -p ch03-sessions --test all exercise_sessions::lab_3_1_`). The tests compute the same
//! things with the server's own code and compare. The repository ships the answers; start a
//! lab with `cargo run -- lab start 3.1` to get the questions without them.

use ch03_sessions::acl::{self, check_acl, digest, perms, Acl};
use ch03_sessions::config::ZooCfg;
use ch03_sessions::session::{SessionTracker, STANDALONE_SID};

/// The course's zoo.cfg (tickTime=2000, no session-timeout keys).
const SEED_CFG: &str =
    "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/zk\nclientPort=2181\n";

// ---- Lab 3.1: timeouts, buckets and ACLs ----

/// What each client asks for (ms): kazoo 10 s, zkCli 30 s, an impatient client 1 s, a lazy
/// client a minute.
const ASKED_MS: [i32; 4] = [10_000, 30_000, 1_000, 60_000];

/// Part 1. What the course's server grants each of them (ms), in the same order.
fn granted_ms() -> [i32; 4] {
    // LAB 3.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.1 part 1: the four timeouts the server grants")
    [10_000, 30_000, 4_000, 40_000]
    // LAB 3.1 END
}

/// Part 2. kazoo's session (10 000 ms) last spoke at t = 12 345 ms on a server started at 0.
/// At which time (ms) is it expired if it stays silent (the bucket it sits in)?
fn expires_at_ms() -> u64 {
    // LAB 3.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.1 part 2: the time of the bucket that expires the session")
    24_000
    // LAB 3.1 END
}

/// Part 3. `/tenant-a` has the ACL `digest:alice:<hash>:cdrwa` and `world:anyone:r`. Bob has
/// authenticated as `bob:pw`. Answer `[may bob read it, may bob create a child of it, may an
/// unauthenticated client read it]`.
fn tenant_a_allows() -> [bool; 3] {
    // LAB 3.1 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.1 part 3: [bob reads, bob creates a child, anyone reads]")
    [true, false, true]
    // LAB 3.1 END
}

#[test]
fn lab_3_1_part1_timeouts_are_clamped_to_two_and_twenty_ticks() {
    let (cfg, _) = ZooCfg::parse(SEED_CFG).unwrap();
    let granted = ASKED_MS.map(|asked| cfg.negotiate_session_timeout(asked));
    assert_eq!(granted_ms(), granted, "asked {ASKED_MS:?}");
}

#[test]
fn lab_3_1_part2_a_silent_session_expires_at_the_tick_after_its_deadline() {
    let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
    let session = tracker.create_session(10_000, 0);
    assert!(tracker.touch(session, 12_345));
    let answer = expires_at_ms();
    assert!(tracker.expire(answer - 1).is_empty(), "too early");
    assert_eq!(tracker.expire(answer), vec![session], "too late");
}

#[test]
fn lab_3_1_part3_one_matching_entry_is_enough_and_there_is_no_inheritance() {
    let tenant_a = vec![
        Acl::new(perms::ALL, "digest", &digest("alice:secret")),
        Acl::new(perms::READ, "world", "anyone"),
    ];
    let bob = [
        acl::id("ip", "127.0.0.1"),
        acl::id("digest", &digest("bob:pw")),
    ];
    let allowed = |perm, ids: &[acl::Id]| check_acl(&tenant_a, perm, ids).is_ok();
    let truth = [
        allowed(perms::READ, &bob),
        allowed(perms::CREATE, &bob),
        allowed(perms::READ, &[]),
    ];
    assert_eq!(
        tenant_a_allows(),
        truth,
        "[bob reads, bob creates, anyone reads]"
    );
}

// ---- Lab 3.2: watch a server disappear ----

/// zkCli asked for 30 s and was granted it. Its last ping reached the server at
/// t = 41 000 ms (the server started at 0, tickTime 2000); then it was killed with `kill -9`.
/// At which time (ms) does the server expire the session, delete its ephemeral node and fire
/// the other client's watch?
fn killed_zkcli_expires_at_ms() -> u64 {
    // LAB 3.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.2: when the killed zkCli's session expires")
    72_000
    // LAB 3.2 END
}

/// And what is the longest a session granted 30 s can stay silent on this server and still be
/// alive (ms)? (Its last ping can fall anywhere in a tick.)
fn longest_silence_ms() -> u64 {
    // LAB 3.2 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.2: the longest silence a 30 s session survives")
    31_999
    // LAB 3.2 END
}

#[test]
fn lab_3_2_the_killed_clients_session_expires_at_its_bucket() {
    let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
    let session = tracker.create_session(30_000, 0);
    assert!(tracker.touch(session, 41_000));
    let answer = killed_zkcli_expires_at_ms();
    assert!(tracker.expire(answer - 1).is_empty(), "too early");
    assert_eq!(tracker.expire(answer), vec![session], "too late");
}

#[test]
fn lab_3_2_the_longest_silence_a_session_survives() {
    // Try a last ping at every millisecond of one tick, and find the longest silence.
    let longest = (40_000..42_000)
        .map(|last_ping| {
            let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
            let session = tracker.create_session(30_000, 0);
            assert!(tracker.touch(session, last_ping));
            tracker.expiry_of(session).unwrap() - 1 - last_ping
        })
        .max()
        .unwrap();
    assert_eq!(longest_silence_ms(), longest);
}

// ---- Lab 3.3: who is asking? ----

/// Alice (`addauth digest alice:secret`) owns `/alice` and wants Bob (`bob:pw`) to read it and
/// nothing more, and nobody else to see it at all. Write the ACL she sets: the list a
/// `setAcl /alice digest:...` command would carry (use `Acl::new` and `digest`).
fn alice_shares_with_bob() -> Vec<Acl> {
    // LAB 3.3 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.3: the ACL of /alice")
    vec![
        Acl::new(perms::ALL, "digest", &digest("alice:secret")),
        Acl::new(perms::READ, "digest", &digest("bob:pw")),
    ]
    // LAB 3.3 END
}

/// And the error code Bob's `setData /alice` gets.
fn bobs_set_data_error_code() -> i32 {
    // LAB 3.3 ANSWER (lab start puts the //> lines here)
    //> todo!("lab 3.3: the code of Bob's failed setData")
    -102
    // LAB 3.3 END
}

fn holds(user_password: &str) -> Vec<acl::Id> {
    vec![
        acl::id("ip", "127.0.0.1"),
        acl::id("digest", &digest(user_password)),
    ]
}

#[test]
fn lab_3_3_alice_may_do_everything() {
    let acl = alice_shares_with_bob();
    let alice = holds("alice:secret");
    for (name, perm) in [
        ("READ", perms::READ),
        ("WRITE", perms::WRITE),
        ("CREATE", perms::CREATE),
        ("DELETE", perms::DELETE),
        ("ADMIN", perms::ADMIN),
    ] {
        assert!(
            check_acl(&acl, perm, &alice).is_ok(),
            "alice may not {name}"
        );
    }
}

#[test]
fn lab_3_3_bob_may_read_and_nothing_else() {
    let acl = alice_shares_with_bob();
    let bob = holds("bob:pw");
    assert!(
        check_acl(&acl, perms::READ, &bob).is_ok(),
        "bob may not read"
    );
    for (name, perm) in [
        ("WRITE", perms::WRITE),
        ("CREATE", perms::CREATE),
        ("DELETE", perms::DELETE),
        ("ADMIN", perms::ADMIN),
    ] {
        assert!(check_acl(&acl, perm, &bob).is_err(), "bob may {name}");
    }
    let error = check_acl(&acl, perms::WRITE, &bob).unwrap_err().code();
    assert_eq!(bobs_set_data_error_code(), error, "bob's setData");
}

#[test]
fn lab_3_3_nobody_else_may_read() {
    let acl = alice_shares_with_bob();
    let stranger = [acl::id("ip", "127.0.0.1")];
    assert!(
        check_acl(&acl, perms::READ, &stranger).is_err(),
        "a stranger may read"
    );
    let wrong_password = holds("bob:guess");
    assert!(
        check_acl(&acl, perms::READ, &wrong_password).is_err(),
        "bob's name without his password is enough"
    );
}
