//! Byte-level primitives of Kafka's generated message encoding, as the `__consumer_offsets`
//! schemas use them.
//!
//! Everything is big-endian. Non-flexible versions use int16-prefixed strings (a negative
//! length is null), int32-prefixed bytes and int32-counted arrays (negative is null).
//! Flexible versions use "compact" forms: an unsigned varint holding length + 1 (0 is null),
//! and end every struct with a tagged-field section (a varint count, then per field a varint
//! tag, a varint size and that many bytes).
//!
//! The [`Reader`] never panics and never allocates more than the input holds: every length
//! is checked against the bytes that remain before anything is copied.

use bytes::{BufMut, Bytes, BytesMut};

use super::RecordError;

/// The longest string Kafka's generated code writes or accepts, in UTF-8 bytes, in both
/// the int16-prefixed and the compact form (it rejects longer compact strings on read).
pub(super) const MAX_STRING_LEN: usize = 0x7fff;

/// A cursor over an encoded record key or value.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
    /// Bytes consumed so far, for error messages.
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Self { rest: buf, pos: 0 }
    }

    fn truncated(&self, field: &'static str, needed: usize) -> RecordError {
        RecordError::Truncated {
            field,
            at: self.pos,
            needed,
            available: self.rest.len(),
        }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], RecordError> {
        let Some((head, tail)) = self.rest.split_at_checked(n) else {
            return Err(self.truncated(field, n));
        };
        self.rest = tail;
        self.pos += n;
        Ok(head)
    }

    fn fixed<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], RecordError> {
        let Some((head, tail)) = self.rest.split_first_chunk::<N>() else {
            return Err(self.truncated(field, N));
        };
        self.rest = tail;
        self.pos += N;
        Ok(*head)
    }

    pub(super) fn i16(&mut self, field: &'static str) -> Result<i16, RecordError> {
        self.fixed(field).map(i16::from_be_bytes)
    }

    pub(super) fn i32(&mut self, field: &'static str) -> Result<i32, RecordError> {
        self.fixed(field).map(i32::from_be_bytes)
    }

    pub(super) fn i64(&mut self, field: &'static str) -> Result<i64, RecordError> {
        self.fixed(field).map(i64::from_be_bytes)
    }

    /// An unsigned LEB128 varint of at most 5 bytes holding a u32.
    pub(super) fn unsigned_varint(&mut self, field: &'static str) -> Result<u32, RecordError> {
        let mut value: u32 = 0;
        for i in 0..5 {
            let [byte] = self.fixed::<1>(field)?;
            // The fifth byte may only carry the top 4 bits of a u32.
            if i == 4 && byte > 0x0f {
                return Err(RecordError::InvalidVarint { field });
            }
            value |= u32::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(RecordError::InvalidVarint { field })
    }

    /// The length of a string, or `None` for null.
    fn string_len(
        &mut self,
        field: &'static str,
        flexible: bool,
    ) -> Result<Option<usize>, RecordError> {
        let len = if flexible {
            match self.unsigned_varint(field)?.checked_sub(1) {
                None => return Ok(None),
                Some(len) => i64::from(len),
            }
        } else {
            match self.i16(field)? {
                len if len < 0 => return Ok(None),
                len => i64::from(len),
            }
        };
        match usize::try_from(len) {
            Ok(n) if n <= MAX_STRING_LEN => Ok(Some(n)),
            _ => Err(RecordError::InvalidLength { field, length: len }),
        }
    }

    pub(super) fn nullable_string(
        &mut self,
        field: &'static str,
        flexible: bool,
    ) -> Result<Option<String>, RecordError> {
        let Some(len) = self.string_len(field, flexible)? else {
            return Ok(None);
        };
        let raw = self.take(len, field)?;
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(Some(s.to_owned())),
            Err(_) => Err(RecordError::InvalidUtf8 { field }),
        }
    }

    pub(super) fn string(
        &mut self,
        field: &'static str,
        flexible: bool,
    ) -> Result<String, RecordError> {
        self.nullable_string(field, flexible)?
            .ok_or(RecordError::UnexpectedNull { field })
    }

    /// A non-nullable `bytes` field.
    pub(super) fn bytes(
        &mut self,
        field: &'static str,
        flexible: bool,
    ) -> Result<Bytes, RecordError> {
        let len = if flexible {
            match self.unsigned_varint(field)?.checked_sub(1) {
                None => return Err(RecordError::UnexpectedNull { field }),
                Some(len) => i64::from(len),
            }
        } else {
            match self.i32(field)? {
                len if len < 0 => return Err(RecordError::UnexpectedNull { field }),
                len => i64::from(len),
            }
        };
        let n =
            usize::try_from(len).map_err(|_| RecordError::InvalidLength { field, length: len })?;
        self.take(n, field).map(Bytes::copy_from_slice)
    }

    /// The element count of a non-nullable array. Like Kafka's generated code, a count larger
    /// than the bytes left is rejected at once (every element takes at least one byte).
    pub(super) fn array_len(
        &mut self,
        field: &'static str,
        flexible: bool,
    ) -> Result<usize, RecordError> {
        let len = if flexible {
            match self.unsigned_varint(field)?.checked_sub(1) {
                None => return Err(RecordError::UnexpectedNull { field }),
                Some(len) => i64::from(len),
            }
        } else {
            match self.i32(field)? {
                len if len < 0 => return Err(RecordError::UnexpectedNull { field }),
                len => i64::from(len),
            }
        };
        match usize::try_from(len) {
            Ok(n) if n <= self.rest.len() => Ok(n),
            _ => Err(RecordError::InvalidLength { field, length: len }),
        }
    }

    /// Skips a flexible struct's tagged-field section. None of the fields this codec keeps
    /// is tagged; the tags Kafka defines here (`OffsetCommitValue.topicId`, tag 0, since
    /// Kafka 4.1) and unknown future tags are all passed over by their size.
    pub(super) fn skip_tagged_fields(&mut self, field: &'static str) -> Result<(), RecordError> {
        let count = self.unsigned_varint(field)?;
        for _ in 0..count {
            let _tag = self.unsigned_varint(field)?;
            let size = self.unsigned_varint(field)?;
            let size = usize::try_from(size).map_err(|_| RecordError::InvalidLength {
                field,
                length: i64::from(size),
            })?;
            self.take(size, field)?;
        }
        Ok(())
    }

    /// Ends the parse: the schema must have covered every byte.
    pub(super) fn finish(self, what: &'static str) -> Result<(), RecordError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(RecordError::TrailingBytes {
                what,
                count: self.rest.len(),
            })
        }
    }
}

