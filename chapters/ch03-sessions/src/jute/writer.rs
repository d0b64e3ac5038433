//! [`Writer`]: appends jute primitives to a buffer (`BinaryOutputArchive`).
//!
//! Writing cannot fail: the buffer grows as needed. Lengths are written as
//! jute `int`s, so a writer never produces a buffer longer than `i32::MAX`
//! in practice because frames are capped far below that (`jute.maxbuffer`).

/// Appends jute primitives to a byte buffer.
#[derive(Clone, Debug)]
pub struct Writer {
    bytes: Vec<u8>,
}

/// Bytes a new writer has room for before it grows: a packet header, a reply, or a txn with
/// a path and a hundred bytes of data. A buffer grown from empty one field at a time is
/// reallocated and copied five or six times on the way there, on every record the server
/// writes.
pub const FIRST_CAPACITY: usize = 256;

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    /// An empty writer, with room for a typical record ([`FIRST_CAPACITY`]).
    pub fn new() -> Self {
        Writer {
            bytes: Vec::with_capacity(FIRST_CAPACITY),
        }
    }

    /// A writer that appends to `bytes` (a batch of records going out together).
    pub fn appending(bytes: Vec<u8>) -> Self {
        Writer { bytes }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Raw bytes, with no length prefix.
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// jute `boolean`.
    pub fn write_bool(&mut self, v: bool) {
        self.bytes.push(u8::from(v));
    }

    /// jute `int`.
    pub fn write_int(&mut self, v: i32) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    /// jute `long`.
    pub fn write_long(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    /// A length or count; `None` writes -1 (null).
    pub fn write_len(&mut self, len: Option<usize>) {
        // Lengths above i32::MAX cannot be framed (frames are capped at
        // jute.maxbuffer), so saturating keeps the call infallible.
        self.write_int(len.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX)));
    }

    /// jute `buffer`; `None` writes length -1.
    pub fn write_buffer(&mut self, v: Option<&[u8]>) {
        self.write_len(v.map(<[u8]>::len));
        if let Some(bytes) = v {
            self.write_raw(bytes);
        }
    }

    /// jute `ustring`; `None` writes length -1.
    pub fn write_ustring(&mut self, v: Option<&str>) {
        self.write_buffer(v.map(str::as_bytes));
    }
}
