//! [`Reader`]: a cursor over received bytes that reads jute primitives.
//!
//! This is ZooKeeper's `BinaryInputArchive`. Its one rule is the one that
//! keeps a server alive: a length read from the wire is checked against the
//! bytes actually left *before* anything is allocated for it.

use super::{DecodeError, Record};

/// Reads jute primitives from a byte slice, front to back.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the first byte of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// How many bytes have not been read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// How many bytes have been read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos..]
    }

    /// Reads any [`Record`]; `what` names the field for error messages.
    pub fn field<T: Record>(&mut self, what: &'static str) -> Result<T, DecodeError> {
        T::decode(self).map_err(|e| e.renamed(what))
    }

    /// Takes exactly `n` bytes, or fails without consuming anything.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated {
                what,
                needed: n,
                remaining: self.remaining(),
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// jute `boolean`: one byte, any non-zero value is true (as in Java).
    pub fn read_bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        Ok(self.array::<1>(what)?[0] != 0)
    }

    /// jute `int`: 4 bytes big-endian.
    pub fn read_int(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    /// jute `long`: 8 bytes big-endian.
    pub fn read_long(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    // ANCHOR: read_len
    /// A length or count: `None` for -1 (null), an error for other negative
    /// values, and an error when even one byte per item would not fit in
    /// what is left. That last check is what bounds every allocation.
    pub fn read_len(&mut self, what: &'static str) -> Result<Option<usize>, DecodeError> {
        let len = self.read_int(what)?;
        match len {
            -1 => Ok(None),
            len if len < -1 => Err(DecodeError::NegativeLength { what, len }),
            len if len as usize > self.remaining() => Err(DecodeError::LengthTooLarge {
                what,
                len,
                remaining: self.remaining(),
            }),
            len => Ok(Some(len as usize)),
        }
    }
    // ANCHOR_END: read_len

    /// jute `buffer`: a length, then that many bytes; -1 is null (`None`).
    pub fn read_buffer(&mut self, what: &'static str) -> Result<Option<Vec<u8>>, DecodeError> {
        match self.read_len(what)? {
            None => Ok(None),
            Some(n) => Ok(Some(self.take(n, what)?.to_vec())),
        }
    }

    /// jute `ustring`: a buffer of UTF-8; -1 is null (`None`). Bytes that are not UTF-8 are
    /// replaced with U+FFFD, as upstream `BinaryInputArchive.readString` does
    /// (`new String(bytes, UTF_8)`): a real server answers such a path (NoNode, say), it does
    /// not reject the request.
    pub fn read_ustring(&mut self, what: &'static str) -> Result<Option<String>, DecodeError> {
        match self.read_len(what)? {
            None => Ok(None),
            Some(n) => {
                let bytes = self.take(n, what)?;
                // Valid UTF-8 (every path a snapshot holds) is checked by std's fast scan and
                // copied; only bytes that are not take the lossy decode's chunk by chunk walk.
                Ok(Some(match std::str::from_utf8(bytes) {
                    Ok(text) => text.to_owned(),
                    Err(_) => String::from_utf8_lossy(bytes).into_owned(),
                }))
            }
        }
    }
}

impl DecodeError {
    /// Names the outermost field that failed, keeping the inner detail when
    /// the inner error already names something more precise than a type.
    pub(crate) fn renamed(self, what: &'static str) -> Self {
        match self {
            DecodeError::Truncated {
                what: "",
                needed,
                remaining,
            } => DecodeError::Truncated {
                what,
                needed,
                remaining,
            },
            DecodeError::NegativeLength { what: "", len } => {
                DecodeError::NegativeLength { what, len }
            }
            DecodeError::LengthTooLarge {
                what: "",
                len,
                remaining,
            } => DecodeError::LengthTooLarge {
                what,
                len,
                remaining,
            },
            DecodeError::UnexpectedNull { what: "" } => DecodeError::UnexpectedNull { what },
            DecodeError::InvalidValue { what: "", value } => {
                DecodeError::InvalidValue { what, value }
            }
            other => other,
        }
    }
}