/// Builds an encoded record key or value.
pub(super) struct Writer {
    buf: BytesMut,
}

impl Writer {
    pub(super) fn new() -> Self {
        Self {
            buf: BytesMut::with_capacity(64),
        }
    }

    pub(super) fn i16(&mut self, v: i16) {
        self.buf.put_i16(v);
    }

    pub(super) fn i32(&mut self, v: i32) {
        self.buf.put_i32(v);
    }

    pub(super) fn i64(&mut self, v: i64) {
        self.buf.put_i64(v);
    }

    pub(super) fn unsigned_varint(&mut self, mut v: u32) {
        while v >= 0x80 {
            // Truncation to the low 7 bits is the point.
            self.buf.put_u8((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        self.buf.put_u8(v as u8);
    }

    /// A compact length: `len + 1` as an unsigned varint. `len` is at most `i32::MAX - 1`
    /// here (callers check), so Kafka's reader sees a non-negative int.
    fn compact_len(&mut self, len: usize, field: &'static str) -> Result<(), RecordError> {
        let Some(plus_one) = i32::try_from(len).ok().and_then(|n| n.checked_add(1)) else {
            return Err(RecordError::TooLong {
                field,
                length: len,
                max: (i32::MAX - 1) as usize,
            });
        };
        self.unsigned_varint(plus_one.unsigned_abs());
        Ok(())
    }

    pub(super) fn nullable_string(
        &mut self,
        field: &'static str,
        value: Option<&str>,
        flexible: bool,
    ) -> Result<(), RecordError> {
        let Some(s) = value else {
            if flexible {
                self.unsigned_varint(0);
            } else {
                self.i16(-1);
            }
            return Ok(());
        };
        let len = s.len();
        let Ok(len16) = i16::try_from(len) else {
            return Err(RecordError::TooLong {
                field,
                length: len,
                max: MAX_STRING_LEN,
            });
        };
        if flexible {
            self.compact_len(len, field)?;
        } else {
            self.i16(len16);
        }
        self.buf.put_slice(s.as_bytes());
        Ok(())
    }

    pub(super) fn string(
        &mut self,
        field: &'static str,
        value: &str,
        flexible: bool,
    ) -> Result<(), RecordError> {
        self.nullable_string(field, Some(value), flexible)
    }

    pub(super) fn bytes(
        &mut self,
        field: &'static str,
        value: &[u8],
        flexible: bool,
    ) -> Result<(), RecordError> {
        if flexible {
            self.compact_len(value.len(), field)?;
        } else {
            let Ok(len) = i32::try_from(value.len()) else {
                return Err(RecordError::TooLong {
                    field,
                    length: value.len(),
                    max: i32::MAX as usize,
                });
            };
            self.i32(len);
        }
        self.buf.put_slice(value);
        Ok(())
    }

    pub(super) fn array_len(
        &mut self,
        field: &'static str,
        len: usize,
        flexible: bool,
    ) -> Result<(), RecordError> {
        if flexible {
            self.compact_len(len, field)
        } else {
            let Ok(n) = i32::try_from(len) else {
                return Err(RecordError::TooLong {
                    field,
                    length: len,
                    max: i32::MAX as usize,
                });
            };
            self.i32(n);
            Ok(())
        }
    }

    /// An empty tagged-field section (this codec writes no tagged field).
    pub(super) fn no_tagged_fields(&mut self) {
        self.unsigned_varint(0);
    }

    pub(super) fn finish(self) -> Bytes {
        self.buf.freeze()
    }
}
