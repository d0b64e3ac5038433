//! Exercise from the book's "Sessions and the wire": timeouts in ticks, expiry buckets, ACLs.
//!
//! Work each answer out with the rules of the chapter (pen and paper is enough), write it in
//! the constants below, then run
//!
//! ```text
//! cargo test -p ch03-sessions --test exercise_sessions
//! ```
//!
//! The tests compute the same things with the server's own code and compare.
//! (The answers are filled in; cover them up before you start.)

use ch03_sessions::acl::{self, check_acl, digest, perms, Acl};
use ch03_sessions::config::ZooCfg;
use ch03_sessions::session::{SessionTracker, STANDALONE_SID};

/// The course's zoo.cfg (tickTime=2000, no session-timeout keys).
const SEED_CFG: &str =
    "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/zk\nclientPort=2181\n";

/// Part 1. The timeout each client asks for, and what the server grants (ms).
const NEGOTIATED: [(i32, i32); 4] = [
    // kazoo asks for 10 s.
    (10_000, 10_000),
    // zkCli asks for 30 s.
    (30_000, 30_000),
    // An impatient client asks for 1 s.
    (1_000, 4_000),
    // A lazy client asks for a minute.
    (60_000, 40_000),
];

/// Part 2. kazoo's session (10 000 ms) last spoke at t = 12 345 ms on a server started at 0.
/// At which tick is it expired if it stays silent (the bucket it sits in)?
const EXPIRES_AT_MS: u64 = 24_000;

/// Part 3. `/tenant-a` has the ACL `digest:alice:<hash>:cdrwa` and `world:anyone:r`.
/// Bob has authenticated as `bob:pw`. May he ...
const BOB_MAY_READ: bool = true;
/// ... create a child of /tenant-a?
const BOB_MAY_CREATE_CHILD: bool = false;
/// ... and may an unauthenticated client read it?
const ANYONE_MAY_READ: bool = true;

#[test]
fn part1_timeouts_are_clamped_to_two_and_twenty_ticks() {
    let (cfg, _) = ZooCfg::parse(SEED_CFG).unwrap();
    for (asked, answer) in NEGOTIATED {
        assert_eq!(
            cfg.negotiate_session_timeout(asked),
            answer,
            "asked {asked} ms"
        );
    }
}

#[test]
fn part2_a_silent_session_expires_at_the_tick_after_its_deadline() {
    let mut tracker = SessionTracker::new(2000, STANDALONE_SID, 0);
    let session = tracker.create_session(10_000, 0);
    assert!(tracker.touch(session, 12_345));
    assert!(tracker.expire(EXPIRES_AT_MS - 1).is_empty(), "too early");
    assert_eq!(tracker.expire(EXPIRES_AT_MS), vec![session]);
}

#[test]
fn part3_one_matching_entry_is_enough_and_there_is_no_inheritance() {
    let tenant_a = vec![
        Acl::new(perms::ALL, "digest", &digest("alice:secret")),
        Acl::new(perms::READ, "world", "anyone"),
    ];
    let bob = [
        acl::id("ip", "127.0.0.1"),
        acl::id("digest", &digest("bob:pw")),
    ];
    let allowed = |perm, ids: &[acl::Id]| check_acl(&tenant_a, perm, ids).is_ok();
    assert_eq!(allowed(perms::READ, &bob), BOB_MAY_READ);
    assert_eq!(allowed(perms::CREATE, &bob), BOB_MAY_CREATE_CHILD);
    assert_eq!(allowed(perms::READ, &[]), ANYONE_MAY_READ);
}
