//! Why a record batch was refused. Every check in this module has its own variant, so the
//! broker can log a precise reason, tests can assert on it, and
//! [`RecordError::kafka_error_code`] can pick the error code Kafka would answer with.

use std::fmt;

use kafka_protocol::error::ResponseError;

use super::header::Compression;
use super::MIN_BATCH_LENGTH;

/// Why a record batch (or a run of batches) could not be accepted.
///
/// The first group of variants is a damaged *batch* (Kafka: `CORRUPT_MESSAGE`, 2): the bytes
/// are cut short, the lengths disagree, the CRC fails. The second group is a batch whose CRC
/// is fine but whose *records* are not well formed (Kafka: `INVALID_RECORD`, 87).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The input ends inside the batch that starts at `offset`. `needed` is the batch's full
    /// size, or a lower bound (12 or 61) when the input ends before its length is known.
    /// [`super::BatchIter`] reports a torn tail this way, so storage recovery can truncate
    /// the log at `offset`.
    #[error("truncated batch at byte {offset}: needs {needed} bytes, {available} present")]
    Truncated {
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// `batchLength` is negative or too small to hold the batch header.
    #[error("batchLength {batch_length} is below the minimum of {MIN_BATCH_LENGTH}")]
    BatchLengthTooSmall { batch_length: i32 },
    /// The slice given as one batch is longer than its `batchLength` says.
    #[error("batch slice is {actual} bytes but its batchLength makes it {declared}")]
    LengthMismatch { declared: usize, actual: usize },
    /// Not a v2 record batch (v0/v1 message sets and unknown formats are refused).
    #[error("unsupported record batch magic {magic} (only magic 2 is supported)")]
    UnsupportedMagic { magic: i8 },
    /// The CRC-32C of bytes 21..end differs from the stored one.
    #[error("CRC-32C mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch { stored: u32, computed: u32 },
    /// Compression codec bits (attributes & 7) of 5, 6 or 7.
    #[error("unknown compression codec {codec}")]
    UnknownCompression { codec: u8 },
    /// [`super::records`] was asked to read the records of a compressed batch. Not a wire
    /// error (the caller must decompress first, with [`super::decompress_records`]); it maps
    /// to `CORRUPT_MESSAGE` only so that [`RecordError::kafka_error_code`] is total.
    #[error("records of a {compression:?}-compressed batch cannot be read without decompressing")]
    Compressed { compression: Compression },
    /// The records section of a compressed batch is not a valid stream of its codec
    /// (truncated, garbage, failed checksum). `reason` is the decoder's message.
    #[error("cannot decompress {compression:?} records: {reason}")]
    Decompression {
        compression: Compression,
        reason: String,
    },
    /// The records section decompresses to more than the caller's limit: a decompression
    /// bomb, or a batch bigger than the caller is prepared to hold in memory.
    #[error("{compression:?} records decompress to more than {limit} bytes")]
    DecompressedTooLarge {
        compression: Compression,
        limit: usize,
    },

    /// `recordsCount` is negative.
    #[error("negative recordsCount {records_count}")]
    NegativeRecordCount { records_count: i32 },
    /// `lastOffsetDelta` is not `recordsCount - 1` (checked when `recordsCount > 0`).
    #[error("lastOffsetDelta {last_offset_delta} does not match recordsCount {records_count}")]
    LastOffsetDeltaMismatch {
        last_offset_delta: i32,
        records_count: i32,
    },
    /// The records end (exactly at the end of the batch) before `recordsCount` of them.
    #[error("batch holds {found} records but recordsCount says {declared}")]
    RecordCountMismatch { declared: i32, found: usize },
    /// Bytes remain after the `recordsCount` records.
    #[error("{trailing} bytes follow the {declared} records of the batch")]
    TrailingBytes { declared: i32, trailing: usize },
    /// Record `index` claims more bytes than remain in the batch.
    #[error("record {index} claims {length} bytes but only {remaining} remain in the batch")]
    RecordOverrunsBatch {
        index: usize,
        length: usize,
        remaining: usize,
    },
    /// A field of record `index` could not be read.
    #[error("record {index}: {field}: {problem}")]
    MalformedRecord {
        index: usize,
        field: RecordField,
        problem: FieldProblem,
    },
    /// Record `index` declares more bytes than its fields use.
    #[error("record {index} declares {length} bytes but its fields use {used}")]
    RecordLengthMismatch {
        index: usize,
        length: usize,
        used: usize,
    },
    /// The `index`-th record's offsetDelta is not `index`.
    #[error("record {index} has offsetDelta {offset_delta}, expected {index}")]
    OffsetDeltaMismatch { index: usize, offset_delta: i32 },
}

