//! Framing: every message, both ways, is a 4-byte big-endian length and
//! then that many bytes.
//!
//! [`FrameDecoder`] is sans-IO: feed it whatever bytes arrived
//! ([`FrameDecoder::extend`]) and pull out whole frames
//! ([`FrameDecoder::next_frame`]). It checks the claimed length first:
//! a negative length or one over `jute.maxbuffer` (default 0xfffff, one byte
//! under 1 MiB, as ZooKeeper's `BinaryInputArchive.maxBuffer`) is an error
//! before a single byte is reserved for it. ZooKeeper's server answers that
//! error by closing the connection (`NIOServerCnxn.readLength`).

use crate::jute::DecodeError;

/// The default `jute.maxbuffer`: 0xfffff bytes.
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;

/// Bytes before the payload: the jute `int` length.
pub const LENGTH_PREFIX: usize = 4;

/// Splits a byte stream into frames.
#[derive(Clone, Debug)]
pub struct FrameDecoder {
    /// Received: `buf[start..]` is not returned as a frame yet.
    buf: Vec<u8>,
    /// Where the bytes not returned yet begin. Returning a frame only moves this past it;
    /// the rest is moved to the front when more bytes arrive ([`FrameDecoder::extend`]),
    /// not once per frame: a read holding 64 pipelined requests would otherwise move the
    /// rest of them 64 times.
    start: usize,
    max_len: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(DEFAULT_MAX_BUFFER)
    }
}

impl FrameDecoder {
    /// A decoder that rejects frames longer than `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        FrameDecoder {
            buf: Vec::new(),
            start: 0,
            max_len,
        }
    }

    /// Appends bytes received from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.drain(..self.start);
        self.start = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The next whole frame's payload, `Ok(None)` if more bytes are needed,
    /// or an error for a length outside `0..=max_len` (after which the
    /// stream cannot be trusted: close it).
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let pending = self.buffered();
        let Some(len) = peek_length(pending, self.max_len)? else {
            return Ok(None);
        };
        let Some(payload) = pending.get(LENGTH_PREFIX..LENGTH_PREFIX + len) else {
            return Ok(None);
        };
        let payload = payload.to_vec();
        self.start += LENGTH_PREFIX + len;
        if self.start == self.buf.len() {
            // Nothing pending: give the memory back, so an idle connection holds no buffer
            // (a large frame's worth would otherwise stay for the connection's life).
            self.buf = Vec::new();
            self.start = 0;
        }
        Ok(Some(payload))
    }
}

/// The payload length announced at the front of `buf`, once its 4 bytes
/// are there, checked against `max_len`.
pub fn peek_length(buf: &[u8], max_len: usize) -> Result<Option<usize>, DecodeError> {
    let Some(prefix) = buf.first_chunk::<LENGTH_PREFIX>() else {
        return Ok(None);
    };
    let len = i32::from_be_bytes(*prefix);
    match usize::try_from(len) {
        Ok(n) if n <= max_len => Ok(Some(n)),
        _ => Err(DecodeError::BadFrameLength { len, max: max_len }),
    }
}

/// Prefixes a payload with its length, ready to write to the socket.
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(LENGTH_PREFIX + payload.len());
    encode_frame_into(payload, &mut out);
    out
}

/// Appends `payload`'s frame to `out` (frames for one connection, written together).
pub fn encode_frame_into(payload: &[u8], out: &mut Vec<u8>) {
    let len = i32::try_from(payload.len()).unwrap_or(i32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
}
