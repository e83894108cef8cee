//! Typed decoding errors. Every way a request can be malformed has a variant here, so the
//! broker can log a precise reason when it closes a connection, and tests can assert on it.

use nom::error::{ErrorKind, ParseError};

/// Why bytes off the wire could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ended before a field was complete.
    #[error("truncated input: a field runs past the end of the frame")]
    Truncated,
    /// A string/bytes length below -1 (only -1 means null).
    #[error("negative length {0}")]
    NegativeLength(i64),
    /// A count of elements that cannot possibly fit in the bytes that remain. Rejected
    /// before anything is allocated for it (the "array bomb").
    #[error("count {count} needs at least {needed_bytes} bytes but only {remaining_bytes} remain")]
    CountExceedsRemaining {
        count: u64,
        needed_bytes: u64,
        remaining_bytes: usize,
    },
    /// A null where the schema does not allow one.
    #[error("null value for a non-nullable field")]
    UnexpectedNull,
    /// A string that is not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// An unsigned varint longer than 5 bytes or overflowing 32 bits.
    #[error("malformed varint")]
    MalformedVarint,
    /// A frame length prefix that is negative.
    #[error("negative frame length {0}")]
    NegativeFrameLength(i32),
    /// A frame length prefix over the configured maximum.
    #[error("frame of {len} bytes exceeds frame_bytes_max {max}")]
    FrameTooLarge { len: usize, max: usize },
    /// A frame too short to hold even the fixed part of a request header.
    #[error("frame of {0} bytes is shorter than a request header")]
    FrameShorterThanHeader(usize),
    /// Any other nom failure (should not happen with our parsers; kept so nothing panics).
    #[error("malformed input ({0:?})")]
    Malformed(ErrorKind),
}

impl<I> ParseError<I> for WireError {
    fn from_error_kind(_input: I, kind: ErrorKind) -> Self {
        match kind {
            // nom's complete-input parsers report running out of bytes as Eof.
            ErrorKind::Eof | ErrorKind::Complete => WireError::Truncated,
            other => WireError::Malformed(other),
        }
    }

    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        // Keep the innermost (most precise) error.
        other
    }
}

/// Flattens nom's `Err` wrapper into our error. All our parsers work on complete input, so
/// `Incomplete` can only mean truncation.
pub fn flatten(err: nom::Err<WireError>) -> WireError {
    match err {
        nom::Err::Incomplete(_) => WireError::Truncated,
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
    }
}
