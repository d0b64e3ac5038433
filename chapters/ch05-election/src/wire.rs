//! The election port's bytes: the connection handshake and the length framing.
//!
//! A connection opens with the initiator's *initial message*: protocol
//! version `-65536`, its sid, and its own election address as `host:port`.
//! After that every message is a frame: a 4-byte big-endian length (1 to
//! 512 KiB), then the payload. A payload of 28 bytes or more is a
//! notification ([`Notification::decode`](crate::notification::Notification::decode));
//! this chapter's stand-in heartbeat adds 12-byte payloads of its own
//! ([`standin::Message::decode`](crate::standin::Message::decode)).
//!
//! Upstream: `QuorumCnxManager.InitialMessage`, `startConnection`,
//! `handleConnection`, `RecvWorker.run`.

use crate::notification::DecodeError;
use ch01_znode::Sid;
use std::fmt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version sent first on a connection (`PROTOCOL_VERSION_V1`).
pub const PROTOCOL_VERSION: i64 = -65536;
/// The multi-address version (`PROTOCOL_VERSION_V2`), also accepted.
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// The longest address string an initial message may carry (`maxBuffer`).
pub const MAX_ADDRESS_LEN: i32 = 2048;
/// The largest frame (`PACKETMAXSIZE`, 512 KiB).
pub const PACKET_MAX_SIZE: i32 = 512 * 1024;

/// What can be wrong with a peer's bytes. None of it is fatal to the server:
/// the connection (or just the message) is dropped and traced.
#[derive(Debug)]
pub enum WireError {
    /// The socket failed or closed.
    Io(std::io::Error),
    /// The first long is negative but not a version we know.
    UnknownProtocol(i64),
    /// The address length is outside 1..=2048.
    BadAddressLength(i32),
    /// The address is not UTF-8.
    BadAddress,
    /// A frame length outside 1..=512 KiB.
    BadFrameLength(i32),
    /// A frame that is not a message.
    BadMessage(DecodeError),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Io(e) => write!(f, "connection: {e}"),
            WireError::UnknownProtocol(v) => write!(f, "unknown protocol version {v}"),
            WireError::BadAddressLength(l) => write!(f, "initial message: address length {l}"),
            WireError::BadAddress => f.write_str("initial message: address is not UTF-8"),
            WireError::BadFrameLength(l) => write!(f, "received packet with invalid length {l}"),
            WireError::BadMessage(e) => e.fmt(f),
        }
    }
}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        WireError::Io(e)
    }
}

/// Who opened a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialMessage {
    /// The initiator's sid.
    pub sid: Sid,
    /// Its election address (`host:port`), empty from a pre-3.5 peer.
    pub addr: String,
}

impl InitialMessage {
    /// The bytes `startConnection` writes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.addr.len());
        out.extend(PROTOCOL_VERSION.to_be_bytes());
        out.extend((self.sid.0 as i64).to_be_bytes());
        out.extend((self.addr.len() as i32).to_be_bytes());
        out.extend(self.addr.as_bytes());
        out
    }

    /// Read one from a fresh connection, as `handleConnection` does.
    pub async fn read(r: &mut (impl AsyncRead + Unpin)) -> Result<InitialMessage, WireError> {
        match r.read_i64().await? {
            // Before 3.5 the first long was the sid itself, and nothing followed.
            sid if sid >= 0 => Ok(InitialMessage {
                sid: Sid(sid as u64),
                addr: String::new(),
            }),
            PROTOCOL_VERSION | PROTOCOL_VERSION_V2 => {
                let sid = Sid(r.read_i64().await? as u64);
                let len = r.read_i32().await?;
                if !(1..=MAX_ADDRESS_LEN).contains(&len) {
                    return Err(WireError::BadAddressLength(len));
                }
                let mut addr = vec![0; len as usize];
                r.read_exact(&mut addr).await?;
                let addr = String::from_utf8(addr).map_err(|_| WireError::BadAddress)?;
                Ok(InitialMessage { sid, addr })
            }
            other => Err(WireError::UnknownProtocol(other)),
        }
    }
}

/// Write one frame: length, then payload.
pub async fn write_frame(
    w: &mut (impl AsyncWrite + Unpin),
    payload: &[u8],
) -> Result<(), WireError> {
    w.write_i32(payload.len() as i32).await?;
    w.write_all(payload).await?;
    w.flush().await?;
    Ok(())
}

/// Read one frame's payload, rejecting impossible lengths before allocating.
pub async fn read_frame(r: &mut (impl AsyncRead + Unpin)) -> Result<Vec<u8>, WireError> {
    let len = r.read_i32().await?;
    if len <= 0 || len > PACKET_MAX_SIZE {
        return Err(WireError::BadFrameLength(len));
    }
    let mut payload = vec![0; len as usize];
    r.read_exact(&mut payload).await?;
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_initial(bytes: &[u8]) -> Result<InitialMessage, WireError> {
        InitialMessage::read(&mut &bytes[..]).await
    }

    /// version -65536, sid, address length, address. (QuorumCnxManager.startConnection)
    #[tokio::test]
    async fn the_initial_message_is_version_sid_and_address() {
        let m = InitialMessage {
            sid: Sid(3),
            addr: "127.0.0.1:3888".into(),
        };
        let bytes = m.encode();
        assert_eq!(bytes[..8], (-65536i64).to_be_bytes());
        assert_eq!(bytes[8..16], 3i64.to_be_bytes());
        assert_eq!(bytes[16..20], 14i32.to_be_bytes());
        assert_eq!(&bytes[20..], b"127.0.0.1:3888");
        assert_eq!(read_initial(&bytes).await.unwrap(), m);
    }

    /// A non-negative first long is a pre-3.5 peer's sid. (handleConnection)
    #[tokio::test]
    async fn a_legacy_peer_sends_only_its_sid() {
        let m = read_initial(&7i64.to_be_bytes()).await.unwrap();
        assert_eq!((m.sid, m.addr.as_str()), (Sid(7), ""));
    }

    /// Unknown versions and impossible address lengths are refused.
    /// (InitialMessage.parse: InitialMessageException)
    #[tokio::test]
    async fn a_malformed_initial_message_is_refused() {
        let e = read_initial(&(-5i64).to_be_bytes()).await.unwrap_err();
        assert!(matches!(e, WireError::UnknownProtocol(-5)), "{e}");
        let mut bytes = InitialMessage {
            sid: Sid(1),
            addr: "x".into(),
        }
        .encode();
        bytes[16..20].copy_from_slice(&4096i32.to_be_bytes());
        let e = read_initial(&bytes).await.unwrap_err();
        assert!(matches!(e, WireError::BadAddressLength(4096)), "{e}");
        let e = read_initial(&bytes[..12]).await.unwrap_err();
        assert!(matches!(e, WireError::Io(_)), "{e}");
    }

    /// Frames of length <= 0 or > 512 KiB are refused. (RecvWorker.run)
    #[tokio::test]
    async fn frame_lengths_are_bounded() {
        for len in [0, -1, PACKET_MAX_SIZE + 1] {
            let bytes = len.to_be_bytes();
            let e = read_frame(&mut &bytes[..]).await.unwrap_err();
            assert!(matches!(e, WireError::BadFrameLength(l) if l == len), "{e}");
        }
        let mut buf = Vec::new();
        write_frame(&mut buf, b"hello").await.unwrap();
        assert_eq!(buf[..4], 5i32.to_be_bytes());
        assert_eq!(read_frame(&mut &buf[..]).await.unwrap(), b"hello");
    }
}
