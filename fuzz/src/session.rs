//! A fuzz input as a client session: frames on a few connections, disconnects, and time
//! passing. Each record starts with a tag byte, whose low two bits name the connection
//! (one of [`SLOTS`]) and whose next bits the kind:
//!
//! - `0`: a frame, then its payload's length (two bytes, big-endian) and the payload, as
//!   the server's frame reader hands it on (without the four-byte length in front);
//! - `1`: the connection is gone (the client closed it, or the network did);
//! - `2`: time passes, one more byte times 50 ms, and the server's tick runs.
//!
//! A record cut short ends the input. A connection's first frame is its handshake, as on
//! the wire; a frame the server would close the connection for closes it here too, and the
//! slot's next frame opens a new one.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ch03_sessions::pipeline::{ConnId, Input};
use ch03_sessions::server::to_input;

/// How many connections a session may have open at once.
pub const SLOTS: usize = 4;

/// One record of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A frame's payload on connection `slot`.
    Frame { slot: usize, payload: &'a [u8] },
    /// Connection `slot` is gone.
    Disconnect { slot: usize },
    /// Time passes, in steps of 50 ms.
    Wait { steps: u8 },
}

/// The records of `bytes`, up to the first one cut short.
pub fn events(mut bytes: &[u8]) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    while let Some((&tag, rest)) = bytes.split_first() {
        let slot = usize::from(tag & 3);
        let (event, rest) = match (tag >> 2) % 3 {
            0 => {
                let Some((len, rest)) = rest.split_first_chunk::<2>() else {
                    break;
                };
                let len = usize::from(u16::from_be_bytes(*len));
                let Some((payload, rest)) = rest.split_at_checked(len) else {
                    break;
                };
                (Event::Frame { slot, payload }, rest)
            }
            1 => (Event::Disconnect { slot }, rest),
            _ => {
                let Some((&steps, rest)) = rest.split_first() else {
                    break;
                };
                (Event::Wait { steps }, rest)
            }
        };
        out.push(event);
        bytes = rest;
    }
    out
}

/// Writes `events` in the format [`events`] reads (for the seed corpus).
pub fn encode(events: &[Event<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        match *event {
            Event::Frame { slot, payload } => {
                out.push(slot as u8 & 3);
                let len = u16::try_from(payload.len()).expect("a seed frame under 64 KiB");
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(payload);
            }
            Event::Disconnect { slot } => out.push(1 << 2 | slot as u8 & 3),
            Event::Wait { steps } => out.extend_from_slice(&[2 << 2, steps]),
        }
    }
    out
}

/// The connections as a server's driver keeps them: which are open, which have shaken
/// hands, and the clock.
#[derive(Debug)]
pub struct Connections {
    open: [Option<(ConnId, bool)>; SLOTS],
    next_conn: u64,
    now_ms: u64,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            open: [None; SLOTS],
            next_conn: 1,
            now_ms: 1_000,
        }
    }
}

impl Connections {
    /// The server's clock.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// What the driver hands the pipeline for `event`.
    pub fn inputs(&mut self, event: Event<'_>) -> Vec<Input> {
        self.now_ms += 1;
        match event {
            Event::Frame { slot, payload } => {
                let (conn, mut handshaken) = match self.open[slot] {
                    Some(open) => open,
                    None => {
                        let conn = ConnId(self.next_conn);
                        self.next_conn += 1;
                        (conn, false)
                    }
                };
                let remote = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);
                match to_input(conn, remote, payload, &mut handshaken) {
                    Some(input) => {
                        self.open[slot] = Some((conn, handshaken));
                        vec![input]
                    }
                    // The driver closes the connection; the pipeline hears of it if it had
                    // heard of the connection at all.
                    None => self.close(slot),
                }
            }
            Event::Disconnect { slot } => self.close(slot),
            Event::Wait { steps } => {
                self.now_ms += u64::from(steps) * 50;
                vec![Input::Tick]
            }
        }
    }

    /// Every open connection closed, as at the end of a session.
    pub fn close_all(&mut self) -> Vec<Input> {
        (0..SLOTS).flat_map(|slot| self.close(slot)).collect()
    }

    fn close(&mut self, slot: usize) -> Vec<Input> {
        match self.open[slot].take() {
            Some((conn, _)) => vec![Input::Disconnected { conn }],
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_reads_back_as_written_and_a_cut_record_ends_it() {
        let written = [
            Event::Frame {
                slot: 2,
                payload: b"hello",
            },
            Event::Disconnect { slot: 3 },
            Event::Wait { steps: 7 },
            Event::Frame {
                slot: 0,
                payload: b"",
            },
        ];
        let bytes = encode(&written);
        assert_eq!(events(&bytes), written);
        assert_eq!(events(&bytes[..bytes.len() - 1]), written[..3]);
    }

    #[test]
    fn a_frame_the_server_refuses_closes_its_connection_and_the_next_opens_another() {
        let mut connections = Connections::default();
        let garbage = Event::Frame {
            slot: 1,
            payload: b"not a handshake",
        };
        assert_eq!(connections.inputs(garbage), Vec::new(), "never heard of");
        let connect = ch03_sessions::jute::Record::to_bytes(
            &ch03_sessions::proto::ConnectRequest::new_session(30_000),
        );
        let first = connections.inputs(Event::Frame {
            slot: 1,
            payload: &connect,
        });
        let Some(Input::Connect { conn, .. }) = first.first() else {
            panic!("a handshake: {first:?}");
        };
        let conn = *conn;
        let closed = connections.inputs(Event::Frame {
            slot: 1,
            payload: &[0; 3],
        });
        assert_eq!(closed, vec![Input::Disconnected { conn }]);
        let again = connections.inputs(Event::Frame {
            slot: 1,
            payload: &connect,
        });
        assert!(matches!(again.first(), Some(Input::Connect { conn: c, .. }) if *c != conn));
    }
}
