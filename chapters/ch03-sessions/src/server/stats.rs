//! Counters for the four-letter words (upstream `ServerStats` and `ServerCnxn`'s counters).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use ch01_znode::{SessionId, Zxid};

use super::core::now_ms;
use super::SESSIONLESS_CNXN_TIMEOUT;
use crate::fourlw::{ConnectionInfo, Latency, SessionInfo};

/// Min/avg/max of request latencies, ms.
#[derive(Clone, Copy, Debug, Default)]
pub struct LatencyStats {
    min: Option<u64>,
    max: u64,
    total: u64,
    count: u64,
}

impl LatencyStats {
    /// Records one request's latency.
    pub fn add(&mut self, ms: u64) {
        self.min = Some(self.min.map_or(ms, |m| m.min(ms)));
        self.max = self.max.max(ms);
        self.total += ms;
        self.count += 1;
    }

    /// As `srvr` prints it (0/0.0/0 before any request); the mean rounded to four decimals,
    /// as upstream's `AvgMinMaxCounter.getAvg` does (`46.1667`).
    pub fn summary(&self) -> Latency {
        Latency {
            min: self.min.unwrap_or(0),
            avg: if self.count == 0 {
                0.0
            } else {
                (self.total as f64 * 10_000.0 / self.count as f64).round() / 10_000.0
            },
            max: self.max,
        }
    }
}

/// What a client asked that a reply will answer: the handshake, or a request by its xid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// The ConnectRequest (upstream times its `createSession` like any request).
    Handshake,
    /// A request, by its xid (a ping's is -2, every time).
    Request(i32),
}

/// The questions a connection is waiting on, oldest first, with when each arrived.
///
/// A request's latency, as `srvr`, `stat` and `cons` report it, runs from its arrival to its
/// reply (upstream's `ServerStats.updateLatency` takes the request's `createTime`): for a
/// write in an ensemble that is the forward, the proposal, a quorum's fsyncs and the commit,
/// not only the time a core spent on it. A server answers one session's requests in the
/// order they came, so the reply to a question also settles every older one still here
/// (there are none, unless a request went unanswered).
#[derive(Debug, Default)]
pub struct Awaiting {
    queue: VecDeque<(Asked, Instant)>,
}

impl Awaiting {
    /// `asked` arrived at `at`.
    pub fn arrived(&mut self, asked: Asked, at: Instant) {
        self.queue.push_back((asked, at));
    }

    /// A reply to `asked` goes out: when it arrived, if it is waited on (a watch event, say,
    /// answers nothing).
    pub fn answered(&mut self, asked: Asked) -> Option<Instant> {
        let i = self.queue.iter().position(|(a, _)| *a == asked)?;
        self.queue.drain(..=i).next_back().map(|(_, at)| at)
    }
}

/// One connection's counters.
#[derive(Clone, Debug)]
pub struct ConnStats {
    /// The client's address.
    pub remote: SocketAddr,
    /// Packets from the client.
    pub received: u64,
    /// Packets to the client.
    pub sent: u64,
    /// The session, once the handshake is answered: id, timeout, established at.
    pub session: Option<(SessionId, i32, u64)>,
    /// Upstream's short name of the last operation.
    pub last_op: &'static str,
    /// The last client xid.
    pub last_cxid: i64,
    /// The last zxid sent.
    pub last_zxid: Zxid,
    /// When the last reply went out.
    pub last_response_ms: u64,
    /// Latencies on this connection.
    pub latency: LatencyStats,
    /// The last latency.
    pub last_latency: u64,
    /// When the connection was accepted, ms since the epoch.
    pub opened_ms: u64,
}

impl ConnStats {
    /// A connection that has said nothing yet.
    pub fn new(remote: SocketAddr) -> ConnStats {
        ConnStats {
            remote,
            received: 0,
            sent: 0,
            session: None,
            last_op: "NA",
            last_cxid: -1,
            last_zxid: Zxid::ZERO,
            last_response_ms: 0,
            latency: LatencyStats::default(),
            last_latency: 0,
            opened_ms: now_ms(),
        }
    }

    /// `crst` (upstream `ServerCnxn.resetStats`): the counters start again; the session stays.
    pub fn reset(&mut self) {
        *self = ConnStats {
            session: self.session,
            last_zxid: Zxid(-1),
            opened_ms: self.opened_ms,
            ..ConnStats::new(self.remote)
        };
    }

    /// As `cons`, `stat` and `dump` list it; `session_expiry` is when its session's bucket
    /// falls due, if it has one.
    pub fn info(&self, session_expiry: Option<u64>) -> ConnectionInfo {
        ConnectionInfo {
            expires_ms: session_expiry
                .unwrap_or(self.opened_ms + SESSIONLESS_CNXN_TIMEOUT.as_millis() as u64),
            remote: self.remote,
            interest_ops: u8::from(self.session.is_some()),
            queued: 0,
            received: self.received,
            sent: self.sent,
            session: self
                .session
                .map(|(id, timeout_ms, established_ms)| SessionInfo {
                    id,
                    last_op: self.last_op.to_string(),
                    established_ms,
                    timeout_ms,
                    last_cxid: self.last_cxid,
                    last_zxid: self.last_zxid,
                    last_response_ms: self.last_response_ms,
                    last_latency: self.last_latency,
                    latency: self.latency.summary(),
                }),
        }
    }
}

/// Upstream's four-letter name of an opcode, as `cons` shows it (`Request.op2String` style).
pub fn op_name(op: i32) -> &'static str {
    match op {
        1 | 15 | 19 | 21 => "CREA",
        2 => "DELE",
        3 => "EXIS",
        4 => "GETD",
        5 => "SETD",
        6 => "GETA",
        7 => "SETA",
        8 | 12 => "GETC",
        9 => "SYNC",
        11 => "PING",
        13 => "CHEC",
        14 | 22 => "MULT",
        100 => "AUTH",
        101 | 105 => "SETW",
        -11 => "CLOS",
        _ => "UNKN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_reply_settles_its_question_and_the_older_ones() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut awaiting = Awaiting::default();
        awaiting.arrived(Asked::Handshake, at(0));
        awaiting.arrived(Asked::Request(1), at(5));
        awaiting.arrived(Asked::Request(-2), at(7));
        awaiting.arrived(Asked::Request(2), at(9));
        awaiting.arrived(Asked::Request(-2), at(11));
        assert_eq!(awaiting.answered(Asked::Handshake), Some(at(0)));
        // A watch event answers nothing and settles nothing.
        assert_eq!(awaiting.answered(Asked::Request(-1)), None);
        assert_eq!(awaiting.answered(Asked::Request(1)), Some(at(5)));
        // Pings share an xid: the oldest one is answered first.
        assert_eq!(awaiting.answered(Asked::Request(-2)), Some(at(7)));
        // Request 2 is answered: nothing older than it is left.
        assert_eq!(awaiting.answered(Asked::Request(2)), Some(at(9)));
        assert_eq!(awaiting.answered(Asked::Request(-2)), Some(at(11)));
        assert_eq!(awaiting.answered(Asked::Request(-2)), None);
    }
}