impl RecordError {
    /// The Kafka error code for a produce request carrying this batch: `CORRUPT_MESSAGE` (2)
    /// for a damaged batch (truncation, lengths, CRC, magic, codec), `INVALID_RECORD` (87)
    /// for malformed records inside an intact batch.
    ///
    /// Magic 0 and 1 map to `INVALID_RECORD`: they are well-formed legacy message sets, which
    /// Kafka refuses in Produce v3+ with an `InvalidRecordException`.
    pub fn kafka_error_code(&self) -> i16 {
        match self {
            RecordError::Truncated { .. }
            | RecordError::BatchLengthTooSmall { .. }
            | RecordError::LengthMismatch { .. }
            | RecordError::CrcMismatch { .. }
            | RecordError::UnknownCompression { .. }
            | RecordError::Compressed { .. }
            | RecordError::Decompression { .. } => ResponseError::CorruptMessage.code(),
            // Kafka has no such limit (it streams); of its codes, "larger than the server
            // will accept" is the one that says what happened.
            RecordError::DecompressedTooLarge { .. } => ResponseError::MessageTooLarge.code(),
            RecordError::UnsupportedMagic { magic } => {
                if matches!(magic, 0 | 1) {
                    ResponseError::InvalidRecord.code()
                } else {
                    ResponseError::CorruptMessage.code()
                }
            }
            RecordError::NegativeRecordCount { .. }
            | RecordError::LastOffsetDeltaMismatch { .. }
            | RecordError::RecordCountMismatch { .. }
            | RecordError::TrailingBytes { .. }
            | RecordError::RecordOverrunsBatch { .. }
            | RecordError::MalformedRecord { .. }
            | RecordError::RecordLengthMismatch { .. }
            | RecordError::OffsetDeltaMismatch { .. } => ResponseError::InvalidRecord.code(),
        }
    }
}

/// A field of a record, named in [`RecordError::MalformedRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordField {
    Length,
    Attributes,
    TimestampDelta,
    OffsetDelta,
    /// The key's length or its bytes.
    Key,
    /// The value's length or its bytes.
    Value,
    HeaderCount,
    /// A header key's length or its bytes.
    HeaderKey,
    /// A header value's length or its bytes.
    HeaderValue,
}

impl fmt::Display for RecordField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            RecordField::Length => "length",
            RecordField::Attributes => "attributes",
            RecordField::TimestampDelta => "timestampDelta",
            RecordField::OffsetDelta => "offsetDelta",
            RecordField::Key => "key",
            RecordField::Value => "value",
            RecordField::HeaderCount => "header count",
            RecordField::HeaderKey => "header key",
            RecordField::HeaderValue => "header value",
        };
        f.write_str(name)
    }
}

/// What is wrong with a record field, in [`RecordError::MalformedRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    /// The field runs past the end of the record (or, for the length, of the batch).
    #[error("runs past the end of the record")]
    Truncated,
    /// A varint longer than 5 bytes (10 for a varlong) or overflowing 32 (64) bits.
    #[error("malformed varint")]
    MalformedVarint,
    /// A length below -1 (or below 0 where null is not allowed).
    #[error("negative length {0}")]
    NegativeLength(i64),
    /// A header count that cannot fit in the bytes left in the record (each header takes at
    /// least 2). Refused before anything is allocated for it.
    #[error("count {count} cannot fit in the {remaining} bytes left")]
    CountExceedsRemaining { count: i32, remaining: usize },
}
