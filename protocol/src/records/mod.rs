//! Kafka v2 record batches (magic 2), kept as bytes
//! (<https://kafka.apache.org/documentation/#recordbatch>).
//!
//! A batch arrives in a Produce request, is stored verbatim in a segment file and leaves
//! verbatim in a Fetch response: it is never decoded into structs and re-encoded on the hot
//! path. This module gives the views and the few in-place edits the broker needs:
//!
//! ```text
//! produce bytes --BatchIter--> one batch (range) --validate_batch--> BatchHeader
//!     --set_base_offset / set_partition_leader_epoch / set_log_append_time--> segment file
//! segment bytes --BatchIter--> batches, and Truncated { offset } at a torn tail
//! batch bytes --records--> Record views (compaction, tests)
//! compressed batch bytes --decompress_records--> DecompressedRecords --records--> Record views
//!     (timestamp lookups)
//! ```
//!
//! Layout of a batch (all integers big-endian; offsets from the start of the batch):
//!
//! ```text
//!  0 baseOffset int64            | not covered by the CRC: the broker patches these
//!  8 batchLength int32           | (bytes after this field)
//! 12 partitionLeaderEpoch int32  |
//! 16 magic int8 (2)
//! 17 crc uint32 (CRC-32C of bytes 21..end)
//! 21 attributes int16, 23 lastOffsetDelta int32, 27 baseTimestamp int64,
//! 35 maxTimestamp int64, 43 producerId int64, 51 producerEpoch int16,
//! 53 baseSequence int32, 57 recordsCount int32, 61 records...
//! ```
//!
//! Records use *zigzag* (signed) varints, unlike the request protocol's unsigned ones; see
//! [`record`] for their layout.
//!
//! Safety against hostile input follows the rest of the crate: nothing here panics, indexes
//! out of bounds or allocates in proportion to a count read off the wire before the bytes
//! backing it are present. Every failure is a [`RecordError`], which knows the Kafka error
//! code the broker should answer with ([`RecordError::kafka_error_code`]).
//!
//! Compressed batches are checked up to their CRC only: their records are not inspected
//! on the produce/fetch path. Features that need their records (ListOffsets by timestamp)
//! decompress them with [`compression`], within a memory limit the caller sets.

pub mod compression;
pub mod error;
pub mod header;
pub mod iter;
pub mod patch;
pub mod record;
pub mod validate;
mod varint;

pub use compression::{decompress, decompress_records, DecompressedRecords};
pub use error::{FieldProblem, RecordError, RecordField};
pub use header::{parse_batch_header, BatchHeader, Compression, TimestampType};
pub use iter::BatchIter;
pub use patch::{
    set_base_offset, set_log_append_time, set_max_timestamp, set_partition_leader_epoch,
};
pub use record::{records, Record, RecordHeader, Records};
pub use validate::{validate_batch, validate_stored_batch};

/// Size of the fixed part of a v2 batch, up to and including `recordsCount`.
pub const BATCH_HEADER_BYTES: usize = 61;

/// Size of the fields that precede the bytes counted by `batchLength`: `baseOffset` (8) and
/// `batchLength` (4). Same in every message format version, which is what lets a reader skip
/// over a batch it does not understand.
pub const LOG_OVERHEAD_BYTES: usize = 12;

/// The only batch format this module reads.
pub const MAGIC_V2: i8 = 2;

/// The smallest valid `batchLength`: the header fields after `batchLength` (61 - 12).
pub const MIN_BATCH_LENGTH: i32 = 49;

/// Byte offsets of the header fields within a batch.
pub mod offsets {
    pub const BASE_OFFSET: usize = 0;
    pub const BATCH_LENGTH: usize = 8;
    pub const PARTITION_LEADER_EPOCH: usize = 12;
    pub const MAGIC: usize = 16;
    pub const CRC: usize = 17;
    /// The CRC covers the bytes from here to the end of the batch.
    pub const ATTRIBUTES: usize = 21;
    pub const LAST_OFFSET_DELTA: usize = 23;
    pub const BASE_TIMESTAMP: usize = 27;
    pub const MAX_TIMESTAMP: usize = 35;
    pub const PRODUCER_ID: usize = 43;
    pub const PRODUCER_EPOCH: usize = 51;
    pub const BASE_SEQUENCE: usize = 53;
    pub const RECORDS_COUNT: usize = 57;
    pub const RECORDS: usize = 61;
}
