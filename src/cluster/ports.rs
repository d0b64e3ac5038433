//! Choosing a new cluster's ports: the course's when they are free, any free ones otherwise.
//!
//! Across machines every server uses 2181 for clients, 2888 for the leader's quorum port and
//! 3888 for elections. On one machine they must differ, so server N takes the course's port
//! plus N-1 (2181/2888/3888, 2182/2889/3889, ...), the convention of ZooKeeper's own
//! single-host examples. If any of those is taken (another ZooKeeper, another cluster), or
//! when asked (`--free-ports`, as the tests do so that parallel runs never collide), every
//! port is the next free one below the kernel's ephemeral range after the machine's last pick,
//! where a server killed and restarted finds its ports free again ([`super::free_port`] says
//! why). A free port can still be taken by another program before the server binds it; the
//! server then fails to start and says so in its log.

use std::net::TcpListener;

use super::free_port;
use super::layout::{Member, HOST};

/// The course's three ports, for server 1.
const COURSE: [u16; 3] = [2181, 2888, 3888];

/// The ports of `count` servers: the course's when all are free and `free_only` is false.
pub fn choose(count: u64, free_only: bool) -> std::io::Result<Vec<Member>> {
    if !free_only {
        let course = course_ports(count);
        if course.iter().all(|m| ports(m).iter().all(|&p| is_free(p))) {
            return Ok(course);
        }
    }
    free_ports(count)
}

fn course_ports(count: u64) -> Vec<Member> {
    (1..=count)
        .map(|sid| {
            let offset = (sid - 1) as u16;
            Member {
                sid,
                client_port: COURSE[0] + offset,
                quorum_port: COURSE[1] + offset,
                election_port: COURSE[2] + offset,
            }
        })
        .collect()
}

/// Free ports below the ephemeral range ([`free_port`]). Every listener stays open until
/// all ports are chosen, so no two of them are the same.
fn free_ports(count: u64) -> std::io::Result<Vec<Member>> {
    let mut held = Vec::new();
    let mut next = || -> std::io::Result<u16> {
        let listener = free_port::listen_on_a_free_port(HOST)?;
        let port = listener.local_addr()?.port();
        held.push(listener);
        Ok(port)
    };
    (1..=count)
        .map(|sid| {
            Ok(Member {
                sid,
                client_port: next()?,
                quorum_port: next()?,
                election_port: next()?,
            })
        })
        .collect()
}

fn ports(m: &Member) -> [u16; 3] {
    [m.client_port, m.quorum_port, m.election_port]
}

fn is_free(port: u16) -> bool {
    TcpListener::bind((HOST, port)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_course_ports_count_up_from_2181_2888_3888() {
        let ports: Vec<[u16; 3]> = course_ports(3).iter().map(ports).collect();
        assert_eq!(
            ports,
            [[2181, 2888, 3888], [2182, 2889, 3889], [2183, 2890, 3890]]
        );
    }

    /// A cursor file of the test's own, in a scratch folder removed when dropped.
    struct OwnCursor(tempfile::TempDir);

    impl OwnCursor {
        fn new() -> OwnCursor {
            OwnCursor(tempfile::tempdir().expect("a scratch folder"))
        }

        /// A port picked with this cursor, its listener let go at once.
        fn pick(&self) -> u16 {
            let cursor = self.0.path().join("cursor");
            let listener = free_port::listen_on_a_free_port_after(HOST, &cursor).expect("a port");
            listener.local_addr().expect("its address").port()
        }
    }

    #[test]
    fn the_next_pick_starts_after_the_last_one_even_when_that_port_was_let_go() {
        let cursor = OwnCursor::new();
        let span = free_port::pickable().len();
        let first = usize::from(cursor.pick());
        let second = usize::from(cursor.pick());
        // The first free port after `first`, round the end of the range: a few ports on,
        // unless every one just after it is taken.
        let distance = (second + span - first) % span;
        assert!((1..=50).contains(&distance), "{first} then {second}");
    }

    #[test]
    fn pickers_on_several_threads_never_get_the_same_port() {
        let cursor = OwnCursor::new();
        let picks: Vec<u16> = std::thread::scope(|s| {
            let pickers: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..50).map(|_| cursor.pick()).collect::<Vec<_>>()))
                .collect();
            pickers
                .into_iter()
                .flat_map(|p| p.join().expect("a picker"))
                .collect()
        });
        let different: BTreeSet<u16> = picks.iter().copied().collect();
        assert_eq!(different.len(), picks.len(), "{picks:?}");
    }

    #[test]
    fn free_ports_are_all_different_and_below_the_ephemeral_range() {
        let members = choose(5, true).expect("free ports");
        let all: BTreeSet<u16> = members.iter().flat_map(ports).collect();
        assert_eq!(all.len(), 15);
        assert!(
            all.iter().all(|&p| free_port::pickable().contains(&p)),
            "{all:?}"
        );
    }
}
