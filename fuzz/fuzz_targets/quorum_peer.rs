//! A quorum peer, with its disk, talked to by two other servers that say anything: any votes,
//! and any packets on its Zab connections, in any order, with connections closing and its
//! timers firing whenever the input says. Whatever it hears, it must not panic: a packet out
//! of order is caught by the connection's guard (`tcp::guard`), which closes the connection as
//! the TCP driver does, and anything else is the core's to survive.
//!
//! The input is a list of moves, each a tag byte and what it needs:
//! - `0`: a vote from n2 or n3, its fields from five bytes;
//! - `1`: bytes on a Zab connection (two bytes of length, then the bytes), read as the TCP
//!   driver reads them;
//! - `2`: the other end closes a Zab connection; `3`: a timer of the peer's fires;
//!   `4`: time passes (for the disk's fsync).
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use ch01_znode::{Epoch, Sid, Zxid};
use ch04_paxos::sim::{Input, Output};
use ch05_election::notification::Notification;
use ch05_election::quorum::QuorumMaj;
use ch05_election::vote::{Round, ServerState, Vote};
use ch06_zab::message::Link;
use ch06_zab::packet::QuorumReader;
use ch06_zab::peer::Config;
use ch06_zab::sim::{ServerNode, SimTimer, Wire};
use ch06_zab::tcp::guard::Guard;
use ch06_zab::wire::{read_message, Received};
use libfuzzer_sys::fuzz_target;

const ME: u64 = 1;

/// The message at the front of `bytes`, as the TCP driver reads it (`None`: not a message).
fn read(bytes: &[u8]) -> Option<Received> {
    let mut reader = QuorumReader::new(bytes);
    let future = pin!(read_message(&mut reader, false));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(Some(received))) => Some(received),
        _ => None,
    }
}

/// One Zab connection of the peer's, as its driver keeps it.
struct Conn {
    peer: u64,
    guard: Guard,
    next_seq: u64,
}

struct World {
    node: ServerNode,
    now: u64,
    timers: BTreeSet<SimTimer>,
    conns: BTreeMap<Link, Conn>,
    accepted: u32,
}

impl World {
    fn step(&mut self, input: Input<Wire, SimTimer>) {
        self.node.set_clock(self.now);
        for output in self.node.step(input) {
            match output {
                Output::SetTimer { timer, .. } | Output::SetRandomTimer { timer, .. } => {
                    self.timers.insert(timer);
                }
                Output::CancelTimer(timer) => {
                    self.timers.remove(&timer);
                }
                Output::Send {
                    to,
                    msg: Wire::Zab { link, msg, .. },
                } => {
                    let end = if link.learner == Sid(ME) {
                        Guard::learner()
                    } else {
                        Guard::leader()
                    };
                    let conn = self.conns.entry(link).or_insert(Conn {
                        peer: to,
                        guard: end,
                        next_seq: 1,
                    });
                    conn.guard.sent(&msg);
                }
                Output::Send {
                    msg: Wire::ZabClosed { link } | Wire::ZabRefused { link },
                    ..
                } => {
                    self.conns.remove(&link);
                }
                _ => {}
            }
        }
    }

    fn vote(&mut self, b: &[u8; 5]) {
        let state = [
            ServerState::Looking,
            ServerState::Following,
            ServerState::Leading,
        ][usize::from(b[0] % 3)];
        let from = 2 + u64::from(b[0] >> 7);
        let vote = Vote {
            leader: Sid(1 + u64::from(b[1] % 3)),
            zxid: Zxid(i64::from(b[2] >> 4) << 32 | i64::from(b[2] & 15)),
            peer_epoch: Epoch(i64::from(b[3] % 4)),
        };
        let n = Notification::new(state, vote, Round(i64::from(b[4] % 4)));
        self.step(Input::Receive {
            from,
            msg: Wire::Election(n),
        });
    }

    fn packet(&mut self, pick: u8, bytes: &[u8]) {
        let Some(Received { msg, learner }) = read(bytes) else {
            return;
        };
        // An existing connection, or one a learner opens to us with its FOLLOWERINFO.
        let link = match (self.conns.keys().nth(usize::from(pick)), learner) {
            (Some(link), _) if pick < 128 => *link,
            (_, Some(info)) if [2, 3].contains(&info.sid.0) => {
                self.accepted += 1;
                let link = Link {
                    learner: info.sid,
                    n: self.accepted,
                };
                let conn = Conn {
                    peer: info.sid.0,
                    guard: Guard::leader(),
                    next_seq: 1,
                };
                self.conns.insert(link, conn);
                link
            }
            _ => return,
        };
        let conn = self.conns.get_mut(&link).expect("just found");
        if conn.guard.received(&msg).is_err() {
            // The driver drops the connection, and the core hears that it closed.
            self.conns.remove(&link);
            self.step(Input::Receive {
                from: link.learner.0,
                msg: Wire::ZabClosed { link },
            });
            return;
        }
        let seq = conn.next_seq;
        conn.next_seq += 1;
        let from = conn.peer;
        self.step(Input::Receive {
            from,
            msg: Wire::Zab { link, seq, msg },
        });
    }

    fn close(&mut self, pick: u8) {
        let Some(link) = picked(self.conns.keys(), pick) else {
            return;
        };
        let conn = self.conns.remove(&link).expect("just found");
        self.step(Input::Receive {
            from: conn.peer,
            msg: Wire::ZabClosed { link },
        });
    }

    fn fire(&mut self, pick: u8) {
        let Some(timer) = picked(self.timers.iter(), pick) else {
            return;
        };
        self.timers.remove(&timer);
        self.step(Input::Timeout(timer));
    }
}

/// The item `pick` names, counting round: `None` when there are none.
fn picked<'a, T: Copy + 'a>(items: impl ExactSizeIterator<Item = &'a T>, pick: u8) -> Option<T> {
    let len = items.len();
    items.copied().nth(usize::from(pick) % len.max(1))
}

fuzz_target!(|bytes: &[u8]| {
    let qv = Arc::new(QuorumMaj::new([Sid(1), Sid(2), Sid(3)], []));
    let mut world = World {
        node: ServerNode::new(Sid(ME), Config::new(qv), 5),
        now: 1_000,
        timers: BTreeSet::new(),
        conns: BTreeMap::new(),
        accepted: 0,
    };
    world.step(Input::Start);
    let mut rest = bytes;
    while let Some((&tag, after)) = rest.split_first() {
        rest = after;
        world.now += 1;
        match tag % 5 {
            0 => {
                let Some((fields, after)) = rest.split_first_chunk::<5>() else {
                    break;
                };
                rest = after;
                world.vote(fields);
            }
            1 => {
                let Some((&[pick, hi, lo], after)) = rest.split_first_chunk::<3>() else {
                    break;
                };
                let len = usize::from(u16::from_be_bytes([hi, lo])).min(after.len());
                let (packet, after) = after.split_at(len);
                rest = after;
                world.packet(pick, packet);
            }
            2 => {
                let Some((&pick, after)) = rest.split_first() else {
                    break;
                };
                rest = after;
                world.close(pick);
            }
            3 => {
                let Some((&pick, after)) = rest.split_first() else {
                    break;
                };
                rest = after;
                world.fire(pick);
            }
            _ => world.now += 100,
        }
    }
});
